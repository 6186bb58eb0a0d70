"""A batch is routed without savepoints; a message that fails there sends the batch round again with them.

The failing message is quarantined with the reason, logged once; the rest of its batch is routed
once, each privacy request with one case and one acknowledgement.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from inbox_agent import inbound, pipeline
from inbox_agent.classify import Classifier
from inbox_agent.config import Settings
from inbox_agent.db.models import Case, Outbox, StoredMessage
from inbox_agent.db.session import Database
from inbox_agent.mailbox import FetchedMail

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SENDERS = ["anna@example.org", "bram@example.org", "cor@example.org", "dirk@example.org"]


def request(sender: str, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "privacy@shop.example", "Inzageverzoek"
    msg["Message-ID"], msg["Date"] = f"<req{n}@example.org>", "Mon, 02 Mar 2026 08:00:00 +0000"
    msg.set_content("Beste,\n\nIk wil graag inzage in alle persoonsgegevens die u van mij verwerkt "
                    "(artikel 15 AVG).\n\nMet vriendelijke groet,\nKlant")
    return msg.as_bytes()


def stored(database: Database) -> None:
    mails = [FetchedMail(uid=n + 1, uidvalidity=1, raw=request(s, n), internal_date=NOW, flags=(),
                         size=len(request(s, n))) for n, s in enumerate(SENDERS)]
    with database.transaction() as session:
        state = inbound.folder_state(session, "default", "INBOX")
        state.uidvalidity = 1
        inbound.store(session, "default", "INBOX", state, mails, max_bytes=10**6, now=NOW)


@pytest.mark.parametrize("failing", [None, "bram@example.org"])
def test_a_failing_message_costs_only_itself_and_the_rest_of_its_batch_is_routed_once(
    settings: Settings, database: Database, classifier: Classifier, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, failing: str | None,
) -> None:
    opened = pipeline.open_case
    attempts: list[str] = []

    def open_case(session: Any, desk: Any, row: StoredMessage, msg: Any, cls: Any) -> Case:
        attempts.append(msg.from_.email)
        if msg.from_.email == failing:
            raise RuntimeError("a bug in opening this case")
        return opened(session, desk, row, msg, cls)

    monkeypatch.setattr(pipeline, "open_case", open_case)
    stored(database)
    caplog.set_level(logging.INFO, logger="inbox_agent")
    assert pipeline.Pipeline(settings, database, classifier, clock=lambda: NOW).process_pending() == len(SENDERS)
    with database.transaction() as session:
        rows = {r.uid: r for r in session.scalars(select(StoredMessage))}
        cases = {c.requester_email: c for c in session.scalars(select(Case))}
        acks = [o.to_addr for o in session.scalars(select(Outbox).where(Outbox.kind == "ack"))]
        for n, sender in enumerate(SENDERS):
            row = rows[n + 1]
            if sender == failing:
                assert row.status == "quarantined" and sender not in cases
                assert row.quarantine_reason == "internal error: RuntimeError: a bug in opening this case"
            else:
                assert row.status == "processed" and row.case_id == cases[sender].id
        assert sorted(acks) == sorted(s for s in SENDERS if s != failing)
        assert len({c.reference for c in cases.values()}) == len(cases)
    tracebacks = [r for r in caplog.records if "internal error, quarantined" in r.getMessage()]
    assert len(tracebacks) == (1 if failing else 0)
    # One pass without savepoints; a failure ends it, and the whole batch goes round again with them.
    assert attempts == (SENDERS[:SENDERS.index(failing) + 1] + SENDERS if failing else SENDERS)
