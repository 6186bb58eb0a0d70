"""A case the officer opens from the list to check, for the rights she chose.

The list itself (``review.py``) is mail, read on every queue page, and opens nothing; turning one
of its mails into a case is a case operation, so it lives here and starts the case through
``intake`` like any other. The ``ReviewDecision`` row and the mail leaving the list commit with it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import review
from ..blocklist import is_blocked
from ..case_states import record
from ..db.tables import Case, ReviewDecision
from ..models import RIGHTS, Category, Classification, Proof
from ..officer_error import OfficerError
from ..parse import ParseError, parse
from ..sender_proof import assess
from . import intake
from .context import Desk


def open_case(session: Session, desk: Desk, message_id: int, rights: list[str]) -> Case:
    """A case from a listed mail, for the rights the officer chose, as if the classifier had seen them.

    The desk opens it as it opens every case: the deadline runs from the mail's arrival, the
    acknowledgement and the identity step follow the shop's rules, the sender's proof is read
    from the mail's own headers. Only the rights are the officer's.
    """
    row = review.listed(session, message_id, desk.now)
    chosen = [r for r in RIGHTS if r in rights]
    if not chosen:
        raise OfficerError("no_rights")
    if row.raw is None:
        raise OfficerError("purged", message=message_id)
    try:
        msg = parse(row.raw)
    except ParseError as exc:
        raise OfficerError("unreadable", message=message_id, error=exc) from None
    if msg.from_ is None:
        raise OfficerError("no_sender", message=message_id)
    proven = assess(msg, desk.settings.policy.trusted_authserv_ids).level == Proof.PROVEN
    if is_blocked(session, desk.shop, msg.from_.email) and not proven:  # a proven one is listed for this (pipeline)
        raise OfficerError("sender_blocked", address=msg.from_.email)
    stored = Classification.model_validate(row.classification)
    cls = stored.model_copy(update={"categories": [Category(r) for r in chosen], "new_text": msg.text,
                                    "review": False})
    case = intake.open_case(session, desk, row, msg, cls)
    record(case, "opened_from_review", actor=desk.actor, at=desk.now, data={"message": row.id})
    row.outcome = f"case {case.reference} opened by the officer from the list to check"[:200]
    row.to_check = False
    session.add(ReviewDecision(message_id=row.id, action="opened", case_reference=case.reference,
                               actor=desk.actor, at=desk.now))
    return case
