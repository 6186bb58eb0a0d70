"""Figures for the statistics page: requests per month by right, answers against the deadline, open now.

Read-only and computed from two narrow queries (the month is taken in Python, so SQLite and
PostgreSQL give the same answer without dialect-specific date functions).
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .case_states import CLOSED
from .db.tables import Case
from .deadlines import AMSTERDAM
from .models import RIGHTS


class MonthCount(BaseModel):
    month: str
    """``YYYY-MM`` in Amsterdam time."""
    right: str
    count: int


class Figures(BaseModel):
    months: list[str]
    per_month: list[MonthCount]
    answered: int
    median_days: float | None
    within_target: int
    within_legal: int
    open_now: int
    overdue_now: int


def _month(moment: datetime) -> str:
    return f"{moment.astimezone(AMSTERDAM):%Y-%m}"


def figures(session: Session, now: datetime, *, months: int = 12, shop: str | None = None) -> Figures:
    """The last ``months`` calendar months, including this one."""
    local = now.astimezone(AMSTERDAM)
    keys = []
    year, month = local.year, local.month
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    keys.reverse()
    where = [Case.shop == shop] if shop else []
    counts: Counter[tuple[str, str]] = Counter()
    taken, target_kept, legal_kept = [], 0, 0
    rows = session.execute(select(Case.received_at, Case.rights, Case.closed_at, Case.state, Case.effective_target,
                                  Case.effective_legal).where(*where))
    for received, rights, closed_at, state, target, legal in rows:
        if _month(received) in keys:
            for right in rights or ["privacy_other"]:
                counts[(_month(received), right)] += 1
        if state in CLOSED and closed_at is not None:
            taken.append((closed_at - received).total_seconds() / 86400)
            target_kept += closed_at <= target
            legal_kept += closed_at <= legal
    open_filter = [*where, Case.state.not_in([s.value for s in CLOSED])]
    open_now = session.scalar(select(func.count(Case.id)).where(*open_filter)) or 0
    overdue = session.scalar(select(func.count(Case.id)).where(*open_filter, Case.effective_target < now)) or 0
    order = [str(r) for r in RIGHTS] + ["privacy_other"]
    per_month = [MonthCount(month=m, right=r, count=counts[(m, r)]) for m in keys for r in order if counts[(m, r)]]
    return Figures(months=keys, per_month=per_month, answered=len(taken),
                   median_days=round(statistics.median(taken), 1) if taken else None,
                   within_target=target_kept, within_legal=legal_kept, open_now=open_now, overdue_now=overdue)


def to_csv(found: Figures) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["month", "right", "requests"])
    for row in found.per_month:
        writer.writerow([row.month, row.right, row.count])
    return out.getvalue()
