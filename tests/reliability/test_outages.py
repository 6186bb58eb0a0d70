"""Outages while the daemon runs (forever mode, in this process so the clock and logs are at hand).

- Dovecot killed and restarted while the daemon IDLEs: it reconnects with backoff and misses nothing.
- The SMTP server down for a while: the outbox keeps the mail, retries after 30 s, 1 min, ... and
  delivers every mail exactly once when the server is back.
- The database locked by another program, or its disk full, also right between the SMTP server's
  acceptance and the commit that marks the row sent: the daemon logs one clear line, pauses, resumes,
  and leaves no half-done state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from reliability_kit import (
    REQUESTS,
    CountingStop,
    FakeClock,
    HookedSink,
    RestartableDovecot,
    message_ids,
    run_forever_during,
    wait_until,
)
from sqlalchemy import event, select

from inbox_agent import daemon as daemon_module
from inbox_agent.classify import Classifier
from inbox_agent.config import ImapSettings, Settings
from inbox_agent.daemon import Daemon
from inbox_agent.db.session import Database, upgrade
from inbox_agent.db.tables import Case, Outbox, StoredMessage
from inbox_agent.sandbox import DovecotServer, ReceivedMail, SmtpSink, free_port

from agent_harness import Agent, agent_settings, request_mail

pytestmark = pytest.mark.integration
DOWN_SECONDS = (1.0, 3.0)


@pytest.fixture
def fast_db_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon pauses 5 s after a database error; 1 s keeps these tests short, the logic is the same."""
    monkeypatch.setattr(daemon_module, "DB_PAUSE_SECONDS", 1.0)


def _acked(sink: SmtpSink, address: str) -> bool:
    return any(address in m.rcpt_tos for m in sink.messages)


def _exactly_once_per_row(db: Database, sink: SmtpSink) -> tuple[int, int]:
    """Every sent row reached the sink exactly once and nothing else did; (rows sent, duplicates)."""
    with db.transaction() as session:
        rows = list(session.scalars(select(Outbox)))
    received = message_ids(sink.messages)
    sent = {r.message_id for r in rows if r.status == "sent"}
    assert set(received) == sent, "sink and outbox disagree about what was sent"
    assert not [r for r in rows if r.status in ("queued", "failed")], [(r.kind, r.status) for r in rows]
    return len(sent), sum(n - 1 for n in received.values())


def _one_case_one_ack(db: Database, senders: list[str]) -> None:
    with db.transaction() as session:
        assert all(m.status == "processed" for m in session.scalars(select(StoredMessage)))
        for sender in senders:
            (case,) = session.scalars(select(Case).where(Case.requester_email == sender))
            acks = session.scalars(select(Outbox).where(Outbox.case_id == case.id, Outbox.kind == "ack")).all()
            assert len(acks) == 1 and acks[0].status == "sent", (sender, [(a.status, a.last_error) for a in acks])


# -- IMAP --------------------------------------------------------------------------------------------------


def test_dovecot_restart_during_idle_reconnects_within_5_s_and_misses_nothing(
    tmp_path: Path, smtp_sink: SmtpSink, classifier: Classifier, caplog: pytest.LogCaptureFixture,
    figures: Callable[..., None],
) -> None:
    caplog.set_level(logging.INFO, logger="inbox_agent")
    with RestartableDovecot() as server:
        server.add_user("shop", "shop-password-1")
        settings = agent_settings(tmp_path, server.settings("shop"), smtp_sink)
        agent = Agent(settings, classifier, server.account("shop"), smtp_sink)
        recoveries: list[float] = []

        def scenario() -> None:
            agent.deliver(request_mail(REQUESTS[0], sender="voor@example.org"))
            wait_until(lambda: _acked(smtp_sink, "voor@example.org"), 15, "the ack before the restart")
            for n, down in enumerate(DOWN_SECONDS):
                time.sleep(1.5)  # the daemon is IDLE now
                server.crash()
                time.sleep(down)
                server.start_again()
                up = time.monotonic()
                agent.deliver(request_mail(REQUESTS[1], sender=f"na{n}@example.org"))
                agent.deliver(request_mail(REQUESTS[2], sender=f"na{n}b@example.org"))
                wait_until(lambda n=n: _acked(smtp_sink, f"na{n}@example.org") and
                           _acked(smtp_sink, f"na{n}b@example.org"), 20, "the acks after the restart")
                recoveries.append(time.monotonic() - up)

        stop_seconds = run_forever_during(Daemon(settings, agent.db, classifier), scenario)
        senders = ["voor@example.org", "na0@example.org", "na0b@example.org", "na1@example.org", "na1b@example.org"]
        _one_case_one_ack(agent.db, senders)
        sent, duplicates = _exactly_once_per_row(agent.db, smtp_sink)
        agent.db.dispose()
    retries = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert any("lost during idle" in line for line in retries), retries
    # Mail appended right after the restart: ack within 5 s, IDLE's ~0.5 s announcement delay included.
    assert max(recoveries) <= 5.0, recoveries
    assert duplicates == 0
    figures(restarts=len(DOWN_SECONDS), down_seconds=DOWN_SECONDS, recovery_seconds=[round(r, 2) for r in recoveries],
            reconnect_log_lines=len(retries), mails_sent=sent, duplicates=duplicates,
            stop_seconds=round(stop_seconds, 2))


def test_imap_backoff_while_the_server_is_away_stays_within_5_s(
    tmp_path: Path, smtp_sink: SmtpSink, classifier: Classifier, figures: Callable[..., None],
) -> None:
    """However long Dovecot is away, the next connection attempt is at most 5 s off (no 10/20/40/60 s steps)."""
    imap = ImapSettings(host="127.0.0.1", port=free_port(), username="shop", password=SecretStr("pw-of-the-shop"),
                        security="none", timeout_seconds=2)
    settings = agent_settings(tmp_path, imap, smtp_sink)
    db = Database(settings.database.url)
    upgrade(db.engine)
    daemon = Daemon(settings, db, classifier)
    stop = CountingStop(attempts=12)
    daemon.stop = stop
    try:
        asyncio.run(daemon.watch(settings.all_mailboxes(), pause=stop.nap))
    finally:
        db.dispose()
    assert stop.waits[:5] == [0.5, 1.0, 2.0, 4.0, 5.0]
    assert max(stop.waits) <= 5.0, stop.waits
    figures(connection_attempts=len(stop.waits), waits=stop.waits)


# -- SMTP --------------------------------------------------------------------------------------------------


def test_smtp_down_outbox_keeps_mail_retries_with_backoff_and_sends_once_when_back(
    tmp_path: Path, imap_account: ImapSettings, dovecot: DovecotServer, classifier: Classifier,
    caplog: pytest.LogCaptureFixture, figures: Callable[..., None],
) -> None:
    caplog.set_level(logging.INFO, logger="inbox_agent")
    sink = SmtpSink()  # not started: the mail server is down
    clock = FakeClock()
    settings = agent_settings(tmp_path, imap_account, sink)
    agent = Agent(settings, classifier, dovecot.account(imap_account.username), sink)
    agent.add_customer("bekend@example.org", customer_id="7")
    senders = ["een@example.org", "twee@example.org", "bekend@example.org"]
    daemon = Daemon(settings, agent.db, classifier, clock=clock)
    seen: dict[str, object] = {}

    def rows(*, digest: bool = False) -> list[Outbox]:
        """The requests' mails. After 08:00 in Amsterdam the scheduler's tick also queues the officer's daily
        digest, on its own backoff from its own first attempt (the test failed from 08:00 on, passed before)."""
        with agent.db.transaction() as session:
            return list(session.scalars(select(Outbox).where(Outbox.status != "draft",
                                                             digest or Outbox.kind != "officer_digest")))

    def attempts_all(n: int) -> bool:
        current = rows()
        return len(current) >= 6 and all(r.attempts >= n and r.claimed_by is None for r in current)

    def scenario() -> None:
        for sender, body in zip(senders, REQUESTS, strict=True):
            agent.deliver(request_mail(body, sender=sender))
        wait_until(lambda: attempts_all(1), 20, "a first failed attempt of every mail")
        first = rows()
        assert all(r.status == "queued" and "unreachable" in (r.last_error or "") for r in first)
        assert {r.next_attempt_at - clock() for r in first} == {timedelta(seconds=30)}
        clock.advance(31)  # the sender looks at least every 2 s
        wait_until(lambda: attempts_all(2), 10, "the second attempt, 30 s later")
        assert {r.next_attempt_at - clock() for r in rows()} == {timedelta(seconds=60)}
        clock.advance(30)  # not yet due: nothing happens
        time.sleep(2.5)
        assert all(r.attempts == 2 for r in rows())
        sink.start()
        up = time.monotonic()
        clock.advance(31)
        wait_until(lambda: all(r.status == "sent" for r in rows()), 10, "delivery once the server is back")
        seen["recovery"] = time.monotonic() - up
        agent.deliver(request_mail(REQUESTS[0], sender="daarna@example.org"))
        wait_until(lambda: _acked(sink, "daarna@example.org") and all(r.status == "sent" for r in rows()), 10,
                   "a new mail after the outage")
        clock.advance(61)  # a digest queued during the outage is due again by now
        wait_until(lambda: all(r.status == "sent" for r in rows(digest=True)), 10, "every mail sent")

    try:
        run_forever_during(daemon, scenario)
        _one_case_one_ack(agent.db, [*senders, "daarna@example.org"])
        sent, duplicates = _exactly_once_per_row(agent.db, sink)
    finally:
        sink.stop()
        agent.db.dispose()
    failures = [r.getMessage() for r in caplog.records if "failed (attempt" in r.getMessage()]
    assert any("(attempt 1)" in f for f in failures) and any("(attempt 2)" in f for f in failures)
    assert duplicates == 0
    figures(outage="smtp down for 2 retry rounds (30 s + 60 s of agent time)", failed_attempts_logged=len(failures),
            recovery_seconds=round(float(seen["recovery"]), 2), mails_sent=sent, duplicates=duplicates)  # type: ignore[arg-type]


# -- database ------------------------------------------------------------------------------------------------


def _short_busy_timeout(db: Database, milliseconds: int) -> None:
    """Production waits 30 s for a lock before the error; the error path is what is tested here."""

    @event.listens_for(db.engine, "connect")
    def _busy(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.execute(f"PRAGMA busy_timeout={milliseconds}")


class Locker:
    """Another program holding SQLite's exclusive lock on the agent's database."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.held_since: float | None = None

    def lock(self) -> None:
        self.conn.execute("BEGIN EXCLUSIVE")
        self.held_since = time.monotonic()

    def unlock(self) -> float:
        self.conn.execute("ROLLBACK")
        self.held_since = None
        return time.monotonic()

    def close(self) -> None:
        self.conn.close()


def _db_pause_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "database unavailable" in r.getMessage()]


def test_database_locked_pauses_with_a_clear_log_line_and_resumes_without_half_state(
    tmp_path: Path, imap_account: ImapSettings, dovecot: DovecotServer, classifier: Classifier, fast_db_pause: None,
    caplog: pytest.LogCaptureFixture, figures: Callable[..., None],
) -> None:
    """Locked twice: while new mail arrives, and right after the SMTP server accepted a mail."""
    caplog.set_level(logging.INFO, logger="inbox_agent")
    locker = Locker(tmp_path / "agent.sqlite")
    lock_after_accept = threading.Event()

    def hook(mail: ReceivedMail) -> None:
        if lock_after_accept.is_set() and "accepted@example.org" in mail.rcpt_tos:
            lock_after_accept.clear()
            locker.lock()  # before the 250 reply: the commit that marks the row sent will find the lock

    sink = HookedSink(hook)
    sink.start()
    settings = agent_settings(tmp_path, imap_account, sink)
    agent = Agent(settings, classifier, dovecot.account(imap_account.username), sink)
    db = Database(settings.database.url)
    _short_busy_timeout(db, 500)
    seen: dict[str, float] = {}

    def scenario() -> None:
        agent.deliver(request_mail(REQUESTS[0], sender="voor@example.org"))
        wait_until(lambda: _acked(sink, "voor@example.org"), 15, "the first ack")
        locker.lock()
        agent.deliver(request_mail(REQUESTS[1], sender="tijdens@example.org"))
        agent.deliver(request_mail(REQUESTS[2], sender="tijdens2@example.org"))
        wait_until(lambda: bool(_db_pause_lines(caplog)), 15, "the daemon's pause line while locked")
        time.sleep(2.0)
        assert not _acked(sink, "tijdens@example.org")
        released = locker.unlock()
        wait_until(lambda: _acked(sink, "tijdens@example.org") and _acked(sink, "tijdens2@example.org"), 20,
                   "the acks after the lock is released")
        seen["recovery_new_mail"] = time.monotonic() - released
        lock_after_accept.set()
        agent.deliver(request_mail(REQUESTS[0], sender="accepted@example.org"))
        wait_until(lambda: locker.held_since is not None, 15, "the lock taken between accept and commit")
        time.sleep(2.5)
        released = locker.unlock()
        wait_until(lambda: _row_states(db, "accepted@example.org") == {"sent"}, 20,
                   "the accepted mail recorded as sent after the lock")
        seen["recovery_mark_sent"] = time.monotonic() - released
        agent.deliver(request_mail(REQUESTS[1], sender="daarna@example.org"))
        wait_until(lambda: _acked(sink, "daarna@example.org"), 15, "a new mail after the lock")

    try:
        run_forever_during(Daemon(settings, db, classifier), scenario)
        senders = ["voor@example.org", "tijdens@example.org", "tijdens2@example.org", "accepted@example.org",
                   "daarna@example.org"]
        _one_case_one_ack(db, senders)
        sent, duplicates = _exactly_once_per_row(db, sink)
    finally:
        sink.stop()
        locker.close()
        db.dispose()
        agent.db.dispose()
    lines = _db_pause_lines(caplog)
    assert lines and all("OperationalError: database is locked" in line for line in lines), lines
    figures(outage="exclusive lock held by another connection, twice", pause_log_lines=len(lines), line=lines[0],
            recovery_seconds_new_mail=round(seen["recovery_new_mail"], 2),
            recovery_seconds_mark_sent=round(seen["recovery_mark_sent"], 2), mails_sent=sent,
            duplicates=duplicates)
    assert duplicates == 0, "the mail accepted before the lock went out twice"


def _row_states(db: Database, to: str) -> set[str]:
    with db.transaction() as session:
        return set(session.scalars(select(Outbox.status).where(Outbox.to_addr == to)))


@contextlib.contextmanager
def _tiny_disk(where: Path, size: str) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("simulating a full disk needs root (mount -t tmpfs)")
    where.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs to fill up: {result.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        with contextlib.suppress(OSError):
            where.rmdir()


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as out:
        chunk = b"\0" * 65536
        with contextlib.suppress(OSError):
            while True:
                out.write(chunk)
                out.flush()
    with contextlib.suppress(OSError), filler.open("ab") as out:  # the last few bytes too
        while True:
            out.write(b"\0" * 512)
            out.flush()
    return filler


def test_disk_full_pauses_with_a_clear_log_line_and_resumes_without_half_state(
    tmp_path: Path, imap_account: ImapSettings, dovecot: DovecotServer, classifier: Classifier, fast_db_pause: None,
    caplog: pytest.LogCaptureFixture, figures: Callable[..., None],
) -> None:
    """The database on an 8 MB tmpfs that fills up: while mail arrives and between accept and commit."""
    caplog.set_level(logging.INFO, logger="inbox_agent")
    with _tiny_disk(tmp_path / "disk", "8M") as disk:
        fill_after_accept = threading.Event()
        fillers: list[Path] = []

        def hook(mail: ReceivedMail) -> None:
            if fill_after_accept.is_set() and "accepted@example.org" in mail.rcpt_tos:
                fill_after_accept.clear()
                fillers.append(_fill(disk))

        sink = HookedSink(hook)
        sink.start()
        settings: Settings = agent_settings(tmp_path, imap_account, sink,
                                            database={"url": f"sqlite:///{disk / 'agent.sqlite'}"})
        agent = Agent(settings, classifier, dovecot.account(imap_account.username), sink)
        agent.db.dispose()
        db = Database(settings.database.url)
        seen: dict[str, float] = {}

        def scenario() -> None:
            agent.deliver(request_mail(REQUESTS[0], sender="voor@example.org"))
            wait_until(lambda: _acked(sink, "voor@example.org"), 15, "the first ack")
            filler = _fill(disk)
            agent.deliver(request_mail(REQUESTS[1], sender="tijdens@example.org"))
            wait_until(lambda: bool(_db_pause_lines(caplog)), 15, "the daemon's pause line with a full disk")
            time.sleep(2.0)
            assert not _acked(sink, "tijdens@example.org")
            filler.unlink()
            freed = time.monotonic()
            wait_until(lambda: _acked(sink, "tijdens@example.org"), 20, "the ack after space is freed")
            seen["recovery_new_mail"] = time.monotonic() - freed
            fill_after_accept.set()
            agent.deliver(request_mail(REQUESTS[2], sender="accepted@example.org"))
            wait_until(lambda: bool(fillers), 15, "the disk filled between accept and commit")
            time.sleep(2.5)
            fillers[0].unlink()
            freed = time.monotonic()
            wait_until(lambda: _row_states(db, "accepted@example.org") == {"sent"}, 20,
                       "the accepted mail recorded as sent after space is freed")
            seen["recovery_mark_sent"] = time.monotonic() - freed
            agent.deliver(request_mail(REQUESTS[1], sender="daarna@example.org"))
            wait_until(lambda: _acked(sink, "daarna@example.org"), 15, "a new mail afterwards")

        try:
            run_forever_during(Daemon(settings, db, classifier), scenario)
            senders = ["voor@example.org", "tijdens@example.org", "accepted@example.org", "daarna@example.org"]
            _one_case_one_ack(db, senders)
            sent, duplicates = _exactly_once_per_row(db, sink)
            with db.transaction() as session:
                integrity = session.connection().exec_driver_sql("PRAGMA integrity_check").scalar()
        finally:
            sink.stop()
            db.dispose()
    lines = _db_pause_lines(caplog)
    assert lines and all("OperationalError" in line for line in lines), lines
    assert any("database or disk is full" in line for line in lines), lines
    assert integrity == "ok"
    figures(outage="tmpfs of 8 MB filled up, twice", pause_log_lines=len(lines), line=lines[0],
            recovery_seconds_new_mail=round(seen["recovery_new_mail"], 2),
            recovery_seconds_mark_sent=round(seen["recovery_mark_sent"], 2), mails_sent=sent,
            duplicates=duplicates)
    assert duplicates == 0, "the mail accepted before the disk filled went out twice"
