"""The officer's work queue: which cases need her, searched, filtered, sorted, a page at a time.

"Voor mij" orders open cases by what they need from her: drafts to approve, then overdue,
then due within the reminder window, then open tasks, then the rest of her work; cases
waiting for the customer come last. Next to the chips, the classifier's "to check" list
(review.py) has its own, with its count. Search, filters, order, paging and the counts on the
chips are all SQL (LIMIT/OFFSET, one grouped count), so a page costs about the same at
20,000 cases as at 20 (bench/bench_queue.py). ``listing`` is the whole queue as one statement:
``cases list`` runs it, compiled, on a SQLite file without loading SQLAlchemy (case_list.py).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, String, and_, bindparam, case, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from .case_list import NEEDS as NEEDS
from .case_list import QueueRow as QueueRow
from .case_list import queue_row
from .case_states import CLOSED, State
from .db.tables import Case, Customer, Outbox, Task
from .review import count as to_check

WAITING_FOR_CUSTOMER = (State.AWAITING_IDENTITY, State.AWAITING_CLARIFICATION)
CLOSED_STATES = sorted(s.value for s in CLOSED)
"""In a fixed order, so the statement compiles to the same text every time (case_list_sql.py)."""
NOW = bindparam("now", type_=Case.__table__.c.received_at.type)
SOON = bindparam("soon", type_=Case.__table__.c.received_at.type)
"""The moments a queue statement is run for, bound when it runs (``moments``): now, and the end of the
reminder window ("due soon")."""
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


def _rank() -> ColumnElement[int]:
    """The case's index in NEEDS (len(NEEDS) when closed), at NOW with the reminder window ending at SOON."""
    return case(
        (Case.state.in_(CLOSED_STATES), len(NEEDS)),
        (_has_draft(), NEEDS.index("approve")),
        (Case.effective_target < NOW, NEEDS.index("overdue")),
        (Case.effective_target < SOON, NEEDS.index("soon")),
        (_has_open_task(), NEEDS.index("tasks")),
        (Case.state.in_([s.value for s in WAITING_FOR_CUSTOMER]), NEEDS.index("customer")),
        else_=NEEDS.index("work"),
    )


def _literal(text: str) -> str:
    """``text`` inside a LIKE pattern (escaped with ESCAPE): ``%`` and ``_`` mean themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search(text: str) -> ColumnElement[bool]:
    """Reference, the requester's address or name, the customer's name, address or an order number.

    ILIKE, not ``lower(...) LIKE`` with a pattern lowered in Python: SQLite lowers ASCII only, so
    'Özdemir' lowered here ('özdemir') never met 'Özdemir' there; ILIKE lowers both sides alike, and on
    SQLite with a lower() that knows every letter (db/session.py), so 'özdemir' finds 'Özdemir' too.
    """
    like, element = f"%{_literal(text.strip())}%", f'%"{_literal(text.strip())}"%'
    customers = select(Customer.id).where(or_(Customer.email.ilike(like, escape="\\"),
                                              Customer.name.ilike(like, escape="\\"),
                                              cast(Customer.order_numbers, String).like(element, escape="\\")))
    return or_(*(column.ilike(like, escape="\\") for column in (Case.reference, Case.requester_email,
                                                                 Case.requester_name, Case.verified_email)),
               Case.customer_id.in_(customers))


def _filters(query: CaseQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [_rank() == NEEDS.index(query.need)] if query.need else []
    if query.view == "mine":
        found.append(Case.state.not_in(CLOSED_STATES))
    if query.q.strip():
        found.append(_search(query.q))
    if query.state:
        found.append(Case.state == query.state)
    if query.right:
        found.append(cast(Case.rights, String).like(f'%"{_literal(query.right)}"%', escape="\\"))
    if query.shop:
        found.append(Case.shop == query.shop)
    if query.overdue:
        found.append(and_(Case.effective_target < NOW, Case.state.not_in(CLOSED_STATES)))
    if query.tasks:
        found.append(_has_open_task())
    return found


def _order(query: CaseQuery, rank: ColumnElement[int]) -> list[Any]:
    columns: dict[str, Any] = {"need": rank, "reference": Case.reference, "received": Case.received_at,
                               "target": Case.effective_target, "legal": Case.effective_legal, "state": Case.state}
    first = columns[query.sort].desc() if query.desc else columns[query.sort]
    return [first, Case.effective_target, Case.id] if query.sort == "need" else [first, Case.id]


def moments(now: datetime, soon_days: int) -> dict[str, datetime]:
    """What NOW and SOON are bound to for a queue read at ``now``."""
    return {"now": now, "soon": now + timedelta(days=soon_days)}


def find(session: Session, now: datetime, query: CaseQuery, *, soon_days: int, per_page: int = PER_PAGE) -> CasePage:
    """One page of the queue for ``query``, with the chip counts."""
    at, rank, filters = moments(now, soon_days), _rank(), _filters(query)
    total = session.scalar(select(func.count(Case.id)).where(*filters), at) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(query.page, pages)
    found = list(session.execute(select(Case, rank).where(*filters).order_by(*_order(query, rank))
                                 .offset((page - 1) * per_page).limit(per_page), at))
    ids = [c.id for c, _ in found]
    drafts = _per_case(session, Outbox.case_id, Outbox.status == "draft", ids)
    tasks = _per_case(session, Task.case_id, Task.status == "open", ids)
    counts = {NEEDS[r]: n for r, n in session.execute(select(rank, func.count(Case.id))
                                                       .where(Case.state.not_in(CLOSED_STATES)).group_by(rank), at)
              if r < len(NEEDS)}
    rows = [queue_row(now, r, c.reference, c.shop, c.state, c.rights, c.requester_email, c.identity_status,
                      c.received_at, c.deadline_target, c.deadline_legal, c.deadline_extended, drafts.get(c.id, 0),
                      tasks.get(c.id, 0)) for c, r in found]
    return CasePage(rows=rows, total=total, page=page, pages=pages, counts={n: counts.get(n, 0) for n in NEEDS},
                    to_check=to_check(session, now))


def _per_case(session: Session, column: Any, condition: ColumnElement[bool], ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    query = select(column, func.count()).where(condition, column.in_(ids)).group_by(column)
    return {cid: n for cid, n in session.execute(query)}


def listing(query: CaseQuery) -> Select[*tuple[Any, ...]]:
    """Every row ``find`` gives for ``query``, in its order, as one statement over plain columns (queue_row's
    arguments, with the draft and open-task counts): what ``cases list`` runs on SQLite (case_list.py).

    ``find`` counts the drafts and tasks of its page's cases apart: here they would be counted for
    every case the page is sorted from.
    """
    rank = _rank()
    drafts = select(func.count(Outbox.id)).where(Outbox.case_id == Case.id, Outbox.status == "draft")
    tasks = select(func.count(Task.id)).where(Task.case_id == Case.id, Task.status == "open")
    return (select(rank, Case.reference, Case.shop, Case.state, Case.rights, Case.requester_email,
                   Case.identity_status, Case.received_at, Case.deadline_target, Case.deadline_legal,
                   Case.deadline_extended, drafts.scalar_subquery(), tasks.scalar_subquery())
            .where(*_filters(query)).order_by(*_order(query, rank)))


def sqlite_statements() -> dict[str, tuple[str, dict[str, Any]]]:
    """``cases list`` (view ``mine``, and ``all`` with --all) compiled for SQLite with named parameters:
    its SQL and the values of every parameter but NOW and SOON (case_list_sql.py holds what this returns)."""
    from sqlalchemy.dialects import sqlite

    found = {}
    for view in ("mine", "all"):
        statement = listing(CaseQuery(view=view)).params(moments(datetime.now(UTC), 0))  # values to compile with
        expanded = statement.compile(dialect=sqlite.dialect(paramstyle="named")).construct_expanded_state()
        found[view] = (expanded.statement, {k: v for k, v in expanded.parameters.items() if k not in ("now", "soon")})
    return found


def write_sqlite_statements() -> None:
    """Write case_list_sql.py from ``sqlite_statements`` again (after a change to the queue's statement)."""
    import pprint
    from pathlib import Path

    Path(__file__).with_name("case_list_sql.py").write_text(
        '"""The SQL of ``cases list`` on SQLite (case_list.py): workqueue.listing, compiled by\n'
        "workqueue.sqlite_statements.\n\nGenerated, do not edit: after a change to the queue's statement, write it\n"
        "again with ``python -c 'from inbox_agent import workqueue; workqueue.write_sqlite_statements()'``\n"
        '(tests/unit/test_cli_case_list.py fails until then).\n"""\n\n'
        "from typing import Any\n\nSTATEMENTS: dict[str, tuple[str, dict[str, Any]]]\n"
        f"STATEMENTS = {pprint.pformat(sqlite_statements(), width=100)}\n", encoding="utf-8")
