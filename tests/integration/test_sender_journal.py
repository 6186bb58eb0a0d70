"""The sender's journal (sent_journal.py) against a real SQLite file and the aiosmtpd sink.

What it must guarantee: a mail the SMTP server accepted is recorded at once, even while another
transaction (the processor's batch) holds the database's write lock, and no path that decides
what to send (the next claim, the recovery after a kill -9) sends it again.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from inbox_agent.config import ImapSettings
from inbox_agent.daemon import SEND_CONNECTIONS, Daemon
from inbox_agent.db.session import Database, upgrade
from inbox_agent.db.tables import Outbox
from inbox_agent.models import OutgoingMail
from inbox_agent.outbox import claim_due, enqueue
from inbox_agent.sandbox import SmtpSink

from agent_harness import SECRET, agent_settings

pytestmark = pytest.mark.integration
NO_IMAP = ImapSettings(host="127.0.0.1", port=1, username="u", password="p", security="none")


def _daemon(tmp_path: Path, sink: SmtpSink) -> Daemon:
    settings = agent_settings(tmp_path, NO_IMAP, sink)
    db = Database(settings.database.url)
    upgrade(db.engine)
    classifier: Any = None  # sending needs no classifier
    return Daemon(settings, db, classifier)


def _queue(daemon: Daemon, count: int) -> None:
    now = datetime.now(UTC)
    with daemon.db.transaction() as session:
        for i in range(count):
            mail = OutgoingMail(kind="ack", to=f"klant{i}@example.org", subject="[KT-2026-000001] ontvangen",
                                body_text="Uw verzoek is ontvangen.", automatic=True)
            enqueue(session, mail, shop="default", case=None, secret=SECRET, domain="shop.example", now=now, brake=5)


def _rows(daemon: Daemon) -> list[Outbox]:
    with daemon.db.transaction() as session:
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


def test_an_accepted_mail_is_recorded_while_another_transaction_holds_the_write_lock(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    daemon = _daemon(tmp_path, smtp_sink)
    _queue(daemon, 1)
    with daemon.db.transaction() as session:
        [row] = claim_due(session, daemon.instance, datetime.now(UTC))
        session.expunge_all()
    holder = sqlite3.connect(tmp_path / "agent.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the processor in the middle of a batch
    try:
        # Marking the row itself would wait for the lock (30 s busy timeout, then retries): the
        # bound only keeps a regression from hanging the suite.
        asyncio.run(asyncio.wait_for(daemon._record_attempt(row, None), 20))
        assert holder.execute("select status from outbox").fetchone() == ("queued",)
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert daemon.counters.sent == 1
    assert asyncio.run(daemon.send_due()) == 0, "the journaled mail was claimed again"
    [after] = _rows(daemon)
    assert (after.status, after.attempts, after.claimed_by) == ("sent", 1, None)
    assert smtp_sink.messages == []  # recorded, never sent here: the test skipped the SMTP step


def test_mails_go_out_over_several_connections_once_each_and_are_marked_sent(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    daemon = _daemon(tmp_path, smtp_sink)
    _queue(daemon, 5)
    assert asyncio.run(daemon.send_due()) == 5
    assert asyncio.run(daemon.send_due()) == 0
    daemon.release()
    received = sorted(rcpt for m in smtp_sink.messages for rcpt in m.rcpt_tos)
    assert received == sorted(f"klant{i}@example.org" for i in range(5))
    assert {(r.status, r.attempts) for r in _rows(daemon)} == {("sent", 1)}
    assert SEND_CONNECTIONS > 1


def test_a_killed_senders_journaled_mail_is_not_sent_again_after_recovery(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    daemon = _daemon(tmp_path, smtp_sink)
    _queue(daemon, 2)
    dead = f"{socket.gethostname()}:{_dead_pid()}"
    with daemon.db.transaction() as session:
        first, second = claim_due(session, dead, datetime.now(UTC))
        session.expunge_all()
    assert daemon.db.journal is not None
    daemon.db.journal.record(first.id, datetime.now(UTC))  # accepted, then kill -9 before the fold
    daemon.recover()  # frees the dead process's claims: the journaled one must count as sent
    assert asyncio.run(daemon.send_due()) == 1
    assert [list(m.rcpt_tos) for m in smtp_sink.messages] == [[second.to_addr]]
    daemon.release()  # a clean stop folds what this run journaled
    assert [r.status for r in _rows(daemon)] == ["sent", "sent"]


def _dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        pid -= 1
