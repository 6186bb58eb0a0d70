"""Graceful SIGTERM under load: the daemon stops within 10 s, exit code 0, nothing half-done.

The daemon gets a backlog of 300 mails and SIGTERM once it is busy with them. It may finish the
step it is in (one message: that transaction commits or never started) but must not work through
the whole backlog first, which at ~30 mails/s would take longer than systemd waits. After the
stop every message is either untouched (pending) or fully handled, no outbox row is left claimed,
and a restart finishes the rest without sending anything twice. A clean stop also gives back
its leases and claims: the restart finds nothing left by a stopped process.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from reliability_kit import (
    DaemonProcess,
    bulk_append,
    make_burst,
    message_ids,
    migrated,
    scalar,
    wait_until,
)
from sqlalchemy import select

from inbox_agent.config import ImapSettings
from inbox_agent.customer_registry import CustomerRecord, upsert
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case, FolderState, Outbox, StoredMessage
from inbox_agent.sandbox import DovecotServer, SmtpSink

from agent_harness import config_text

pytestmark = pytest.mark.integration
MAILS = 300
STOP_WITHIN = 10.0


def test_sigterm_under_load_stops_within_10_s_and_leaves_nothing_half_done(
    tmp_path: Path, dovecot: DovecotServer, make_imap_settings: Callable[..., ImapSettings], smtp_sink: SmtpSink,
    figures: Callable[..., None],
) -> None:
    imap = make_imap_settings()
    url = f"sqlite:///{tmp_path / 'agent.sqlite'}"
    db_file = tmp_path / "agent.sqlite"
    migrated(url)
    config = tmp_path / "config.toml"
    config.write_text(config_text(tmp_path, imap, smtp_sink.port, db_url=url), encoding="utf-8")
    burst = make_burst(MAILS, random.Random(11), tag="t")
    db = Database(url)
    with db.transaction() as session:
        upsert(session, "default", [CustomerRecord(email=a, name="Klant", customer_id=f"c{i}")
                                    for i, a in enumerate(burst.known)], source="test", now=datetime.now(UTC))
    bulk_append(dovecot, imap.username, burst.raws)

    daemon = DaemonProcess(config, tmp_path / "daemon.log")
    try:
        daemon.start()
        wait_until(lambda: _count(db_file, "status != 'pending'") >= 10, 60, "the daemon to be busy with the backlog",
                   interval=0.02)
        done_at_signal = _count(db_file, "status != 'pending'")
        queued_at_signal = scalar(db_file, "select count(*) from outbox where status = 'queued'")
        code, seconds = daemon.terminate(timeout=30)
    finally:
        daemon.stop_quietly()
    done_at_exit = _count(db_file, "status != 'pending'")
    log = (tmp_path / "daemon.log").read_text(errors="replace")
    assert code == 0, f"exit code {code} after SIGTERM; log:\n{log[-3000:]}"
    assert seconds <= STOP_WITHIN, f"stopping took {seconds:.1f} s"
    assert "stopped cleanly" in log
    assert done_at_signal < MAILS - 100, "the backlog was gone before SIGTERM: no load to stop under"
    # "SIGTERM lets the current step finish": one message per step, not the rest of the backlog.
    assert done_at_exit - done_at_signal <= 5, f"{done_at_exit - done_at_signal} mails processed after SIGTERM"

    with db.transaction() as session:
        messages = list(session.scalars(select(StoredMessage)))
        rows = list(session.scalars(select(Outbox)))
        cases = list(session.scalars(select(Case)))
        assert not [r for r in rows if r.claimed_by is not None], "outbox rows left claimed after a clean stop"
        leases = list(session.scalars(select(FolderState.lease_owner).where(FolderState.lease_owner.is_not(None))))
        assert leases == [], "mailbox or scheduler leases left behind by a clean stop"
        for message in messages:
            kind = burst.kind[message.message_id or ""]
            if message.status == "pending":
                assert message.case_id is None and message.outcome is None
            elif kind == "privacy":
                assert message.case_id is not None, f"{message.message_id}: processed without a case"
                acks = [r for r in rows if r.case_id == message.case_id and r.kind == "ack"]
                assert len(acks) == 1
            else:
                assert message.case_id is None
        assert len(cases) == sum(1 for m in messages if m.case_id is not None)

    # The restart finishes the backlog; a clean stop leaves no mail in the crash window.
    daemon.start("--once")
    assert daemon.proc is not None and daemon.proc.wait(120) == 0
    daemon.proc = None
    restart_log = (tmp_path / "daemon.log").read_text(errors="replace")[len(log):]
    assert "left by a stopped process" not in restart_log  # the clean stop released its leases itself
    with db.transaction() as session:
        assert all(m.status == "processed" for m in session.scalars(select(StoredMessage)))
        cases = list(session.scalars(select(Case)))
        rows = list(session.scalars(select(Outbox)))
    db.dispose()
    assert len(cases) == len(burst.ids("privacy"))
    sent = message_ids(smtp_sink.messages)
    assert max(sent.values()) == 1, "a mail was sent twice around a clean stop"
    assert set(sent) == {r.message_id for r in rows if r.status == "sent"}
    figures(backlog=MAILS, processed_at_sigterm=done_at_signal, outbox_queued_at_sigterm=queued_at_signal,
            processed_at_exit=done_at_exit,
            exit_seconds=round(seconds, 2), exit_code=code, duplicates=0)


def _count(db_file: Path, where: str) -> int:
    value = scalar(db_file, f"select count(*) from message where {where}")
    assert isinstance(value, int)
    return value



