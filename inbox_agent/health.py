"""What monitoring needs to know, read from the shared database: ``inbox-agent health`` and metrics.

Everything comes from committed rows, not from one daemon's memory, so every instance (and
the CLI on another host) reports the same picture, and a hung or dead poller shows up as a
stale ``last_poll_at`` however many instances there are. With several daemons it also says who
runs the scheduler and how many mailboxes each live daemon holds (``fleet.py``): shares that
differ by more than one, or a daemon that holds none, show a balancing fault at a glance.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from . import faults
from .case_states import CLOSED
from .config import Settings
from .db.session import Database, current_revision, head_revision
from .db.tables import Case, DaemonInstance, FolderState, Outbox, SchedulerLease, StoredMessage
from .fleet import SCHEDULER, live_after

DEFAULT_MAX_POLL_AGE = 300.0
"""Seconds; a live lease holder polls at least every half lease (30 s), so this is ten misses."""
DEFAULT_MAX_QUEUE_AGE = 1800.0
"""Seconds a queued mail may wait: a few SMTP retries, not an outage."""


class DatabaseHealth(BaseModel):
    reachable: bool
    revision: str | None = None
    head: str
    current: bool = False
    error: str | None = None


class RefusedOperation(BaseModel):
    """An IMAP operation the server keeps refusing (``faults.py``); reading goes on meanwhile."""

    operation: str
    message: str
    since: datetime
    attempts: int
    retry_at: datetime


class MailboxHealth(BaseModel):
    name: str
    shop: str
    folder: str
    last_poll_at: datetime | None
    last_poll_age_seconds: float | None
    lease_owner: str | None
    """The instance ("host:pid") holding an unexpired lease; null when nobody polls."""
    lease_until: datetime | None
    messages: dict[str, int]
    """Stored messages per status (pending, processed, quarantined)."""
    refused: list[RefusedOperation] = []


class OutboxHealth(BaseModel):
    queued: int
    oldest_queued_age_seconds: float | None
    drafts: int
    """Waiting for the officer's approval: not the daemon's backlog."""
    failed: int


class CasesHealth(BaseModel):
    open_per_state: dict[str, dict[str, int]]
    """Shop (mailbox name) -> state -> open cases."""
    oldest_deadline: datetime | None
    """The nearest legal deadline (extension included) of any open case."""
    overdue: int


class SchedulerHealth(BaseModel):
    """Who runs the reminders, digests and purging now; all null when no instance holds the lease."""

    holder: str | None
    since: datetime | None
    until: datetime | None


class DaemonHealth(BaseModel):
    """A live ``inbox-agent run`` (its heartbeat is recent) and how many mailbox leases it holds."""

    instance: str
    host: str
    pid: int | None
    started_at: datetime
    seen_at: datetime
    mailboxes: int


class Health(BaseModel):
    healthy: bool
    problems: list[str]
    checked_at: datetime
    database: DatabaseHealth
    mailboxes: list[MailboxHealth]
    outbox: OutboxHealth | None
    cases: CasesHealth | None
    scheduler: SchedulerHealth | None = None
    daemons: list[DaemonHealth] = []
    """Oldest first: with M mailboxes and N daemons each holds M // N, the oldest M % N one more."""


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round((now - then).total_seconds(), 1)


def _mailboxes(session: Session, settings: Settings, now: datetime) -> list[MailboxHealth]:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for mailbox, status, n in session.execute(
        select(StoredMessage.mailbox, StoredMessage.status, func.count()).group_by(StoredMessage.mailbox,
                                                                                   StoredMessage.status)
    ):
        counts[mailbox][status] = n
    result = []
    for box in settings.all_mailboxes():
        state = session.get(FolderState, (box.name, box.imap.folder))
        held = state is not None and state.lease_until is not None and state.lease_until > now
        result.append(MailboxHealth(
            name=box.name, shop=box.shop.name, folder=box.imap.folder,
            last_poll_at=state.last_poll_at if state else None,
            last_poll_age_seconds=_age(now, state.last_poll_at if state else None),
            lease_owner=state.lease_owner if held and state else None,
            lease_until=state.lease_until if held and state else None,
            messages=counts.get(box.name, {}),
            refused=[RefusedOperation(operation=f.operation, message=f.message, since=f.since, attempts=f.attempts,
                                      retry_at=f.retry_at) for f in faults.current(session, box.name)],
        ))
    return result


def _outbox(session: Session, now: datetime) -> OutboxHealth:
    per_status = {status: n for status, n in session.execute(select(Outbox.status, func.count())
                                                             .group_by(Outbox.status))}
    oldest = session.scalar(select(func.min(Outbox.created_at)).where(Outbox.status == "queued"))
    return OutboxHealth(queued=per_status.get("queued", 0), oldest_queued_age_seconds=_age(now, oldest),
                        drafts=per_status.get("draft", 0), failed=per_status.get("failed", 0))


def _cases(session: Session, now: datetime) -> CasesHealth:
    is_open = Case.state.not_in([s.value for s in CLOSED])
    per_state: dict[str, dict[str, int]] = defaultdict(dict)
    for shop, state, n in session.execute(
        select(Case.shop, Case.state, func.count()).where(is_open).group_by(Case.shop, Case.state)
    ):
        per_state[shop][state] = n
    deadline = Case.effective_legal
    oldest = session.scalar(select(func.min(deadline)).where(is_open))
    overdue = session.scalar(select(func.count()).select_from(Case).where(is_open, deadline < now)) or 0
    return CasesHealth(open_per_state=dict(per_state), oldest_deadline=oldest, overdue=overdue)


def _scheduler(session: Session, now: datetime) -> SchedulerHealth:
    lease = session.get(SchedulerLease, SCHEDULER)
    if lease is None or lease.holder is None or lease.until is None or lease.until <= now:
        return SchedulerHealth(holder=None, since=None, until=None)
    return SchedulerHealth(holder=lease.holder, since=lease.since, until=lease.until)


def _daemons(session: Session, now: datetime, lease_seconds: float) -> list[DaemonHealth]:
    held = {owner: n for owner, n in session.execute(
        select(FolderState.lease_owner, func.count())
        .where(FolderState.lease_owner.is_not(None), FolderState.lease_until > now).group_by(FolderState.lease_owner))}
    rows = session.scalars(select(DaemonInstance).where(DaemonInstance.seen_at > live_after(now, lease_seconds))
                           .order_by(DaemonInstance.started_at, DaemonInstance.instance))
    return [DaemonHealth(instance=r.instance, host=r.host, pid=r.pid, started_at=r.started_at, seen_at=r.seen_at,
                         mailboxes=held.get(r.instance, 0)) for r in rows]


def _problems(health: Health, max_poll_age: float, max_queue_age: float) -> list[str]:
    db = health.database
    if not db.reachable:
        return [f"database unreachable: {db.error}"]
    if db.error:
        return [f"database error: {db.error}"]
    if not db.current:
        return [f"database schema at {db.revision or 'nothing'}, this version needs {db.head}"]
    problems = []
    for box in health.mailboxes:
        if box.last_poll_age_seconds is None:
            problems.append(f"mailbox {box.name}: never polled")
        elif box.last_poll_age_seconds > max_poll_age:
            problems.append(f"mailbox {box.name}: last poll {box.last_poll_age_seconds:.0f} s ago "
                            f"(limit {max_poll_age:.0f} s)")
        problems += [f"mailbox {box.name}: {r.operation.upper()} refused {r.attempts} time(s) since "
                     f"{r.since:%Y-%m-%d %H:%M} UTC: {r.message}" for r in box.refused]
    queue_age = health.outbox.oldest_queued_age_seconds if health.outbox else None
    if queue_age is not None and queue_age > max_queue_age:
        problems.append(f"outbox: oldest queued mail waits {queue_age:.0f} s (limit {max_queue_age:.0f} s)")
    return problems


def check(settings: Settings, db: Database, now: datetime, *, max_poll_age: float = DEFAULT_MAX_POLL_AGE,
          max_queue_age: float = DEFAULT_MAX_QUEUE_AGE) -> Health:
    """The whole picture; ``healthy`` is False, with one line per problem, when something needs a person."""
    head = head_revision()
    health = Health(healthy=False, problems=[], checked_at=now, mailboxes=[], outbox=None, cases=None,
                    database=DatabaseHealth(reachable=False, head=head))
    try:
        revision = current_revision(db.engine)
        health.database = DatabaseHealth(reachable=True, revision=revision, head=head, current=revision == head)
        if health.database.current:
            with db.transaction() as session:
                health.mailboxes = _mailboxes(session, settings, now)
                health.outbox = _outbox(session, now)
                health.cases = _cases(session, now)
                health.scheduler = _scheduler(session, now)
                health.daemons = _daemons(session, now, settings.database.lease_seconds)
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        health.database.error = f"{type(cause).__name__}: {(str(cause).strip().splitlines() or [''])[0][:200]}"
    health.problems = _problems(health, max_poll_age, max_queue_age)
    health.healthy = not health.problems
    return health
