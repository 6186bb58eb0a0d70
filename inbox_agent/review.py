"""The officer's "to check" list: human mail that looks privacy-related but asks for nothing recognised.

Silence is how a request goes unseen: a right named but negated ("ik wil NIET dat ..."), put as
an if-clause, or told as done, or a privacy topic next to the writer's data. The classifier marks
such mail (``Classification.review``); the pipeline stores every classification with its message
anyway, so the list is read back from there. It opens no case and sends nothing: the officer
reads the mail and opens a case by hand when it is one.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db.models import StoredMessage
from .parse import ParseError, parse

LIMIT = 200
"""Rows shown at most; the newest first."""


class ReviewItem(BaseModel):
    message: int
    """StoredMessage id."""
    mailbox: str
    received_at: datetime
    sender: str | None
    subject: str
    language: str


def to_check(session: Session, since: datetime, limit: int = LIMIT) -> list[ReviewItem]:
    """Processed mail since ``since`` that opened no case and was marked for review, newest first."""
    rows = session.scalars(
        select(StoredMessage)
        .where(
            StoredMessage.status == "processed",
            StoredMessage.case_id.is_(None),
            StoredMessage.classification.is_not(None),
            StoredMessage.received_at >= since,
        )
        .order_by(StoredMessage.received_at.desc(), StoredMessage.id.desc())
    )
    items: list[ReviewItem] = []
    for row in rows:
        cls = row.classification or {}
        if not cls.get("review") or cls.get("automated"):
            continue
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
        if len(items) >= limit:
            break
    return items
