"""How a log line names a database fault: the driver's error class and its known cause, never its message.

The daemon's workers and the mailbox loop (``watch.py``) pause on a database they cannot reach
and say why in one line. Both word it here, so a locked SQLite file or a PostgreSQL restart reads
the same wherever it is met, and neither imports the other for it.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

_CAUSES = ("database is locked", "database or disk is full", "disk i/o error", "readonly database",
           "unable to open database file", "no space left on device", "could not connect",
           "connection refused", "server closed the connection", "terminating connection")


def describe(exc: DBAPIError) -> str:
    """The driver's error class and, when it is a known one, its cause ("database is locked").

    Never the driver's whole message: on PostgreSQL that can quote row values.
    """
    text = str(exc.orig).lower()
    cause = next((t for t in _CAUSES if t in text), None)
    return f"{type(exc.orig).__name__}: {cause}" if cause else type(exc.orig).__name__
