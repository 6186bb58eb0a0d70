"""The transactional outbox: mails become rows in the same transaction as the case change.

Four guards live here because every mail passes through here:
- disclosure: a mail that carries personal data (a result) may only be addressed to the
  case's verified customer address; anything else is refused before it is a row;
- loops: a per-address brake on automatic mail (at most N per 24 h);
- blocked senders: nothing goes to an address the officer blocked (blocklist.py), except to a
  case's verified address;
- identity of our own mail: each row gets a Message-ID signed with the agent's secret
  (message_ids.py), so a customer's reply finds its case without trusting the subject line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from .addresses import address_key, same_address
from .blocklist import BLOCKED_NOTE, is_blocked, spares
from .db.leases import free_dead_owners
from .db.tables import Case, Outbox
from .message_ids import make_message_id
from .models import IdentityStatus, OutgoingMail

MAX_ATTEMPTS = 12
CLAIM_SECONDS = 300


class DisclosureRefused(RuntimeError):
    """A mail with personal data was addressed to someone other than the verified customer."""


def carries_personal_data(kind: str) -> bool:
    """Results carry copies of or facts about the customer's data."""
    return kind.startswith("result_")


def check_disclosure(kind: str, to: str, case: Case | None) -> None:
    """Raise DisclosureRefused unless a personal-data mail goes to the verified address."""
    if not carries_personal_data(kind):
        return
    if case is None or case.identity_status != IdentityStatus.VERIFIED or not case.verified_email:
        raise DisclosureRefused(f"{kind}: the case has no verified customer address; nothing is sent")
    if not same_address(to, case.verified_email):
        raise DisclosureRefused(f"{kind}: addressed to another address than the verified customer address")


_OUTBOX = cast(Table, Outbox.__table__)
_AUTOMATIC_SINCE = (
    select(func.count())
    .select_from(_OUTBOX)
    .where(
        _OUTBOX.c.shop == bindparam("shop"),
        _OUTBOX.c.to_key == bindparam("key"),
        _OUTBOX.c.created_at >= bindparam("since"),
        _OUTBOX.c.automatic.is_(True),
        _OUTBOX.c.kind.not_like("officer_%"),
        _OUTBOX.c.status.in_(("queued", "sent")),
    )
)
"""Built once: composing this query for every queued mail cost more than running it."""


def automatic_count(session: Session, shop: str, to: str, now: datetime) -> int:
    """Automatic customer mails to this address in the last 24 hours (any status but blocked).

    Rows this transaction added but did not flush yet are counted from the session instead of
    being flushed for the query: a flush per queued mail was the costliest step of a backlog.
    """
    key, since = address_key(to), now - timedelta(hours=24)

    def counts(row: Outbox) -> bool:
        return (row.shop == shop and row.to_key == key and row.created_at >= since
                and row.automatic and not row.kind.startswith("officer_") and row.status in ("queued", "sent"))

    stored = session.connection().execute(_AUTOMATIC_SINCE, {"shop": shop, "key": key, "since": since}).scalar()
    return (stored or 0) + sum(1 for row in session.new if isinstance(row, Outbox) and counts(row))


def enqueue(
    session: Session,
    mail: OutgoingMail,
    *,
    shop: str,
    case: Case | None,
    secret: str,
    domain: str,
    now: datetime,
    brake: int,
    attachments: list[str] | None = None,
) -> Outbox:
    """Add the mail as a row: queued when automatic, a draft otherwise, blocked by the brake."""
    check_disclosure(mail.kind, mail.to, case)
    status = "queued" if mail.automatic else "draft"
    error = None
    if mail.automatic and not mail.kind.startswith("officer_"):
        sent = automatic_count(session, shop, mail.to, now)
        if sent >= brake:
            status, error = "blocked", f"sender brake: already {sent} automatic mails to this address in 24 h"
    if not mail.kind.startswith("officer_") and not spares(case, mail.to) and is_blocked(session, shop, mail.to):
        status, error = "blocked", BLOCKED_NOTE
    row = Outbox(
        case=case,  # the relationship: a case opened in this batch has no id until the batch's flush
        shop=shop,
        kind=mail.kind,
        to_addr=mail.to,
        to_key=address_key(mail.to),
        subject=mail.subject,
        body_text=mail.body_text,
        body_html=mail.body_html,
        language=mail.language,
        attachments=attachments or [],
        message_id=make_message_id(secret, case.reference if case else "IA-0000-000000", mail.kind, domain),
        in_reply_to=mail.in_reply_to,
        references=mail.references,
        automatic=mail.automatic,
        status=status,
        last_error=error,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    if case is not None:
        case.thread_ids = [*case.thread_ids, row.message_id][-100:]
    return row


def claim_due(session: Session, worker: str, now: datetime, limit: int = 100) -> list[Outbox]:
    """Take due queued rows for this worker; other workers skip them (SKIP LOCKED on PostgreSQL).

    The last look at the database before SMTP, so the disclosure guard runs here once more,
    against the case as it is now: a result approved for an address that is no longer the
    verified one (a rectified e-mail, a revoked identity) is blocked instead of sent.
    """
    query = (
        select(Outbox)
        .where(
            Outbox.status == "queued",
            Outbox.next_attempt_at <= now,
            or_(Outbox.claimed_until.is_(None), Outbox.claimed_until < now),
        )
        .order_by(Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = [row for row in session.scalars(query) if _still_disclosable(session, row)]
    for row in rows:
        row.claimed_by = worker
        row.claimed_until = now + timedelta(seconds=CLAIM_SECONDS)
    session.flush()  # the claim is written now: a caller that detaches the rows must not drop it
    return rows


def _still_disclosable(session: Session, row: Outbox) -> bool:
    if not carries_personal_data(row.kind):
        return True
    case = session.get(Case, row.case_id) if row.case_id else None
    if case is not None and case.anonymised:
        # A completed erasure: its register entry lost the address in the transaction that queued this
        # result, after the check against it. Closed and anonymised, the case cannot change any more.
        return True
    try:
        check_disclosure(row.kind, row.to_addr, case)
    except DisclosureRefused as exc:
        row.status, row.last_error = "blocked", f"disclosure guard before sending: {exc}"
        return False
    return True


def release(session: Session, ids: list[int]) -> None:
    """Give back claimed rows that were not attempted (on shutdown)."""
    for row in session.scalars(select(Outbox).where(Outbox.id.in_(ids), Outbox.status == "queued")):
        row.claimed_by = row.claimed_until = None


def release_dead_claims(session: Session, host: str, alive: Callable[[int], bool]) -> int:
    """Free claims of processes on this host that no longer run; others expire by time."""
    return free_dead_owners(session.scalars(select(Outbox).where(Outbox.claimed_by.like(f"{host}:%"))),
                      "claimed_by", "claimed_until", alive)


def mark_sent(conn: Connection, row_id: int, now: datetime) -> None:
    """One plain UPDATE (no ORM session): it runs once per mail, right after the server accepted it."""
    conn.execute(
        update(_OUTBOX)
        .where(_OUTBOX.c.id == row_id)
        .values(status="sent", sent_at=now, attempts=_OUTBOX.c.attempts + 1, claimed_by=None, claimed_until=None,
                last_error=None)
    )


def mark_failed(row: Outbox, error: str, now: datetime, *, permanent: bool) -> None:
    """Back off exponentially (30 s, 1 min, ... capped at 1 h); give up after MAX_ATTEMPTS."""
    row.attempts += 1
    row.last_error = error[:1000]
    row.claimed_by = row.claimed_until = None
    if permanent or row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        return
    row.next_attempt_at = now + timedelta(seconds=min(30 * 2 ** (row.attempts - 1), 3600))


def depth(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "queued")) or 0
