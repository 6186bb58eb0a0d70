"""Webshop work outside every database transaction: a queued row per case and purpose, like the outbox.

A webshop that answers in 20 s (or not at all, with retries) must not hold the database's write
lock while it thinks: with SQLite that lock would stall every other mail and every officer. So
webshop work is a ``WebshopJob`` row written in the transaction that decided it:

- ``draft``: the drafts of a case need the customer's webshop data. The worker reads a snapshot
  over HTTP, then drafts from it in a short transaction;
- ``erase``: an approved erasure anonymises the customer's webshop account, orders and reviews.
  The worker makes the calls, then records what was done; until then the erasure is a pending
  step, so its result is held (``desk.result_steps.waiting_for_steps``).

A worker claims due rows, does the HTTP with no transaction open, and only then opens a short
one. A failure counts an attempt and backs off; the case says it is waiting, and why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .case_states import is_open, record
from .connectors.woocommerce import Customer as WooCustomer
from .connectors.woocommerce import CustomerUpdate, Order, Review, WooCommerceClient, WooError
from .db.session import Database
from .db.tables import Case, WebshopJob

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


CHANGES = ("erase", "rectify")
"""Purposes that change the webshop: each is a step an approved result waits for."""


def queue(session: Session, case: Case, now: datetime, purpose: str = "draft",
          payload: dict[str, Any] | None = None) -> bool:
    """Ask for webshop work on this case; False when the same work is queued already (a correction always queues)."""
    session.flush()
    waiting = session.scalar(select(WebshopJob.id).where(WebshopJob.case_id == case.id, WebshopJob.purpose == purpose,
                                                         WebshopJob.status == "queued"))
    if waiting is not None and purpose != "rectify":
        return False
    session.add(WebshopJob(case_id=case.id, shop=case.shop, purpose=purpose, payload=payload or {}, status="queued",
                           attempts=0, next_attempt_at=now, created_at=now))
    return True


def pending_changes(session: Session, case: Case) -> list[str]:
    """The webshop changes (``erase``, ``rectify``) still queued for this case."""
    session.flush()
    return list(session.scalars(select(WebshopJob.purpose).where(
        WebshopJob.case_id == case.id, WebshopJob.purpose.in_(CHANGES), WebshopJob.status == "queued")))


def rectify(client: WooCommerceClient, email: str, update: CustomerUpdate) -> list[str]:
    """Apply a correction to every webshop account of ``email``; what was done."""
    done: list[str] = []
    for customer in client.find_customers_by_email(email):
        client.update_customer(customer.id, update)
        done.append(f"webshop account {customer.id} updated")
    return done


def erase(client: WooCommerceClient, email: str) -> list[str]:
    """Anonymise the customer's webshop account, orders (to the fiscal minimum) and reviews; what was done."""
    done: list[str] = []
    for customer in client.find_customers_by_email(email):
        for order in client.iter_customer_orders(customer.id):
            client.anonymise_order(order.id)
        client.anonymise_customer(customer.id)
        done.append(f"webshop account {customer.id} anonymised, its orders reduced to the fiscal minimum")
    for order in client.iter_guest_orders(email):
        client.anonymise_order(order.id)
        done.append(f"guest order {order.number} reduced to the fiscal minimum")
    for review in client.iter_reviews_by_email(email):
        client.anonymise_review(review.id)
        done.append(f"review {review.id} anonymised")
    return done


def _retry_after(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (1 << min(attempts - 1, 12)), LONGEST_RETRY)


Drafter = Callable[[Session, Case, Snapshot], None]
Changed = Callable[[Session, Case, str, list[str]], None]
"""Called with the right (erasure, rectification) and what the webshop call did."""


def run_due(db: Database, clients: Callable[[str], WooCommerceClient | None], draft: Drafter, changed: Changed,
            now: Callable[[], datetime]) -> int:
    """Do the HTTP for due rows, then hand each result to ``draft`` or ``changed`` in its own short transaction.

    Returns the rows handled. An erasure keeps its row even if the case lost its address meanwhile: the
    address to erase was read when the row was claimed.
    """
    with db.transaction() as session:
        rows = list(session.scalars(
            select(WebshopJob)
            .where(WebshopJob.status == "queued", WebshopJob.next_attempt_at <= now(),
                   or_(WebshopJob.claimed_until.is_(None), WebshopJob.claimed_until < now()))
            .order_by(WebshopJob.id).limit(BATCH).with_for_update(skip_locked=True)))
        jobs = []
        for row in rows:
            case = session.get(Case, row.case_id)
            if case is None or not is_open(case) or not case.verified_email:
                row.status, row.done_at = "dropped", now()
                continue
            row.claimed_until = now() + CLAIM
            jobs.append((row.id, row.shop, row.purpose, dict(row.payload), case.verified_email))
    for job_id, shop, purpose, payload, email in jobs:
        client = clients(shop)
        try:
            if purpose == "erase":
                result: Snapshot | list[str] = erase(client, email) if client is not None else []
            elif purpose == "rectify":
                result = rectify(client, email, CustomerUpdate(**payload)) if client is not None else []
            else:
                result = fetch(client, email) if client is not None else Snapshot(email=email)
        except WooError as exc:
            _failed(db, job_id, str(exc), now())
            continue
        finally:
            if client is not None:
                client.close()
        with db.transaction() as session:
            job = session.get(WebshopJob, job_id)
            case = session.get(Case, job.case_id) if job is not None else None
            if job is None or job.status != "queued" or case is None:
                continue
            job.status, job.done_at, job.claimed_until = "done", now(), None
            if isinstance(result, list):
                changed(session, case, "erasure" if purpose == "erase" else "rectification", result)
            elif is_open(case) and case.verified_email:
                draft(session, case, result)
    return len(jobs)


def _failed(db: Database, job_id: int, error: str, now: datetime) -> None:
    with db.transaction() as session:
        row = session.get(WebshopJob, job_id)
        if row is None:
            return
        row.attempts += 1
        row.last_error, row.claimed_until = error[:500], None
        row.next_attempt_at = now + _retry_after(row.attempts)
        attempts, retry = row.attempts, row.next_attempt_at
        case = session.get(Case, row.case_id)
        if case is not None:
            record(case, "waiting", actor="agent", at=now, reason=f"webshop unavailable: {error}"[:500])
    log.warning("webshop job %s failed (attempt %d): %s; next try at %s", job_id, attempts, error, retry)
