"""What the officer reads about cases: the list, one case in full, its related cases.

Read only, and apart from her actions (officer.py), so the scheduler's digest and the web pages
list cases without importing what changes them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from ..case_list import CaseSummary, days_left
from ..case_states import CLOSED, State
from ..db.tables import Case, Outbox, StoredMessage, Task
from ..models import ParsedMessage
from ..officer_error import OfficerError
from ..parse import ParseError, parse


class EventView(BaseModel):
    at: datetime
    actor: str
    kind: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    data: dict[str, Any]


class MailView(BaseModel):
    id: int
    kind: str
    to: str
    subject: str
    body_text: str
    status: str
    attachments: list[str]
    approved_by: str | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    version: str
    """Fingerprint of what would go out (``draft_version``): an approval names the version it saw."""


class TaskView(BaseModel):
    id: int
    kind: str
    title: str
    recipient: str | None
    status: str
    reason: str | None


class CaseDetail(CaseSummary):
    categories: list[str]
    verified_email: str | None
    identity_method: str | None
    proof: str | None
    """What the identity rests on: ``proven``/``unproven``/``doubt`` sender, or ``code``/``order``/``officer``."""
    linked_case: str | None
    decision: str | None
    decision_reason: str | None
    messages: list[dict[str, Any]]
    events: list[EventView]
    mails: list[MailView]
    tasks: list[TaskView]
    related: list[RelatedCase]
    """The same person's other requests (same address key or customer), newest first."""


class RelatedCase(BaseModel):
    reference: str
    state: str
    rights: list[str]
    received: datetime
    duplicate: bool
    """Asks for a right this case asks for too, within DUPLICATE_DAYS of it: perhaps the same request
    (until the officer keeps the two apart, merge.keep_separate)."""


DUPLICATE_DAYS = 30


def related_cases(session: Session, case: Case) -> list[RelatedCase]:
    """The requester's other cases, each marked when it may be a duplicate (same right, within 30 days)."""
    same = [Case.requester_key == case.requester_key] if case.requester_key else []
    if case.customer_id:
        same.append(Case.customer_id == case.customer_id)
    if not same:
        return []
    others = session.scalars(select(Case).where(Case.shop == case.shop, Case.id != case.id, or_(*same))
                             .order_by(Case.received_at.desc()).limit(50))
    kept_apart = {e.data.get("case") for e in case.events if e.kind == "kept_separate"}
    settled = case.state == State.MERGED
    return [RelatedCase(reference=o.reference, state=o.state, rights=o.rights, received=o.received_at,
                        duplicate=bool(set(o.rights) & set(case.rights)) and o.reference not in kept_apart
                        and not settled and o.state != State.MERGED
                        and abs(o.received_at - case.received_at) <= timedelta(days=DUPLICATE_DAYS))
            for o in others]


def get_case(session: Session, reference: str) -> Case:
    case = session.scalar(select(Case).where(Case.reference == reference.strip().upper()))
    if case is None:
        raise OfficerError("no_case", reference=reference)
    return case


def draft_counts(session: Session, case_id: int | None = None) -> dict[int, int]:
    """Drafts per case: of one case, or of all in one query (a list page must not ask once per case)."""
    query = select(Outbox.case_id, func.count()).where(Outbox.status == "draft", Outbox.case_id.is_not(None))
    if case_id is not None:
        query = query.where(Outbox.case_id == case_id)
    return {cid: n for cid, n in session.execute(query.group_by(Outbox.case_id)) if cid is not None}


def _summary(case: Case, now: datetime, drafts: dict[int, int]) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "shop": case.shop,
        "state": case.state,
        "rights": case.rights,
        "requester": case.requester_email,
        "identity": case.identity_status,
        "received": case.received_at,
        "target": case.deadline_target,
        "legal": case.deadline_legal,
        "extended": case.deadline_extended,
        "days_left": days_left(case.effective_target, now),
        "closed": case.state in CLOSED,
        "drafts": drafts.get(case.id, 0),
    }


def _cases(include_closed: bool, shop: str | None) -> Select[Case]:
    query = select(Case)
    if not include_closed:
        query = query.where(Case.state.not_in([s.value for s in CLOSED]))
    return query.where(Case.shop == shop) if shop else query


def list_cases(session: Session, now: datetime, *, include_closed: bool = False,
               shop: str | None = None, limit: int | None = None) -> list[CaseSummary]:
    """Open cases first by target date (extended target where extended); the first ``limit`` of them."""
    query = _cases(include_closed, shop).order_by(Case.effective_target, Case.id)
    drafts = draft_counts(session)
    return [CaseSummary(**_summary(c, now, drafts)) for c in session.scalars(query.limit(limit))]


def count_cases(session: Session, *, include_closed: bool = False, shop: str | None = None) -> int:
    return session.scalar(select(func.count()).select_from(_cases(include_closed, shop).subquery())) or 0


def case_detail(session: Session, reference: str, now: datetime) -> CaseDetail:
    case = get_case(session, reference)
    linked = session.get(Case, case.linked_case_id) if case.linked_case_id else None
    messages = session.scalars(select(StoredMessage).where(StoredMessage.case_id == case.id).order_by(StoredMessage.id))
    mails = session.scalars(select(Outbox).where(Outbox.case_id == case.id).order_by(Outbox.id))
    tasks = session.scalars(select(Task).where(Task.case_id == case.id).order_by(Task.id))
    return CaseDetail(
        **_summary(case, now, draft_counts(session, case.id)),
        categories=case.categories,
        verified_email=case.verified_email,
        identity_method=case.identity_method,
        proof=case.proof,
        linked_case=linked.reference if linked else None,
        decision=case.decision,
        decision_reason=case.decision_reason,
        messages=[
            {"id": m.id, "received": m.received_at, "status": m.status, "outcome": m.outcome,
             "classification": m.classification, "purged": m.raw is None}
            for m in messages
        ],
        events=[EventView.model_validate(e, from_attributes=True) for e in case.events],
        mails=[
            MailView(id=m.id, kind=m.kind, to=m.to_addr, subject=m.subject, body_text=m.body_text, status=m.status,
                     attachments=m.attachments, approved_by=m.approved_by, last_error=m.last_error,
                     created_at=m.created_at, sent_at=m.sent_at, version=draft_version(m))
            for m in mails
        ],
        tasks=[TaskView.model_validate(t, from_attributes=True) for t in tasks],
        related=related_cases(session, case),
    )


def draft_version(mail: Outbox) -> str:
    """What a draft would send, as a short fingerprint: recipient, subject, text and attachments.

    The confirmation step shows one version; approving with it fails if the draft changed
    in between (an edit in another tab, a redraft), so what is sent is what was checked.
    """
    parts = [mail.to_addr, mail.subject, mail.body_text, *mail.attachments]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def read_message(session: Session, reference: str, message_id: int) -> ParsedMessage | None:
    """One stored mail of the case as parsed text, for the officer to read; None once purged."""
    case = get_case(session, reference)
    row = session.get(StoredMessage, message_id)
    if row is None or row.case_id != case.id:
        raise OfficerError("no_message", case=case.reference, message=message_id)
    if row.raw is None:
        return None
    try:
        return parse(row.raw)
    except ParseError as exc:
        raise OfficerError("unreadable", message=message_id, error=exc) from None
