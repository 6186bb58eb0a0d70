"""The officer's work queue: which cases need her, searched, filtered, sorted, a page at a time.

"Voor mij" orders open cases by what they need from her: drafts to approve, then overdue,
then due within the reminder window, then open tasks, then the rest of her work; cases
waiting for the customer come last. Next to the chips, the classifier's "to check" list
(review.py) has its own, with its count. Search, filters, order, paging and the counts on the
chips are all SQL (LIMIT/OFFSET, one grouped count), so a page costs about the same at
20,000 cases as at 20 (bench/bench_queue.py).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, String, and_, case, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from .cases import CLOSED, State
from .db.models import Case, Customer, Outbox, Task
from .review import count as to_check

NEEDS = ("approve", "overdue", "soon", "tasks", "work", "customer")
"""What an open case needs, most pressing first; its index is the case's rank in "Voor mij"."""
WAITING_FOR_CUSTOMER = (State.AWAITING_IDENTITY, State.AWAITING_CLARIFICATION)
SORTS = ("need", "reference", "received", "target", "legal", "state")
PER_PAGE = 50


class CaseQuery(BaseModel):
    """What the dashboard's address asks for; every field has a harmless default."""

    view: Literal["mine", "all"] = "mine"
    """``mine``: open cases by need; ``all``: closed ones too."""
    need: Literal["approve", "overdue", "soon", "tasks", "work", "customer"] | None = None
    q: str = Field("", max_length=200)
    state: str | None = None
    right: str | None = None
    shop: str | None = None
    overdue: bool = False
    tasks: bool = False
    sort: Literal["need", "reference", "received", "target", "legal", "state"] = "need"
    desc: bool = False
    page: int = Field(1, ge=1)


class CaseSummary(BaseModel):
    """One case in a list (the CLI, the digest, the dashboard)."""

    reference: str
    shop: str
    state: str
    rights: list[str]
    requester: str | None
    identity: str
    received: datetime
    target: datetime
    legal: datetime
    extended: datetime | None
    days_left: int
    closed: bool
    drafts: int


class QueueRow(CaseSummary):
    open_tasks: int
    need: str | None
    """The case's entry of NEEDS; None when closed."""


class CasePage(BaseModel):
    rows: list[QueueRow]
    total: int
    page: int
    pages: int
    counts: dict[str, int]
    """Open cases per need (the chips), whatever the other filters."""
    to_check: int
    """Mails on the "to check" list (review.py): its chip."""


def _has_draft() -> ColumnElement[bool]:
    return exists(select(Outbox.id).where(Outbox.case_id == Case.id, Outbox.status == "draft"))


def _has_open_task() -> ColumnElement[bool]:
    return exists(select(Task.id).where(Task.case_id == Case.id, Task.status == "open"))


def _rank(now: datetime, soon: timedelta) -> ColumnElement[int]:
    closed = [s.value for s in CLOSED]
    return case(
        (Case.state.in_(closed), len(NEEDS)),
        (_has_draft(), NEEDS.index("approve")),
        (Case.effective_target < now, NEEDS.index("overdue")),
        (Case.effective_target < now + soon, NEEDS.index("soon")),
        (_has_open_task(), NEEDS.index("tasks")),
        (Case.state.in_([s.value for s in WAITING_FOR_CUSTOMER]), NEEDS.index("customer")),
        else_=NEEDS.index("work"),
    )


def _search(text: str) -> ColumnElement[bool]:
    """Reference, the requester's address or name, the customer's name, address or an order number."""
    like = f"%{text.strip().lower()}%"
    customers = select(Customer.id).where(or_(func.lower(Customer.email).like(like),
                                              func.lower(Customer.name).like(like),
                                              cast(Customer.order_numbers, String).like(f'%"{text.strip()}"%')))
    return or_(func.lower(Case.reference).like(like), func.lower(Case.requester_email).like(like),
               func.lower(Case.requester_name).like(like), func.lower(Case.verified_email).like(like),
               Case.customer_id.in_(customers))


def _filters(query: CaseQuery, now: datetime) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.view == "mine":
        found.append(Case.state.not_in([s.value for s in CLOSED]))
    if query.q.strip():
        found.append(_search(query.q))
    if query.state:
        found.append(Case.state == query.state)
    if query.right:
        found.append(cast(Case.rights, String).like(f'%"{query.right}"%'))
    if query.shop:
        found.append(Case.shop == query.shop)
    if query.overdue:
        found.append(and_(Case.effective_target < now, Case.state.not_in([s.value for s in CLOSED])))
    if query.tasks:
        found.append(_has_open_task())
    return found


def find(session: Session, now: datetime, query: CaseQuery, *, soon_days: int, per_page: int = PER_PAGE) -> CasePage:
    """One page of the queue for ``query``, with the chip counts."""
    rank = _rank(now, timedelta(days=soon_days))
    filters = _filters(query, now)
    if query.need:
        filters.append(rank == NEEDS.index(query.need))
    columns: dict[str, Any] = {"need": rank, "reference": Case.reference, "received": Case.received_at,
                               "target": Case.effective_target, "legal": Case.effective_legal, "state": Case.state}
    first = columns[query.sort].desc() if query.desc else columns[query.sort]
    order = [first, Case.effective_target, Case.id] if query.sort == "need" else [first, Case.id]
    total = session.scalar(select(func.count(Case.id)).where(*filters)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(query.page, pages)
    found = list(session.execute(select(Case, rank).where(*filters).order_by(*order)
                                 .offset((page - 1) * per_page).limit(per_page)))
    ids = [c.id for c, _ in found]
    drafts = _per_case(session, Outbox.case_id, Outbox.status == "draft", ids)
    tasks = _per_case(session, Task.case_id, Task.status == "open", ids)
    open_only = Case.state.not_in([s.value for s in CLOSED])
    counts = {NEEDS[r]: n for r, n in session.execute(select(rank, func.count(Case.id)).where(open_only)
                                                       .group_by(rank)) if r < len(NEEDS)}
    rows = [QueueRow(reference=c.reference, shop=c.shop, state=c.state, rights=c.rights, requester=c.requester_email,
                     identity=c.identity_status, received=c.received_at, target=c.deadline_target,
                     legal=c.deadline_legal,
                     extended=c.deadline_extended, days_left=(c.effective_target.date() - now.date()).days,
                     closed=c.state in CLOSED, drafts=drafts.get(c.id, 0), open_tasks=tasks.get(c.id, 0),
                     need=NEEDS[r] if r < len(NEEDS) else None) for c, r in found]
    return CasePage(rows=rows, total=total, page=page, pages=pages, counts={n: counts.get(n, 0) for n in NEEDS},
                    to_check=to_check(session, now))


def _per_case(session: Session, column: Any, condition: ColumnElement[bool], ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    query = select(column, func.count()).where(condition, column.in_(ids)).group_by(column)
    return {cid: n for cid, n in session.execute(query)}
