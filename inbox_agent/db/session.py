"""Engines, sessions and the schema check.

SQLite runs in WAL mode with a busy timeout so the daemon, the web page and the CLI can
share one file; PostgreSQL is used as is. Alembic migrations are run programmatically
(``inbox-agent db upgrade``), and the daemon refuses to start on an outdated schema.

The schema check that every command makes reads the revision table with one query and the
newest revision from the migration files' own ``revision``/``down_revision`` lines, without
importing Alembic (a third of an officer command's start-up): Alembic loads only to upgrade.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from ..sent_journal import SentJournal
from . import revision
from .revision import MIGRATIONS as MIGRATIONS

if TYPE_CHECKING:
    from alembic.config import Config


class SchemaOutdated(RuntimeError):
    """The database is not at the newest migration."""


def unicode_lower(value: object) -> object:
    """SQL ``lower`` on SQLite as PostgreSQL has it: every letter, not ASCII only (other values as they are)."""
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str) -> Engine:
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" hook below opens transactions
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # SQLite's own lower() (and so ILIKE) lowers ASCII only: 'özdemir' would never find 'Özdemir'.
            dbapi_conn.create_function("lower", 1, unicode_lower, deterministic=True)

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # Take the write lock up front: a read-then-write transaction can then never act
            # on a stale snapshot, so two processes cannot both claim the same message.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def current_revision(engine: Engine) -> str | None:
    """The database's revision (None for an empty database), as Alembic records it."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str:
    """The one revision no migration file names as its ``down_revision`` (revision.py reads them)."""
    return revision.head_revision(MIGRATIONS)


def require_current_schema(engine: Engine) -> None:
    problem = revision.outdated(current_revision(engine), head_revision())
    if problem:
        raise SchemaOutdated(problem)


def journal_path(engine: Engine) -> Path | None:
    """Where a SQLite file database keeps the sender's journal (``sent_journal.py``): ``<file>-sent``,
    beside SQLite's own ``-wal`` and ``-shm``. None for PostgreSQL and in-memory SQLite."""
    name = engine.url.database
    if engine.dialect.name != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name).with_name(Path(name).name + "-sent")


class Database:
    """An engine plus its session factory, and the sender's journal on SQLite; one per process."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        path = journal_path(self.engine)
        self.journal = SentJournal(path) if path is not None else None
        self._writer = threading.RLock() if self.engine.dialect.name == "sqlite" else contextlib.nullcontext()
        """SQLite has one writer: this process's threads queue for it here, where a released lock is taken
        at once, instead of in SQLite's busy handler, which sleeps up to 100 ms between tries (with a
        thousand mailboxes, most of a start-up was threads asleep in BEGIN IMMEDIATE)."""

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together or not at all."""
        with self._writer, self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self.journal is not None:
            self.journal.close()
