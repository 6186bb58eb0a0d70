"""Identity: codes to the known address, order number and postcode, and the verified state.

Results go only to a verified address; this module is the way a case gets there (the officer's
own check goes through ``verify`` too). One case is verified at intake instead: a request whose
right is unclear, sent from the customer's known address, keeps that address until she names the right.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import customer_registry
from ..addresses import same_address
from ..case_states import State, record, transition
from ..conversation import ReplyReading
from ..db.tables import Case, VerificationCode
from ..models import Category, IdentityStatus, Proof, needs_proof
from .case_mail import officer_note, send
from .context import Desk
from .drafting import draft_results, with_id

MAX_CODE_ATTEMPTS = 5


def _code_hash(secret: str, case_id: int, code: str) -> str:
    return hmac.new(secret.encode(), f"{case_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _code_rows(session: Session, case: Case) -> list[VerificationCode]:
    return list(session.scalars(select(VerificationCode).where(VerificationCode.case_id == case.id)
                                .order_by(VerificationCode.id)))


def _live_code(codes: list[VerificationCode], now: datetime) -> VerificationCode | None:
    return next((c for c in reversed(codes) if c.used_at is None and c.expires_at > now), None)


def send_code(session: Session, desk: Desk, case: Case, known_address: str) -> None:
    """One live code per case, minted only when its mail is really queued.

    A live code already on its way to the same address is not replaced (naming the account
    again must not mint codes); a new one voids the old; a mail the loop brake stopped
    leaves no valid code behind; a case whose guesses are used up gets no new code.
    """
    with_id(session, case)  # for the code hash
    codes = _code_rows(session, case)
    if sum(c.attempts for c in codes) >= MAX_CODE_ATTEMPTS:
        record(case, "code_locked", actor=desk.actor, at=desk.now, reason="too many wrong codes; no new code")
        return
    live = _live_code(codes, desk.now)
    if live is not None and same_address(live.sent_to, known_address):
        record(case, "code_still_valid", actor=desk.actor, at=desk.now, reason="a valid code was already sent")
        return
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = send(session, desk, case, "identity_code", to=known_address, code=f"{code[:3]} {code[3:]}",
               code_valid_hours=desk.settings.policy.verification_code_hours)
    if row.status != "queued":
        return  # its event says why (mail_blocked); no code exists that nobody received
    if live is not None:
        live.expires_at = desk.now  # voided: one live code per case
    session.add(
        VerificationCode(
            case_id=case.id,
            code_hash=_code_hash(desk.settings.secret, case.id, code),
            sent_to=known_address,
            expires_at=desk.now + timedelta(hours=desk.settings.policy.verification_code_hours),
        )
    )


STRONG_PROOFS = frozenset({Proof.PROVEN, "code", "order", "officer"})
"""What lets a case carry a data-changing right: a proven sender, a returned code, order number + postcode
from the known address, or the officer's own check."""


def must_confirm(case: Case) -> bool:
    """A data-changing right on a case that rests on no more than an unproven address: the known address
    confirms first (LEGAL.md, "Sender authentication and replies")."""
    return needs_proof(case.rights) and case.proof not in STRONG_PROOFS


def verify(session: Session, desk: Desk, case: Case, known_address: str, *, method: str, reason: str,
           proof: str) -> None:
    """Identity settled: results may now go to ``known_address`` and nowhere else.

    An objection to direct marketing takes effect here, before any officer decision (LEGAL.md:
    "Results tell the truth").
    """
    case.identity_status = IdentityStatus.VERIFIED
    case.identity_method = method
    case.verified_email = known_address
    case.proof = proof
    transition(case, State.IN_PROGRESS, actor=desk.actor, at=desk.now, reason=reason, data={"method": method})
    if Category.OBJECTION in case.rights and customer_registry.suppress(session, case.shop, known_address, desk.now):
        record(case, "suppressed", actor=desk.actor, at=desk.now,
               reason="objection: direct marketing stopped at once, before any decision")
    draft_results(session, desk, case)


def code_reply(session: Session, desk: Desk, case: Case, reading: ReplyReading) -> str:
    """Check the codes in a reply against the case's one live code: every wrong guess counts, 5 per case.

    The comparison is constant-time; the count lives on the case's code rows, so neither a new
    mail nor a new code resets it. At the limit the live code is voided and the officer told.
    """
    codes = _code_rows(session, case)
    left = MAX_CODE_ATTEMPTS - sum(c.attempts for c in codes)
    if not codes or left <= 0:
        return officer_note(session, desk, case, "a code arrived, but no code can be checked for this case")
    live = _live_code(codes, desk.now)
    guesses = reading.codes[:left]
    hit = next((i for i, guess in enumerate(guesses) if live is not None
                and hmac.compare_digest(live.code_hash, _code_hash(desk.settings.secret, case.id, guess))), None)
    wrong = len(guesses) if hit is None else hit
    codes[-1].attempts += wrong
    if hit is not None and live is not None:
        live.used_at = desk.now
        verify(session, desk, case, live.sent_to, method="code sent to known address",
               reason="the customer returned the code sent to the known address", proof="code")
        return "identity verified by code"
    record(case, "wrong_code", actor=desk.actor, at=desk.now, data={"guesses": wrong})
    if left - wrong <= 0:
        if live is not None:
            live.expires_at = desk.now
        return officer_note(session, desk, case, f"{MAX_CODE_ATTEMPTS} wrong codes: no code is accepted any more; "
                            "confirm the identity by hand")
    return "wrong code"


def identity_reply(session: Session, desk: Desk, case: Case, sender: str, reading: ReplyReading) -> str | None:
    if reading.codes:
        outcome = code_reply(session, desk, case, reading)
        return outcome if case.identity_status == IdentityStatus.VERIFIED else None
    for number in reading.order_numbers:
        for postcode in reading.postcodes:
            customer = customer_registry.by_order(session, desk.shop, number, postcode)
            if customer is None:
                continue
            case.customer_id = customer.id
            if same_address(sender, customer.email):
                verify(session, desk, case, customer.email, method="order number and postcode",
                       reason="order number and postcode match the known customer", proof="order")
                return "identity verified by order number and postcode"
            case.identity_status = IdentityStatus.CODE_SENT
            send_code(session, desk, case, customer.email)
            return "order matched: code sent to the known address"
    for address in reading.addresses:
        customer = customer_registry.lookup(session, desk.shop, address)
        if customer is not None:
            case.customer_id = customer.id
            case.identity_status = IdentityStatus.CODE_SENT
            send_code(session, desk, case, customer.email)
            return "account address named: code sent to the known address"
    return None
