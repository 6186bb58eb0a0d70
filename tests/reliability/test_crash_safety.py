"""Crash safety: the real daemon, a burst of 300 mails, SIGKILL at random moments, restarted each time.

Afterwards every privacy mail has exactly one case and every case exactly one acknowledgement row.
The SMTP sink may hold an acknowledgement twice only through the one window that cannot be closed:
the SMTP server accepted the mail, the process died before the row was marked sent, the restarted
daemon sends it again. Such a duplicate carries the same Message-ID, so the customer's mail program
shows it once; the test counts them and allows at most one per kill and SMTP connection (each connection
records a mail's answer before it sends the next).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from reliability_kit import (
    REQUESTS,
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
from inbox_agent.daemon import SEND_CONNECTIONS
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case, Outbox, StoredMessage
from inbox_agent.sandbox import DovecotServer, SmtpSink

from agent_harness import SECRET, config_text

pytestmark = pytest.mark.integration
MAILS = 300
KILLS = 12
SEED = 20260707
MAILBOX_LEASE = "select lease_owner from folder_state where mailbox = 'default' and folder = 'INBOX'"


def _add_customers(url: str, addresses: list[str]) -> None:
    db = Database(url)
    with db.transaction() as session:
        upsert(session, "default", [CustomerRecord(email=a, name="Klant", customer_id=f"c{i}")
                                    for i, a in enumerate(addresses)], source="test", now=datetime.now(UTC))
    db.dispose()


def test_sigkill_at_random_moments_loses_nothing_and_duplicates_only_in_the_window(
    tmp_path: Path, dovecot: DovecotServer, make_imap_settings: Callable[..., ImapSettings], smtp_sink: SmtpSink,
    figures: Callable[..., None],
) -> None:
    rng = random.Random(SEED)
    imap = make_imap_settings()
    url = f"sqlite:///{tmp_path / 'agent.sqlite'}"
    db_file = tmp_path / "agent.sqlite"
    migrated(url)
    config = tmp_path / "config.toml"
    config.write_text(config_text(tmp_path, imap, smtp_sink.port, db_url=url), encoding="utf-8")
    burst = make_burst(MAILS, rng)
    _add_customers(url, burst.known)
    waves = [burst.raws[i::KILLS] for i in range(KILLS)]
    daemon = DaemonProcess(config, tmp_path / "daemon.log")
    mid_work = during_startup = 0
    try:
        for cycle in range(KILLS):
            daemon.start()
            feeder_rng = random.Random(SEED + cycle)
            feeder = threading.Thread(target=bulk_append, args=(dovecot, imap.username, waves[cycle]),
                                      kwargs={"pause": lambda r=feeder_rng: r.uniform(0.0, 0.06)})
            feeder.start()
            if cycle % 4 == 3:  # anywhere, start-up and recovery included
                delay = rng.uniform(0.1, 3.5)
                wait_until(lambda d=delay: _since(daemon) >= d, 30, "the kill moment")
            else:  # while it works: it has taken the mailbox lease, i.e. recovered and is polling
                instance = daemon.instance
                wait_until(lambda i=instance: scalar(db_file, MAILBOX_LEASE) == i,
                           30, f"daemon {instance} to start polling (cycle {cycle})")
                kill_at = _since(daemon) + rng.uniform(0.0, 1.5)
                wait_until(lambda k=kill_at: _since(daemon) >= k, 30, "the kill moment")
            busy = _backlog(db_file)
            working = scalar(db_file, MAILBOX_LEASE) == daemon.instance
            assert daemon.alive(), f"the daemon died by itself in cycle {cycle}; see {daemon.log}"
            daemon.kill()
            mid_work += bool(busy)
            during_startup += not working
            feeder.join()

        daemon.start()
        # Up first: the killed runs may have finished everything already, and a SIGTERM during
        # Python's imports would end the process before the daemon could install its handler.
        instance = daemon.instance
        wait_until(lambda: scalar(db_file, MAILBOX_LEASE) == instance, 30, "the last daemon to start polling")
        wait_until(lambda: scalar(db_file, "select count(*) from message") == MAILS
                   and _backlog(db_file) == 0, 90, "the last run to store, process and send everything")
        code, _seconds = daemon.terminate()
        assert code == 0, f"SIGTERM exit code {code}; see {daemon.log}"
    finally:
        daemon.stop_quietly()

    db = Database(url)
    with db.transaction() as session:
        messages = list(session.scalars(select(StoredMessage)))
        cases = list(session.scalars(select(Case)))
        rows = list(session.scalars(select(Outbox)))
    db.dispose()
    assert len(messages) == MAILS
    assert all(m.status == "processed" for m in messages), [(m.message_id, m.status) for m in messages
                                                            if m.status != "processed"]
    by_first_id: dict[str, list[Case]] = {}
    for case in cases:
        by_first_id.setdefault(case.thread_ids[0], []).append(case)
    privacy = burst.ids("privacy")
    for mid in privacy:
        assert len(by_first_id.get(mid, [])) == 1, f"privacy mail {mid} has {len(by_first_id.get(mid, []))} cases"
    assert len(cases) == len(privacy), "a case was opened for an ordinary mail or a robot"

    sent = message_ids(smtp_sink.messages)
    row_by_id = {r.message_id: r for r in rows}
    assert set(sent) <= set(row_by_id), "a mail reached the SMTP server without an outbox row"
    for case in cases:
        acks = [r for r in rows if r.case_id == case.id and r.kind == "ack"]
        assert len(acks) == 1, f"case {case.reference} has {len(acks)} acknowledgement rows"
        assert acks[0].status == "sent"
        assert sent[acks[0].message_id] >= 1, f"the ack of {case.reference} never reached the SMTP server"
    for row in rows:
        if row.status == "sent":
            assert sent[row.message_id] >= 1, f"{row.kind} {row.message_id} marked sent but never received"
        else:
            assert row.status in ("draft", "blocked") and sent[row.message_id] == 0, (row.kind, row.status)
    customers = {a for a in burst.sender.values()}
    robots_and_others = {burst.sender[m] for m in burst.ids("robot") + burst.ids("ordinary")}
    assert not [m for m in smtp_sink.messages if set(m.rcpt_tos) & robots_and_others]
    assert all(set(m.rcpt_tos) <= customers | {"officer@shop.example"} for m in smtp_sink.messages)

    journal = (tmp_path / "daemon.log").read_text(errors="replace")
    assert not [s for s in (*REQUESTS, SECRET, imap.password.get_secret_value()) if s in journal]  # type: ignore[union-attr]

    duplicates = {mid: n for mid, n in sent.items() if n > 1}
    ack_duplicates = sum(n - 1 for mid, n in duplicates.items() if row_by_id[mid].kind == "ack")
    assert sum(n - 1 for n in duplicates.values()) <= KILLS * SEND_CONNECTIONS, \
        "more duplicates than kills x connections: not the crash window"
    figures(kills_survived=KILLS, kills_mid_work=mid_work, kills_before_polling=during_startup, mails=MAILS,
            privacy_mails=len(privacy), cases=len(cases), mails_sent=sum(sent.values()),
            duplicates_same_message_id=sum(n - 1 for n in duplicates.values()), ack_duplicates=ack_duplicates,
            duplicate_kinds=sorted(row_by_id[m].kind for m in duplicates))


def _since(daemon: DaemonProcess) -> float:
    return time.monotonic() - daemon.started_at


def _backlog(db_file: Path) -> int:
    pending = scalar(db_file, "select count(*) from message where status = 'pending'")
    queued = scalar(db_file, "select count(*) from outbox where status = 'queued'")
    assert isinstance(pending, int) and isinstance(queued, int)
    return pending + queued
