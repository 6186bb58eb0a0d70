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
from sqlalchemy import event, select

from inbox_agent import inbound, pipeline
from inbox_agent.classify import Classifier
from inbox_agent.config import Settings
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case, Outbox, StoredMessage
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


def stored(database: Database, senders: list[str] = SENDERS) -> None:
    mails = [FetchedMail(uid=n + 1, uidvalidity=1, raw=request(s, n), internal_date=NOW, flags=(),
                         size=len(request(s, n))) for n, s in enumerate(senders)]
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


def test_a_batch_writes_each_new_case_once_with_its_final_state(
    settings: Settings, database: Database, classifier: Classifier
) -> None:
    """Opening a case does not flush: the batch's cases go in together at its end, and are never updated after."""
    stored(database)
    statements: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *a: statements.append(a[2].split("(")[0].strip()))
    assert pipeline.Pipeline(settings, database, classifier, clock=lambda: NOW).process_pending() == len(SENDERS)
    inserts = [i for i, s in enumerate(statements) if s == 'INSERT INTO "case"']
    assert len(inserts) == len(SENDERS) and inserts == list(range(inserts[0], inserts[0] + len(SENDERS)))  # one flush
    assert not [s for s in statements if s.startswith('UPDATE "case"')]
    with database.transaction() as session:
        cases = {c.id: c for c in session.scalars(select(Case))}
        assert sorted(c.reference for c in cases.values()) == [f"KT-2026-00000{n}" for n in range(1, 5)]
        for case in cases.values():
            assert case.state == "awaiting_identity" and [e.kind for e in case.events] == [
                "received", "mail_queued", "transition", "mail_queued"]
            assert len(case.thread_ids) == 3  # the request, the ack and the identity question
        assert {r.case_id for r in session.scalars(select(StoredMessage))} == set(cases)
        mails = [(o.case_id, o.kind) for o in session.scalars(select(Outbox))]
        assert sorted(mails) == sorted((i, k) for i in cases for k in ("ack", "identity_question"))


def test_a_second_request_of_a_sender_in_the_same_batch_is_linked_to_her_first(
    settings: Settings, database: Database, classifier: Classifier
) -> None:
    """Her first case is not written yet when the second opens; the link must find it all the same."""
    senders = ["anna@example.org", "bram@example.org", "anna@example.org", "cor@example.org"]
    stored(database, senders)
    assert pipeline.Pipeline(settings, database, classifier, clock=lambda: NOW).process_pending() == len(senders)
    with database.transaction() as session:
        cases = list(session.scalars(select(Case).order_by(Case.id)))
        assert [c.reference for c in cases] == [f"KT-2026-00000{n}" for n in range(1, 5)]
        assert [c.linked_case_id for c in cases] == [None, None, cases[0].id, None]
