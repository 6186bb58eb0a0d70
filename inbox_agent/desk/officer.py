"""What the privacy officer can do, as functions the CLI and the web page both call.

Every action checks the case state through the state machine, records who did it and
why, and raises OfficerError with a plain sentence when it cannot be done.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..case_states import CLOSED, State, TransitionError, record, transition
from ..db.tables import Case, Customer, Outbox, Task
from ..deadlines import compute, due_at
from ..models import RIGHTS, Category
from ..officer_error import OfficerError
from ..outbox import DisclosureRefused, check_disclosure
from . import fulfil, result_steps
from .case_mail import send
from .case_views import draft_counts, draft_version, get_case
from .context import Desk
from .drafting import draft_results
from .verification import verify

ART19_RIGHTS = {Category.RECTIFICATION, Category.ERASURE, Category.RESTRICTION}


def _draft(session: Session, case: Case, mail_id: int | None) -> list[Outbox]:
    query = select(Outbox).where(Outbox.case_id == case.id, Outbox.status == "draft")
    if mail_id is not None:
        query = query.where(Outbox.id == mail_id)
    drafts = list(session.scalars(query.order_by(Outbox.id)))
    if not drafts:
        if mail_id is None:
            raise OfficerError("no_drafts", case=case.reference)
        raise OfficerError("no_draft", case=case.reference, mail=mail_id)
    return drafts


def edit_draft(session: Session, desk: Desk, reference: str, mail_id: int, *, subject: str, body: str) -> None:
    case = get_case(session, reference)
    (draft,) = _draft(session, case, mail_id)
    draft.subject = " ".join(subject.split())[:998]
    draft.body_text = body
    draft.body_html = None  # the edited text is what goes out
    record(case, "draft_edited", actor=desk.actor, at=desk.now, data={"mail": mail_id})


def approve(session: Session, desk: Desk, reference: str, mail_id: int | None = None, *,
            version: str | None = None) -> list[int]:
    """Queue the draft(s) for sending; when nothing is left to approve, the case is answered.

    With ``version`` (one draft only), the draft must still be the one the officer checked.
    """
    case = get_case(session, reference)
    approved = []
    for draft in _draft(session, case, mail_id):
        if version is not None and draft_version(draft) != version:
            raise OfficerError("changed", mail=draft.id)
        try:
            check_disclosure(draft.kind, draft.to_addr, case)
        except DisclosureRefused:
            raise OfficerError("disclosure", case=case.reference) from None
        # This right was carried out at an earlier approval (a held result she edited, or a redraft of it after
        # she rejected that): approving its text again executes nothing twice.
        again = any(e.kind == "approved" and e.data.get("kind") == draft.kind for e in case.events)
        if not again:
            _execute(session, desk, case, draft.kind)
        draft.status, draft.approved_by, draft.next_attempt_at = "queued", desk.actor, desk.now
        record(case, "approved", actor=desk.actor, at=desk.now, data={"mail": draft.id, "kind": draft.kind})
        approved.append(draft.id)
        if not again:
            _art19_tasks(session, desk, case, draft.kind)
        result_steps.hold_until_done(session, desk, case, draft)
    if not session.scalars(select(Outbox.id).where(Outbox.case_id == case.id, Outbox.status == "draft")).first() \
            and not result_steps.waiting_for_steps(session, desk, case):
        _finish(desk, case)
    return approved


def _execute(session: Session, desk: Desk, case: Case, kind: str) -> None:
    """Do what the approved result promises; a webshop outage stops the approval as a whole."""
    if not kind.startswith("result_"):
        return
    right = kind.removeprefix("result_")
    done = fulfil.execute(session, desk, case, right)
    if done:
        record(case, "executed", actor=desk.actor, at=desk.now, data={"right": right, "done": done})


def _finish(desk: Desk, case: Case) -> None:
    kinds = {e.data.get("kind") for e in case.events if e.kind == "approved"}
    if "refusal" in kinds:
        to, decision = State.REJECTED, "refused"
    else:
        to, decision = State.COMPLETED, "granted"
    case.decision = case.decision or decision
    try:
        transition(case, to, actor=desk.actor, at=desk.now, reason=f"answer approved ({decision})")
    except TransitionError:
        raise OfficerError("transition", case=case.reference, state=case.state) from None
    if Category.ERASURE in case.rights and to == State.COMPLETED:
        anonymise(case)


def _art19_tasks(session: Session, desk: Desk, case: Case, kind: str) -> None:
    """Art. 19: every rectification, erasure or restriction is passed on to each recipient."""
    right = kind.removeprefix("result_")
    if right not in ART19_RIGHTS:
        return
    for recipient in desk.box.shop.recipients:
        session.add(Task(case_id=case.id, kind="art19_notify", recipient=recipient.name, created_at=desk.now,
                         title=f"Inform {recipient.name} of the {right} (Art. 19 GDPR)"))


def anonymise(case: Case) -> None:
    """Register entry of an erasure: only non-identifying facts remain."""
    case.requester_email = case.requester_key = case.requester_name = case.verified_email = None
    case.thread_ids = []
    case.customer_id = None
    case.anonymised = True
    for event in case.events:
        event.data = {k: v for k, v in event.data.items() if k in ("kind", "rights", "method")}


def reject_draft(session: Session, desk: Desk, reference: str, mail_id: int, *, reason: str) -> None:
    """Discard one draft; the case goes back to work (redraft or refuse)."""
    case = get_case(session, reference)
    (draft,) = _draft(session, case, mail_id)
    draft.status, draft.last_error = "rejected", f"rejected by {desk.actor}: {reason}"
    record(case, "draft_rejected", actor=desk.actor, at=desk.now, reason=reason, data={"mail": mail_id})
    if case.state == State.AWAITING_APPROVAL and not session.scalars(
        select(Outbox.id).where(Outbox.case_id == case.id, Outbox.status == "draft")
    ).first():
        transition(case, State.IN_PROGRESS, actor=desk.actor, at=desk.now, reason="draft rejected")


def redraft(session: Session, desk: Desk, reference: str) -> None:
    case = get_case(session, reference)
    if not case.verified_email:
        raise OfficerError("not_verified", case=case.reference)
    if case.state == State.AWAITING_IDENTITY:
        raise OfficerError("waits_identity", case=case.reference)
    draft_results(session, desk, case)


def refuse(session: Session, desk: Desk, reference: str, *, reason: str) -> None:
    """Refuse the request: result drafts are dropped and a reasoned refusal is drafted."""
    if not reason.strip():
        raise OfficerError("refusal_reason")
    case = get_case(session, reference)
    for draft in session.scalars(select(Outbox).where(Outbox.case_id == case.id, Outbox.status == "draft")):
        draft.status, draft.last_error = "rejected", "request refused"
    to = case.verified_email or case.requester_email
    if to is None:
        raise OfficerError("no_address", case=case.reference)
    case.decision, case.decision_reason = "refused", reason
    send(session, desk, case, "refusal", to=to, refusal_reasons=reason)
    if case.state != State.AWAITING_APPROVAL:
        try:
            transition(case, State.AWAITING_APPROVAL, actor=desk.actor, at=desk.now, reason="refusal drafted")
        except TransitionError:
            raise OfficerError("transition", case=case.reference, state=case.state) from None


CONFIRM_METHODS = ("phone", "in_person", "letter")
"""How the officer may have confirmed an identity herself (LEGAL.md: the least data possible, never an ID copy)."""


def confirm_identity(session: Session, desk: Desk, reference: str, *, method: str, reason: str) -> None:
    """The officer settles the identity by hand (a call to the known number, a visit); the audit trail says how.

    Results still go only to the customer's known address in the registry, never to the sender's.
    """
    if method not in CONFIRM_METHODS:
        raise OfficerError("confirm_method", methods=", ".join(CONFIRM_METHODS))
    if not reason.strip():
        raise OfficerError("confirm_reason")
    case = get_case(session, reference)
    if case.state != State.AWAITING_IDENTITY:
        raise OfficerError("not_awaiting_identity", case=case.reference, state=case.state)
    known = session.get(Customer, case.customer_id) if case.customer_id else None
    if known is None:
        raise OfficerError("no_known_address", case=case.reference)
    verify(session, desk, case, known.email, method=f"officer ({method})", reason=reason.strip(), proof="officer")


def extend(session: Session, desk: Desk, reference: str, *, reason: str) -> datetime:
    """Extend by up to two months (Art. 12(3)); the notice goes out at once, before the legal date."""
    if not reason.strip():
        raise OfficerError("extension_reason")
    case = get_case(session, reference)
    if case.state in CLOSED:
        raise OfficerError("closed", case=case.reference, state=case.state)
    if case.deadline_extended is not None:
        raise OfficerError("already_extended", case=case.reference, until=case.deadline_extended.date())
    if not compute(case.received_at).can_extend(desk.now):
        raise OfficerError("too_late", case=case.reference, legal=case.deadline_legal.date())
    case.deadline_extended = due_at(compute(case.received_at).extended)
    case.extension_reason = reason
    to = case.verified_email or case.requester_email
    if to is None:
        raise OfficerError("no_address", case=case.reference)
    notice = send(session, desk, case, "extension", to=to, extension_reasons=reason)
    notice.status, notice.approved_by = "queued", desk.actor  # the officer's decision is the approval
    record(case, "extended", actor=desk.actor, at=desk.now, reason=reason,
           data={"until": case.deadline_extended.isoformat()})
    return case.deadline_extended


def close(session: Session, desk: Desk, reference: str, *, reason: str, withdrawn: bool = False,
          skip_open_steps: bool = False) -> None:
    """Close by hand; open steps and held results are never left behind silently (``result_steps.close_blocker``)."""
    case = get_case(session, reference)
    to = State.WITHDRAWN if withdrawn else State.COMPLETED
    if blocker := result_steps.close_blocker(session, case, skip=skip_open_steps, withdrawn=withdrawn):
        raise OfficerError(blocker[0], **blocker[1])
    if skip_open_steps:
        result_steps.settle_for_close(session, desk, case, reason=reason, withdrawn=withdrawn)
    for draft in session.scalars(select(Outbox).where(Outbox.case_id == case.id, Outbox.status == "draft")):
        draft.status, draft.last_error = "rejected", f"case closed: {reason}"
    try:
        transition(case, to, actor=desk.actor, at=desk.now, reason=reason)
    except TransitionError:
        raise OfficerError("transition", case=case.reference, state=case.state) from None
    if result_steps.erasure_executed(case):
        anonymise(case)


def finish_task(session: Session, desk: Desk, task_id: int, *, done: bool, reason: str | None) -> None:
    task = session.get(Task, task_id)
    if task is None:
        raise OfficerError("no_task", task=task_id)
    if not done and not (reason and reason.strip()):
        raise OfficerError("skip_reason")
    task.status, task.reason, task.done_by, task.done_at = ("done" if done else "skipped"), reason, desk.actor, desk.now
    case = session.get_one(Case, task.case_id)
    record(case, f"task_{task.status}", actor=desk.actor, at=desk.now, reason=reason, data={"task": task.id})
    step_finished(session, desk, case)


def step_finished(session: Session, desk: Desk, case: Case) -> None:
    """The last open step sends the held results; the case is answered once nothing waits for approval."""
    if result_steps.release_held(session, desk, case) and not draft_counts(session, case.id):
        _finish(desk, case)


def webshop_changed(session: Session, desk: Desk, case: Case, right: str, done: list[str]) -> None:
    """A queued webshop erasure or correction ran: record what it did; it may have been the last step."""
    record(case, "executed", actor=desk.actor, at=desk.now, data={"right": right, "done": done})
    step_finished(session, desk, case)


def set_rights(session: Session, desk: Desk, reference: str, rights: list[str]) -> None:
    """Correct the rights the classifier read; the drafts follow, so what is approved matches the case.

    Result drafts of rights no longer on the case are discarded; when the identity is
    verified and the case is being worked on, the newly added rights are drafted.
    """
    case = get_case(session, reference)
    if case.state in CLOSED:
        raise OfficerError("closed", case=case.reference, state=case.state)
    unknown = sorted(set(rights) - set(RIGHTS))
    if unknown:
        raise OfficerError("not_a_right", rights=", ".join(unknown))
    chosen = [str(r) for r in RIGHTS if r in rights]
    if not chosen:
        raise OfficerError("no_rights")
    if chosen == case.rights:
        return
    record(case, "rights_changed", actor=desk.actor, at=desk.now, data={"rights": chosen})
    case.rights = chosen
    for draft in session.scalars(select(Outbox).where(Outbox.case_id == case.id, Outbox.status == "draft")):
        if draft.kind.startswith("result_") and draft.kind.removeprefix("result_") not in chosen:
            draft.status, draft.last_error = "rejected", f"right removed from the case by {desk.actor}"
    if case.state == State.AWAITING_APPROVAL and not session.scalars(
        select(Outbox.id).where(Outbox.case_id == case.id, Outbox.status == "draft")
    ).first():
        transition(case, State.IN_PROGRESS, actor=desk.actor, at=desk.now, reason="rights changed")
    if case.verified_email and case.state in (State.IN_PROGRESS, State.AWAITING_APPROVAL):
        draft_results(session, desk, case)


def rectify(session: Session, desk: Desk, reference: str, changes: dict[str, str]) -> list[str]:
    """Apply a correction in the webshop and the registry; the result draft then says what changed.

    ``changes`` maps fields to new values: ``first_name``, ``last_name``, ``email`` or
    ``billing.<field>`` / ``shipping.<field>`` (WooCommerce address fields).
    """
    case = get_case(session, reference)
    if Category.RECTIFICATION not in case.rights:
        raise OfficerError("no_rectification", case=case.reference)
    if not case.verified_email:
        raise OfficerError("not_verified_change", case=case.reference)
    try:
        update = fulfil.customer_update(changes)
    except ValueError as exc:
        raise OfficerError("bad_correction", error=exc) from None
    done = fulfil.rectify(session, desk, case, update)
    for draft in session.scalars(select(Outbox).where(Outbox.case_id == case.id, Outbox.kind == "result_rectification",
                                                      Outbox.status == "draft")):
        draft.status, draft.last_error = "rejected", "superseded by the draft that lists the changes"
    details = fulfil.rectification_details(desk, list(changes))
    send(session, desk, case, "result_rectification", to=case.verified_email, details=details)
    record(case, "rectified", actor=desk.actor, at=desk.now, data={"fields": sorted(changes), "done": done})
    if case.state == State.IN_PROGRESS:
        transition(case, State.AWAITING_APPROVAL, actor=desk.actor, at=desk.now, reason="correction applied")
    return done
