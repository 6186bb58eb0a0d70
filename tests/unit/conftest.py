"""A migrated SQLite database per test (real SQLAlchemy + Alembic, no server needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox_agent.db.session import Database, upgrade


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'unit.sqlite'}")
    upgrade(db.engine)
    yield db
    db.dispose()
