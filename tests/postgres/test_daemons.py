"""Several ``inbox-agent run`` processes on one PostgreSQL database and the same two mailboxes.

Three daemons start on a backlog; the one polling the first mailbox is killed (SIGKILL) while
mail is being handled and more arrives; then of the two survivors the one polling the second
mailbox is killed too. Afterwards the database and the SMTP sink must show every mail handled
exactly once. The only duplicate the design allows is a mail the SMTP server accepted just
before its sender died, before the row was marked sent: it goes out again with the same
Message-ID, at most one per kill (a sender has one mail in flight at a time).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

import pytest
from child_process import ends_with_the_tests
from sqlalchemy import func, select

from inbox_agent.classify import Classifier
from inbox_agent.config import Settings, load_settings
from inbox_agent.daemon import Daemon
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case, FolderState, Outbox, StoredMessage
from inbox_agent.deadlines import AMSTERDAM
from inbox_agent.mailbox import ImapMailbox
from inbox_agent.sandbox import DovecotServer, SmtpSink
from inbox_agent.scheduler import DIGEST_HOUR

from agent_harness import request_mail

pytestmark = pytest.mark.integration
REQUESTS = [
    "Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben.",
    "Please delete my account and all my personal data.",
]
HOST = socket.gethostname()


class Fleet:
    """Daemon processes as systemd would run them: ``inbox-agent run --config``, logs on stderr."""

    def __init__(self, config: Path, logs: Path) -> None:
        self.config = config
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.killed: list[str] = []  # shop_config's state folder has a warm cache: a start takes seconds

    def start(self, count: int) -> None:
        binary = Path(sys.executable).parent / "inbox-agent"
        for _ in range(count):
            log = (self.logs / f"daemon-{len(self.running) + len(self.killed)}.log").open("wb")
            proc = subprocess.Popen([str(binary), "run", "--config", str(self.config)], stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=log, start_new_session=True,
                                    preexec_fn=ends_with_the_tests)
            log.close()
            self.running[f"{HOST}:{proc.pid}"] = proc

    def kill(self, instance: str) -> None:
        proc = self.running.pop(instance)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.killed.append(instance)

    def stop_all(self) -> dict[str, int | None]:
        """SIGTERM, as systemd stops the service; the exit codes (None: did not stop in 20 s)."""
        for proc in self.running.values():
            proc.send_signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for instance, proc in self.running.items():
            try:
                codes[instance] = proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[instance] = None
        self.running.clear()
        return codes


@pytest.fixture
def fleet(shop_config: Callable[..., Path], pg_url: str, tmp_path: Path) -> Iterator[Fleet]:
    # A short lease: survivors take a killed daemon's share within it (fleet.py).
    config = shop_config(("toppers", "KT", "Kleine Toppers"), ("zeilen", "ZW", "Zeilwinkel Noord"),
                         database={"url": pg_url, "lease_seconds": 4})
    fleet = Fleet(config, tmp_path)
    yield fleet
    fleet.stop_all()


class Shop:
    """The test's view: deliver mail into both mailboxes, watch the shared database."""

    def __init__(self, settings: Settings, dovecot: DovecotServer) -> None:
        self.boxes = settings.all_mailboxes()
        self.dovecot = dovecot
        self.db = Database(settings.database.url)
        self.delivered = 0

    def deliver(self, per_mailbox: int) -> None:
        for box in self.boxes:
            account = self.dovecot.account(box.imap.username)
            for _ in range(per_mailbox):
                self.delivered += 1
                account.append(request_mail(REQUESTS[self.delivered % 2], subject=f"verzoek {self.delivered}",
                                            sender=f"klant{self.delivered}@example.org"))

    def count(self, model: type[Case] | type[StoredMessage] | type[Outbox], *where: object) -> int:
        with self.db.transaction() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]

    def lease_owner(self, mailbox: str) -> str | None:
        with self.db.transaction() as session:
            state = session.get(FolderState, (mailbox, "INBOX"))
            return state.lease_owner if state else None

    def holder(self, mailbox: str, running: Collection[str]) -> str:
        """The running daemon that holds the mailbox's lease. With balanced leases there may be none for a
        moment: a daemon over its share gives a mailbox back when another joins, and that one takes it later."""
        found: list[str] = []

        def held() -> bool:
            owner = self.lease_owner(mailbox)
            found[:] = [owner] if owner in running else []
            return bool(found)

        self.wait(f"a running daemon to hold {mailbox}", held)
        return found[0]

    def wait(self, what: str, condition: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:g} s for {what}")
            time.sleep(0.1)

    def settled(self) -> bool:
        """Every delivered mail processed and nothing left to send."""
        return (self.count(StoredMessage, StoredMessage.status == "processed") == self.delivered
                and self.count(Outbox, Outbox.status == "queued") == 0)


def test_three_then_two_daemons_with_a_kill_each_handle_every_mail_once(
    fleet: Fleet, dovecot: DovecotServer, smtp_sink: SmtpSink
) -> None:
    shop = Shop(load_settings(fleet.config), dovecot)
    shop.deliver(per_mailbox=10)
    fleet.start(3)

    # Kill the poller of the first mailbox as soon as the work is under way.
    shop.wait("the first case", lambda: shop.count(Case) >= 1)
    fleet.kill(shop.holder("toppers", fleet.running))
    cases_at_first_kill = shop.count(Case)
    shop.deliver(per_mailbox=4)
    shop.wait("the backlog and the new mail", shop.settled)
    shop.wait("a survivor to take the dead one's mailbox over", lambda: shop.lease_owner("toppers") in fleet.running)

    # Two left: more mail, and kill whoever polls the second mailbox while it is being handled.
    shop.deliver(per_mailbox=6)
    shop.wait("the new mail being picked up", lambda: shop.count(StoredMessage) > 28)
    fleet.kill(shop.holder("zeilen", fleet.running))
    cases_at_second_kill = shop.count(Case)
    shop.wait("everything", shop.settled)
    [survivor] = fleet.running
    shop.wait("the survivor to hold both mailboxes",
              lambda: {shop.lease_owner("toppers"), shop.lease_owner("zeilen")} == {survivor})
    exit_codes = fleet.stop_all()
    assert exit_codes == {survivor: 0}  # SIGTERM: finish the step, exit 0

    with shop.db.transaction() as session:
        messages = list(session.scalars(select(StoredMessage)))
        cases = list(session.scalars(select(Case)))
        rows = list(session.scalars(select(Outbox)))
    shop.db.dispose()
    assert len(messages) == shop.delivered == 40
    assert all(m.status == "processed" and m.case_id is not None for m in messages)
    assert len(cases) == len({m.case_id for m in messages}) == 40  # one case per privacy mail
    for name, prefix in (("toppers", "KT"), ("zeilen", "ZW")):
        numbers = sorted(int(c.reference.rsplit("-", 1)[1]) for c in cases if c.shop == name)
        assert numbers == list(range(1, 21)) and all(c.reference.startswith(prefix) for c in cases if c.shop == name)
    acks = Counter(r.case_id for r in rows if r.kind == "ack")
    assert set(acks) == {c.id for c in cases} and set(acks.values()) == {1}  # one ack row per case
    # Nor any other mail twice: identity questions, officer notices, the officer's daily digest
    # (written by the scheduler, which must run on one instance at a time).
    assert Counter((r.shop, r.case_id, r.kind, r.to_addr) for r in rows).most_common(1)[0][1] == 1
    assert {r.status for r in rows if r.automatic} == {"sent"}

    parser = BytesHeaderParser(policy=default_policy)
    sent = Counter(str(parser.parsebytes(m.raw)["Message-ID"]).strip() for m in smtp_sink.messages)
    assert set(sent) == {r.message_id for r in rows if r.status == "sent"}  # all sent, nothing unknown
    duplicates = sum(n - 1 for n in sent.values())
    assert duplicates <= len(fleet.killed)
    lines = [line for log in fleet.logs.glob("daemon-*.log") for line in log.read_text().splitlines()]
    assert all(json.loads(line)["level"] for line in lines)  # log_format = "json": one object per line
    print(f"\n{shop.delivered} mails, {len(cases)} cases, {sum(sent.values())} SMTP deliveries of "
          f"{len(sent)} Message-IDs, {duplicates} duplicate(s) after {len(fleet.killed)} kills "
          f"(cases at the kills: {cases_at_first_kill}, {cases_at_second_kill}); "
          f"{sum('database unavailable' in line for line in lines)} 'database unavailable' log lines")


def test_more_mailboxes_than_asyncio_has_default_threads_still_get_their_mail_handled(
    shop_config: Callable[..., Path], dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    """Each mailbox thread lives as long as the daemon; they must not starve the processor of threads."""
    count = min(32, (os.cpu_count() or 1) + 4) + 1  # one more than asyncio's default thread pool
    fleet = Fleet(shop_config(*((f"shop{i}", "S", f"Shop {i}") for i in range(count))), tmp_path)
    shop = Shop(load_settings(fleet.config), dovecot)
    shop.boxes = shop.boxes[-1:]
    shop.deliver(per_mailbox=1)
    fleet.start(1)
    try:
        shop.wait("the request in the last mailbox to be handled", shop.settled)
    finally:
        assert list(fleet.stop_all().values()) == [0]
    assert smtp_sink.wait_for(1)
    shop.db.dispose()


def test_the_lease_of_an_instance_on_another_host_is_taken_over_when_it_expires(
    shop_config: Callable[..., Path], classifier: Classifier
) -> None:
    """Another host's pid cannot be checked from here: only the lease's expiry frees its mailbox."""
    settings = load_settings(shop_config(("toppers", "KT", "Kleine Toppers")))
    [box] = settings.all_mailboxes()
    db = Database(settings.database.url)
    start = datetime.now(UTC)
    clock = {"now": start}
    first = Daemon(settings, db, classifier, clock=lambda: start, instance="mail-a.example:4242")
    second = Daemon(settings, db, classifier, clock=lambda: clock["now"], instance="mail-b.example:4242")
    with ImapMailbox(box.imap) as mb:
        assert first.poll_once(box, mb) == 0
        assert second.poll_once(box, mb) == -1
        lease = settings.database.lease_seconds
        clock["now"] = start + timedelta(seconds=lease - 1)
        assert second.poll_once(box, mb) == -1
        clock["now"] = start + timedelta(seconds=lease + 1)
        assert second.poll_once(box, mb) == 0
        assert first.poll_once(box, mb) == -1  # and the first cannot take it back while it runs
    with db.transaction() as session:
        state = session.get_one(FolderState, ("toppers", "INBOX"))
        assert (state.lease_owner, state.last_poll_at) == ("mail-b.example:4242", clock["now"])
    db.dispose()


def test_instances_ticking_at_the_same_moment_send_the_officer_one_digest(
    shop_config: Callable[..., Path], dovecot: DovecotServer, classifier: Classifier
) -> None:
    """The scheduler checks, then writes (no digest yet today): its lease lets one instance run it."""
    settings = load_settings(shop_config(("toppers", "KT", "Kleine Toppers")))
    [box] = settings.all_mailboxes()
    shop = Shop(settings, dovecot)
    shop.deliver(per_mailbox=1)
    morning = datetime.now(AMSTERDAM).replace(hour=DIGEST_HOUR + 1).astimezone(UTC)
    daemons = [Daemon(settings, Database(settings.database.url), classifier, clock=lambda: morning,
                      instance=f"mail-{n}.example:4242") for n in range(3)]
    with ImapMailbox(box.imap) as mb:
        daemons[0].poll_once(box, mb)
    daemons[0].process_pending()  # an open case for the digest, without a tick of run_once

    start = threading.Barrier(len(daemons))
    ran: list[bool] = []

    def tick(daemon: Daemon) -> None:
        start.wait()
        ran.append(daemon.tick())

    threads = [threading.Thread(target=tick, args=(daemon,)) for daemon in daemons]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ran) == [False, False, True]
    assert shop.count(Outbox, Outbox.kind == "officer_digest") == 1
    for daemon in daemons:
        daemon.db.dispose()
    shop.db.dispose()
