"""Several daemons on one database: who runs (heartbeat rows) and each one's fair share of the mailboxes.

Without shares the first daemon to start took every mailbox lease and the others only sent mail.
Each daemon writes its row in ``daemon`` every sixth of a lease (from its own thread, so a busy
event loop never delays it) and reads the others'; those seen within a third of a lease are live.
With N live daemons and M mailboxes each holds M // N folders, the oldest M % N one more, so the
shares differ by one at most:

- under its share, a daemon takes a free folder when it checks it: no holder, an expired lease, or
  a holder whose heartbeat stopped. A killed daemon is counted out after a third of a lease and
  its folders go at the others' next check, within one lease (they need not expire first);
- over its share, it gives a folder back when it renews it: a joiner is seen at the others' next
  heartbeat (a sixth of a lease), they shed at their next renewal (half a lease) and it takes what
  they shed at its next check, within one lease;
- a folder nobody has held for a whole lease is taken by anyone, whatever the shares say (daemons
  whose configs list different mailboxes): no mailbox goes unread. A folder never held counts so once
  the daemon has run for a lease: on a fresh database the first daemon to start took every folder;
- when the live daemons change (a joiner, one counted out), the mailbox loop asks for its leases at
  once (``generation``), not at its next renewal.

Each decision is made on the folder's ``folder_state`` row locked ``FOR UPDATE`` (SQLite's single
writer does the same), so two daemons never both take a folder. The scheduler's lease is a row of
its own (``scheduler_lease``), taken the same way.

For the mailbox loop (``Daemon.may_hold``; threads before, an event loop of connections now): for
every mailbox, held or not, call ``hold(session, mailbox, folder)`` once per ``renew_seconds`` (half
a lease; ``hold_all`` asks for all of them in one transaction with a few statements) and read the
mailbox only while it answered True.
``poll_once`` asks ``hold`` again at its start and ``keep`` between its batches (that renews what
this daemon holds and never sheds or takes). ``run_forever`` calls ``join`` (the heartbeat thread
starts), and a clean stop ``leave`` before ``db.leases.release_owned``. A fleet that never joined
(``run --once``, tests calling ``poll_once``) takes every free folder, as a daemon alone does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from .db.session import Database
from .db.tables import DaemonInstance, FolderState, SchedulerLease
from .inbound import folder_state

log = logging.getLogger(__name__)
SCHEDULER = "scheduler"
SCHEDULER_SECONDS = 180.0
"""The scheduler's lease: three of its one-minute ticks."""
FORGET_LEASES = 10
"""A heartbeat row silent for this many leases is deleted."""


def live_after(now: datetime, lease_seconds: float) -> datetime:
    """A daemon whose last heartbeat is later than this is live: two beats may be missed."""
    return now - timedelta(seconds=lease_seconds / 3)


class Fleet:
    """This daemon's view of the others, and its decisions on which folders (and the scheduler) it holds."""

    def __init__(self, db: Database, instance: str, mailboxes: int, lease_seconds: float,
                 clock: Callable[[], datetime]) -> None:
        self.db = db
        self.instance = instance
        self.mailboxes = mailboxes
        self.lease_seconds = lease_seconds
        self.clock = clock
        self._started: datetime | None = None
        self._live: list[str] = []
        """Live instances, oldest first: the first ``mailboxes % len`` hold one folder more."""
        self.generation = 0
        """Counts the changes of the live instances: the mailbox loop asks for its leases again at once
        (a joiner gets what the others shed within a heartbeat or two, not after half a lease)."""
        self._stale: frozenset[str] = frozenset()
        self._held: dict[tuple[str, str], datetime] = {}
        """Folders this instance took, and until when: its count without a query, kept by one lock
        because mailbox threads decide at the same time."""
        self._lock = threading.Lock()
        self._beating = threading.Lock()
        """Held by a heartbeat's transaction: ``leave`` waits for it, so no beat rewrites a removed row."""
        self._left = threading.Event()

    @property
    def heartbeat_seconds(self) -> float:
        return self.lease_seconds / 6

    @property
    def renew_seconds(self) -> float:
        return self.lease_seconds / 2

    def join(self, *, heartbeat: bool = True) -> None:
        """Register: from now on the others count this daemon, and it holds only its share.

        ``heartbeat``: beat every ``heartbeat_seconds`` in a thread until ``leave`` (tests with a
        fixed clock call ``beat`` themselves).
        """
        self._started = self.clock()
        self.beat()
        if heartbeat:
            threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True).start()

    def leave(self) -> None:
        """No heartbeat from now on (``release_owned`` then removes the row)."""
        with self._beating:
            self._left.set()

    def _heartbeat(self) -> None:
        while not self._left.wait(self.heartbeat_seconds):
            try:
                self.beat()
            except DBAPIError as exc:  # the others count this daemon out after a third of a lease
                log.error("heartbeat not written (%s); retrying", type(exc.orig).__name__)

    def beat(self) -> None:
        """Write this daemon's heartbeat and read who else is live."""
        assert self._started is not None, "join() first"
        with self._beating:
            if not self._left.is_set():
                self._beat(self._started, self.clock())

    def _beat(self, started: datetime, now: datetime) -> None:
        with self.db.transaction() as session:
            seen = session.execute(update(DaemonInstance).where(DaemonInstance.instance == self.instance)
                                   .values(seen_at=now))
            assert isinstance(seen, CursorResult)
            if not seen.rowcount:  # the first beat, or a row deleted while this one was silent
                host, _, pid = self.instance.rpartition(":")
                session.add(DaemonInstance(instance=self.instance, host=host or self.instance,
                                           pid=int(pid) if pid.isdigit() else None, started_at=started,
                                           seen_at=now))
            rows = session.execute(select(DaemonInstance.instance, DaemonInstance.started_at,
                                          DaemonInstance.seen_at)).all()
            session.execute(delete(DaemonInstance).where(
                DaemonInstance.seen_at < now - timedelta(seconds=FORGET_LEASES * self.lease_seconds)))
        after = live_after(now, self.lease_seconds)
        live = [instance for _, instance in sorted((r.started_at, r.instance) for r in rows if r.seen_at > after)]
        with self._lock:
            if live != self._live:
                self.generation += 1
            self._live = live
            self._stale = frozenset(r.instance for r in rows) - set(live)

    def share(self) -> int:
        """How many folders this daemon should hold now: all of them until it joined."""
        live = self._live if self.instance in self._live else [*self._live, self.instance]
        base, extra = divmod(self.mailboxes, len(live))
        return base + (live.index(self.instance) < extra)

    def hold(self, session: Session, mailbox: str, folder: str) -> bool:
        """May this daemon read the folder now? Takes it within its share, renews it, or gives back a surplus."""
        state = folder_state(session, mailbox, folder)  # locked until the caller's transaction ends
        now = self.clock()
        with self._lock:
            return self._decide(state, now, self._holding(now) - self._counts((mailbox, folder), now))

    def hold_all(self, session: Session, folders: Sequence[tuple[str, str]]) -> list[bool]:
        """``hold`` for each (mailbox, folder), in order (so a surplus is given back from the front): their
        rows are read, locked and (when missing) created with a few statements, not a few per folder (a
        thousand mailboxes ask every half lease), and the folders held are counted once, not once each."""
        states = locked_states(session, folders)
        now = self.clock()
        answers = []
        with self._lock:
            holding = self._holding(now)
            for key in folders:
                others = holding - self._counts(key, now)
                answers.append(self._decide(states[key], now, others))
                holding = others + answers[-1]
        return answers

    def _holding(self, now: datetime) -> int:
        return sum(until > now for until in self._held.values())

    def _counts(self, key: tuple[str, str], now: datetime) -> bool:
        until = self._held.get(key)
        return until is not None and until > now

    def _decide(self, state: FolderState, now: datetime, others: int) -> bool:
        """With ``_lock`` held: the decision on one folder, ``others`` being the folders held besides it."""
        key = (state.mailbox, state.folder)
        self._held.pop(key, None)
        mine = state.lease_owner == self.instance
        if not mine and not self._free(state.lease_owner, state.lease_until, now):
            return False
        if others >= self.share():
            if mine:  # a surplus: left for a daemon under its share (or anyone, after a lease)
                state.lease_owner, state.lease_until = None, now
                return False
            if not self._orphan(state.lease_until, now):
                return False
        state.lease_owner, state.lease_until = self.instance, now + timedelta(seconds=self.lease_seconds)
        self._held[key] = state.lease_until
        return True

    def keep(self, session: Session, mailbox: str, folder: str) -> bool:
        """Renew in the middle of a poll: False when the folder is no longer this daemon's.

        Once joined it only renews, so a poll still running for a folder just given back does not
        take it again; before, it takes a free folder too, as ``hold`` does then.
        """
        if self._started is None:
            return self.hold(session, mailbox, folder)
        state = folder_state(session, mailbox, folder)
        if state.lease_owner != self.instance:
            return False
        state.lease_until = self.clock() + timedelta(seconds=self.lease_seconds)
        with self._lock:
            self._held[(mailbox, folder)] = state.lease_until
        return True

    def hold_scheduler(self, session: Session) -> bool:
        """Take or renew the scheduler's lease; False while another live daemon holds it."""
        now = self.clock()
        lease = session.get_one(SchedulerLease, SCHEDULER, with_for_update=True)
        if lease.holder != self.instance:
            with self._lock:
                if not self._free(lease.holder, lease.until, now):
                    return False
            lease.holder, lease.since = self.instance, now
        lease.until = now + timedelta(seconds=SCHEDULER_SECONDS)
        return True

    def _orphan(self, until: datetime | None, now: datetime) -> bool:
        """Nobody held the folder for a whole lease: its lease ended a lease ago, or it was never held and
        this daemon has run for a lease (on a fresh database the first daemon would take every folder)."""
        lease = timedelta(seconds=self.lease_seconds)
        if until is not None:
            return until <= now - lease
        return self._started is None or self._started <= now - lease

    def _free(self, holder: str | None, until: datetime | None, now: datetime) -> bool:
        return holder is None or until is None or until <= now or holder in self._stale


STATES_PER_QUERY = 500
"""Mailbox names per ``IN (...)``: well under SQLite's limit on bound parameters."""


def locked_states(session: Session, folders: Sequence[tuple[str, str]]) -> dict[tuple[str, str], FolderState]:
    """The ``folder_state`` rows of ``folders``, locked ``FOR UPDATE`` in one order (mailbox) so that
    daemons asking at once cannot deadlock; missing rows are inserted first, a conflict with a daemon
    inserting the same row at the same moment is no error."""
    by_folder: dict[str, list[str]] = {}
    for mailbox, folder in folders:
        by_folder.setdefault(folder, []).append(mailbox)
    found: dict[tuple[str, str], FolderState] = {}

    def lock(folder: str, names: list[str]) -> None:
        found.update(((s.mailbox, s.folder), s) for s in session.scalars(
            select(FolderState).where(FolderState.folder == folder, FolderState.mailbox.in_(names))
            .order_by(FolderState.mailbox).with_for_update().execution_options(populate_existing=True)))

    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for folder, mailboxes in sorted(by_folder.items()):
        for start in range(0, len(mailboxes), STATES_PER_QUERY):
            names = sorted(mailboxes[start:start + STATES_PER_QUERY])
            lock(folder, names)
            missing = [name for name in names if (name, folder) not in found]
            if missing:  # the first start: one INSERT for all of them
                session.execute(insert(FolderState).values(
                    [{"mailbox": name, "folder": folder, "uidvalidity": 0, "last_uid": 0} for name in missing])
                    .on_conflict_do_nothing())
                lock(folder, missing)
    return found
