"""Webshop data for result drafts, fetched outside every database transaction: a queued row per case.

A webshop that answers in 20 s (or not at all, with retries) must not hold the database's write
lock while it thinks: with SQLite that lock would stall every other mail. So a case whose drafts
need the webshop gets a ``WebshopFetch`` row in the transaction that decided it, like a mail gets
an outbox row. A worker claims due rows, reads the customer's webshop data over HTTP with no
transaction open, and only then opens a short one that writes the drafts from that snapshot.
A failure counts an attempt and backs off; the case says it is waiting, and why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .cases import is_open, record
from .connectors.woocommerce import Customer as WooCustomer
from .connectors.woocommerce import Order, Review, WooCommerceClient, WooError
from .db.models import Case, WebshopFetch
from .db.session import Database

log = logging.getLogger(__name__)
CLAIM = timedelta(minutes=10)
"""How long a claimed row is left to its worker before another may take it (a killed process)."""
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
BATCH = 10


class WebshopReader(Protocol):
    """What a result draft reads from the webshop: the live client, or a snapshot of it."""

    def find_customers_by_email(self, email: str) -> list[WooCustomer]: ...
    def iter_customer_orders(self, customer_id: int) -> Iterable[Order]: ...
    def iter_guest_orders(self, email: str) -> Iterable[Order]: ...
    def iter_reviews_by_email(self, email: str) -> Iterable[Review]: ...


@dataclass
class Snapshot:
    """One customer's webshop data, read in full before any transaction opens."""

    email: str
    customers: list[WooCustomer] = field(default_factory=list)
    orders: dict[int, list[Order]] = field(default_factory=dict)
    guest_orders: list[Order] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)

    def find_customers_by_email(self, email: str) -> list[WooCustomer]:
        return list(self.customers)

    def iter_customer_orders(self, customer_id: int) -> Iterator[Order]:
        return iter(self.orders.get(customer_id, []))

    def iter_guest_orders(self, email: str) -> Iterator[Order]:
        return iter(self.guest_orders)

    def iter_reviews_by_email(self, email: str) -> Iterator[Review]:
        return iter(self.reviews)


def fetch(client: WooCommerceClient, email: str) -> Snapshot:
    """Everything a draft may read about ``email``; HTTP only, WooError propagates."""
    customers = client.find_customers_by_email(email)
    return Snapshot(
        email=email,
        customers=customers,
        orders={c.id: list(client.iter_customer_orders(c.id)) for c in customers},
        guest_orders=list(client.iter_guest_orders(email)),
        reviews=list(client.iter_reviews_by_email(email)),
    )


def queue(session: Session, case: Case, now: datetime) -> bool:
    """Ask for this case's webshop data; False when a request is queued already."""
    session.flush()
    waiting = session.scalar(select(WebshopFetch.id).where(WebshopFetch.case_id == case.id,
                                                           WebshopFetch.status == "queued"))
    if waiting is not None:
        return False
    session.add(WebshopFetch(case_id=case.id, shop=case.shop, status="queued", attempts=0, next_attempt_at=now,
                             created_at=now))
    return True


def _retry_after(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (1 << min(attempts - 1, 12)), LONGEST_RETRY)


Drafter = Callable[[Session, Case, Snapshot], None]


def run_due(db: Database, clients: Callable[[str], WooCommerceClient | None], draft: Drafter,
            now: Callable[[], datetime]) -> int:
    """Fetch for due rows, then draft from each snapshot in its own short transaction; return rows handled."""
    with db.transaction() as session:
        rows = list(session.scalars(
            select(WebshopFetch)
            .where(WebshopFetch.status == "queued", WebshopFetch.next_attempt_at <= now(),
                   or_(WebshopFetch.claimed_until.is_(None), WebshopFetch.claimed_until < now()))
            .order_by(WebshopFetch.id).limit(BATCH).with_for_update(skip_locked=True)))
        jobs = []
        for row in rows:
            case = session.get(Case, row.case_id)
            if case is None or not is_open(case) or not case.verified_email:
                row.status, row.done_at = "dropped", now()
                continue
            row.claimed_until = now() + CLAIM
            jobs.append((row.id, row.shop, case.verified_email))
    for job_id, shop, email in jobs:
        client = clients(shop)
        try:
            snapshot = fetch(client, email) if client is not None else Snapshot(email=email)
        except WooError as exc:
            _failed(db, job_id, str(exc), now())
            continue
        finally:
            if client is not None:
                client.close()
        with db.transaction() as session:
            fetched = session.get(WebshopFetch, job_id)
            case = session.get(Case, fetched.case_id) if fetched is not None else None
            if fetched is None or fetched.status != "queued" or case is None:
                continue
            fetched.status, fetched.done_at, fetched.claimed_until = "done", now(), None
            if is_open(case) and case.verified_email:
                draft(session, case, snapshot)
    return len(jobs)


def _failed(db: Database, job_id: int, error: str, now: datetime) -> None:
    with db.transaction() as session:
        row = session.get(WebshopFetch, job_id)
        if row is None:
            return
        row.attempts += 1
        row.last_error, row.claimed_until = error[:500], None
        row.next_attempt_at = now + _retry_after(row.attempts)
        attempts, retry = row.attempts, row.next_attempt_at
        case = session.get(Case, row.case_id)
        if case is not None:
            record(case, "waiting", actor="agent", at=now, reason=f"webshop unavailable: {error}"[:500])
    log.warning("webshop fetch %s failed (attempt %d): %s; next try at %s", job_id, attempts, error, retry)
