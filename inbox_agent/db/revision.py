"""The schema check without SQLAlchemy or Alembic: the newest revision from the migration files.

Every command checks that the database is at the newest migration before it touches it. The
head is read from the migration files' own ``revision``/``down_revision`` lines (Alembic loads
only to upgrade), so ``cases list`` can check a SQLite file with the standard library alone
(case_list.py); db/session.py asks the database through SQLAlchemy and checks the same way.
"""

from __future__ import annotations

import re
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


_REVISION = re.compile(r"^(down_revision|revision)\b[^=\n]*=\s*([^\n]*)", re.MULTILINE)
"""``revision = "abc"`` and ``down_revision = "abc"`` (or ``None``, or a merge's tuple of ids), one per line."""


def head_revision(migrations: Path) -> str:
    """The one revision no migration file in ``migrations`` names as its ``down_revision``."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (migrations / "versions").glob("*.py"):
        for kind, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            (revisions if kind == "revision" else parents).update(re.findall(r"[\"'](\w+)[\"']", value))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads ({', '.join(sorted(heads))}), need exactly one")
    return heads.pop()


def outdated(current: str | None, head: str) -> str | None:
    """What is wrong when the database's revision ``current`` is not ``head`` (db.session.SchemaOutdated)."""
    if current == head:
        return None
    return (f"database schema is at {current or 'nothing (empty database)'}, this version needs {head}: "
            "run `inbox-agent db upgrade --config ...` first")
