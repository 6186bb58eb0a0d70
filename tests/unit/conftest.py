"""A migrated SQLite database per test (real SQLAlchemy + Alembic, no server needed), and settings over it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inbox_agent.config import Settings, load_settings
from inbox_agent.db.session import Database
from inbox_agent.fictitious_shop import FICTITIOUS_SHOP


@pytest.fixture
def database(tmp_path: Path, migrated_sqlite: Callable[[Path], str]) -> Iterator[Database]:
    db = Database(migrated_sqlite(tmp_path / "unit.sqlite"))
    yield db
    db.dispose()


@pytest.fixture
def settings(database: Database) -> Settings:
    """One shop ("default") on that database, with an officer address, no mail servers."""
    return load_settings(None, imap={"username": "u"}, smtp={"from_address": "privacy@shop.example"},
                         database={"url": str(database.engine.url)}, secret_key="0123456789abcdef0123",
                         shop=FICTITIOUS_SHOP | {"officer_email": "officer@shop.example"})
