"""asyncio orchestration: the mailboxes (``watch.py``), the processor, the sender, the scheduler.

Each loop does one step at a time and checks the stop flag between steps, so SIGTERM
lets the current step finish (its transaction commits or never started) and exits 0.
A database that is locked or out of space pauses the loop with one clear log line and
it resumes by itself; an IMAP or SMTP outage is retried with backoff. A server that refuses
one operation (a NO to CREATE, MOVE or STORE) is no outage: reading goes on, and only that
operation waits out its own backoff (``faults.py``). A clean stop gives back its leases and
claims.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from . import faults, history, inbound, metrics, oauth, outbox, scheduler, webshop_jobs
from .classify import Classifier
from .config import MailboxSettings, Settings
from .db import outage
from .db.leases import release_dead_instances, release_owned
from .db.session import Database
from .db.tables import Case, Outbox, StoredMessage
from .desk import fulfil, officer
from .desk.context import Desk
from .desk.drafting import draft_results
from .fleet import Fleet
from .mailbox import ImapMailbox, MailboxRefused
from .pipeline import Pipeline, utcnow
from .smtp import SendError, SmtpSession, build_message
from .watch import MailboxRunner

log = logging.getLogger(__name__)
SEND_CONNECTIONS = 2
"""SMTP connections the sender uses at once: a server takes about twice as many mails a second over two
(the bench's sink: 1,773/s against 709/s), and mail servers commonly allow a few per client."""
UID_BATCH = 1000
"""UIDs per STORE/MOVE and per IN (...) query: 50k UIDs in one command exceed Dovecot's 64 kB line."""
FETCH_CHUNK = 500
"""Messages fetched and stored per transaction (the fetch also splits by bytes)."""
DB_PAUSE_SECONDS = 5.0


@dataclass
class Counters:
    """What one run did, for ``--once`` output and the metrics endpoint."""

    stored: int = 0
    processed: int = 0
    sent: int = 0
    send_failures: int = 0
    refused: int = 0
    """IMAP operations the server refuses (each waits out its backoff; see ``health``): after
    ``run_once``, those still refused at its end, whether tried in this run or waiting."""
    per_mailbox: dict[str, int] = field(default_factory=dict)
    first_starts: list[history.HistoryReport] = field(default_factory=list)


class Daemon:
    def __init__(self, settings: Settings, db: Database, classifier: Classifier | Callable[[], Classifier],
                 clock: Callable[[], datetime] = utcnow, instance: str | None = None) -> None:
        """``classifier`` may be its loader (``run``), called by the first processing: its seconds of CPU
        would slow a thousand logins down (one core for Python's threads), so it loads once the
        mailboxes are in IDLE, or sooner when stored mail waits."""
        self.settings = settings
        self.db = db
        self._classifier = classifier
        self._pipeline: Pipeline | None = None
        self._pipeline_lock = threading.Lock()
        self.clock = clock
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}"
        self.counters = Counters()
        self.fleet = Fleet(db, self.instance, len(settings.all_mailboxes()), settings.database.lease_seconds, clock)
        """The other daemons on this database and this one's share of the mailboxes (``fleet.py``)."""
        self.stop = threading.Event()
        self.starting = threading.Event()
        """Set while ``run_forever``'s mailbox loop brings its mailboxes into IDLE: the first-start survey and
        the scheduler (a few transactions per shop) wait for the end, so the start-up's database time goes
        to the mailboxes (``watch.py`` clears it)."""
        self._wake_processor = asyncio.Event()
        self._wake_sender = asyncio.Event()
        self._wake_scheduler = asyncio.Event()
        self._wake_webshop = asyncio.Event()
        self._wake_metrics = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def pipeline(self) -> Pipeline:
        with self._pipeline_lock:
            if self._pipeline is None:
                loaded = self._classifier
                classifier = loaded if isinstance(loaded, Classifier) else loaded()
                self._pipeline = Pipeline(self.settings, self.db, classifier, self.clock)
            return self._pipeline

    # -- mailbox ---------------------------------------------------------------------------

    def poll_once(self, box: MailboxSettings, mb: ImapMailbox, then: Callable[[Session], None] | None = None) -> int:
        """Store every new message of the folder, then mark and move what we own.

        Returns -1 when another instance holds this mailbox's lease. ``then`` runs in the poll's last
        transaction (the one that records it for ``health``), for the caller's own reading.
        """
        imap = box.imap
        uidvalidity = mb.select()
        with self.db.transaction() as session:
            if not self.fleet.hold(session, box.name, imap.folder):
                return -1
            state = inbound.folder_state(session, box.name, imap.folder)
            first = inbound.is_first_visit(state)
            if not first and inbound.reset_if_uidvalidity_changed(state, uidvalidity):
                log.warning("mailbox %s: UIDVALIDITY changed to %s; re-reading, known mail is de-duplicated",
                            box.name, uidvalidity)
            last_uid = state.last_uid
        uids = mb.new_uids(last_uid)

        def start_here(session: Session) -> None:
            state = inbound.folder_state(session, box.name, imap.folder)
            if inbound.is_first_visit(state):
                inbound.start_here(state, uidvalidity, uids, self.clock(), history=imap.existing_mail == "history")

        def polled(session: Session) -> None:
            """The poll's last transaction: for `inbox-agent health`, this mailbox is being read."""
            if first and not uids:  # an empty folder's first visit: nothing was stored before this
                start_here(session)
            inbound.folder_state(session, box.name, imap.folder).last_poll_at = self.clock()
            if then is not None:
                then(session)

        if first and uids:  # before any of its mail is stored
            with self.db.transaction() as session:
                start_here(session)
        stored = 0
        for start in range(0, len(uids), FETCH_CHUNK):
            mails = mb.fetch(uids[start:start + FETCH_CHUNK], self.settings.policy.max_message_bytes)
            with self.db.transaction() as session:
                # Renewed per chunk, so a long first poll never outlives its lease into another's.
                if not self.fleet.keep(session, box.name, imap.folder):
                    log.warning("mailbox %s: lease taken over by another instance during a long poll", box.name)
                    return -1
                state = inbound.folder_state(session, box.name, imap.folder)
                result = inbound.store(session, box.name, imap.folder, state, mails,
                                       max_bytes=self.settings.policy.max_message_bytes, now=self.clock())
            stored += result.new
            if result.new:
                self._wake(self._wake_processor)
        self._mark_and_move(box, mb, uidvalidity, then=polled)
        if stored:  # again: a claim made while the keyword UPDATE held the new rows skipped them (SKIP LOCKED)
            self._wake(self._wake_processor)
        self.counters.stored += stored
        self.counters.per_mailbox[box.name] = self.counters.per_mailbox.get(box.name, 0) + stored
        return stored

    def _mark_and_move(self, box: MailboxSettings, mb: ImapMailbox, uidvalidity: int,
                       then: Callable[[Session], None] | None = None) -> None:
        """Set our keyword on what we stored, move what became a case; then ``then`` in a transaction, the
        first one when there is nothing to do (a quiet poll costs one transaction here, not three)."""
        imap = box.imap
        with self.db.transaction() as session:
            unmarked = inbound.unflagged(session, box.name, imap.folder, uidvalidity)
            moving = list(session.scalars(select(StoredMessage.uid).where(
                StoredMessage.mailbox == box.name, StoredMessage.folder == imap.folder,
                StoredMessage.uidvalidity == uidvalidity, StoredMessage.case_id.is_not(None),
                StoredMessage.moved.is_(False)))) if imap.move_privacy_to else []
            if not unmarked and not moving:
                if then is not None:
                    then(session)
                return
        if unmarked:
            self._refusable(box, ("store",), lambda: self._mark(box, mb, unmarked))
        if moving:
            self._refusable(box, ("create", "move"), lambda: self._move(box, mb, moving))
        if then is not None:
            with self.db.transaction() as session:
                then(session)

    def _mark(self, box: MailboxSettings, mb: ImapMailbox, uids: list[int]) -> None:
        """Set our keyword; where the server refuses it, the database alone records what is done."""
        for chunk in _chunks(uids, UID_BATCH):
            if not mb.add_keyword(chunk):
                break
            with self.db.transaction() as session:
                session.execute(inbound.in_folder(box.name, box.imap.folder, chunk).values(keyword_set=True))

    def _move(self, box: MailboxSettings, mb: ImapMailbox, uids: list[int]) -> None:
        assert box.imap.move_privacy_to
        for chunk in _chunks(uids, UID_BATCH):
            folder = mb.move(chunk, box.imap.move_privacy_to)
            with self.db.transaction() as session:
                session.execute(inbound.in_folder(box.name, box.imap.folder, chunk).values(moved=True, folder=folder))

    def _refusable(self, box: MailboxSettings, operations: tuple[str, ...], action: Callable[[], None]) -> None:
        """Run ``action`` unless the server refused one of its ``operations`` and that backoff still runs.

        A refusal is recorded with its next backoff step and ends only this action, not the poll
        or the connection: new mail goes on being read and acknowledged.
        """
        with self.db.transaction() as session:
            if not all(faults.due(session, box.name, operation, self.clock()) for operation in operations):
                return
        try:
            action()
        except MailboxRefused as exc:
            with self.db.transaction() as session:
                faults.refused(session, box.name, exc.operation, str(exc), self.clock())
            return
        with self.db.transaction() as session:
            for operation in operations:
                faults.succeeded(session, box.name, operation)

    def _wake(self, event: asyncio.Event) -> None:
        """Set an event of the event loop from a mailbox thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(event.set)

    def may_hold(self, session: Session, boxes: list[MailboxSettings]) -> list[bool]:
        """The lease layer's answer to "may this instance read this mailbox for the next lease period", per box."""
        return self.fleet.hold_all(session, [(box.name, box.imap.folder) for box in boxes])

    async def watch(self, boxes: list[MailboxSettings],
                    pause: Callable[[float], Awaitable[None]] | None = None) -> None:
        """Read ``boxes`` until stop: every connection in IDLE on this event loop (``watch.py``)."""
        await MailboxRunner(self, boxes, self.fleet.lease_seconds, pause).run_aside()

    # -- processing and sending ------------------------------------------------------------

    def process_pending(self) -> int:
        if self.starting.is_set() and self._pipeline is None and not self._mail_waits():
            return 0  # nothing needs the classifier yet: it loads after the logins
        if not self.starting.is_set():
            self.counters.first_starts += history.survey(self.db, history.reader(self.pipeline.classifier),
                                                         self.clock())
        done = self.pipeline.process_pending(self.stop.is_set)  # SIGTERM: finish this message, not the backlog
        self.counters.processed += done
        return done

    def _mail_waits(self) -> bool:
        with self.db.transaction() as session:
            waiting = select(StoredMessage.id).where(StoredMessage.status == "pending").limit(1)
            return session.scalar(waiting) is not None

    async def send_due(self) -> int:
        """Send what is due now over up to SEND_CONNECTIONS connections; return how many rows were attempted.

        The connections take the claimed rows one at a time from one queue, and each records a
        row's answer before it sends the next: at most one accepted mail per connection is not
        yet recorded (the crash window).
        """
        if self.settings.smtp.auth == "oauth2" and oauth.source_for(self.settings.smtp).paused():
            return 0  # said once when it was refused; the mail waits with its attempts untouched
        rows = await asyncio.to_thread(self._claim, self.clock())  # never the event loop waiting for a lock
        queue = iter(rows)
        left: list[Outbox] = []  # claimed but not attempted: given back
        paused: list[SendError] = []

        async def connection() -> None:
            async with SmtpSession(self.settings.smtp) as smtp:
                for row in queue:
                    if self.stop.is_set() or paused:
                        left.append(row)
                        continue
                    error = await self._send_one(smtp, row)
                    if error is not None and error.paused:
                        paused.append(error)
                        left.append(row)
                        continue
                    await self._record_attempt(row, error)  # marked sent only after the server accepted it

        await asyncio.gather(*(connection() for _ in range(min(SEND_CONNECTIONS, len(rows)))))
        if paused:  # one line per pause, not one per mail and attempt
            log.warning("%s; %d mail(s) wait in the outbox", paused[0], len(left))
        if left:
            await asyncio.to_thread(self._release_claims, [r.id for r in left])
        return 0 if paused else len(rows)

    def _claim(self, now: datetime) -> list[Outbox]:
        with self._folded() as session:
            rows = outbox.claim_due(session, self.instance, now)
            session.expunge_all()
        return rows

    def _release_claims(self, ids: list[int]) -> None:
        with self.db.transaction() as session:
            outbox.release(session, ids)

    @contextlib.contextmanager
    def _folded(self) -> Iterator[Session]:
        """A transaction that first marks the journaled mails sent (``sent_journal.py``): every step that
        decides what to send or frees a claim runs in one, so a mail the server accepted is not sent again."""
        journal = self.db.journal
        with self.db.transaction() as session:
            folded = journal.fold(session) if journal is not None else []
            yield session
        if journal is not None:
            journal.forget(folded)

    async def _send_one(self, smtp: SmtpSession, row: Outbox) -> SendError | None:
        try:
            box = self.settings.mailbox(row.shop)
            msg = build_message(row, from_address=self.settings.smtp.from_address, from_name=box.shop.name)
            await smtp.send(msg, recipient=row.to_addr)
        except SendError as exc:
            return exc
        except (OSError, ValueError, KeyError) as exc:
            return SendError(f"cannot build the message: {type(exc).__name__}: {exc}", permanent=True)
        return None

    async def _record_attempt(self, row: Outbox, error: SendError | None) -> None:
        """Commit the SMTP server's answer, waiting out a locked or full database.

        Giving up here would leave the row claimed for CLAIM_SECONDS (with the rest of the batch)
        and then send a mail the server already accepted a second time.
        """
        while True:
            try:
                if error is None and self.db.journal is not None:
                    self.db.journal.record(row.id, self.clock())  # its own lock: no wait for the processor's
                    log.info("sent %s for case %s", row.kind, row.case_id)
                elif error is None:
                    with self.db.engine.begin() as conn:
                        outbox.mark_sent(conn, row.id, self.clock())
                    log.info("sent %s for case %s", row.kind, row.case_id)
                else:
                    with self.db.transaction() as session:
                        fresh = session.get_one(Outbox, row.id)
                        outbox.mark_failed(fresh, str(error), self.clock(), permanent=error.permanent)
                        log.warning("sending %s for case %s failed (attempt %d): %s", fresh.kind, fresh.case_id,
                                    fresh.attempts, error)
            except DBAPIError as exc:
                if self.stop.is_set():
                    raise  # the claim dies with this process; recover() frees it at the next start
                log.error("database unavailable (%s) while recording %s %s; pausing %.0f s",
                          outage.describe(exc), "the sending of" if error is None else "a failure of",
                          row.kind, DB_PAUSE_SECONDS)
                await asyncio.sleep(DB_PAUSE_SECONDS)
                continue
            if error is None:
                self.counters.sent += 1
            else:
                self.counters.send_failures += 1
            return

    async def _processor(self) -> None:
        while not self.stop.is_set():
            try:
                if await asyncio.to_thread(self.process_pending):
                    self._wake_sender.set()
                    self._wake_webshop.set()
            except DBAPIError as exc:
                log.error("database unavailable (%s); pausing %.0f s", outage.describe(exc), DB_PAUSE_SECONDS)
                await asyncio.sleep(DB_PAUSE_SECONDS)
                continue
            await _wait(self._wake_processor, 5.0)

    def fetch_webshop(self) -> int:
        """Webshop work cases wait for (data for drafts, approved erasures), done with no transaction open."""

        def desk(case: Case) -> Desk:
            return Desk(settings=self.settings, box=self.settings.mailbox(case.shop), now=self.clock(),
                        cues=self.pipeline.cues)

        def draft(session: Session, case: Case, snapshot: webshop_jobs.Snapshot) -> None:
            draft_results(session, desk(case), case, webshop=snapshot)

        def changed(session: Session, case: Case, right: str, done: list[str]) -> None:
            officer.webshop_changed(session, desk(case), case, right, done)

        return webshop_jobs.run_due(self.db, lambda shop: fulfil.woocommerce(self.settings, shop), draft, changed,
                                    self.clock)

    async def _webshop(self) -> None:
        """Its own worker: a slow webshop delays only the drafts that wait for it, never other mail."""
        while not self.stop.is_set():
            try:
                if await asyncio.to_thread(self.fetch_webshop):
                    self._wake_sender.set()
                    continue
            except DBAPIError as exc:
                log.error("database unavailable (%s); webshop fetches pausing", outage.describe(exc))
            await _wait(self._wake_webshop, 5.0)

    async def _sender(self) -> None:
        while not self.stop.is_set():
            try:
                attempted = await self.send_due()
            except DBAPIError as exc:
                log.error("database unavailable (%s); pausing %.0f s", outage.describe(exc), DB_PAUSE_SECONDS)
                await asyncio.sleep(DB_PAUSE_SECONDS)
                continue
            if not attempted:
                await _wait(self._wake_sender, 2.0)

    async def _scheduler(self) -> None:
        while self.starting.is_set() and not self.stop.is_set():
            await asyncio.sleep(0.5)
        while not self.stop.is_set():
            try:
                if await asyncio.to_thread(self.tick):
                    self._wake_sender.set()
            except DBAPIError as exc:
                log.error("database unavailable (%s); scheduler pausing", outage.describe(exc))
            await _wait(self._wake_scheduler, 60.0)

    def tick(self) -> bool:
        """Run the scheduler's rules when this instance holds their lease; True when they ran.

        Its rules read, then write (no reminder yet, no digest today), so one instance at a time runs them.
        """
        with self.db.transaction() as session:
            mine = self.fleet.hold_scheduler(session)
        if not mine:
            self.recover()  # the holder may be a killed process of this host: free it for the next tick
            return False
        scheduler.tick(self.settings, self.db, self.clock(), self.pipeline.cues)
        return True

    def _write_metrics(self) -> None:
        try:
            metrics.write(self.settings, self.db, self.clock())
        except OSError as exc:
            log.error("metrics textfile not written: %s", exc)

    async def _metrics(self) -> None:
        """Rewrite ``[metrics] textfile`` every interval, when one is configured."""
        while self.settings.metrics.textfile is not None and not self.stop.is_set():
            await asyncio.to_thread(self._write_metrics)
            await _wait(self._wake_metrics, self.settings.metrics.interval_seconds)

    # -- entry points ----------------------------------------------------------------------

    def recover(self) -> None:
        """Free mailbox leases and outbox claims left by dead processes of this host (kill -9)."""
        host = self.instance.rsplit(":", 1)[0]
        with self._folded() as session:
            freed = inbound.release_dead_leases(session, host, _pid_alive) + outbox.release_dead_claims(
                session, host, _pid_alive) + release_dead_instances(session, host, _pid_alive)
        if freed:
            log.warning("released %d lease(s)/claim(s) left by a stopped process", freed)

    def release(self) -> None:
        """Give back this instance's leases and claims at a clean stop, so nobody has to free them."""
        self.fleet.leave()
        try:
            with self._folded() as session:
                freed = release_owned(session, self.instance)
        except DBAPIError as exc:  # they expire by time, or the next start of this host frees them
            log.error("leases not released (%s)", outage.describe(exc))
            return
        log.debug("released %d lease(s)/claim(s) of %s", freed, self.instance)

    async def run_forever(self) -> None:
        self.recover()
        self.fleet.join()  # counted by the others from now on: each holds its share of the mailboxes
        loop = self._loop = asyncio.get_running_loop()
        self.starting.set()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._request_stop)
        workers = [self.watch(self.settings.all_mailboxes()), self._processor(), self._sender(), self._scheduler(),
                   self._webshop(), self._metrics(), self._stopper()]
        try:
            await asyncio.gather(*workers)
        finally:
            self.release()
        log.info("stopped cleanly")

    def _request_stop(self) -> None:
        log.info("stop requested; finishing the current step")
        self.stop.set()

    async def _stopper(self) -> None:
        """Wake sleeping loops once stop is set, so they notice it at once."""
        while not self.stop.is_set():
            await asyncio.sleep(0.2)
        for event in (self._wake_processor, self._wake_sender, self._wake_scheduler, self._wake_webshop,
                      self._wake_metrics):
            event.set()

    async def run_once(self) -> Counters:
        """Fetch what is waiting, process it, send what is due, and return.

        Fetching, processing and sending overlap as in ``run_forever``: a backlog is processed
        while later parts of it are still being fetched, and acknowledged while being processed.
        """
        self.recover()
        try:
            await self._once()
        finally:
            self.release()
        await asyncio.to_thread(self._write_metrics)
        return self.counters

    async def _once(self) -> None:
        self._loop = asyncio.get_running_loop()
        polling = asyncio.gather(*(asyncio.to_thread(self._poll_box_once, box)
                                   for box in self.settings.all_mailboxes()))
        processing = asyncio.ensure_future(self._process_until(polling))
        await self._send_until(processing)
        await processing
        while await asyncio.to_thread(self.fetch_webshop):
            pass
        await asyncio.to_thread(self.tick)
        while await self.send_due():
            pass
        for box in self.settings.all_mailboxes():  # move what processing just assigned to cases
            if box.imap.move_privacy_to:
                with ImapMailbox(box.imap) as mb:
                    self._mark_and_move(box, mb, mb.select())
        with self.db.transaction() as session:
            self.counters.refused = sum(len(faults.current(session, box.name)) for box in self.settings.all_mailboxes())

    def _poll_box_once(self, box: MailboxSettings) -> None:
        with ImapMailbox(box.imap) as mb:
            self.poll_once(box, mb)

    async def _process_until(self, polling: asyncio.Future[list[None]]) -> None:
        """Process what is stored until polling has ended and nothing is pending."""
        while True:
            ended = polling.done()
            if await asyncio.to_thread(self.process_pending):
                self._wake_sender.set()
            elif ended:
                await polling  # its exception, if any, is the run's
                return
            else:
                await _wait(self._wake_processor, 0.5)

    async def _send_until(self, processing: asyncio.Future[None]) -> None:
        """Send what is due until processing has ended and nothing more is due."""
        while True:
            ended = processing.done()
            if not await self.send_due():
                if ended:
                    return
                await _wait(self._wake_sender, 0.5)

def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


async def _wait(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)
    event.clear()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
