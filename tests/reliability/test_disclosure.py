"""Disclosure: a result package never reaches anyone but the verified customer address.

A property test over generated case histories: senders (the customer, look-alikes, an attacker,
another customer), From display names that spell an address, Reply-To, DMARC verdicts (trusted,
failing, untrusted hosts), requests that name the customer's address, replies with the right or a
wrong code, order number + postcode, withdrawals, replies threaded onto our own Message-IDs and
subjects carrying a case reference. After every mail the officer approves every draft, and the
outbox is sent to a real SMTP sink. Checked on the wire: each result_* mail has exactly one RCPT TO,
the registry address of the customer whose identity the case verified. Confirmation codes, too,
only ever go to a registry address.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_kit import message_ids, push
from sqlalchemy import select

from inbox_agent.addresses import same_address
from inbox_agent.classify import Classifier
from inbox_agent.config import ImapSettings
from inbox_agent.daemon import Daemon
from inbox_agent.db.models import Case, Customer, Outbox
from inbox_agent.db.session import Database, upgrade
from inbox_agent.officer import OfficerError, approve
from inbox_agent.registry import CustomerRecord, upsert
from inbox_agent.runtime import officer_desk
from inbox_agent.sandbox import SmtpSink

from agent_harness import TRUSTED, agent_settings

EXAMPLES = 120
ANNA, BOB = "anna@example.org", "bob@example.net"
KNOWN = {"c-anna": ANNA, "c-bob": BOB}
ATTACKERS = ["mallory@evil.example", "Anna@example.org", "anna@example.org.evil.example", "anna+x@example.org",
             "anna@exarnple.org"]
_SIGNED_KIND = re.compile(r"^<ia\.[A-Z]+-\d{4}-\d{6}\.([a-z_]+)\.")

senders = st.sampled_from([ANNA, "anna@EXAMPLE.ORG", BOB, *ATTACKERS])
display_names = st.sampled_from(["Anna", ANNA, f"Anna <{ANNA}>", "Bob", "", "Mallory\r\nReply-To: x@evil.example",
                                 "=?utf-8?q?anna@example.org?="])
reply_tos = st.sampled_from([None, "mallory@evil.example", ANNA, BOB])
dmarcs = st.sampled_from(["pass", "fail", "none", "untrusted-pass", "missing"])
texts = st.sampled_from([
    "access", "erasure", "names-anna", "names-bob", "right-code", "wrong-code", "order-right", "order-wrong",
    "withdraw", "chatter",
])
threading_ = st.sampled_from(["new", "in-reply-to-last", "in-reply-to-forged", "subject-reference"])
event = st.tuples(senders, display_names, reply_tos, dmarcs, texts, threading_)


def _text(kind: str, code: str | None) -> str:
    return {
        "access": "Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben.",
        "erasure": "Please delete my account and all my personal data.",
        "names-anna": f"Ik wil graag inzage in alle persoonsgegevens. Mijn account staat op {ANNA}.",
        "names-bob": f"Please delete my account and all my personal data. My account is {BOB}.",
        "right-code": f"Hierbij de code: {code or '000 000'}",
        "wrong-code": "Hierbij de code: 123 456",
        "order-right": "Mijn bestelnummer is 10023 en mijn postcode 1234 AB.",
        "order-wrong": "Mijn bestelnummer is 99999 en mijn postcode 9999 ZZ.",
        "withdraw": "Laat maar, ik trek mijn verzoek in.",
        "chatter": "Dank voor het snelle antwoord!",
    }[kind]


def _mail(ev: tuple[str, str, str | None, str, str, str], db: Database) -> bytes:
    sender, name, reply_to, dmarc, text_kind, thread = ev
    with db.transaction() as session:
        last = session.scalars(select(Outbox).order_by(Outbox.id.desc())).first()
        code_row = session.scalars(select(Outbox).where(Outbox.kind == "identity_code")
                                   .order_by(Outbox.id.desc())).first()
        case = session.scalars(select(Case).order_by(Case.id.desc())).first()
        last_id = last.message_id if last else None
        code = None
        if code_row is not None and (found := re.search(r"\b(\d{3} \d{3})\b", code_row.body_text)):
            code = found.group(1)
        reference = case.reference if case else "KT-2026-000001"
    msg = EmailMessage()
    if dmarc == "untrusted-pass":
        msg["Authentication-Results"] = "mx.evil.example; spf=pass; dmarc=pass header.from=x"
    elif dmarc != "missing":
        msg["Authentication-Results"] = (f"{TRUSTED}; spf=pass smtp.mailfrom={sender}; dmarc={dmarc} "
                                     f"header.from={sender.rpartition('@')[2]}")
    display = name.replace("\r", " ").replace("\n", " ")
    msg["From"] = f'"{display}" <{sender}>' if display else sender
    msg["To"] = "info@shop.example"
    msg["Subject"] = f"Re: [{reference}] uw verzoek" if thread == "subject-reference" else "Privacy"
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="example.org")
    if reply_to:
        msg["Reply-To"] = reply_to
    if thread == "in-reply-to-last" and last_id:
        msg["In-Reply-To"] = msg["References"] = last_id
    elif thread == "in-reply-to-forged":
        msg["In-Reply-To"] = f"<ia.{reference}.ack.000000000000.0000000000000000@shop.example>"
    msg.set_content(_text(text_kind, code))
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _approve_everything(daemon: Daemon) -> None:
    with daemon.db.transaction() as session:
        references = list(session.scalars(select(Case.reference).join(Outbox, Outbox.case_id == Case.id)
                                           .where(Outbox.status == "draft").distinct()))
    for reference in references:
        try:
            with daemon.db.transaction() as session:
                approve(session, officer_desk(daemon.settings, "default", "officer", datetime.now(UTC)), reference)
        except OfficerError:
            pass  # refused (e.g. the disclosure guard): nothing is queued


@pytest.mark.integration
def test_results_only_ever_reach_the_verified_customer_address(
    tmp_path: Path, smtp_sink: SmtpSink, classifier: Classifier, figures: Callable[..., None],
) -> None:
    imap = ImapSettings(host="127.0.0.1", port=1, username="unused", security="none")  # mail is pushed directly
    template = tmp_path / "template.sqlite"
    db = Database(f"sqlite:///{template}")
    upgrade(db.engine)
    with db.transaction() as session:
        upsert(session, "default", [
            CustomerRecord(email=ANNA, name="Anna de Vries", customer_id="c-anna", postcode="1234AB",
                           order_numbers=["10023"]),
            CustomerRecord(email=BOB, name="Bob", customer_id="c-bob"),
        ], source="test", now=datetime.now(UTC))
    db.dispose()
    seen = {"histories": 0, "mails_in": 0, "results_sent": 0, "codes_sent": 0, "mails_out": 0, "verified_cases": 0}
    runs = iter(range(10**9))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(history=st.lists(event, min_size=1, max_size=5))
    def one(history: list[tuple[str, str, str | None, str, str, str]]) -> None:
        run = tmp_path / f"run{next(runs)}"
        run.mkdir()
        shutil.copy(template, run / "agent.sqlite")
        settings_ = agent_settings(run, imap, smtp_sink)
        db = Database(settings_.database.url)
        daemon = Daemon(settings_, db, classifier)
        before = len(smtp_sink.messages)
        try:
            with db.transaction() as session:
                ids = {row[0]: row[1] for row in session.execute(select(Customer.id, Customer.customer_ref))}
            verified: dict[int, tuple[int | None, str | None]] = {}
            for n, ev in enumerate(history):
                push(daemon, [_mail(ev, db)], first_uid=n + 1)
                with db.transaction() as session:  # before approval: erasure anonymises the case
                    for case in session.scalars(select(Case)):
                        if case.verified_email:
                            verified[case.id] = (case.customer_id, case.verified_email)
                _approve_everything(daemon)
                push(daemon, [], first_uid=0)
            with db.transaction() as session:
                kinds = {r.message_id: (r.kind, r.case_id) for r in session.scalars(select(Outbox))}
        finally:
            db.dispose()
        new = smtp_sink.messages[before:]
        for mail, mid in zip(new, [next(iter(message_ids([m]))) for m in new], strict=True):
            kind, case_id = kinds[mid]
            assert len(mail.rcpt_tos) == 1
            to = mail.rcpt_tos[0]
            if kind.startswith("result_"):
                assert case_id in verified, f"{kind} sent for case {case_id} that was never verified"
                customer_id, verified_email = verified[case_id]
                known = KNOWN[ids[customer_id]] if customer_id in ids else None
                assert known is not None and verified_email is not None
                assert to == known and same_address(verified_email, known), (kind, to, known, history)
                seen["results_sent"] += 1
            elif kind == "identity_code":
                assert to in KNOWN.values(), (to, history)
                seen["codes_sent"] += 1
        seen["histories"] += 1
        seen["mails_in"] += len(history)
        seen["mails_out"] += len(new)
        seen["verified_cases"] += len(verified)

    one()
    assert seen["results_sent"] >= 20 and seen["codes_sent"] >= 10, seen  # the histories reach both paths
    figures(**seen)
