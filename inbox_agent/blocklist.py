"""Blocked senders: addresses the officer blocked with "spam / block sender".

A blocked address opens no case (the pipeline asks ``is_blocked`` before the desk opens one) and
is sent nothing (the outbox asks before it queues a mail, and ``block`` stops what is queued for
it already). Only the officer adds a block (spam.py); nothing a mail says can. A lifted block
stays as a row with who lifted it, so the page shows the whole story.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from .addresses import address_key
from .db.models import BlockedSender, Outbox

BLOCKED_NOTE = "blocked sender: the officer blocked this address"


def _active(shop: str, address: str) -> list[ColumnElement[bool]]:
    return [BlockedSender.shop == shop, BlockedSender.email_key == address_key(address),
            BlockedSender.lifted_at.is_(None)]


def is_blocked(session: Session, shop: str, address: str) -> bool:
    with session.no_autoflush:  # asked for every mail the outbox queues: no flush per mail
        return session.scalar(select(BlockedSender.id).where(*_active(shop, address)).limit(1)) is not None


def block(session: Session, shop: str, address: str, *, reason: str, actor: str, now: datetime,
          case_reference: str | None = None) -> None:
    """Block ``address`` for ``shop`` (once); customer mail already queued for it is stopped."""
    if not is_blocked(session, shop, address):
        session.add(BlockedSender(shop=shop, email_key=address_key(address), address=address, reason=reason,
                                  case_reference=case_reference, blocked_by=actor, blocked_at=now))
    session.execute(update(Outbox).where(Outbox.shop == shop, Outbox.to_key == address_key(address),
                                         Outbox.status == "queued", Outbox.kind.not_like("officer_%"))
                    .values(status="blocked", last_error=BLOCKED_NOTE))


def blocks(session: Session) -> list[BlockedSender]:
    """Every block, the active ones first, newest first."""
    return list(session.scalars(select(BlockedSender)
                                .order_by(BlockedSender.lifted_at.is_not(None), BlockedSender.blocked_at.desc(),
                                          BlockedSender.id.desc())))
