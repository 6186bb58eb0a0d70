"""The officer's "to check" list: human mail that looks privacy-related but asks for nothing recognised.

Silence is how a request goes unseen: a right named but negated ("ik wil NIET dat ..."), put as
an if-clause, or told as done, or a privacy topic next to the writer's data. The classifier marks
such mail (``Classification.review``); the pipeline stores every classification with its message
anyway, so the list is read back from there. It opens no case and sends nothing: the officer
reads the mail and either opens a case from it (``desk.from_review``: the desk then starts it as if
the mail had been recognised, deadline from its arrival) or dismisses it with a reason
(``dismiss``). Either way a ``ReviewDecision`` row says who did what and why, and the mail
leaves the list.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, defer

from .db.tables import ReviewDecision, StoredMessage
from .officer_error import OfficerError
from .parse import ParseError, parse

LIMIT = 200
"""Rows shown at most; the newest first."""
DAYS = 30
"""How far back the list (and its chip in "Voor mij") looks."""


class ReviewItem(BaseModel):
    message: int
    """StoredMessage id."""
    mailbox: str
    received_at: datetime
    sender: str | None
    subject: str
    language: str


class HandledItem(BaseModel):
    """A mail taken off the list: by whom, when, what became of it."""

    message: int
    action: str
    reason: str | None
    case_reference: str | None
    actor: str
    at: datetime


def _on_list(since: datetime) -> list[ColumnElement[bool]]:
    """Human mail since ``since`` marked for review (``StoredMessage.to_check``) that opened no case."""
    return [StoredMessage.to_check.is_(True), StoredMessage.received_at >= since, StoredMessage.case_id.is_(None)]


def count(session: Session, now: datetime) -> int:
    """How many mails of the last DAYS wait on the list (one query: the chip on every dashboard)."""
    return session.scalar(select(func.count(StoredMessage.id)).where(*_on_list(now - timedelta(days=DAYS)))) or 0


def to_check(session: Session, since: datetime, limit: int = LIMIT) -> list[ReviewItem]:
    """Processed mail since ``since`` that opened no case and was marked for review, newest first."""
    rows = session.scalars(select(StoredMessage).where(*_on_list(since))
                           .order_by(StoredMessage.received_at.desc(), StoredMessage.id.desc()).limit(limit))
    items: list[ReviewItem] = []
    for row in rows:
        cls = row.classification or {}
        sender, subject = None, ""
        if row.raw is not None:
            try:
                msg = parse(row.raw)
                sender, subject = (msg.from_.email if msg.from_ else None), msg.subject
            except ParseError:
                pass
        items.append(
            ReviewItem(
                message=row.id,
                mailbox=row.mailbox,
                received_at=row.received_at,
                sender=sender,
                subject=subject,
                language=str(cls.get("language", "other")),
            )
        )
    return items


def handled(session: Session, since: datetime, limit: int = LIMIT) -> list[HandledItem]:
    """Mail taken off the list since ``since``, newest first: the list's own audit trail."""
    rows = session.scalars(select(ReviewDecision).where(ReviewDecision.at >= since)
                           .order_by(ReviewDecision.at.desc(), ReviewDecision.id.desc()).limit(limit))
    return [HandledItem(message=r.message_id, action=r.action, reason=r.reason, case_reference=r.case_reference,
                        actor=r.actor, at=r.at) for r in rows]


def listed(session: Session, message_id: int, now: datetime) -> StoredMessage:
    """A mail on the list (its raw bytes loaded when read); OfficerError when it is not, or no longer."""
    row = session.scalar(select(StoredMessage).options(defer(StoredMessage.raw, raiseload=False))
                         .where(StoredMessage.id == message_id, *_on_list(now - timedelta(days=DAYS))))
    if row is None:
        raise OfficerError("not_to_check", message=message_id)
    return row


def mailbox_of(session: Session, message_id: int, now: datetime) -> str:
    """The mailbox (shop) a listed mail came in to: the desk that opens its case."""
    return listed(session, message_id, now).mailbox


def text_of(session: Session, message_id: int, now: datetime) -> str:
    """A listed mail's text for the officer to read ('' once purged or unreadable)."""
    row = listed(session, message_id, now)
    try:
        return parse(row.raw).text if row.raw is not None else ""
    except ParseError:
        return ""


def dismiss(session: Session, message_id: int, *, reason: str, actor: str, now: datetime) -> None:
    """Not a request: the mail leaves the list; who and why are kept."""
    if not reason.strip():
        raise OfficerError("dismiss_reason")
    listed(session, message_id, now).to_check = False
    session.add(ReviewDecision(message_id=message_id, action="dismissed", reason=reason.strip(), actor=actor, at=now))
