"""Several daemons share the mailboxes fairly (``fleet.py``), on PostgreSQL.

First on a clock the test moves, a sixth of a lease per step, so the bounds are exact: shares
within one mailbox, a joiner's share within one lease, a dead daemon's mailboxes and the scheduler
taken over within one lease. Then real ``inbox-agent run`` processes on one Dovecot with twelve
mailboxes and a 4 s lease: two start at once, a third joins, one is killed with SIGKILL; every
mail must be stored and answered once, and ``health`` must name the daemons' shares and the
scheduler's holder. That part prints the times it measured and asserts none.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_daemons import Fleet as Processes
from test_daemons import Shop
from test_health import _health

from inbox_agent.config import load_settings
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case, FolderState, Outbox, StoredMessage
from inbox_agent.fleet import Fleet
from inbox_agent.sandbox import DovecotServer, SmtpSink

pytestmark = pytest.mark.integration
LEASE = 60.0
STEP = timedelta(seconds=LEASE / 6)
"""A heartbeat; every daemon's lease period (half a lease) is three steps, each at its own phase."""
FOLDERS = [(f"shop{i}", "INBOX") for i in range(13)]


def _holdings(db: Database, now: datetime) -> Counter[str]:
    with db.transaction() as session:
        return Counter({owner: n for owner, n in session.execute(
            select(FolderState.lease_owner, func.count()).where(FolderState.lease_until > now)
            .group_by(FolderState.lease_owner)) if owner})


class Simulation:
    """Daemons on other hosts (only their heartbeat and expiry tell whether they live), one clock."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.now = datetime.now(UTC)
        self.steps = 0
        self.fleets: dict[str, tuple[Fleet, int]] = {}
        self.db = Database(url)

    def join(self, name: str) -> Fleet:
        fleet = Fleet(Database(self.url), f"{name}.example:4242", len(FOLDERS), LEASE, lambda: self.now)
        fleet.join(heartbeat=False)
        self.fleets[name] = (fleet, len(self.fleets) % 3)
        return fleet

    def kill(self, name: str) -> None:
        fleet, _ = self.fleets.pop(name)
        fleet.db.dispose()

    def step(self) -> None:
        self.now += STEP
        self.steps += 1
        for fleet, _ in self.fleets.values():
            fleet.beat()
        for fleet, phase in self.fleets.values():
            if self.steps % 3 == phase:
                with fleet.db.transaction() as session:
                    for mailbox, folder in FOLDERS:
                        fleet.hold(session, mailbox, folder)

    def shares(self) -> dict[str, int]:
        held = _holdings(self.db, self.now)
        return {name: held[fleet.instance] for name, (fleet, _) in self.fleets.items()}

    def steps_until(self, shares: dict[str, int]) -> int:
        """Steps until the holdings are ``shares`` (each mailbox held by one of them); at most a lease."""
        for taken in range(7):
            if self.shares() == shares:
                return taken
            self.step()
        raise AssertionError(f"after a lease the shares are {self.shares()}, not {shares}")

    def close(self) -> None:
        for fleet, _ in self.fleets.values():
            fleet.db.dispose()
        self.db.dispose()


def test_shares_are_even_within_one_a_joiner_and_a_dead_daemons_mailboxes_within_one_lease(pg_url: str) -> None:
    sim = Simulation(pg_url)
    first, second = sim.join("mail-a"), sim.join("mail-b")  # at the same moment, on a fresh database
    sim.steps_until({"mail-a": 7, "mail-b": 6})  # 13 mailboxes: the older daemon holds the odd one
    with first.db.transaction() as session:
        assert first.hold_scheduler(session)
    with second.db.transaction() as session:
        assert not second.hold_scheduler(session)

    sim.join("mail-c")
    joined = sim.steps_until({"mail-a": 5, "mail-b": 4, "mail-c": 4})
    assert joined > 0  # it had to wait for the others to give mailboxes back

    sim.kill("mail-a")  # the oldest, holding the scheduler and five mailboxes: no heartbeat any more
    taken_over = sim.steps_until({"mail-b": 7, "mail-c": 6})
    assert taken_over < 6  # before its own leases ran out: its heartbeat stopped
    with second.db.transaction() as session:
        assert second.hold_scheduler(session)  # its 3-minute scheduler lease has not run out either
    print(f"\njoiner's share after {joined} sixth(s) of a lease, a dead daemon's mailboxes after {taken_over}")
    sim.close()


def test_several_daemon_processes_share_twelve_mailboxes_and_handle_every_mail_once(
    shop_config: Callable[..., Path], pg_url: str, dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    config = shop_config(*((f"shop{i}", "S", f"Winkel {i}") for i in range(12)),
                         database={"url": pg_url, "lease_seconds": 4})
    processes = Processes(config, tmp_path)
    shop = Shop(load_settings(config), dovecot)

    def shares() -> list[int]:
        held = _holdings(shop.db, datetime.now(UTC))
        return sorted(held[instance] for instance in processes.running)

    def measure(what: str, wanted: list[int]) -> float:
        start = time.monotonic()
        shop.wait(what, lambda: shares() == wanted, timeout=40)
        return time.monotonic() - start

    began = time.monotonic()
    try:
        shop.deliver(per_mailbox=1)
        processes.start(2)  # at the same moment
        shop.wait("the first mail stored", lambda: shop.count(StoredMessage) > 0, timeout=40)
        started = time.monotonic() - began
        two = measure("two even shares", [6, 6])
        shop.deliver(per_mailbox=1)
        processes.start(1)
        began = time.monotonic()
        shop.wait("the joiner's heartbeat", lambda: len(_health(config)[1]["daemons"]) == 3, timeout=40)
        joiner_started = time.monotonic() - began
        joined = measure("three even shares", [4, 4, 4])
        report = _health(config)[1]
        assert sorted(d["mailboxes"] for d in report["daemons"]) == [4, 4, 4]
        assert report["scheduler"]["holder"] in processes.running
        victim = report["scheduler"]["holder"]  # the scheduler's holder and four mailboxes
        processes.kill(victim)
        shop.deliver(per_mailbox=1)
        taken_over = measure("the survivors' shares", [6, 6])
        began = time.monotonic()
        shop.wait("every mail handled", shop.settled, timeout=40)
        settled = time.monotonic() - began
    finally:
        codes = processes.stop_all()
    assert set(codes.values()) == {0}

    with shop.db.transaction() as session:
        messages = list(session.scalars(select(StoredMessage)))
        cases = list(session.scalars(select(Case)))
        rows = list(session.scalars(select(Outbox)))
    shop.db.dispose()
    assert len(messages) == shop.delivered == 36  # none stored twice, none lost
    assert all(m.status == "processed" and m.case_id is not None for m in messages)
    assert len(cases) == len({m.case_id for m in messages}) == 36
    acks = Counter(r.case_id for r in rows if r.kind == "ack")
    assert set(acks) == {c.id for c in cases} and set(acks.values()) == {1}
    parser = BytesHeaderParser(policy=default_policy)
    sent = Counter(str(parser.parsebytes(m.raw)["Message-ID"]).strip() for m in smtp_sink.messages)
    assert set(sent) == {r.message_id for r in rows if r.status == "sent"}
    assert sum(n - 1 for n in sent.values()) <= 1  # at most the one mail in flight at the kill
    print(f"\n12 mailboxes, 4 s lease: two daemons even {two:.1f} s after the first mail was stored ({started:.1f} s "
          f"after their start), a joiner's share {joined:.1f} s after its first heartbeat ({joiner_started:.1f} s "
          f"after its start), a killed daemon's mailboxes taken over after {taken_over:.1f} s, all mail handled "
          f"{settled:.1f} s later")


