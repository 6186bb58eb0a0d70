"""The customer's language everywhere (issue 14, part 4): every customer mail kind in nl, en, de and fr.

Before: English and German customers read Dutch result details ("klantaccount, adressen, ..."),
recipients' purposes ("Mollie: betalingen") and officer placeholders, and the greeting used the
mail's display name ("Hello JM Holdings Ltd", "Hello <img src=x onerror=...>").

The check is word-based: after removing proper names (the shop, its recipients, the Dutch
authority and laws), no word may remain that is typical of one of the other three languages.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from inbox_agent.config import REPO_ROOT, Settings
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case, Customer, Outbox
from inbox_agent.deadlines import compute, due_at
from inbox_agent.desk import fulfil, result_steps
from inbox_agent.desk.case_mail import send
from inbox_agent.desk.context import Desk
from inbox_agent.models import RIGHTS
from inbox_agent.replies import KINDS, OFFICER_KINDS, ReplyContext, ResultDetails, Step, render
from inbox_agent.withdrawal import load_cues

LANGUAGES = ("nl", "en", "de", "fr")
RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TYPICAL = {  # frequent words of each language that the other three do not use
    "nl": {"het", "je", "jouw", "wij", "niet", "gegevens", "een", "voor", "naar", "ons", "ook", "dat", "hebben",
           "bij", "wordt", "betalingen", "bezorging", "webwinkel", "klantaccount", "facturen"},
    "en": {"the", "your", "you", "and", "with", "our", "this", "that", "will", "please", "payments", "delivery",
           "data", "have"},
    "de": {"und", "ihre", "ihr", "sie", "nicht", "wir", "daten", "werden", "für", "mit", "ist", "der", "das",
           "dem", "auf", "zahlungen"},
    "fr": {"et", "vos", "votre", "nous", "les", "est", "pour", "une", "données", "vous", "avec", "sur",
           "paiements"},
}
PROPER = [  # names that stay as they are in every language
    "Autoriteit Persoonsgegevens", "autoriteitpersoonsgegevens.nl", "Uitvoeringswet AVG", "art. 52 AWR", "AWR",
    "UAVG", "Meer dan Online", "Google Analytics", "EU-US Data Privacy Framework", "Kleine Toppers", "Luminet",
    "Jasmijn 10, 7742SE Coevorden", "info@luminet.nl", "M. Derks", "rechtbank", "Privacy", "track-and-trace",
]


def foreign_words(text: str, language: str) -> set[str]:
    for name in PROPER:
        text = text.replace(name, " ")
    text = re.sub(r"\S+@\S+|https?://\S+|\S+\.(json|csv|txt|html|zip)\b|\[[A-Z]+-\d{4}-\d{6}\]", " ", text)
    words = {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
    return {w for lang, typical in TYPICAL.items() if lang != language for w in words & typical}


def real_details(settings: Settings, database: Database) -> dict[str, ResultDetails]:
    """What fulfil really hands the result texts (no webshop connected), per right, plus an interim report."""
    with database.transaction() as session:
        customer = Customer(shop="default", email="anna@example.org", email_key="anna@example.org",
                            name="Anna Jansen", created_at=RECEIVED, updated_at=RECEIVED)
        session.add(customer)
        session.flush()
        dl = compute(RECEIVED)
        case = Case(shop="default", reference="KT-2026-000001", state="in_progress", rights=[str(r) for r in RIGHTS],
                    customer_id=customer.id, requester_email="anna@example.org", verified_email="anna@example.org",
                    identity_status="verified", received_at=RECEIVED, deadline_raw=due_at(dl.raw),
                    deadline_legal=due_at(dl.legal), deadline_target=due_at(dl.target), created_at=RECEIVED,
                    thread_ids=[], events=[])
        session.add(case)
        session.flush()
        desk = Desk(settings=settings, box=settings.mailbox("default"), now=RECEIVED,
                    cues=load_cues(REPO_ROOT / "classifiers" / "conversation.toml"))
        found = {f"result_{right}": fulfil.prepare(session, desk, case, right, None)[0] for right in RIGHTS}
        for right in result_steps.STEPPED:  # the text that finally leaves
            found[f"result_{right}"] = result_steps.final_details(session, case, right).model_copy(
                update={"recipients_informed": ["Mollie"], "recipients_not_informed": ["PostNL"]})
        found["result_rectification"].changes.extend(  # as officer.rectify records them
            fulfil.rectification_details(desk, ["billing.postcode", "first_name"]).changes)
        found["interim"] = ResultDetails(done=[Step(what="webshop_erasure", on=date(2026, 3, 9))],
                                         pending=[Step(what="notify", recipient="PostNL")])
        return found


CUSTOMER_KINDS = [k for k in KINDS if k not in OFFICER_KINDS]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_customer_mail_is_entirely_in_the_customers_language(
    settings: Settings, database: Database, language: str
) -> None:
    details = real_details(settings, database)
    shop = settings.mailbox("default").shop
    problems = {}
    for kind in CUSTOMER_KINDS:
        ctx = ReplyContext(shop=shop, reference="KT-2026-000001", deadlines=compute(RECEIVED), rights=list(RIGHTS),
                           language=language, customer_name="Anna Jansen", identity_pending=True, code="483 920",
                           code_valid_hours=72, extension_reasons="", refusal_reasons="",
                           details=details.get(kind, ResultDetails(attachments=["data.json"], sources=["webshop"])))
        ctx = ctx.model_copy(update={"extension_reasons": "-", "refusal_reasons": "-"})
        mail = render(kind, ctx, to="anna@example.org")
        assert mail.language == language, kind
        if found := foreign_words(f"{mail.subject}\n{mail.body_text}", language):
            problems[kind] = sorted(found)
    assert problems == {}


def test_the_word_check_catches_a_dutch_detail_in_an_english_mail() -> None:
    assert foreign_words("We erased: klantaccount, adressen (on 3 March)", "en") == {"klantaccount"}
    assert foreign_words("Mollie: betalingen", "en") == {"betalingen"}
    assert foreign_words("Hello Anna, this is your data at Meer dan Online.", "en") == set()


def test_the_greeting_uses_the_registry_name_or_none_never_the_display_name(
    settings: Settings, database: Database
) -> None:
    desk = Desk(settings=settings, box=settings.mailbox("default"), now=RECEIVED,
                cues=load_cues(REPO_ROOT / "classifiers" / "conversation.toml"))
    dl = compute(RECEIVED)
    with database.transaction() as session:
        customer = Customer(shop="default", email="anna@example.org", email_key="anna@example.org",
                            name="Anna Jansen", created_at=RECEIVED, updated_at=RECEIVED)
        session.add(customer)
        session.flush()
        common = dict(shop="default", state="in_progress", rights=["access"], language="en", identity_status="unknown",
                      received_at=RECEIVED, deadline_raw=due_at(dl.raw), deadline_legal=due_at(dl.legal),
                      deadline_target=due_at(dl.target), created_at=RECEIVED, thread_ids=[], events=[])
        known = Case(reference="KT-2026-000001", customer_id=customer.id, requester_email="anna@example.org",
                     requester_name="JM Holdings Ltd", **common)
        stranger = Case(reference="KT-2026-000002", customer_id=customer.id, requester_email="x@evil.example",
                        requester_name='<img src=x onerror="alert(1)">', **common)
        session.add_all([known, stranger])
        session.flush()
        send(session, desk, known, "ack", to="anna@example.org")
        send(session, desk, stranger, "ack", to="x@evil.example")
        send(session, desk, stranger, "identity_code", to="anna@example.org", code="123 456", code_valid_hours=72)
    with database.transaction() as session:
        bodies = [m.body_text for m in session.scalars(select(Outbox).order_by(Outbox.id))]
    assert bodies[0].startswith("Hello Anna Jansen,")  # the registry's name, to the registry's address
    assert bodies[1].startswith("Hello,")  # someone else asking about Anna's account: no name given away
    assert bodies[2].startswith("Hello Anna Jansen,")  # the code goes to Anna herself
    assert not any("JM Holdings" in b or "<img" in b for b in bodies)
