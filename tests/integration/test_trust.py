"""Issue 13's attacks through real Dovecot + aiosmtpd: forged senders, outsiders' replies, code guessing.

Each attack is one mail (or a few) as it would reach the shop's mailbox; the officer then approves
everything she can. The victim is Anna, a registered customer. Every attack here was accepted by the
desk before sender proof and reply authority existed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime, make_msgid

import pytest
from sqlalchemy import select

from inbox_agent.db.tables import Case, Customer, Outbox, Suppression, VerificationCode
from inbox_agent.sandbox import ReceivedMail

from agent_harness import TRUSTED, Agent, parsed, request_mail
from agent_harness import approve_everything as harness_approve

pytestmark = pytest.mark.integration
ANNA = "anna.jansen@example.org"
MALLORY = "mallory@evil.example"
ERASE = "Verwijder alsjeblieft mijn account en al mijn gegevens."
OURS = f"Authentication-Results: {TRUSTED};"


def raw_mail(body: str, *headers: str, sender: str = f"Anna Jansen <{ANNA}>", subject: str = "Account",
             in_reply_to: str | None = None) -> bytes:
    """A mail exactly as the attacker shapes it: every header line is given, none is added for them."""
    lines = [*headers, f"From: {sender}", "To: info@shop.example", f"Subject: {subject}",
             f"Date: {format_datetime(datetime.now(UTC))}", f"Message-ID: {make_msgid(domain='evil.example')}"]
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    return ("\r\n".join(lines) + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()


def code_in(mail: ReceivedMail) -> str:
    part = parsed(mail).get_body(preferencelist=("plain",))
    assert part is not None
    found = re.search(r"\b(\d{3} \d{3})\b", str(part.get_content()))
    assert found, "the code mail carries a code"
    return found.group(1)


def the_case(agent: Agent) -> Case:
    with agent.db.transaction() as session:
        return session.scalars(select(Case)).one()


def approve_everything(agent: Agent) -> None:
    harness_approve(agent.settings, agent.db)
    agent.run_once()


def event_kinds(agent: Agent) -> list[str]:
    with agent.db.transaction() as session:
        return [e.kind for e in session.scalars(select(Case)).one().events]


def anna_is_registered(agent: Agent) -> bool:
    with agent.db.transaction() as session:
        return session.scalar(select(Customer.id).where(Customer.email == ANNA)) is not None


FORGED = {
    "no Authentication-Results": (),
    "a pass from an untrusted host": ("Authentication-Results: mx.evil.example; dmarc=pass header.from=example.org",),
    "trusted dmarc=none": (f"{OURS} dmarc=none header.from=example.org",),
    "trusted dmarc=temperror": (f"{OURS} dmarc=temperror header.from=example.org",),
    "trusted dmarc=permerror": (f"{OURS} dmarc=permerror header.from=example.org",),
    "trusted dmarc=fail": (f"{OURS} dmarc=fail header.from=example.org",),
    "a pass for another domain": (f"{OURS} dmarc=pass header.from=evil.example",),
    "spf pass for another domain": (f"{OURS} spf=pass smtp.mailfrom=bounce@evil.example",),
    "Sender of another domain": (f"{OURS} dmarc=pass header.from=example.org", f"Sender: <{MALLORY}>"),
    "Return-Path of another domain": (f"Return-Path: <{MALLORY}>", f"{OURS} dmarc=pass header.from=example.org"),
    "a forged trusted pass below the host's own none": (
        f"{OURS} dmarc=none header.from=example.org", f"{OURS} dmarc=pass header.from=example.org"),
}


@pytest.mark.parametrize("shape", sorted(FORGED))
def test_a_forged_erasure_is_never_executed_on_the_forgery_alone(agent: Agent, shape: str) -> None:
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(raw_mail(ERASE, *FORGED[shape]))
    agent.run_once()
    case = the_case(agent)
    assert case.identity_status != "verified" and case.verified_email is None, case.identity_status
    approve_everything(agent)
    assert anna_is_registered(agent)
    with agent.db.transaction() as session:
        kinds = [r.kind for r in session.scalars(select(Outbox).where(Outbox.case_id == case.id))]
    assert "result_erasure" not in kinds and "identity_code" in kinds
    assert all(ANNA in m.rcpt_tos for m in agent.sent_to(ANNA)) and agent.sent_to(MALLORY) == []


def test_two_addresses_in_from_prove_no_one(agent: Agent) -> None:
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(raw_mail(ERASE, f"{OURS} dmarc=pass header.from=example.org",
                           sender=f"Anna Jansen <{ANNA}>, Mallory <{MALLORY}>"))
    agent.run_once()
    assert the_case(agent).identity_status != "verified"
    approve_everything(agent)
    assert anna_is_registered(agent)


def test_an_unproven_known_address_may_ask_for_access_and_the_answer_goes_only_there(agent: Agent) -> None:
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(raw_mail("Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben."))
    agent.run_once()
    case = the_case(agent)
    assert case.identity_status == "verified" and case.proof == "unproven"
    approve_everything(agent)
    results = [m for m in agent.sent_to(ANNA) if "access" in str(parsed(m).get("Message-ID"))]
    assert results and all(m.rcpt_tos == (ANNA,) for m in results)


def test_the_real_customer_confirms_a_forged_looking_erasure_with_the_code(agent: Agent) -> None:
    """Unproven is not refused: the known address confirms, and then the erasure runs."""
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(raw_mail(ERASE))
    agent.run_once()
    code_mail = next(m for m in agent.sent_to(ANNA) if "identity_code" in str(parsed(m)["Message-ID"]))
    agent.deliver(request_mail(f"De code is {code_in(code_mail)}", sender=ANNA,
                               in_reply_to=parsed(code_mail)["Message-ID"]))
    agent.run_once()
    case = the_case(agent)
    assert case.identity_status == "verified" and case.proof == "code"
    approve_everything(agent)
    assert not anna_is_registered(agent)


@pytest.fixture
def verified_case(agent: Agent) -> tuple[Agent, str]:
    """Anna's proven access request, answered with an acknowledgement: the thread outsiders try to use."""
    agent.add_customer(ANNA, "Anna Jansen", postcode="1234AB", order_numbers=["10023"])
    agent.deliver(request_mail("Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben.",
                               sender=ANNA))
    agent.run_once()
    (ack,) = agent.sent_to(ANNA)
    assert the_case(agent).proof == "proven"
    return agent, str(parsed(ack)["Message-ID"])


OUTSIDERS = {
    "a stranger withdraws through our Message-ID": dict(body="Laat maar, ik trek mijn verzoek in.", sender=MALLORY),
    "a stranger adds an erasure through our Message-ID": dict(body=ERASE, sender=MALLORY),
    "a stranger asks for delivery elsewhere": dict(body=f"Stuur alles naar {MALLORY} aub.", sender=MALLORY),
    "a stranger names the account and an order": dict(
        body=f"Mijn account is {ANNA}, bestelnummer 10023, postcode 1234 AB.", sender=MALLORY),
    "a forged From with dmarc=fail withdraws": dict(body="Laat maar, ik trek mijn verzoek in.", dmarc="fail"),
    "a forged From with dmarc=fail adds an erasure": dict(body=ERASE, dmarc="fail"),
    "an unproven From withdraws": dict(body="Laat maar, ik trek mijn verzoek in.", dmarc=None),
    "a subject reference with a forged From adds an erasure": dict(body=ERASE, dmarc="fail", thread="subject"),
}


@pytest.mark.parametrize("attack", sorted(OUTSIDERS))
def test_an_outsider_changes_nothing_and_the_officer_gets_a_note(verified_case: tuple[Agent, str],
                                                                 attack: str) -> None:
    agent, ack_id = verified_case
    shape = OUTSIDERS[attack]
    before = the_case(agent)
    sender = str(shape.get("sender", ANNA))
    dmarc = shape.get("dmarc", "pass")
    headers = () if dmarc is None else (f"{OURS} dmarc={dmarc} header.from={sender.rpartition('@')[2]}",)
    threaded = shape.get("thread") != "subject"
    agent.deliver(raw_mail(str(shape["body"]), *headers, sender=sender,
                           subject=f"Re: [{before.reference}] uw verzoek",
                           in_reply_to=ack_id if threaded else None))
    agent.run_once()
    after = the_case(agent)
    assert (after.state, after.rights, after.verified_email, after.identity_status) == (
        before.state, before.rights, before.verified_email, before.identity_status)
    assert after.customer_id == before.customer_id
    assert "outsider_note" in event_kinds(agent)
    approve_everything(agent)
    assert anna_is_registered(agent)
    assert agent.sent_to(MALLORY) == []


def test_wrong_codes_count_per_guess_five_per_case_then_even_the_right_one_is_refused(agent: Agent) -> None:
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(request_mail(f"Mijn account staat op {ANNA}, verwijder het.", sender="nieuw@example.com"))
    agent.run_once()
    (code_mail,) = agent.sent_to(ANNA)
    right = code_in(code_mail)
    guesses = [g for g in (f"{n} {n}" for n in range(100, 107)) if g != right][:5]
    (ack,) = agent.sent_to("nieuw@example.com")
    agent.deliver(request_mail("Is het " + " of ".join(guesses) + "?", sender="nieuw@example.com",
                               in_reply_to=parsed(ack)["Message-ID"]))
    agent.run_once()
    agent.deliver(request_mail(f"De code is {right}", sender="nieuw@example.com",
                               in_reply_to=parsed(ack)["Message-ID"]))
    agent.run_once()
    with agent.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.identity_status != "verified" and case.verified_email is None
        assert sum(c.attempts for c in session.scalars(select(VerificationCode))) == 5
        assert "outsider_note" in [e.kind for e in case.events]


def test_naming_the_account_again_and_again_keeps_one_live_code(agent: Agent) -> None:
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(request_mail(f"Mijn account staat op {ANNA}, verwijder het.", sender="nieuw@example.com"))
    agent.run_once()
    (ack,) = agent.sent_to("nieuw@example.com")
    for _ in range(4):
        agent.deliver(request_mail(f"Nogmaals: mijn account is {ANNA}.", sender="nieuw@example.com",
                                   in_reply_to=parsed(ack)["Message-ID"]))
        agent.run_once()
    now = datetime.now(UTC)
    with agent.db.transaction() as session:
        live = [c for c in session.scalars(select(VerificationCode)) if c.used_at is None and c.expires_at > now]
    assert len(live) == 1
    assert len(agent.sent_to(ANNA)) == 1


def test_a_code_whose_mail_the_brake_stopped_is_never_valid(agent: Agent) -> None:
    agent.settings.policy.auto_mails_per_sender_per_day = 0
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(request_mail(f"Mijn account staat op {ANNA}, verwijder het.", sender="nieuw@example.com"))
    agent.run_once()
    assert agent.sent_to(ANNA) == []
    with agent.db.transaction() as session:
        assert list(session.scalars(select(VerificationCode))) == []
        assert session.scalars(select(Outbox.status).where(Outbox.kind == "identity_code")).one() == "blocked"


def test_an_objection_to_direct_marketing_takes_effect_at_once_before_any_decision(agent: Agent) -> None:
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(request_mail("Ik wil geen reclame en geen nieuwsbrief meer ontvangen. Ik maak bezwaar tegen "
                               "direct marketing.", sender=ANNA, subject="Bezwaar"))
    agent.run_once()
    with agent.db.transaction() as session:
        assert [s.email_key for s in session.scalars(select(Suppression))] == [ANNA]
        case = session.scalars(select(Case)).one()
        assert "suppressed" in [e.kind for e in case.events] and case.decision is None


def test_a_forged_objection_suppresses_nothing_until_the_known_address_is_verified(agent: Agent) -> None:
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(request_mail(f"Geen nieuwsbrief meer aub, ik maak bezwaar. Mijn account is {ANNA}.",
                               sender="nieuw@example.com", subject="Bezwaar"))
    agent.run_once()
    with agent.db.transaction() as session:
        assert list(session.scalars(select(Suppression))) == []
