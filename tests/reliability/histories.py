"""Generated case histories for the property tests: senders, proofs, texts and threading an attacker mixes.

Senders are the customer, look-alikes, an attacker and another customer; From display names that
spell an address; Reply-To; DMARC verdicts (trusted, failing, untrusted hosts, none, missing);
requests that name the customer's address; replies with the right or a wrong code, order number +
postcode, withdrawals; replies threaded onto our own Message-IDs and subjects carrying a reference.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from hypothesis import strategies as st
from sqlalchemy import select

from inbox_agent.customer_registry import CustomerRecord, upsert
from inbox_agent.daemon import Daemon
from inbox_agent.db.session import Database, upgrade
from inbox_agent.db.tables import Case, Outbox

from agent_harness import TRUSTED
from agent_harness import approve_everything as harness_approve

Event = tuple[str, str, str | None, str, str, str]
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


def text_of(kind: str, code: str | None) -> str:
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


def mail_of(ev: tuple[str, str, str | None, str, str, str], db: Database) -> bytes:
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
    msg.set_content(text_of(text_kind, code))
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def approve_everything(daemon: Daemon) -> None:
    harness_approve(daemon.settings, daemon.db)


def registry_template(path: Path) -> Path:
    """A migrated database holding Anna (postcode, one order) and Bob, copied for every history."""
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    with db.transaction() as session:
        upsert(session, "default", [
            CustomerRecord(email=ANNA, name="Anna de Vries", customer_id="c-anna", postcode="1234AB",
                           order_numbers=["10023"]),
            CustomerRecord(email=BOB, name="Bob", customer_id="c-bob"),
        ], source="test", now=datetime.now(UTC))
    db.dispose()
    return path
