"""Mail that was in a folder before the agent's first start: the report, and backfill on purpose.

People handled (or did not handle) that mail before the agent existed, so the agent never
answers it on its own (LEGAL.md, "First start and backfill"). ``inbound`` records it with
status ``history``; here the recent part of it is classified, only to count how many of the
last 30 days look like privacy requests, and the count is reported once per folder. A
backfill turns a chosen period back into pending mail: the pipeline then opens its cases
with the real arrival date, so some are overdue at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .classify import Classifier
from .db.session import Database
from .db.tables import FolderState, StoredMessage
from .deadlines import AMSTERDAM
from .models import Classification
from .parse import parse

log = logging.getLogger(__name__)
SURVEY_DAYS = 30
SURVEY_BATCH = 200


@dataclass(frozen=True)
class HistoryReport:
    mailbox: str
    folder: str
    total: int
    """Mails in the folder before the first start."""
    recent: int
    """Of those, the ones of the last ``SURVEY_DAYS`` days before the first start."""
    privacy: int
    """Of the recent ones, how many look like privacy requests (the classifier's reading)."""
    oldest: datetime | None
    newest: datetime | None

    def line(self) -> str:
        span = f" ({self.oldest.date()} to {self.newest.date()})" if self.oldest and self.newest else ""
        return (
            f"mailbox {self.mailbox}: first start in {self.folder}: {self.total} mail(s) were already there"
            f"{span}; recorded as history, none answered. {self.privacy} of the {self.recent} from the last "
            f"{SURVEY_DAYS} days look like privacy requests. To handle a period on purpose: "
            "inbox-agent backfill --since DATE [--dry-run]"
        )


def reader(classifier: Classifier) -> Callable[[bytes], Classification | None]:
    """parse + classify, None when the mail cannot be read: for counting, never for routing."""

    def read(raw: bytes) -> Classification | None:
        try:
            return classifier.classify(parse(raw))
        except Exception:  # a count must not stop on one odd mail
            log.debug("a history mail could not be classified for the first-start report", exc_info=True)
            return None

    return read


def looks_private(classification: dict[str, object] | None) -> bool:
    if not classification or "categories" not in classification:
        return False
    return Classification.model_validate(classification).is_privacy


def _window(state: FolderState) -> datetime:
    assert state.first_seen_at is not None
    return state.first_seen_at - timedelta(days=SURVEY_DAYS)


def report(session: Session, state: FolderState) -> HistoryReport:
    mine = (
        StoredMessage.mailbox == state.mailbox,
        StoredMessage.folder == state.folder,
        StoredMessage.status == "history",
    )
    total, oldest, newest = session.execute(
        select(func.count(), func.min(StoredMessage.received_at), func.max(StoredMessage.received_at)).where(*mine)
    ).one()
    recent = list(
        session.scalars(select(StoredMessage.classification).where(*mine, StoredMessage.received_at >= _window(state)))
    )
    return HistoryReport(
        mailbox=state.mailbox,
        folder=state.folder,
        total=total,
        recent=len(recent),
        privacy=sum(looks_private(c) for c in recent),
        oldest=oldest,
        newest=newest,
    )


def survey(db: Database, classify: Callable[[bytes], Classification | None], now: datetime) -> list[HistoryReport]:
    """Classify the recent history of folders first seen lately, and report each folder once.

    A folder is reported once its first poll has ended (``last_poll_at``), so the count is
    complete. Classifying runs outside the transactions, like the pipeline's; a mail that
    cannot be read counts as not private. Returns the reports made now.
    """
    with db.transaction() as session:
        states = list(
            session.scalars(
                select(FolderState).where(
                    FolderState.first_seen_at.is_not(None),
                    FolderState.history_reported_at.is_(None),
                    FolderState.last_poll_at >= FolderState.first_seen_at,
                )
            )
        )
        session.expunge_all()
    reports = []
    for state in states:
        while batch := _unsurveyed(db, state):
            readings = {i: classify(raw or b"") for i, raw in batch}
            with db.transaction() as session:
                for row in session.scalars(select(StoredMessage).where(StoredMessage.id.in_(readings))):
                    reading = readings[row.id]
                    row.classification = (
                        reading.model_dump(mode="json", exclude={"new_text"}) if reading else {"unreadable": True}
                    )
        with db.transaction() as session:
            fresh = session.get_one(FolderState, (state.mailbox, state.folder), with_for_update=True)
            if fresh.history_reported_at is not None:
                continue
            fresh.history_reported_at = now
            made = report(session, fresh)
        if made.total:
            log.warning("%s", made.line())
        else:
            log.info("mailbox %s: first start in %s: no mail recorded as history", made.mailbox, made.folder)
        reports.append(made)
    return reports


def _unsurveyed(db: Database, state: FolderState) -> list[tuple[int, bytes | None]]:
    with db.transaction() as session:
        return [
            (i, raw)
            for i, raw in session.execute(
                select(StoredMessage.id, StoredMessage.raw)
                .where(
                    StoredMessage.mailbox == state.mailbox,
                    StoredMessage.folder == state.folder,
                    StoredMessage.status == "history",
                    StoredMessage.classification.is_(None),
                    StoredMessage.raw.is_not(None),
                    StoredMessage.received_at >= _window(state),
                )
                .order_by(StoredMessage.id)
                .limit(SURVEY_BATCH)
            )
        ]


TOO_LARGE = "too_large"
"""Why a history mail has no text: it was over ``policy.max_message_bytes`` when it was first seen."""
PURGED = "purged"
"""Why a history mail has no text: it was purged after ``policy.body_retention_days``."""


@dataclass(frozen=True)
class LeftOut:
    """A history mail of the period that a backfill cannot bring in: only its envelope was kept."""

    received_at: datetime
    message_id: str | None
    size: int
    reason: str
    """``TOO_LARGE`` or ``PURGED``."""


@dataclass(frozen=True)
class BackfillPlan:
    mailbox: str
    mails: int
    """History mails of the period that can be brought in (their text is still stored)."""
    privacy: int
    """Of those, how many look like privacy requests (each becomes a case)."""
    left_out: list[LeftOut]
    """History mails of the period without their text, oldest first: the operator is told each, and why."""

    def left_out_for(self, reason: str) -> list[LeftOut]:
        return [m for m in self.left_out if m.reason == reason]


def start_of(day: date) -> datetime:
    """Midnight at the start of ``day`` in Amsterdam: the shop's calendar, as for deadlines."""
    return datetime.combine(day, time(), tzinfo=AMSTERDAM)


def backfill(
    db: Database,
    mailbox: str,
    since: date,
    now: datetime,
    classify: Callable[[bytes], Classification | None],
    *,
    dry_run: bool,
    max_bytes: int,
) -> BackfillPlan:
    """Bring history mail received on or after ``since`` in as pending mail (unless ``dry_run``).

    The pipeline then treats it as mail that arrived on its real date: the legal clock runs
    from then, overdue cases reach the officer at once, and the acknowledgement names the date.
    Classifying (for the count) runs between two transactions, never holding the write lock.
    Mails kept without their text (over ``max_bytes``, or purged after the retention period) cannot
    come in: the plan names each of them and why, so none is skipped silently.
    """
    period = (
        StoredMessage.mailbox == mailbox,
        StoredMessage.status == "history",
        StoredMessage.received_at >= start_of(since),
    )
    with db.transaction() as session:
        rows = list(
            session.execute(select(StoredMessage.id, StoredMessage.raw).where(*period, StoredMessage.raw.is_not(None)))
        )
        left_out = [
            LeftOut(received_at=m.received_at, message_id=m.message_id, size=m.size,
                    reason=TOO_LARGE if m.quarantine_reason or m.size > max_bytes else PURGED)
            for m in session.execute(
                select(StoredMessage.received_at, StoredMessage.message_id, StoredMessage.size,
                       StoredMessage.quarantine_reason)
                .where(*period, StoredMessage.raw.is_(None)).order_by(StoredMessage.received_at))
        ]
    privacy = 0
    for _id, raw in rows:
        reading = classify(raw or b"")
        privacy += bool(reading and reading.is_privacy)
    if not dry_run and rows:
        with db.transaction() as session:
            session.execute(
                update(StoredMessage)
                .where(StoredMessage.id.in_([i for i, _ in rows]), *period)
                .values(status="pending", backfilled_at=now, outcome=None, processed_at=None)
            )
    return BackfillPlan(mailbox=mailbox, mails=len(rows), privacy=privacy, left_out=left_out)
