"""Many mailboxes in one daemon (issue 19 part 3): one event loop watches them all, against a real Dovecot.

Every mailbox is served and acknowledged, by a few worker threads rather than a thread each; a
quiet re-check does not poll (no database); and mail that only a re-check finds, long after it
arrived, is reported as a server whose IDLE push is off. Speed is measured in
``bench/bench_mailboxes.py``, not here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from reliability_kit import run_forever_during, wait_until
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from inbox_agent import watch
from inbox_agent.classify import Classifier
from inbox_agent.config import MailboxSettings, load_settings
from inbox_agent.daemon import Daemon
from inbox_agent.db.session import Database, upgrade
from inbox_agent.db.tables import FolderState
from inbox_agent.fictitious_shop import FICTITIOUS_SHOP
from inbox_agent.mailbox import ImapMailbox
from inbox_agent.sandbox import DovecotServer, SmtpSink

from agent_harness import SECRET, TRUSTED, request_mail

pytestmark = pytest.mark.integration

MAILBOXES = 20


@pytest.fixture
def many() -> Iterator[DovecotServer]:
    with DovecotServer() as server:  # own server: 20 users and their connections
        for n in range(MAILBOXES):
            server.add_user(f"shop{n:02d}", f"pw-{n}")
        yield server


def _daemon(tmp_path: Path, server: DovecotServer, sink: SmtpSink,
            classifier: Classifier | Callable[[], Classifier], count: int, **imap: Any) -> Daemon:
    boxes = [{"name": f"shop{n:02d}",
              "imap": server.settings(f"shop{n:02d}", **({"existing_mail": "process"} | imap)).model_dump(),
              "shop": FICTITIOUS_SHOP | {"officer_email": "officer@shop.example", "name": f"Winkel {n}",
                                         "reference_prefix": "K" + chr(ord("A") + n)}}
             for n in range(count)]
    settings = load_settings(
        None, mailboxes=boxes, secret_key=SECRET, state_dir=str(tmp_path / "state"),
        smtp={"host": sink.host, "port": sink.port, "security": "none", "from_address": "privacy@shop.example"},
        database={"url": f"sqlite:///{tmp_path / 'agent.sqlite'}"}, policy={"trusted_authserv_ids": [TRUSTED]})
    db = Database(settings.database.url)
    upgrade(db.engine)
    return Daemon(settings, db, classifier)


def _acked(sink: SmtpSink, address: str) -> bool:
    return any(address in m.rcpt_tos for m in sink.messages)


def test_every_mailbox_is_served_by_a_few_threads_and_a_quiet_recheck_does_not_poll(
    tmp_path: Path, many: DovecotServer, smtp_sink: SmtpSink, classifier: Classifier,
    caplog: pytest.LogCaptureFixture, figures: Callable[..., None], monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO, logger="inbox_agent")
    steps: list[str] = []  # logins and IDLEs, in the order they happen

    def recording(name: str) -> Callable[[ImapMailbox], Any]:
        step = getattr(ImapMailbox, name)

        def recorded(self: ImapMailbox) -> Any:
            steps.append(name)
            return step(self)
        return recorded

    for name in ("connect", "begin_idle"):
        monkeypatch.setattr(ImapMailbox, name, recording(name))
    loads: list[bool] = []  # whether the start-up still ran when the classifier was loaded

    def load() -> Classifier:
        loads.append(daemon.starting.is_set())
        return classifier

    daemon = _daemon(tmp_path, many, smtp_sink, load, MAILBOXES, idle_seconds=1)  # re-check every second
    polls: list[str] = []
    poll_once = daemon.poll_once

    def counted(box: MailboxSettings, mb: ImapMailbox, then: Callable[[Session], None] | None = None) -> int:
        polls.append(box.name)
        return poll_once(box, mb, then)

    daemon.poll_once = counted  # type: ignore[method-assign]
    seen: dict[str, int] = {}
    begun: list[object] = []  # transactions of the start-up (the first-start survey follows it)

    def began(conn: object) -> None:
        if daemon.starting.is_set():
            begun.append(conn)

    event.listen(daemon.db.engine, "begin", began)

    def scenario() -> None:
        wait_until(lambda: any("all 20 mailboxes idle" in r.getMessage() for r in caplog.records)
                   and not daemon.starting.is_set(), 30, "every mailbox in IDLE and the start-up over")
        seen["start_transactions"], seen["start_polls"] = len(begun), len(polls)
        for n in range(MAILBOXES):
            many.account(f"shop{n:02d}").append(request_mail("Verwijder al mijn gegevens.",
                                                              sender=f"klant{n}@example.org"))
        wait_until(lambda: all(_acked(smtp_sink, f"klant{n}@example.org") for n in range(MAILBOXES)), 30,
                   "an ack from every mailbox")
        seen["threads"] = sum(t.name.startswith("imap") for t in threading.enumerate())
        time.sleep(1.5)  # the sender's identity questions go out; moves and refusals: none configured
        before = len(polls)
        time.sleep(3.5)  # three re-checks per mailbox, no mail
        seen["quiet_polls"] = len(polls) - before

    run_forever_during(daemon, scenario)
    daemon.db.dispose()
    progress = [r.getMessage() for r in caplog.records if r.name == "inbox_agent.watch"]
    assert progress[-1].startswith("all 20 mailboxes idle after"), progress
    assert seen["threads"] <= watch.WORKERS < MAILBOXES  # not a thread per mailbox
    assert seen["quiet_polls"] == 0  # a quiet re-check is a NOOP on the connection, not a poll
    assert sorted(set(polls)) == [f"shop{n:02d}" for n in range(MAILBOXES)]
    # The first polls of the empty folders are recorded together: not two transactions per mailbox.
    assert seen["start_polls"] == 0 and seen["start_transactions"] < MAILBOXES, seen
    assert loads == [False]  # its seconds of CPU were not spent while the mailboxes logged in
    with daemon.db.transaction() as session:
        states = session.scalars(select(FolderState)).all()
        assert len(states) == MAILBOXES and all(s.uidvalidity and s.first_seen_at and s.last_poll_at for s in states)
    # A few mailboxes at a time go from login to IDLE: the first is in IDLE before the last logs in
    # (a queue of every login first kept all of them out of IDLE until the last had logged in).
    logins = [n for n, step in enumerate(steps) if step == "connect"]
    assert len(logins) == MAILBOXES and steps.index("begin_idle") < logins[-1]
    figures(mailboxes=MAILBOXES, imap_threads=seen["threads"], polls=len(polls), progress_lines=len(progress))


def test_mail_after_a_quiet_first_visit_is_new_also_before_that_visit_is_recorded(
    tmp_path: Path, many: DovecotServer, smtp_sink: SmtpSink, classifier: Classifier,
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first poll of an empty folder is written with the others at the runner's next tick; a poll
    of mail that came in before then writes it first, else that mail would be history (never answered)."""
    caplog.set_level(logging.INFO, logger="inbox_agent")

    async def never(self: watch.MailboxRunner) -> None:
        return None

    monkeypatch.setattr(watch.MailboxRunner, "_record", never)  # no tick writes them
    daemon = _daemon(tmp_path, many, smtp_sink, classifier, 2, existing_mail="history")

    def scenario() -> None:
        wait_until(lambda: any("all 2 mailboxes idle" in r.getMessage() for r in caplog.records), 30,
                   "both mailboxes in IDLE")
        many.account("shop00").append(request_mail("Verwijder al mijn gegevens.", sender="nieuw@example.org"))
        wait_until(lambda: _acked(smtp_sink, "nieuw@example.org"), 15, "the ack of the mail after the start")

    run_forever_during(daemon, scenario)
    with daemon.db.transaction() as session:
        first, second = session.scalars(select(FolderState).order_by(FolderState.mailbox)).all()
        assert (first.history_below_uid, first.first_seen_at is not None) == (1, True)  # empty at its first visit
        assert second.uidvalidity == 0  # never written: its first visit is made again at the next start
    daemon.db.dispose()


def test_mail_that_only_a_recheck_finds_long_after_it_arrived_warns_once_about_the_idle_push(
    tmp_path: Path, many: DovecotServer, smtp_sink: SmtpSink, classifier: Classifier,
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG, logger="inbox_agent")
    wait = watch.MailboxRunner._wait

    def deaf(self: watch.MailboxRunner, slot: Any, fd: int | None, seconds: float) -> Awaitable[Any]:
        return wait(self, slot, None, seconds)  # the socket is never watched: as if the server never pushed

    monkeypatch.setattr(watch.MailboxRunner, "_wait", deaf)
    daemon = _daemon(tmp_path, many, smtp_sink, classifier, 2, idle_seconds=2)
    account = many.account("shop00")

    def scenario() -> None:
        wait_until(lambda: any("all 2 mailboxes idle" in r.getMessage() for r in caplog.records), 30,
                   "both mailboxes in IDLE")
        account.append(request_mail("Verwijder al mijn gegevens.", sender="vers@example.org"))
        wait_until(lambda: _acked(smtp_sink, "vers@example.org"), 15, "the ack of the fresh mail")
        for n in range(2):  # mail that waited outside the re-checks, as with a server that stopped pushing
            account.append(request_mail("Verwijder al mijn gegevens.", sender=f"laat{n}@example.org"),
                           internal_date=datetime.now(UTC) - timedelta(minutes=2))
            wait_until(lambda n=n: _acked(smtp_sink, f"laat{n}@example.org"), 15,  # type: ignore[misc]
                       "the ack of the late mail")

    run_forever_during(daemon, scenario)
    daemon.db.dispose()
    late = [r for r in caplog.records if "seems not to push" in r.getMessage()]
    assert [r.levelno for r in late] == [logging.WARNING, logging.DEBUG], [r.getMessage() for r in late]
    assert "mailbox shop00: mail that arrived 1" in late[0].getMessage()  # ~120 s ago
    assert "fs.inotify.max_user_instances" in late[0].getMessage()
