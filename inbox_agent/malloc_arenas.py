"""Fewer glibc malloc arenas for the daemon: its threads' freed memory is not kept in one heap each.

glibc gives a thread that allocates under contention an arena of its own (up to 8 per core) and
keeps what is freed there for that arena. The daemon has many short-working threads (IMAP
workers, senders, the classifier loader), so a backlog left ~24 MB of such kept memory (10k
mails: 303 MB peak with two arenas against 327 MB beside it, bench/README.md). The Python
threads take turns on the GIL anyway, so two arenas cost no speed. Setting the limit is what
the ``MALLOC_ARENA_MAX`` environment variable does, from inside, before the threads start.
"""

from __future__ import annotations

import ctypes

M_ARENA_MAX = -8
"""glibc's mallopt() parameter number for the arena limit (malloc.h)."""
ARENAS = 2


def limit() -> bool:
    """Ask glibc for at most ``ARENAS`` arenas; False where there is no glibc mallopt (musl, macOS)."""
    try:
        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, ARENAS))
    except (OSError, AttributeError):
        return False
