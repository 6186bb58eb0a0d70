"""The sender's journal of accepted mails: a small SQLite file of its own, next to the database.

Why: SQLite has one writer at a time, and the processor holds that lock for a batch of
messages. A "sent" mark per mail in the main database queued behind every batch, so during a
backlog the sender made a few dozen mails a second and most acknowledgements went out only
after processing. The journal has its own lock, which only senders take: the mark is written
the moment the SMTP server accepted the mail (so the crash window stays one mail per
connection), and it is folded into the outbox later, in one transaction with the sender's
next claim, in ``recover()`` before any claim of a dead process is freed, and at a clean stop.
Every place that decides what to send folds first, so a journaled mail is never sent again.

On PostgreSQL (row locks, no file) and in-memory SQLite there is no journal: the sender marks
the outbox row itself.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from .db.tables import Outbox

_OUTBOX = cast(Table, Outbox.__table__)
_FOLD = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"), _OUTBOX.c.status == "queued")  # folded twice: a no-op
    .values(status="sent", sent_at=bindparam("at"), attempts=_OUTBOX.c.attempts + 1, claimed_by=None,
            claimed_until=None, last_error=None)
)


class SentJournal:
    """Outbox ids the SMTP server accepted, not yet marked sent in the outbox."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        """The sender records from the event loop, folds run in worker threads: one at a time on the connection."""

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """The connection, for one caller at a time; its errors raised as SQLAlchemy's, which every loop of
        the daemon already waits out (a locked or full disk pauses the sender, it does not end it)."""
        with self._lock:
            try:
                yield self._connect()
            except sqlite3.Error as exc:
                raise OperationalError(f"sent journal {self.path.name}", None, exc) from exc

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS sent (outbox_id INTEGER PRIMARY KEY, sent_at TEXT NOT NULL)")
            self._conn = conn
        return self._conn

    def record(self, outbox_id: int, at: datetime) -> None:
        """One committed row: from here on the mail counts as sent, whatever happens to this process."""
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO sent VALUES (?, ?)", (outbox_id, at.isoformat()))

    def fold(self, session: Session) -> list[int]:
        """Mark the journaled rows sent in the caller's transaction; return their ids for ``forget``.

        The entries stay until ``forget`` (after the caller committed): a crash in between folds
        them again, which changes nothing.
        """
        with self._db() as db:
            entries = db.execute("SELECT outbox_id, sent_at FROM sent").fetchall()
        if entries:
            session.connection().execute(_FOLD, [{"row_id": i, "at": datetime.fromisoformat(at)} for i, at in entries])
        return [i for i, _at in entries]

    def forget(self, ids: list[int]) -> None:
        """Drop entries whose fold has committed."""
        if ids:
            with self._db() as db:
                db.execute("BEGIN")
                with db:  # commits, or rolls back on an error
                    db.executemany("DELETE FROM sent WHERE outbox_id = ?", [(i,) for i in ids])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
