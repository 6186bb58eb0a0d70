"""Blocked senders: addresses the officer blocked with "spam / block sender".

A blocked address opens no case (the pipeline asks ``is_blocked`` before the desk opens one) and
is sent nothing (the outbox asks before it queues a mail, and ``block`` stops what is queued for
it already). Only the officer adds a block (``desk/spam.py``) or lifts one (``lift``); nothing a
mail says can. A lifted block stays as a row with who lifted it, so the page shows the whole story.

A block rests on a From address nobody proved: spam may forge a real customer's. So it never
stops what goes to a case's verified address (``spares``: an acknowledgement or a result for
that customer's own request), and a blocked address's mail that proves its sender is put on
the officer's list to check instead of being dropped (pipeline.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from .addresses import address_key, same_address
from .db.tables import BlockedSender, Case, Outbox
from .officer_error import OfficerError

BLOCKED_NOTE = "blocked sender: the officer blocked this address"


_ACTIVE = (select(BlockedSender.id)
           .where(BlockedSender.shop == bindparam("shop"), BlockedSender.email_key == bindparam("key"),
                  BlockedSender.lifted_at.is_(None))
           .limit(1))


_SEEN = "blocklist.seen"
"""``session.info`` key: (the transaction, its answers per (shop, address key))."""


def is_blocked(session: Session, shop: str, address: str) -> bool:
    # Asked for every case a mail opens and every mail the outbox queues, so up to three times per
    # request for one address: the database is asked once per transaction and message (``block`` and
    # ``lift`` change the answer and say so; the pipeline says so before each message of a batch, so a
    # block the officer commits meanwhile holds from the next message on, as on PostgreSQL each
    # statement sees it), with a statement built once, run on the session's connection (no flush per
    # mail; composing the query cost more than running it).
    conn = session.connection()
    held = session.info.get(_SEEN)
    if held is None or held[0] is not session.get_transaction():
        held = session.info[_SEEN] = (session.get_transaction(), {})
    seen: dict[tuple[str, str], bool] = held[1]
    key = (shop, address_key(address))
    if key not in seen:
        seen[key] = conn.execute(_ACTIVE, {"shop": key[0], "key": key[1]}).first() is not None
    return seen[key]


def forget(session: Session) -> None:
    """A block was added or lifted in this transaction, or the pipeline starts on the next message of its batch:
    ``is_blocked`` asks the database again."""
    session.info.pop(_SEEN, None)


def spares(case: Case | None, address: str) -> bool:
    """Mail to this case's verified address goes out whatever is blocked: that customer proved who she is."""
    return case is not None and bool(case.verified_email) and same_address(case.verified_email or "", address)


def block(session: Session, shop: str, address: str, *, reason: str, actor: str, now: datetime,
          case_reference: str | None = None) -> None:
    """Block ``address`` for ``shop`` (once); customer mail already queued for it is stopped (``spares`` aside)."""
    if not is_blocked(session, shop, address):
        session.add(BlockedSender(shop=shop, email_key=address_key(address), address=address, reason=reason,
                                  case_reference=case_reference, blocked_by=actor, blocked_at=now))
        session.flush()
        forget(session)
    queued = session.execute(select(Outbox.id, Outbox.to_addr, Case).outerjoin(Case, Outbox.case_id == Case.id)
                             .where(Outbox.shop == shop, Outbox.to_key == address_key(address),
                                    Outbox.status == "queued", Outbox.kind.not_like("officer_%")))
    stopped = [row_id for row_id, to, case in queued if not spares(case, to)]
    session.execute(update(Outbox).where(Outbox.id.in_(stopped)).values(status="blocked", last_error=BLOCKED_NOTE))


def blocks(session: Session) -> list[BlockedSender]:
    """Every block, the active ones first, newest first."""
    return list(session.scalars(select(BlockedSender)
                                .order_by(BlockedSender.lifted_at.is_not(None), BlockedSender.blocked_at.desc(),
                                          BlockedSender.id.desc())))


def in_force(session: Session, address: str, shop: str | None = None) -> list[BlockedSender]:
    """The blocks on ``address`` not lifted, in ``shop`` or in every shop."""
    query = select(BlockedSender).where(BlockedSender.email_key == address_key(address),
                                        BlockedSender.lifted_at.is_(None))
    return list(session.scalars(query.where(BlockedSender.shop == shop) if shop else query))


def lift(session: Session, block_id: int, *, actor: str, now: datetime) -> BlockedSender:
    """Undo a block: mail from the address opens cases again (what was stopped stays stopped)."""
    row = session.get(BlockedSender, block_id)
    if row is None or row.lifted_at is not None:
        raise OfficerError("no_block", block=block_id)
    row.lifted_by, row.lifted_at = actor, now
    session.flush()
    forget(session)
    return row


def lift_address(session: Session, address: str, *, shop: str | None, actor: str, now: datetime) -> list[BlockedSender]:
    """Undo the blocks on ``address`` (in ``shop``, or in every shop that has one): ``inbox-agent blocked lift``."""
    rows = in_force(session, address, shop)
    if not rows:
        raise OfficerError("no_block_for", address=address)
    return [lift(session, row.id, actor=actor, now=now) for row in rows]
