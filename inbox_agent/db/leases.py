"""Leases and claims owned by "host:pid": given back at a clean stop, freed when their process died.

A clean stop (SIGTERM, the end of ``run --once``) releases what it holds, so the next start
finds nothing to clean up. Rows held by a dead process (kill -9) on this host are freed at
start-up; those of other hosts are left to expire by time, since their liveness cannot be
checked from here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from .models import FolderState, Outbox


def free_dead_owners(rows: Iterable[Any], owner: str, until: str, alive: Callable[[int], bool]) -> int:
    freed = 0
    for row in rows:
        pid = getattr(row, owner).rsplit(":", 1)[1]
        if pid.isdigit() and int(pid) != os.getpid() and not alive(int(pid)):
            setattr(row, owner, None)
            setattr(row, until, None)
            freed += 1
    return freed


def release_owned(session: Session, owner: str) -> int:
    """Give back every mailbox lease and outbox claim ``owner`` holds; returns how many."""
    freed = 0
    for statement in (
        update(FolderState).where(FolderState.lease_owner == owner).values(lease_owner=None, lease_until=None),
        update(Outbox).where(Outbox.claimed_by == owner).values(claimed_by=None, claimed_until=None),
    ):
        result = session.execute(statement)
        assert isinstance(result, CursorResult)
        freed += result.rowcount
    return freed
