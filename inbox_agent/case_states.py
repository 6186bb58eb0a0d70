"""The case state machine and its audit trail.

States follow DESIGN.md, with one simplification: the acknowledgement is queued in the
same transaction that opens the case, so "acknowledged" is an event on the case, not a
state it could ever be observed in. Every transition and officer action is a
``CaseEvent`` row (who, when, why); nothing changes a case without one.

It sits beside ``desk/``, not in it: the webshop worker, figures, health and the work queue read
a case's state and record on it, and the desk's operations call them in turn (``webshop_jobs``);
in the package, that was an import circle between the two.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from .db.tables import Case, CaseEvent


class State(StrEnum):
    RECEIVED = "received"
    AWAITING_IDENTITY = "awaiting_identity"
    AWAITING_CLARIFICATION = "awaiting_clarification"
    IN_PROGRESS = "in_progress"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"


CLOSED: frozenset[State] = frozenset({State.COMPLETED, State.REJECTED, State.WITHDRAWN, State.MERGED})
OPEN: frozenset[State] = frozenset(State) - CLOSED
_ENDINGS = {State.REJECTED, State.WITHDRAWN, State.MERGED}

TRANSITIONS: dict[State, frozenset[State]] = {
    State.RECEIVED: frozenset({State.AWAITING_IDENTITY, State.AWAITING_CLARIFICATION, State.IN_PROGRESS}),
    State.AWAITING_IDENTITY: frozenset({State.IN_PROGRESS, State.AWAITING_APPROVAL, *_ENDINGS}),
    State.AWAITING_CLARIFICATION: frozenset(
        {State.IN_PROGRESS, State.AWAITING_IDENTITY, State.AWAITING_APPROVAL, *_ENDINGS}
    ),
    State.IN_PROGRESS: frozenset({State.AWAITING_APPROVAL, State.COMPLETED, *_ENDINGS}),
    State.AWAITING_APPROVAL: frozenset({State.IN_PROGRESS, State.COMPLETED, *_ENDINGS}),
}

REFERENCE = re.compile(r"\b([A-Z]{1,8})-(\d{4})-(\d{6})\b")


class TransitionError(ValueError):
    """An action that the case's current state does not allow, said plainly."""


def format_reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


def find_references(text: str) -> list[str]:
    """Case references written in a subject or body, in order of appearance."""
    return [m.group(0) for m in REFERENCE.finditer(text)]


def record(
    case: Case,
    kind: str,
    *,
    actor: str,
    at: datetime,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Add an event that does not change the state (ack queued, extension, note, ...)."""
    event = CaseEvent(
        at=at,
        actor=actor,
        kind=kind,
        from_state=case.state,
        to_state=case.state,
        reason=reason,
        data=data or {},
    )
    case.events.append(event)
    return event


def transition(
    case: Case,
    to: State,
    *,
    actor: str,
    at: datetime,
    reason: str,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Move the case to ``to``, or raise TransitionError naming what is allowed."""
    current = State(case.state)
    allowed = TRANSITIONS.get(current, frozenset())
    if to not in allowed:
        options = ", ".join(sorted(allowed)) or "nothing (the case is closed)"
        raise TransitionError(f"case {case.reference} is {current}; it can go to {options}, not {to}")
    event = CaseEvent(
        at=at, actor=actor, kind="transition", from_state=current, to_state=to, reason=reason, data=data or {}
    )
    case.state = to
    if to in CLOSED:
        case.closed_at = at
    case.events.append(event)
    return event


def is_open(case: Case) -> bool:
    return State(case.state) in OPEN
