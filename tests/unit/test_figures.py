"""The statistics page's figures: requests per month by right, answers against the deadline, open now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bench.bench_queue import seed
from inbox_agent.db.session import Database, upgrade
from inbox_agent.db.tables import Case
from inbox_agent.figures import figures, to_csv
from inbox_agent.web.present import CHART_HEIGHT, month_bars

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_months_rights_open_and_overdue_are_counted(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'figures.sqlite'}")
    upgrade(db.engine)
    seed(db, 120, NOW)  # received over the last 60 days; a third of them closed (completed/rejected)
    with db.transaction() as session:
        for case in session.scalars(select(Case).where(Case.state.in_(["completed", "rejected"]))):
            case.closed_at = case.received_at + timedelta(days=20 if case.state == "completed" else 40)
    with db.transaction() as session:
        found = figures(session, NOW, months=3)
    assert found.months == ["2026-10", "2026-11", "2026-12"]
    assert sum(r.count for r in found.per_month if r.right == "erasure") == 24  # every 5th case asks erasure
    assert found.open_now == 80 and 0 < found.overdue_now < found.open_now
    assert (found.answered, found.within_target, found.within_legal, found.median_days) == (40, 20, 20, 30.0)
    assert to_csv(found).splitlines()[0] == "month,right,requests"
    bars = month_bars(found)
    assert [b.month for b in bars] == found.months and max(b.total for b in bars) == 72
    assert all(s.y >= 0 and s.y + s.height <= CHART_HEIGHT for b in bars for s in b.segments)
