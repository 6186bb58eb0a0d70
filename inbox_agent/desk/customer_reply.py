"""A customer's reply to an open case: what it may change, as far as its authority allows.

The pipeline threads the mail to its case and ``reply_authority`` says what the sender may do;
here the reply adds rights, answers the identity step, withdraws the request or becomes a note.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..case_states import State, record, transition
from ..conversation import ReplyReading
from ..db.tables import Case, Customer, Outbox
from ..models import Category, IdentityStatus, ParsedMessage, Proof
from ..reply_authority import Authority
from .case_mail import notify_officer, officer_note, send
from .context import Desk
from .drafting import draft_results
from .verification import STRONG_PROOFS, code_reply, identity_reply, must_confirm, send_code


def continue_case(
    session: Session, desk: Desk, case: Case, msg: ParsedMessage, reading: ReplyReading, authority: Authority
) -> str:
    """Apply a customer's reply to its open case, as far as ``authority`` allows; return what happened."""
    assert msg.from_ is not None
    case.thread_ids = [*case.thread_ids, *([msg.message_id] if msg.message_id else [])][-100:]
    if authority == Authority.NONE:
        if case.state == State.AWAITING_IDENTITY and reading.codes:
            return code_reply(session, desk, case, reading)
        return officer_note(session, desk, case, "not from the case's own, proven address: nothing was changed")
    if reading.withdraw:
        if authority != Authority.FULL:
            return officer_note(session, desk, case, "a withdrawal from an address the mail host did not prove; "
                                "the case goes on unless the officer confirms it with the customer")
        if done := carried_out(case):  # what was carried out cannot be withdrawn: she is told what was done
            return officer_note(session, desk, case, f"the customer withdrew the request by e-mail after the {done} "
                                "was approved: that is carried out (or being carried out) and cannot be undone; close "
                                "the case by hand (cases close --withdrawn --skip-open-steps) and tell her what was "
                                "done")
        withdraw(session, desk, case, reason="the customer withdrew the request by e-mail")
        return "withdrawn"
    outcomes = []
    awaiting_identity = case.state == State.AWAITING_IDENTITY
    if reading.new_rights:
        _add_rights(session, desk, case, msg.from_.email, reading.new_rights, authority)
        outcomes.append("rights added: " + ", ".join(reading.new_rights))
    # "Hier is de code: 123 456, en ik wil ook inzage": the code answers the step the case was waiting for
    if awaiting_identity and (outcome := identity_reply(session, desk, case, msg.from_.email, reading)):
        outcomes.append(outcome)
    if outcomes:
        return "; ".join(outcomes)
    record(case, "customer_reply", actor=desk.actor, at=desk.now)
    notify_officer(session, desk, case, "officer_new_case")
    return "reply recorded for the officer"


def _add_rights(session: Session, desk: Desk, case: Case, sender: str, rights: list[Category],
                authority: Authority) -> None:
    """Rights the reply asks beside the case's own; a case past its identity step goes on with them."""
    case.rights = [*case.rights, *(str(r) for r in rights)]
    record(case, "rights_added", actor=desk.actor, at=desk.now, data={"rights": case.rights})
    if authority == Authority.FULL and case.proof not in STRONG_PROOFS:
        case.proof = Proof.PROVEN
    if case.state == State.AWAITING_CLARIFICATION:
        _clarified(session, desk, case, sender)
    elif case.identity_status == IdentityStatus.VERIFIED and case.verified_email:
        if must_confirm(case):
            _confirm_first(session, desk, case, case.verified_email)
        else:
            draft_results(session, desk, case)


def _confirm_first(session: Session, desk: Desk, case: Case, known_address: str) -> None:
    """A data-changing right on a case that rests on an unproven address: the known address confirms first."""
    case.identity_status = IdentityStatus.CODE_SENT
    transition(case, State.AWAITING_IDENTITY, actor=desk.actor, at=desk.now,
               reason="erasure, rectification or restriction on an unproven sender: confirmation code sent "
                      "to the known address")
    send_code(session, desk, case, known_address)


def _clarified(session: Session, desk: Desk, case: Case, sender: str) -> None:
    """The rights are known now: continue with the identity step decided when the case opened."""
    if case.identity_status == IdentityStatus.VERIFIED and case.verified_email:
        if must_confirm(case):
            _confirm_first(session, desk, case, case.verified_email)
            return
        transition(case, State.IN_PROGRESS, actor=desk.actor, at=desk.now, reason="rights clarified")
        draft_results(session, desk, case)
        return
    transition(case, State.AWAITING_IDENTITY, actor=desk.actor, at=desk.now, reason="rights clarified")
    known = session.get(Customer, case.customer_id) if case.customer_id else None
    if known is not None:
        send_code(session, desk, case, known.email)
    else:
        send(session, desk, case, "identity_question", to=case.requester_email or sender)


DATA_CHANGING = frozenset({Category.ERASURE, Category.RESTRICTION, Category.RECTIFICATION, Category.OBJECTION})


def carried_out(case: Case) -> str:
    """The data-changing rights of this case the officer approved (so carried out or under way), or ''."""
    approved = (str(e.data.get("kind", "")).removeprefix("result_") for e in case.events if e.kind == "approved")
    return ", ".join(sorted({right for right in approved if right in DATA_CHANGING}))


def withdraw(session: Session, desk: Desk, case: Case, *, reason: str) -> None:
    """The customer no longer wants the request (before anything data-changing was approved: ``carried_out``)."""
    for draft in session.scalars(select(Outbox).where(Outbox.case_id == case.id, Outbox.status == "draft")):
        draft.status = "rejected"
        draft.last_error = "case withdrawn"
    transition(case, State.WITHDRAWN, actor=desk.actor, at=desk.now, reason=reason)
    if case.requester_email:
        send(session, desk, case, "withdrawn", to=case.verified_email or case.requester_email)
