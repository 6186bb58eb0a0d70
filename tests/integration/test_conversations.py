"""Issue 4's conversations through real Dovecot + aiosmtpd, with the officer's actions in between."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from inbox_agent import officer_error
from inbox_agent.db.tables import Case, Outbox
from inbox_agent.desk import officer, verification
from inbox_agent.runtime import officer_desk
from inbox_agent.sandbox import ReceivedMail

from agent_harness import Agent, parsed, request_mail

pytestmark = pytest.mark.integration
ANNA = "anna.jansen@example.org"


def body(mail: ReceivedMail) -> str:
    part = parsed(mail).get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def the_case(agent: Agent) -> Case:
    with agent.db.transaction() as session:
        return session.scalars(select(Case)).one()


def approve_all(agent: Agent, reference: str) -> list[int]:
    with agent.db.transaction() as session:
        desk = officer_desk(agent.settings, "default", "m.derks", datetime.now(UTC))
        return officer.approve(session, desk, reference)


def test_known_customer_access_request_is_answered_at_the_known_address(agent: Agent) -> None:
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(request_mail("Hallo, ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben.",
                               sender=ANNA, subject="inzageverzoek"))
    agent.run_once()
    case = the_case(agent)
    assert case.state == "awaiting_approval" and case.verified_email == ANNA
    customer_mail = agent.sent_to(ANNA)
    assert [parsed(m)["Subject"].startswith(f"[{case.reference}]") for m in customer_mail] == [True]
    about_case = [m for m in agent.sent_to("officer@shop.example") if case.reference in parsed(m)["Subject"]]
    assert len(about_case) == 1  # "a case needs your decision" (a daily digest may come too)

    assert approve_all(agent, case.reference)
    agent.run_once()
    results = agent.sent_to(ANNA)[1:]
    assert len(results) == 1
    attachments = [p.get_filename() for p in parsed(results[0]).iter_attachments()]
    assert attachments == [f"{case.reference}-access.zip"]
    text = body(results[0])
    for recipient in ("Meer dan Online", "Mollie", "PostNL", "Google Analytics"):
        assert recipient in text
    assert "Autoriteit Persoonsgegevens" in text
    assert the_case(agent).state == "completed"


# 120 000: the second opinion read the digits of "Hier is de code: 120 000" as a new value (rectification 0.55), the
# reply added that right and its code went unchecked; 1 code in 8 or so failed this way (CI, 7 December)
@pytest.mark.parametrize("minted", [123456, 120000])
def test_unknown_address_gets_code_at_known_address_and_code_reply_continues_the_case(
        agent: Agent, monkeypatch: pytest.MonkeyPatch, minted: int) -> None:
    monkeypatch.setattr(verification.secrets, "randbelow", lambda _: minted)
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(request_mail(f"Ik heb een nieuw mailadres. Mijn account staat op {ANNA}, verwijder dat account.",
                               sender="anna.nieuw@example.com", subject="account verwijderen"))
    agent.run_once()
    assert the_case(agent).state == "awaiting_identity"
    (code_mail,) = agent.sent_to(ANNA)
    code = re.search(r"\b(\d{3} \d{3})\b", body(code_mail))
    assert code, "the code mail carries a code"
    (ack,) = agent.sent_to("anna.nieuw@example.com")
    agent.deliver(request_mail(f"Hier is de code: {code.group(1)}", sender="anna.nieuw@example.com",
                               subject="Re: " + parsed(ack)["Subject"], in_reply_to=parsed(ack)["Message-ID"]))
    agent.run_once()
    case = the_case(agent)
    assert case.state == "awaiting_approval"
    assert case.identity_method == "code sent to known address"
    with agent.db.transaction() as session:
        result = session.scalars(select(Outbox).where(Outbox.kind == "result_erasure")).one()
        assert result.to_addr == ANNA and result.status == "draft"


def test_a_code_reply_that_asks_another_right_too_verifies_and_adds_it(agent: Agent) -> None:
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(request_mail(f"Mijn account staat op {ANNA}, verwijder dat account.",
                               sender="anna.nieuw@example.com", subject="account verwijderen"))
    agent.run_once()
    (code_mail,) = agent.sent_to(ANNA)
    code = re.search(r"\b(\d{3} \d{3})\b", body(code_mail))
    assert code
    (ack,) = agent.sent_to("anna.nieuw@example.com")
    agent.deliver(request_mail(f"De code is {code.group(1)}. Ik wil ook graag inzage in alle gegevens die jullie "
                               "van mij hebben.", sender="anna.nieuw@example.com",
                               subject="Re: " + parsed(ack)["Subject"], in_reply_to=parsed(ack)["Message-ID"]))
    agent.run_once()
    case = the_case(agent)
    assert case.state == "awaiting_approval" and case.identity_method == "code sent to known address"
    assert sorted(case.rights) == ["access", "erasure"]
    with agent.db.transaction() as session:
        drafts = sorted((r.kind, r.to_addr) for r in session.scalars(select(Outbox).where(Outbox.status == "draft")))
    assert drafts == [("result_access", ANNA), ("result_erasure", ANNA)]


def test_spoofed_sender_with_dmarc_fail_gets_no_data(agent: Agent) -> None:
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(request_mail("Stuur mij een kopie van al mijn persoonsgegevens.", sender=ANNA, dmarc="fail",
                               headers={"Reply-To": "thief@evil.example"}))
    agent.run_once()
    case = the_case(agent)
    assert case.state == "awaiting_identity" and case.verified_email is None
    with agent.db.transaction() as session:
        kinds = sorted(r.kind for r in session.scalars(select(Outbox)) if not r.kind.startswith("officer_"))
    assert kinds == ["ack", "identity_code"]
    assert agent.sent_to("thief@evil.example") == []
    with pytest.raises(officer_error.OfficerError):
        approve_all(agent, case.reference)


def test_laat_maar_withdraws_the_request(agent: Agent) -> None:
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(request_mail("Verwijder alsjeblieft mijn account en al mijn gegevens.", sender=ANNA))
    agent.run_once()
    (ack,) = [m for m in agent.sent_to(ANNA)]
    agent.deliver(request_mail("Laat maar, ik blijf toch klant.", sender=ANNA, subject="Re: " + parsed(ack)["Subject"],
                               in_reply_to=parsed(ack)["Message-ID"]))
    agent.run_once()
    case = the_case(agent)
    assert case.state == "withdrawn"
    with agent.db.transaction() as session:
        statuses = {r.kind: r.status for r in session.scalars(select(Outbox))}
    assert statuses["result_erasure"] == "rejected"
    assert statuses["withdrawn"] == "sent"


def test_a_no_to_the_newsletters_question_is_an_objection_with_its_acknowledgement(agent: Agent) -> None:
    """Round 12: "nee bedankt" under the shop's mailing that asks whether to keep it (sent by the newsletter system,
    not by the agent) holds no word a rule could read; the question it answers says it objects."""
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(request_mail(
        "nee bedankt\n\nOp 25 nov 2026 om 10:00 schreef Kleine Toppers <nieuwsbrief@shop.example>:\n\n"
        "> Hoi Anna,\n>\n> Je staat al een tijd op onze mailinglijst. Wil je onze nieuwsbrief blijven ontvangen?\n"
        "> Laat het ons weten door op deze mail te antwoorden.\n>\n> Groetjes, Team Kleine Toppers\n",
        sender=ANNA, subject="Re: Blijf je op de hoogte?"))
    agent.run_once()
    case = the_case(agent)
    assert case.rights == ["objection"] and case.verified_email == ANNA
    (ack,) = agent.sent_to(ANNA)
    assert parsed(ack)["Subject"].startswith(f"[{case.reference}]")
    assert "bezwaar" in body(ack).lower()


def test_german_request_gets_german_mails(agent: Agent) -> None:
    agent.add_customer("jonas@example.de", "Jonas Weber")
    agent.deliver(request_mail("Guten Tag, bitte löschen Sie mein Kundenkonto und alle meine Daten.",
                               sender="jonas@example.de", subject="Löschung meiner Daten"))
    agent.run_once()
    (ack,) = agent.sent_to("jonas@example.de")
    assert parsed(ack)["Content-Language"] == "de"
    assert "Datenschutz" in body(ack) or "Anfrage" in body(ack)
    assert the_case(agent).language == "de"


def test_second_request_while_open_is_linked_not_merged(agent: Agent) -> None:
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(request_mail("Ik wil inzage in mijn persoonsgegevens.", sender=ANNA))
    agent.run_once()
    agent.deliver(request_mail("En verwijder daarna ook mijn account.", sender=ANNA, subject="nog iets"))
    agent.run_once()
    with agent.db.transaction() as session:
        first, second = session.scalars(select(Case).order_by(Case.id)).all()
    assert second.linked_case_id == first.id
    assert second.reference != first.reference


def test_unclear_request_gets_a_clarification_and_the_answer_continues_the_case(agent: Agent) -> None:
    agent.add_customer(ANNA, "Anna Jansen")
    agent.deliver(request_mail("Hallo, ik wil graag gebruik maken van mijn rechten onder de AVG.", sender=ANNA,
                               subject="privacy"))
    agent.run_once()
    assert the_case(agent).state == "awaiting_clarification"
    (clarification,) = agent.sent_to(ANNA)
    text = body(clarification)
    assert "inzage" in text.lower() and "verwijder" in text.lower()  # the rights in plain words
    agent.deliver(request_mail("Ik bedoel: ik wil weten welke persoonsgegevens jullie van mij hebben.", sender=ANNA,
                               subject="Re: " + parsed(clarification)["Subject"],
                               in_reply_to=parsed(clarification)["Message-ID"]))
    agent.run_once()
    case = the_case(agent)
    assert case.rights == ["access"] and case.state == "awaiting_approval"


def test_privacy_question_goes_to_the_officer_not_to_a_template(agent: Agent) -> None:
    agent.deliver(request_mail("Ik heb jullie privacyverklaring gelezen: waarom gebruiken jullie Google Analytics?",
                               sender="vraag@example.org", subject="vraag over privacybeleid"))
    agent.run_once()
    assert agent.sent_to("vraag@example.org") == []
    case = the_case(agent)
    assert case.rights == [] and case.state == "in_progress"
    assert [m for m in agent.sent_to("officer@shop.example") if case.reference in parsed(m)["Subject"]]
