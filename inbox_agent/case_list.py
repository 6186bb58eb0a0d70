"""The queue's rows, and ``cases list`` on a SQLite file without SQLAlchemy.

``cases list`` is the officer's most used command, and importing SQLAlchemy, its ORM and the
models took half of its start-up. On a SQLite file it therefore runs the queue's own statement
(workqueue.listing, compiled for SQLite into case_list_sql.py; a test compiles it again and
compares) with the standard library's sqlite3, after the same schema check. Other databases
(PostgreSQL) go through workqueue.find. Both make their rows with ``queue_row``.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from pydantic import BaseModel

from .db.revision import MIGRATIONS, head_revision, outdated
from .deadlines import AMSTERDAM
from .messages import LANGUAGES

NEEDS = ("approve", "overdue", "soon", "tasks", "work", "customer")
"""What an open case needs, most pressing first; its index is the case's rank in "Voor mij"."""
SQLITE_FILE = "sqlite:///"
"""The URLs read here: a SQLite file named plainly (no driver, query string or in-memory database)."""
STORED = "%Y-%m-%d %H:%M:%S.%f"
"""How SQLAlchemy stores a (UTC) moment in SQLite."""


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


def days_left(deadline: datetime, now: datetime) -> int:
    """Days from today to the deadline's day, both in Amsterdam (the deadline ends at 23:59 there):
    between midnight and 01:00/02:00 the UTC date is still yesterday's."""
    return (deadline.astimezone(AMSTERDAM).date() - now.astimezone(AMSTERDAM).date()).days


def queue_row(now: datetime, rank: int, reference: str, shop: str, state: str, rights: list[str],
              requester: str | None, identity: str, received: datetime, target: datetime, legal: datetime,
              extended: datetime | None, drafts: int, open_tasks: int) -> QueueRow:
    """One row of workqueue.listing, read at ``now``: the days left to the deadline that applies."""
    return QueueRow(reference=reference, shop=shop, state=state, rights=rights, requester=requester,
                    identity=identity, received=received, target=target, legal=legal, extended=extended,
                    days_left=days_left(extended or target, now), closed=rank == len(NEEDS),
                    drafts=drafts, open_tasks=open_tasks, need=NEEDS[rank] if rank < len(NEEDS) else None)


def _moment(stored: str) -> datetime:
    return datetime.fromisoformat(stored).replace(tzinfo=UTC)


def _sqlite_file(url: str) -> str | None:
    """The file of a plain SQLite URL (as SQLAlchemy reads the URL's database: 'my%20db' is 'my db'), else None."""
    path = unquote(url.removeprefix(SQLITE_FILE))
    if not url.startswith(SQLITE_FILE) or not path or path == ":memory:" or "?" in path:
        return None
    return path


def language(url: str, name: str) -> str | None:
    """The language of the officer account ``name`` in the SQLite file at ``url`` (as accounts.language_of:
    the first language when no account has that name); None for any other database."""
    path = _sqlite_file(url)
    if path is None:
        return None
    connection = sqlite3.connect(path, timeout=30)
    try:
        found = connection.execute("SELECT language FROM officer WHERE name = ?", (name.strip(),)).fetchone()
    finally:
        connection.close()
    return found[0] if found else LANGUAGES[0]


def read(url: str, view: str, now: datetime, soon_days: int) -> list[QueueRow] | None:
    """The queue (``view`` ``mine`` or ``all``) of the SQLite file at ``url``; None for any other database.

    SchemaOutdated when the file is not at the newest migration, as every command checks.
    """
    path = _sqlite_file(url)
    if path is None:
        return None
    from .case_list_sql import STATEMENTS

    sql, params = STATEMENTS[view]
    soon = now + timedelta(days=soon_days)
    connection = sqlite3.connect(path, timeout=30)
    try:
        versioned = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").fetchone()
        current = connection.execute("SELECT version_num FROM alembic_version").fetchone() if versioned else None
        problem = outdated(current[0] if current else None, head_revision(MIGRATIONS))
        if problem:
            from .db.session import SchemaOutdated  # SQLAlchemy, but only to say what is wrong

            raise SchemaOutdated(problem)
        rows = connection.execute(sql, {**params, "now": now.astimezone(UTC).strftime(STORED),
                                        "soon": soon.astimezone(UTC).strftime(STORED)}).fetchall()
    finally:
        connection.close()
    return [queue_row(now, rank, reference, shop, state, json.loads(rights), requester, identity, _moment(received),
                      _moment(target), _moment(legal), _moment(extended) if extended else None, drafts, tasks)
            for rank, reference, shop, state, rights, requester, identity, received, target, legal, extended,
            drafts, tasks in rows]
