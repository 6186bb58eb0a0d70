"""A new request: the case, its reference, the acknowledgement and the identity step, in one go.

Everything runs inside the caller's transaction: the case, its events and the mails it causes
(outbox rows) commit together or not at all.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from .. import customer_registry
from ..addresses import address_key, mentioned_addresses
from ..case_states import CLOSED, State, format_reference, record, transition
from ..db.tables import Case, StoredMessage
from ..deadlines import compute, due_at
from ..identify import identify
from ..models import UNCLEAR_REQUEST, Classification, IdentityStatus, IdentityVerdict, ParsedMessage
from ..sender_proof import assess
from .case_mail import notify_officer, send
from .context import Desk
from .verification import send_code, verify

_LAST_REFERENCE = select(func.max(Case.reference)).where(Case.reference > bindparam("first"),
                                                          Case.reference < bindparam("end"))


def next_reference(session: Session, prefix: str, year: int) -> str:
    # A range, not LIKE: SQLite's case-insensitive LIKE cannot use the index, and a scan per new case
    # made a backlog quadratic. Numbers are zero-padded digits, and every digit sorts before ":".
    # Cases opened in this transaction but not flushed yet (open_case does not flush) count too.
    first = f"{prefix}-{year}-"
    stored = session.connection().execute(_LAST_REFERENCE, {"first": first, "end": first + ":"}).scalar()
    pending = (c.reference for c in session.new if isinstance(c, Case) and first < c.reference < first + ":")
    last = max((r for r in (stored, *pending) if r), default=None)
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return format_reference(prefix, year, number)


def open_case(
    session: Session, desk: Desk, row: StoredMessage, msg: ParsedMessage, cls: Classification
) -> Case:
    """A new request: case, acknowledgement and identity step in one go.

    Nothing here flushes: the case is written once, with its final state, by the next flush (the
    batch's, in a backlog), together with its events and mails, which point at it by relationship.
    The steps that need its id flush first (``with_id``).
    """
    assert msg.from_ is not None
    requester = msg.from_.email
    sender = customer_registry.known_customer(session, desk.shop, requester)
    named = next(
        (
            known
            for a in mentioned_addresses(cls.new_text, exclude=[requester])
            if (known := customer_registry.known_customer(session, desk.shop, a)) is not None
        ),
        None,
    )
    proof = assess(msg, desk.settings.policy.trusted_authserv_ids)
    verdict = identify(sender=sender, named=named, proof=proof, rights=cls.rights)
    dl = compute(row.received_at)
    case = Case(
        shop=desk.shop,
        reference=next_reference(session, desk.box.shop.reference_prefix, dl.received.year),
        state=State.RECEIVED,
        rights=[str(r) for r in cls.rights],
        categories=[str(c) for c in cls.categories],
        language=cls.language if cls.language in ("nl", "en", "de", "fr") else desk.box.shop.default_language,
        customer_id=verdict.customer_id,
        requester_email=requester,
        requester_key=address_key(requester),
        requester_name=msg.from_.name or None,
        identity_status=verdict.status,
        proof=verdict.proof,
        thread_ids=[m for m in [msg.message_id, *reversed(msg.references)] if m][:50],
        received_at=row.received_at,
        deadline_raw=due_at(dl.raw),
        deadline_legal=due_at(dl.legal),
        deadline_target=due_at(dl.target),
        created_at=desk.now,
        events=[],  # a new case has none: known now, the first event needs no query to load them
    )
    case.linked_case_id = _open_case_of(session, desk.shop, verdict, requester)
    session.add(case)
    record(
        case,
        "received",
        actor=desk.actor,
        at=desk.now,
        reason=verdict.reason,
        data={"message": row.message_id, "evidence": [e.rule for e in cls.evidence][:20],
              **({"backfilled": True} if row.backfilled_at is not None else {})},
    )
    row.case = case
    if not case.rights and is_unclear_request(cls):
        if verdict.status == IdentityStatus.VERIFIED:
            case.verified_email = verdict.known_address
        transition(case, State.AWAITING_CLARIFICATION, actor=desk.actor, at=desk.now,
                   reason="a privacy request, but which right is unclear")
        send(session, desk, case, "clarification", to=requester)
        return case
    if not case.rights:
        transition(case, State.IN_PROGRESS, actor=desk.actor, at=desk.now, reason="privacy question for the officer")
        notify_officer(session, desk, case, "officer_new_case")
        return case
    overdue = desk.now > case.deadline_target
    send(session, desk, case, "ack", to=requester, identity_pending=verdict.status != IdentityStatus.VERIFIED,
         backfilled=row.backfilled_at is not None)
    _apply_identity(session, desk, case, verdict, requester)
    if overdue:  # straight to the officer, not at the scheduler's next round
        notify_officer(session, desk, case, "officer_overdue")
        record(case, "overdue_alert", actor=desk.actor, at=desk.now)
        case.last_reminder_at = desk.now
    return case


def is_unclear_request(cls: Classification) -> bool:
    """A request about one's data whose right is unclear: rules named ``*.unclear_request`` say so."""
    return any(e.rule.endswith(UNCLEAR_REQUEST) for e in cls.evidence)


_OPEN_OF = select(func.max(Case.id)).where(Case.shop == bindparam("shop"), Case.state.not_in([s.value for s in CLOSED]))
_OPEN_BY_ADDRESS = _OPEN_OF.where(Case.requester_key == bindparam("key"))
_OPEN_BY_CUSTOMER = _OPEN_OF.where(Case.customer_id == bindparam("customer"))


def _open_case_of(session: Session, shop: str, verdict: IdentityVerdict, requester: str) -> int | None:
    """An open case of the same customer, to link (never merge silently) a second request.

    Two indexed lookups (by address, by customer), not one OR that SQLite answers by scanning the open
    cases; the statements are built once. A case of this requester opened or changed in this transaction
    and not flushed yet is flushed first, so the lookups see it as it is now.
    """
    key = address_key(requester)
    if any(c.shop == shop and (c.requester_key == key or (verdict.customer_id and c.customer_id == verdict.customer_id))
           for c in (*session.new, *session.dirty) if isinstance(c, Case)):
        session.flush()
    conn = session.connection()
    found = [conn.execute(_OPEN_BY_ADDRESS, {"shop": shop, "key": key}).scalar()]
    if verdict.customer_id:
        found.append(conn.execute(_OPEN_BY_CUSTOMER, {"shop": shop, "customer": verdict.customer_id}).scalar())
    return max((i for i in found if i is not None), default=None)


def _apply_identity(session: Session, desk: Desk, case: Case, verdict: IdentityVerdict, requester: str) -> None:
    if verdict.status == IdentityStatus.VERIFIED:
        assert verdict.known_address is not None
        verify(session, desk, case, verdict.known_address, method="known address", reason=verdict.reason,
               proof=verdict.proof)
    elif verdict.status == IdentityStatus.CODE_SENT:
        assert verdict.known_address is not None
        transition(case, State.AWAITING_IDENTITY, actor=desk.actor, at=desk.now, reason=verdict.reason)
        send_code(session, desk, case, verdict.known_address)
    else:
        transition(case, State.AWAITING_IDENTITY, actor=desk.actor, at=desk.now, reason=verdict.reason)
        send(session, desk, case, "identity_question", to=requester)
