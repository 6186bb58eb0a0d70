"""Leases and claims owned by "host:pid": freeing those of processes that died (kill -9).

Rows held by a dead process on this host are freed at start-up; those of other hosts
are left to expire by time, since their liveness cannot be checked from here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any


def free_dead_owners(rows: Iterable[Any], owner: str, until: str, alive: Callable[[int], bool]) -> int:
    freed = 0
    for row in rows:
        pid = getattr(row, owner).rsplit(":", 1)[1]
        if pid.isdigit() and int(pid) != os.getpid() and not alive(int(pid)):
            setattr(row, owner, None)
            setattr(row, until, None)
            freed += 1
    return freed
