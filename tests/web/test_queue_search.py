"""The dashboard's search box finds what the officer typed, as typed: ``%`` and ``_`` are letters, not
LIKE wildcards, and a name with a capital outside ASCII (Özdemir, Élodie) is found as written and in any case."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from bench.bench_queue import seed
from inbox_agent.db.session import Database, upgrade
from inbox_agent.db.tables import Case
from inbox_agent.workqueue import CaseQuery, find

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
NAMES = {1: "Ayşe Özdemir", 2: "Élodie Martin", 3: "100% Zeker", 4: "Jan_de Vries", 5: "Jan de Vries"}


def _found(db: Database, text: str) -> list[str]:
    with db.transaction() as session:
        return [r.reference for r in find(session, NOW, CaseQuery(q=text, view="all"), soon_days=7).rows]


def test_the_search_takes_percent_underscore_and_non_ascii_capitals_literally(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'queue.sqlite'}")
    upgrade(db.engine)
    seed(db, 6, NOW)
    with db.transaction() as session:
        for case_id, name in NAMES.items():
            session.execute(update(Case).where(Case.id == case_id).values(requester_name=name))
    try:
        assert _found(db, "Özdemir") == ["KT-2026-000001"]
        assert _found(db, "Élodie") == ["KT-2026-000002"]
        assert _found(db, "100%") == ["KT-2026-000003"]  # not every name with 100 in it ... or all of them
        assert _found(db, "%") == ["KT-2026-000003"]
        assert _found(db, "jan_de") == ["KT-2026-000004"]  # '_' is no wildcard for the space of 'Jan de'
        assert sorted(_found(db, "JAN DE")) == ["KT-2026-000005"]  # ASCII stays case-free
        assert _found(db, "özdemir") == _found(db, "ÖZDEMIR") == ["KT-2026-000001"]  # and so does the rest
        assert _found(db, "élodie") == ["KT-2026-000002"]
    finally:
        db.dispose()
