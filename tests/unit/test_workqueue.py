"""The officer's queue: ordered by need, searched, filtered, sorted and paged in SQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bench.bench_queue import seed
from inbox_agent.db.session import Database, upgrade
from inbox_agent.workqueue import NEEDS, CaseQuery, find

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def database(tmp_path: Path, count: int) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'queue.sqlite'}")
    upgrade(db.engine)
    seed(db, count, NOW)
    return db


def test_voor_mij_puts_drafts_first_and_the_customer_last_across_pages(tmp_path: Path) -> None:
    db = database(tmp_path, 120)
    with db.transaction() as session:
        pages = [find(session, NOW, CaseQuery(page=p), soon_days=7, per_page=20) for p in (1, 2, 3, 4, 5)]
    rows = [r for page in pages[:4] for r in page.rows]
    ranks = [NEEDS.index(r.need) for r in rows if r.need]
    assert ranks == sorted(ranks) and len(rows) == pages[0].total == sum(pages[0].counts.values())
    assert rows[0].need == "approve" and rows[0].drafts == 1 and rows[-1].need == "customer"
    assert not any(r.closed for r in rows)
    assert len({r.reference for r in rows}) == len(rows)  # no case twice, none skipped between pages
    assert pages[0].pages == 4 and pages[4].page == 4  # past the end: the last page


def test_search_filters_and_sorting(tmp_path: Path) -> None:
    db = database(tmp_path, 120)
    with db.transaction() as session:
        assert [r.reference for r in find(session, NOW, CaseQuery(q="KLANT77@", view="all"), soon_days=7).rows] == [
            "KT-2026-000077"]
        overdue = find(session, NOW, CaseQuery(overdue=True, right="erasure"), soon_days=7).rows
        assert overdue and all(r.days_left < 0 and "erasure" in r.rights for r in overdue)
        tasks = find(session, NOW, CaseQuery(tasks=True, view="all"), soon_days=7).rows
        assert tasks and all(r.open_tasks for r in tasks)
        newest = find(session, NOW, CaseQuery(view="all", sort="received", desc=True), soon_days=7).rows
        assert [r.received for r in newest] == sorted((r.received for r in newest), reverse=True)
        approve = find(session, NOW, CaseQuery(need="approve"), soon_days=7)
        assert approve.total == approve.counts["approve"] and all(r.drafts for r in approve.rows)
