"""All mailboxes of one daemon from one event loop: IDLE sockets on the loop, IMAP commands in a few threads.

Why this design: one thread per mailbox cost ~0.9 MB and ~0.06 % of a core per mailbox, and with
every mailbox leaving IDLE every 30 s to poll and touch the database, 500 mailboxes used a third of
a core doing nothing (issue 19). Here a quiet mailbox is one IMAP connection in IDLE whose socket
the event loop watches; nothing runs for it until the server speaks or its re-check is due. The
commands (login, SELECT, the poll, NOOP, IDLE, DONE) run with the synchronous ``ImapMailbox`` in a
pool of ``WORKERS`` threads, so the login paths (password, OAuth2 SASL), TLS, error wording and
refusal handling are those the mailbox tests cover against Dovecot and Cyrus. At most ``WORKERS``
mailboxes are between login and their first IDLE at a time, so mailboxes reach IDLE from the
first seconds on (the pool's queue no longer holds a thousand logins before the first poll). A
re-check that finds nothing touches no database, and a quiet poll's bookkeeping (keywords to set,
moves, ``last_poll_at``, the follow-up) is one transaction. The first poll of a mailbox in this
process (a thousand at a start) needs none of its own: the lease period read the folder states of
all of them in its transaction, and a folder with nothing new and nothing to do is recorded
(``last_poll_at``, and on a first visit where "now" starts) with the others, one transaction a tick.
Leases are asked for all mailboxes in one transaction every half lease period (``Daemon.may_hold``,
the lease layer's "may I hold this one"); that transaction also records ``last_poll_at`` of the
mailboxes being watched, for ``health``.

IMAP NOTIFY (RFC 5465) is not used: it watches several folders of one login on one connection,
and each configured mailbox is one folder of its own login, so it would save no connection.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Protocol, TypeVar

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from . import faults, inbound
from .config import MailboxSettings
from .db import outage
from .db.session import Database
from .db.tables import FolderState, ImapFault, StoredMessage
from .fleet import STATES_PER_QUERY, Fleet, locked_states
from .mailbox import ImapMailbox, MailboxError

log = logging.getLogger(__name__)

T = TypeVar("T")

WORKERS = 16
"""Threads for IMAP commands and polls; a quiet mailbox holds none."""
RECHECK_SECONDS = 60.0
"""The longest a mailbox stays in IDLE before a quiet re-check (DONE, NOOP, IDLE again)."""
LATE_PUSH_SECONDS = 5.0
"""Mail that a re-check finds, and that arrived longer ago than this, was not pushed by IDLE."""
LATE_PUSH_REPEAT_SECONDS = 3600.0
"""A server whose IDLE push is off is warned about once per hour; other cases are debug lines."""
FOLLOW_UP_SECONDS = 5.0
"""With ``move_privacy_to``, a mailbox is polled again this soon while its mail waits to be moved."""
PROGRESS_SECONDS = 2.0
START_UP_SECONDS = 120.0
"""The start-up (``Daemon.starting``) ends when every held mailbox is in IDLE, or after this long: a
mailbox that cannot log in must not hold back the scheduler."""
TICK_SECONDS = 0.2
"""How often the runner looks at the stop flag."""
UNHELD_SECONDS = 5.0
"""How often mailboxes this daemon does not hold are asked for again: one given back (a surplus,
a stopped daemon) is read again within seconds, not after half a lease."""


class Host(Protocol):
    """What the runner needs of the daemon that runs it, and no more.

    ``daemon.py`` imports this module to start the runner; naming the daemon's class here would make
    the import a circle (it stood under ``TYPE_CHECKING``). The protocol says which few parts of the
    daemon the mailboxes lean on, and lets a test hand the runner a stand-in.
    """

    db: Database
    fleet: Fleet
    """Its ``generation`` changes when a daemon comes or goes: the leases are asked again at once."""
    instance: str
    """The lease owner's name of this daemon: a folder state held by another is not recorded."""
    stop: threading.Event
    starting: threading.Event
    """Set during the start-up; the runner clears it once the held mailboxes are in IDLE."""
    clock: Callable[[], datetime]

    def may_hold(self, session: Session, boxes: list[MailboxSettings]) -> list[bool]:
        """The lease layer's answer per mailbox, for the next lease period."""

    def recover(self) -> None:
        """Free the leases of killed processes of this host."""

    def poll_once(self, box: MailboxSettings, mb: ImapMailbox, then: Callable[[Session], None] | None = None) -> int:
        """Store the folder's new mail, mark and move it; -1 when another instance holds the mailbox."""


@dataclass(frozen=True)
class _Known:
    """A folder's state as a lease period read it, before this process first polled the mailbox."""

    uidvalidity: int
    last_uid: int
    quiet: bool
    """No mail waits for its keyword, its processing or its move, and no operation is refused."""


class _Event(Enum):
    READABLE = "readable"
    TIMEOUT = "timeout"
    WOKEN = "woken"


@dataclass(eq=False)
class _Slot:
    """One mailbox: its connection and where it stands."""

    box: MailboxSettings
    held: bool = False
    """The lease layer let this daemon hold the mailbox at the last lease period."""
    served: bool = False
    """Connected, polled and now in IDLE (or between polls): its mail is being read."""
    mb: ImapMailbox | None = None
    task: asyncio.Task[None] | None = None
    waiter: asyncio.Future[_Event] | None = None
    follow_up_at: float | None = None
    """Monotonic time of a poll that is due without news (moves after processing, a refusal's retry)."""
    backoff: float = 0.5
    last_error: str = ""
    polled: bool = False
    """This process polled the mailbox once (``known`` is of no use from then on)."""
    known: _Known | None = None
    unrecorded: int | None = None
    """The UIDVALIDITY of a first poll found quiet and not yet recorded (``_record_quiet``)."""


class MailboxRunner:
    """Serves ``boxes`` for ``daemon`` (the ``Host``) until its stop flag is set.

    Leases are asked every half ``lease_seconds``. ``pause`` replaces the reconnect backoff's
    sleep (tests record it instead of waiting).
    """

    def __init__(self, daemon: Host, boxes: list[MailboxSettings], lease_seconds: float,
                 pause: Callable[[float], Awaitable[None]] | None = None) -> None:
        self.daemon = daemon
        self.lease_seconds = lease_seconds
        self.slots = [_Slot(box) for box in boxes]
        self._pause = pause
        self._pool = ThreadPoolExecutor(min(WORKERS, max(len(boxes), 1)), thread_name_prefix="imap")
        self._admission = asyncio.Semaphore(WORKERS)
        """Mailboxes between connecting and their first IDLE: the pool's queue holds the next steps of
        these, so each reaches IDLE in a few round trips instead of all logging in before any polls."""
        self._late_warned: dict[str, float] = {}
        self._known_lock = threading.Lock()
        """``polled``, ``known`` and ``unrecorded`` of all slots: set by a lease period and by the polls,
        which run in different threads."""
        self._unrecorded: list[_Slot] = []

    # -- the runner --------------------------------------------------------------------------

    async def run_aside(self) -> None:
        """``run`` on an event loop of its own, in one thread: the daemon's loop also sends mail and
        records it in the database, and a wait there must not delay what an IDLE socket says."""
        with ThreadPoolExecutor(1, thread_name_prefix="watch") as own:
            await asyncio.get_running_loop().run_in_executor(own, asyncio.run, self.run())

    async def run(self) -> None:
        started = time.monotonic()
        next_lease, next_unheld, next_progress, reported = 0.0, 0.0, started + PROGRESS_SECONDS, -1
        fleet, generation = self.daemon.fleet, -1
        try:
            while not self.daemon.stop.is_set():
                now = time.monotonic()
                if now >= next_lease or fleet.generation != generation:  # due, or a daemon came or went
                    generation = fleet.generation
                    await self._lease_period(self.slots)
                    next_lease = next_unheld = now + self.lease_seconds / 2
                elif now >= next_unheld:
                    await self._lease_period([s for s in self.slots if not s.held])
                    next_unheld = now + UNHELD_SECONDS
                if now >= next_progress and reported != self._idle_count():
                    reported = self._report(started)
                    next_progress = now + PROGRESS_SECONDS
                if self._unrecorded:
                    await self._record()
                if self.daemon.starting.is_set() and (self._all_idle() or now - started > START_UP_SECONDS):
                    self.daemon.starting.clear()
                await asyncio.sleep(TICK_SECONDS)
        finally:
            for slot in self.slots:
                _settle(slot.waiter, _Event.WOKEN)
            await asyncio.gather(*(s.task for s in self.slots if s.task is not None), return_exceptions=True)
            await self._record()
            self._pool.shutdown()

    def _idle_count(self) -> int:
        return sum(s.served for s in self.slots)

    def _all_idle(self) -> bool:
        return all(s.served for s in self.slots if s.held)

    def _report(self, started: float) -> int:
        """Start-up progress: how many mailboxes are in IDLE, and when all held ones are."""
        idle, held = self._idle_count(), sum(s.held for s in self.slots)
        if idle and idle == held:
            log.info("all %d mailboxes idle after %.1f s", idle, time.monotonic() - started)
        else:
            log.info("mailboxes: %d of %d idle", idle, held)
        return idle

    async def _lease_period(self, slots: list[_Slot]) -> None:
        if not slots:
            return
        # The lease layer gives back a surplus from the front: mailboxes not yet in IDLE go first, so a
        # daemon that shares with a joiner keeps the connections it has.
        slots = sorted(slots, key=lambda slot: slot.served)
        try:
            held = await self._io(self._ask_leases, slots)
        except DBAPIError as exc:
            log.error("database unavailable (%s); mailbox leases not renewed", outage.describe(exc))
            return
        for slot, mine in zip(slots, held, strict=True):
            slot.held = mine
            if not mine:
                _settle(slot.waiter, _Event.WOKEN)  # lost to another instance: stop reading it
            elif slot.task is None or slot.task.done():
                slot.task = asyncio.create_task(self._serve(slot))

    def _ask_leases(self, slots: list[_Slot]) -> list[bool]:
        """One transaction: the lease layer's answer per mailbox; watched ones record that they are read."""
        now = self.daemon.clock()
        # One flush at the commit, not one per mailbox: each flush walks the whole session.
        with self.daemon.db.transaction() as session, session.no_autoflush:
            held = self.daemon.may_hold(session, [slot.box for slot in slots])
            watched = [slot.box for slot, mine in zip(slots, held, strict=True) if mine and slot.served]
            for folder in {box.imap.folder for box in watched}:
                names = [box.name for box in watched if box.imap.folder == folder]
                session.execute(update(FolderState).where(FolderState.folder == folder, FolderState.mailbox.in_(names))
                                .values(last_poll_at=now))
            self._remember(session, [slot for slot, mine in zip(slots, held, strict=True) if mine and not slot.polled])
        if not all(held):
            self.daemon.recover()  # a holder may be a killed process of this host: free it for the next period
        return held

    def _remember(self, session: Session, slots: list[_Slot]) -> None:
        """Keep the folder states of mailboxes not polled yet (loaded by the lease layer in this
        transaction), with whether anything waits for them, for their first poll."""
        busy: set[str] = set()
        for start in range(0, len(slots), STATES_PER_QUERY):
            names = [slot.box.name for slot in slots[start:start + STATES_PER_QUERY]]
            busy.update(session.scalars(select(StoredMessage.mailbox).distinct().where(
                StoredMessage.mailbox.in_(names),
                or_(StoredMessage.keyword_set.is_(False) & (StoredMessage.status != "history"),
                    StoredMessage.status == "pending",
                    StoredMessage.case_id.is_not(None) & StoredMessage.moved.is_(False)))))
            busy.update(session.scalars(select(ImapFault.mailbox).where(ImapFault.mailbox.in_(names))))
        known = {}
        for slot in slots:
            state = session.get_one(FolderState, (slot.box.name, slot.box.imap.folder))  # loaded: no query
            known[slot] = _Known(state.uidvalidity, state.last_uid, slot.box.name not in busy)
        with self._known_lock:
            for slot, seen in known.items():
                if not slot.polled:
                    slot.known = seen

    def _quiet_start(self, slot: _Slot, mb: ImapMailbox) -> bool:
        """The first poll of a mailbox from what the lease period read: True when nothing is new and
        nothing waits, so the poll is only recorded, with others (False: the daemon's poll is due)."""
        with self._known_lock:
            known, slot.known, slot.polled = slot.known, None, True
        if known is None or not known.quiet:
            return False
        uidvalidity, uids = mb.select_new(known.last_uid)
        if uids or known.uidvalidity not in (0, uidvalidity):
            return False
        with self._known_lock:
            slot.unrecorded = uidvalidity
            self._unrecorded.append(slot)
        return True

    async def _record(self) -> None:
        try:
            await self._io(self._record_quiet, None)
        except DBAPIError as exc:  # recorded at the next tick, or by the mailbox's next poll
            log.error("database unavailable (%s); first polls not recorded", outage.describe(exc))

    def _record_quiet(self, slot: _Slot | None) -> None:
        """Record the quiet first polls: ``last_poll_at``, and where "now" starts on a first visit (as the
        daemon's poll of an empty folder does). All of them in one transaction, or only ``slot``'s, which
        must be written before a poll of its mail reads the folder's state (else that mail would be history)."""
        now = self.daemon.clock()
        with self.daemon.db.transaction() as session:
            with self._known_lock:
                slots = [s for s in self._unrecorded if slot is None or s is slot]
            if not slots:
                return
            states = locked_states(session, [(s.box.name, s.box.imap.folder) for s in slots])
            for s in slots:
                state = states[(s.box.name, s.box.imap.folder)]
                if state.lease_owner != self.daemon.instance or s.unrecorded is None:
                    continue  # given back meanwhile, or recorded by another transaction
                if inbound.is_first_visit(state):
                    inbound.start_here(state, s.unrecorded, [], now, history=s.box.imap.existing_mail == "history")
                state.last_poll_at = now
        with self._known_lock:
            for s in slots:
                s.unrecorded = None
            self._unrecorded = [s for s in self._unrecorded if s.unrecorded is not None]

    # -- one mailbox ----------------------------------------------------------------------------

    def _wanted(self, slot: _Slot) -> bool:
        return slot.held and not self.daemon.stop.is_set()

    async def _serve(self, slot: _Slot) -> None:
        """Connect, poll, IDLE; reconnect with backoff on any outage, until the lease or the daemon ends."""
        while self._wanted(slot):
            cap = 60.0
            try:
                await self._session(slot)
            except MailboxError as exc:
                # The same fault again (a paused OAuth login, a server down for hours) was said already.
                log.log(logging.DEBUG if str(exc) == slot.last_error else logging.WARNING,
                        "mailbox %s: %s; retrying in %.1f s", slot.box.name, exc, slot.backoff)
                slot.last_error = str(exc)
                if exc.retryable:
                    cap = 5.0  # a restarted server is back in seconds: never look away longer than 5 s
            except DBAPIError as exc:
                log.error("mailbox %s: database unavailable (%s); pausing", slot.box.name, outage.describe(exc))
            except Exception:  # a bug must not silently end one mailbox of a thousand
                log.exception("mailbox %s: unexpected error; reconnecting in %.1f s", slot.box.name, slot.backoff)
            finally:
                slot.served = False
                mb, slot.mb = slot.mb, None
                if mb is not None:
                    await self._io(mb.close)
            if not self._wanted(slot):
                return
            await (self._pause(slot.backoff) if self._pause else self._wait(slot, None, slot.backoff))
            slot.backoff = min(slot.backoff * 2, 5.0 if slot.backoff < 5.0 else cap)

    async def _session(self, slot: _Slot) -> None:
        mb = slot.mb = ImapMailbox(slot.box.imap)
        async with self._admission:
            await self._io(mb.connect)
            slot.backoff, slot.last_error = 0.5, ""
            idle = await self._io(mb.has_idle)
            waiting = await self._settle(slot, mb, idle, news=True)
        while waiting:
            slot.served = True
            if idle:
                news = await self._idle(slot, mb)
            else:
                await self._wait(slot, None, self._timeout(slot, slot.box.imap.poll_seconds))
                news = self._wanted(slot) and await self._io(mb.check)
            waiting = await self._settle(slot, mb, idle, news=news)

    async def _settle(self, slot: _Slot, mb: ImapMailbox, idle: bool, *, news: bool) -> bool:
        """Poll while there is news (or a follow-up is due), then enter IDLE; False when the mailbox
        is no longer wanted (stop, lease lost)."""
        while self._wanted(slot):
            if (news or self._follow_up_due(slot)) and await self._io(self._poll, slot, mb) < 0:
                return False
            if not idle:
                return True
            news = await self._io(mb.begin_idle)
            if not news:
                return True
        return False

    async def _idle(self, slot: _Slot, mb: ImapMailbox) -> bool:
        """Watch the socket until news, the re-check, a due follow-up or the end; True when a poll is due."""
        deadline = time.monotonic() + self._timeout(slot, slot.box.imap.idle_seconds)
        fd = mb.idle_socket()
        while True:
            event = await self._wait(slot, fd, deadline - time.monotonic())
            if event is _Event.WOKEN:
                return False  # stop or lease lost: the connection is closed as it is
            if event is _Event.READABLE:
                if await self._io(mb.idle_news):
                    return True
                continue
            news = await self._io(mb.end_idle)
            if self._follow_up_due(slot):
                return False
            if news or await self._io(mb.check):
                await self._io(self._late_push, slot, mb)
                return True
            return False

    def _timeout(self, slot: _Slot, configured: float) -> float:
        wait = min(configured, RECHECK_SECONDS)
        if slot.follow_up_at is not None:
            wait = min(wait, slot.follow_up_at - time.monotonic())
        return max(wait, 0.0)

    @staticmethod
    def _follow_up_due(slot: _Slot) -> bool:
        return slot.follow_up_at is not None and slot.follow_up_at <= time.monotonic()

    def _poll(self, slot: _Slot, mb: ImapMailbox) -> int:
        """The daemon's poll, then when the next one is due without news; -1 when the lease is gone."""
        if not slot.polled and self._quiet_start(slot, mb):
            return 0
        if slot.unrecorded is not None:
            self._record_quiet(slot)
        found = self.daemon.poll_once(slot.box, mb, then=lambda session: self._follow_up(session, slot))
        if found < 0:
            slot.held = False
            self.daemon.recover()  # the holder may be a killed process of this host: free it now
        return found

    def _follow_up(self, session: Session, slot: _Slot) -> None:
        """Moves wait for processing, and a refused operation for its backoff: poll again for them
        (read in the poll's last transaction)."""
        box, now = slot.box, self.daemon.clock()
        delays: list[float] = []
        refused = faults.current(session, box.name)
        delays.extend((f.retry_at - now).total_seconds() for f in refused)
        if box.imap.move_privacy_to and not any(f.operation in ("create", "move") for f in refused):
            waiting = session.scalar(select(func.count()).select_from(StoredMessage).where(
                StoredMessage.mailbox == box.name, StoredMessage.folder == box.imap.folder,
                or_(StoredMessage.status == "pending",
                    StoredMessage.case_id.is_not(None) & StoredMessage.moved.is_(False))))
            if waiting:
                delays.append(FOLLOW_UP_SECONDS)
        slot.follow_up_at = time.monotonic() + max(min(delays), 0.0) if delays else None

    def _late_push(self, slot: _Slot, mb: ImapMailbox) -> None:
        """A re-check found mail: when it arrived well before, the server's IDLE push is off."""
        arrived = mb.newest_arrival()
        if arrived is None:
            return
        late = (datetime.now(UTC) - arrived).total_seconds()
        if late <= LATE_PUSH_SECONDS:
            return
        server, now = mb.where, time.monotonic()
        loud = now - self._late_warned.get(server, -LATE_PUSH_REPEAT_SECONDS) >= LATE_PUSH_REPEAT_SECONDS
        if loud:
            self._late_warned[server] = now
        log.log(logging.WARNING if loud else logging.DEBUG,
                "mailbox %s: mail that arrived %.0f s ago was found by a re-check, not announced in IDLE: "
                "IMAP server %s seems not to push new mail (Dovecot: raise fs.inotify.max_user_instances; "
                "see docs/operations.md, 'IDLE')", slot.box.name, late, server)

    # -- waiting and working --------------------------------------------------------------------

    async def _wait(self, slot: _Slot, fd: int | None, seconds: float) -> _Event:
        """Until ``fd`` is readable, ``seconds`` pass, or the runner wakes the slot (stop, lease lost)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[_Event] = loop.create_future()
        slot.waiter = waiter
        timer = loop.call_later(max(seconds, 0.0), _settle, waiter, _Event.TIMEOUT)
        if fd is not None:
            loop.add_reader(fd, _settle, waiter, _Event.READABLE)
        if not self._wanted(slot):
            _settle(waiter, _Event.WOKEN)
        try:
            return await waiter
        finally:
            timer.cancel()
            if fd is not None:
                loop.remove_reader(fd)
            slot.waiter = None

    async def _io(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)


def _settle(waiter: asyncio.Future[_Event] | None, event: _Event) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(event)
