"""Spam / block sender: the officer closes a case without an answer, and may block its sender.

Closing drops the case's drafts and its customer mail not sent yet, records why, and ends the
case as rejected with the decision ``spam``; with the box ticked the sender is blocked too
(blocklist.py). Only an officer does this, from the case page; no mail can set it off.
An address in the customer registry is never blocked: spam can forge a customer's From, and
the block would then hold back that customer's own requests.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from .. import blocklist, customer_registry
from ..case_states import CLOSED, State, record, transition
from ..db.tables import Outbox
from ..officer_error import OfficerError
from . import result_steps
from .case_views import get_case
from .context import Desk

SPAM_NOTE = "case closed as spam: nothing is sent"


def close_as_spam(session: Session, desk: Desk, reference: str, *, reason: str, block: bool) -> None:
    """Close the case with no answer; with ``block``, its sender's address is blocked as well."""
    if not reason.strip():
        raise OfficerError("spam_reason")
    case = get_case(session, reference)
    if case.state in CLOSED:
        raise OfficerError("closed", case=case.reference, state=case.state)
    if result_steps.under_way(session, case):
        raise OfficerError("under_way", case=case.reference)
    if block and not case.requester_email:
        raise OfficerError("no_address", case=case.reference)
    if (block and case.requester_email
            and customer_registry.lookup(session, case.shop, case.requester_email) is not None):
        raise OfficerError("block_customer", address=case.requester_email)
    session.execute(update(Outbox).where(Outbox.case_id == case.id, Outbox.status.in_(("draft", "queued")),
                                         Outbox.kind.not_like("officer_%"))
                    .values(status="rejected", last_error=SPAM_NOTE))
    case.decision, case.decision_reason = "spam", reason.strip()
    record(case, "spam", actor=desk.actor, at=desk.now, reason=reason.strip(), data={"blocked": block})
    transition(case, State.REJECTED, actor=desk.actor, at=desk.now, reason="closed as spam: no answer is sent")
    if block and case.requester_email:
        blocklist.block(session, case.shop, case.requester_email, reason=reason.strip(), actor=desk.actor,
                        now=desk.now, case_reference=case.reference)
