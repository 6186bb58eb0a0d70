"""Leases and claims owned by "host:pid": given back at a clean stop, freed when their process died.

A clean stop (SIGTERM, the end of ``run --once``) releases what it holds and removes its
heartbeat row (``fleet.py``), so the next start finds nothing to clean up and the others take
its share at once. Rows held by a dead process (kill -9) on this host are freed at start-up and
whenever a poll finds its mailbox held; those of other hosts are left to their heartbeat and
expiry, since their liveness cannot be checked from here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from .tables import DaemonInstance, FolderState, Outbox, SchedulerLease


def _dead(owner: str, alive: Callable[[int], bool]) -> bool:
    pid = owner.rsplit(":", 1)[-1]
    return pid.isdigit() and int(pid) != os.getpid() and not alive(int(pid))


def free_dead_owners(rows: Iterable[Any], owner: str, until: str, alive: Callable[[int], bool]) -> int:
    freed = 0
    for row in rows:
        if _dead(getattr(row, owner), alive):
            setattr(row, owner, None)
            setattr(row, until, None)
            freed += 1
    return freed


def release_dead_instances(session: Session, host: str, alive: Callable[[int], bool]) -> int:
    """The scheduler's lease and the heartbeat rows of dead processes of ``host``: their share goes to the living."""
    freed = free_dead_owners(session.scalars(select(SchedulerLease).where(SchedulerLease.holder.like(f"{host}:%"))),
                             "holder", "until", alive)
    for row in session.scalars(select(DaemonInstance).where(DaemonInstance.host == host)):
        if _dead(row.instance, alive):
            session.delete(row)
            freed += 1
    return freed


def release_owned(session: Session, owner: str) -> int:
    """Give back every lease and outbox claim ``owner`` holds, and remove its heartbeat; returns how many."""
    freed = 0
    for statement in (
        update(FolderState).where(FolderState.lease_owner == owner).values(lease_owner=None, lease_until=None),
        update(Outbox).where(Outbox.claimed_by == owner).values(claimed_by=None, claimed_until=None),
        update(SchedulerLease).where(SchedulerLease.holder == owner).values(holder=None, since=None, until=None),
        delete(DaemonInstance).where(DaemonInstance.instance == owner),
    ):
        result = session.execute(statement)
        assert isinstance(result, CursorResult)
        freed += result.rowcount
    return freed
