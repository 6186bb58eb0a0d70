"""Possible duplicates: merge a second request into the older case, or keep the two apart.

The case page marks a request as a possible duplicate when the same person asked for the
same right within 30 days (``desk.case_views.related_cases``). Merging moves the duplicate's mail to
the older case's timeline and closes the duplicate as ``merged`` with no second answer (its
drafts are dropped); keeping them apart records that on both cases, and the mark goes away.
Both are audit entries on both cases.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..case_states import CLOSED, State, record, transition
from ..db.tables import Case, Outbox, StoredMessage
from ..officer_error import OfficerError
from . import result_steps
from .case_views import get_case, related_cases
from .context import Desk

KEPT = "kept_separate"
"""The event on both cases once the officer said they are two requests."""


def _pair(session: Session, reference: str, other: str) -> tuple[Case, Case]:
    """The case and the one it may duplicate; OfficerError unless the page would mark them."""
    case, twin = get_case(session, reference), get_case(session, other)
    if not any(r.reference == twin.reference and r.duplicate for r in related_cases(session, case)):
        raise OfficerError("not_duplicate", case=case.reference, other=twin.reference)
    return case, twin


def merge(session: Session, desk: Desk, reference: str, into: str) -> None:
    """Close ``reference`` as merged into the older, open case ``into``; its mail joins that case."""
    case, older = _pair(session, reference, into)
    for c in (case, older):
        if c.state in CLOSED:
            raise OfficerError("closed", case=c.reference, state=c.state)
    if result_steps.under_way(session, case):
        raise OfficerError("under_way", case=case.reference)
    if (older.received_at, older.reference) > (case.received_at, case.reference):  # same second: the first number
        raise OfficerError("merge_newer", case=case.reference, other=older.reference)
    extra = [r for r in case.rights if r not in older.rights]
    if extra:
        raise OfficerError("merge_rights", case=case.reference, other=older.reference, rights=", ".join(extra))
    moved = list(session.scalars(select(StoredMessage.id).where(StoredMessage.case_id == case.id)))
    session.execute(update(StoredMessage).where(StoredMessage.case_id == case.id).values(case_id=older.id))
    session.execute(update(Outbox).where(Outbox.case_id == case.id, Outbox.status == "draft")
                    .values(status="rejected", last_error=f"merged into {older.reference}"))
    case.linked_case_id = older.id
    case.decision, case.decision_reason = "merged", older.reference
    transition(case, State.MERGED, actor=desk.actor, at=desk.now, reason=f"merged into {older.reference}",
               data={"case": older.reference})
    record(older, "merged_in", actor=desk.actor, at=desk.now, reason=f"merged in: {case.reference}",
           data={"case": case.reference, "messages": moved})


def keep_separate(session: Session, desk: Desk, reference: str, other: str) -> None:
    """Two requests, not one: the duplicate mark goes away on both pages."""
    case, twin = _pair(session, reference, other)
    for one, other_one in ((case, twin), (twin, case)):
        record(one, KEPT, actor=desk.actor, at=desk.now, reason=f"kept separate from {other_one.reference}",
               data={"case": other_one.reference})
