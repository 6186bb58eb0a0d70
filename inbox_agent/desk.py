"""Case operations: open, continue, verify, draft. Shared by the pipeline, officer and scheduler.

Everything here runs inside the caller's transaction: the case change, its events and
the mails it causes (outbox rows) commit together or not at all.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from . import customer_registry, fulfil, replies, webshop_jobs
from .addresses import address_key, mentioned_addresses, same_address
from .cases import CLOSED, State, format_reference, record, transition
from .config import MailboxSettings, Settings
from .conversation import Cues, ReplyReading
from .db.tables import Case, Customer, Officer, Outbox, StoredMessage, VerificationCode
from .deadlines import compute, due_at
from .identify import identify
from .models import Category, Classification, IdentityStatus, IdentityVerdict, ParsedMessage, Proof, needs_proof
from .outbox import enqueue
from .reply_authority import Authority
from .sender_proof import assess
from .webshop_jobs import WebshopReader

MAX_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class Desk:
    """What case operations need to know: one shop's settings, the clock and who acts."""

    settings: Settings
    box: MailboxSettings
    now: datetime
    cues: Cues
    actor: str = "agent"

    @property
    def shop(self) -> str:
        return self.box.name

    @property
    def domain(self) -> str:
        return self.settings.smtp.from_address.rpartition("@")[2]


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


def _code_hash(secret: str, case_id: int, code: str) -> str:
    return hmac.new(secret.encode(), f"{case_id}:{code}".encode(), hashlib.sha256).hexdigest()


def greeting_name(session: Session, case: Case, to: str) -> str | None:
    """The registry name, only in a mail to that customer's own address; else None (a neutral greeting).

    Never the display name of an incoming mail (anyone can write "JM Holdings Ltd" or HTML there),
    and never the account's name to an address not yet shown to be the customer's. After an erasure
    the row is gone: the name kept with the case when it was deleted greets (until anonymised).
    """
    customer = session.get(Customer, case.customer_id) if case.customer_id else None
    if customer is not None:
        return customer.name if same_address(customer.email, to) else None
    kept = next((e.data for e in reversed(case.events) if e.kind == fulfil.REGISTRY_ERASED), {})
    name, email = kept.get("name"), kept.get("email")
    return name if isinstance(name, str) and isinstance(email, str) and same_address(email, to) else None


def reply_context(desk: Desk, case: Case, customer_name: str | None = None, *, language: str | None = None,
                  **extra: Any) -> replies.ReplyContext:
    return replies.ReplyContext(
        reference=case.reference,
        rights=[Category(r) for r in case.rights],
        deadlines=compute(case.received_at),
        is_extended=case.deadline_extended is not None,
        language=language or case.language,
        customer_name=customer_name,
        overdue=desk.now > case.effective_target,
        shop=desk.box.shop,
        case_url=f"{desk.settings.web.base_url.rstrip('/')}/cases/{case.reference}",
        **extra,
    )


def send(
    session: Session,
    desk: Desk,
    case: Case,
    kind: str,
    *,
    to: str,
    attachments: list[str] | None = None,
    **extra: Any,
) -> Outbox:
    """Render ``kind`` for this case and put it in the outbox (queued or draft per its kind)."""
    last_theirs = case.thread_ids[0] if case.thread_ids else None
    mail = replies.render(
        kind,
        reply_context(desk, case, greeting_name(session, case, to), **extra),
        to=to,
        in_reply_to=last_theirs if not kind.startswith("officer_") else None,
        references=case.thread_ids[:1] if not kind.startswith("officer_") else [],
        templates_dir=desk.settings.templates_dir,
    )
    row = enqueue(
        session,
        mail,
        shop=desk.shop,
        case=case,
        secret=desk.settings.secret,
        domain=desk.domain,
        now=desk.now,
        brake=desk.settings.policy.auto_mails_per_sender_per_day,
        attachments=attachments,
    )
    record(case, "mail_" + row.status, actor=desk.actor, at=desk.now, data={"kind": kind, "outbox": row.message_id})
    return row


def officer_language(session: Session, desk: Desk) -> str:
    """The language the officers chose for the workspace (the most common), else the shop's own."""
    chosen = session.execute(select(Officer.language).group_by(Officer.language)
                             .order_by(func.count().desc(), Officer.language).limit(1)).scalar()
    return chosen or desk.box.shop.default_language


NOTICE_KINDS = ("officer_new_case", "officer_digest")
"""Mails that tell the officer about new work; within the notice interval, one is enough."""


def last_notice(session: Session, desk: Desk) -> datetime | None:
    return session.scalar(select(func.max(Outbox.created_at)).where(Outbox.shop == desk.shop,
                                                                    Outbox.kind.in_(NOTICE_KINDS)))


def notify_officer(session: Session, desk: Desk, case: Case, kind: str, **extra: Any) -> None:
    """A notice to the officer, in her language (not the customer's).

    New-case notices are batched: the first goes at once; while another went out less than
    ``policy.officer_notice_minutes`` ago, the case records a deferred notice instead, and the
    scheduler sends one digest for all of them when the interval is over (300 requests are not
    300 mails).
    """
    officer = desk.box.shop.officer_email
    if not officer:
        return
    interval = timedelta(minutes=desk.settings.policy.officer_notice_minutes)
    last = last_notice(session, desk) if kind == "officer_new_case" and interval else None
    if last is not None and last > desk.now - interval:
        record(case, "notice_deferred", actor=desk.actor, at=desk.now)
        return
    send(session, desk, case, kind, to=officer, language=officer_language(session, desk), **extra)


def _with_id(session: Session, case: Case) -> None:
    """A case opened in this transaction gets its id at a flush; open_case leaves that to the batch's."""
    if case.id is None:
        session.flush()


def _code_rows(session: Session, case: Case) -> list[VerificationCode]:
    return list(session.scalars(select(VerificationCode).where(VerificationCode.case_id == case.id)
                                .order_by(VerificationCode.id)))


def _live_code(codes: list[VerificationCode], now: datetime) -> VerificationCode | None:
    return next((c for c in reversed(codes) if c.used_at is None and c.expires_at > now), None)


def _send_code(session: Session, desk: Desk, case: Case, known_address: str) -> None:
    """One live code per case, minted only when its mail is really queued.

    A live code already on its way to the same address is not replaced (naming the account
    again must not mint codes); a new one voids the old; a mail the loop brake stopped
    leaves no valid code behind; a case whose guesses are used up gets no new code.
    """
    _with_id(session, case)  # for the code hash
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


def open_case(
    session: Session, desk: Desk, row: StoredMessage, msg: ParsedMessage, cls: Classification
) -> Case:
    """A new request: case, acknowledgement and identity step in one go.

    Nothing here flushes: the case is written once, with its final state, by the next flush (the
    batch's, in a backlog), together with its events and mails, which point at it by relationship.
    The steps that need its id flush first (``_with_id``).
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
    return any(e.rule.endswith(".unclear_request") for e in cls.evidence)


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
        _send_code(session, desk, case, verdict.known_address)
    else:
        transition(case, State.AWAITING_IDENTITY, actor=desk.actor, at=desk.now, reason=verdict.reason)
        send(session, desk, case, "identity_question", to=requester)


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


def draft_results(session: Session, desk: Desk, case: Case, webshop: WebshopReader | None = None) -> None:
    """A result draft per requested right not drafted yet; the officer approves each one.

    With a webshop connected, the drafts are written from a ``webshop`` snapshot: until one is
    given, the case queues a fetch (``webshop_job``) and waits, so no HTTP call ever runs in
    this transaction. Drafts already made stay.
    """
    assert case.verified_email is not None
    _with_id(session, case)  # the queries below and fulfil's rows use it
    drafted = {
        kind
        for kind in session.scalars(
            select(Outbox.kind).where(Outbox.case_id == case.id, Outbox.status.in_(("draft", "queued", "sent")))
        )
    }
    new = [r for r in case.rights if f"result_{r}" not in drafted]
    if new and webshop is None and fulfil.has_webshop(desk):
        if webshop_jobs.queue(session, case, desk.now):
            record(case, "waiting", actor=desk.actor, at=desk.now, reason="fetching the customer's webshop data")
        return
    for right in new:
        details, attachments = fulfil.prepare(session, desk, case, right, webshop)
        send(session, desk, case, f"result_{right}", to=case.verified_email, details=details,
             attachments=attachments)
    if new and case.state == State.IN_PROGRESS:
        transition(case, State.AWAITING_APPROVAL, actor=desk.actor, at=desk.now, reason="result drafts ready")
        notify_officer(session, desk, case, "officer_new_case")


def continue_case(
    session: Session, desk: Desk, case: Case, msg: ParsedMessage, reading: ReplyReading, authority: Authority
) -> str:
    """Apply a customer's reply to its open case, as far as ``authority`` allows; return what happened."""
    assert msg.from_ is not None
    case.thread_ids = [*case.thread_ids, *([msg.message_id] if msg.message_id else [])][-100:]
    if authority == Authority.NONE:
        if case.state == State.AWAITING_IDENTITY and reading.codes:
            return _code_reply(session, desk, case, reading)
        return _note(session, desk, case, "not from the case's own, proven address: nothing was changed")
    if reading.withdraw:
        if authority != Authority.FULL:
            return _note(session, desk, case, "a withdrawal from an address the mail host did not prove; "
                         "the case goes on unless the officer confirms it with the customer")
        if done := carried_out(case):  # what was carried out cannot be withdrawn: she is told what was done
            return _note(session, desk, case, f"the customer withdrew the request by e-mail after the {done} was "
                         "approved: that is carried out (or being carried out) and cannot be undone; close the case "
                         "by hand (cases close --withdrawn --skip-open-steps) and tell her what was done")
        withdraw(session, desk, case, reason="the customer withdrew the request by e-mail")
        return "withdrawn"
    if reading.new_rights:
        case.rights = [*case.rights, *(str(r) for r in reading.new_rights)]
        record(case, "rights_added", actor=desk.actor, at=desk.now, data={"rights": case.rights})
        if authority == Authority.FULL and case.proof not in STRONG_PROOFS:
            case.proof = Proof.PROVEN
        if case.state == State.AWAITING_CLARIFICATION:
            _clarified(session, desk, case, msg.from_.email)
        elif case.identity_status == IdentityStatus.VERIFIED and case.verified_email:
            if must_confirm(case):
                _confirm_first(session, desk, case, case.verified_email)
            else:
                draft_results(session, desk, case)
        return "rights added: " + ", ".join(reading.new_rights)
    if case.state == State.AWAITING_IDENTITY:
        outcome = _identity_reply(session, desk, case, msg.from_.email, reading)
        if outcome:
            return outcome
    record(case, "customer_reply", actor=desk.actor, at=desk.now)
    notify_officer(session, desk, case, "officer_new_case")
    return "reply recorded for the officer"


def _note(session: Session, desk: Desk, case: Case, reason: str) -> str:
    """A mail that may not change the case: the officer sees it, the sender gets nothing about the case."""
    record(case, "outsider_note", actor=desk.actor, at=desk.now, reason=reason)
    notify_officer(session, desk, case, "officer_new_case")
    return "a note for the officer: " + reason


def _confirm_first(session: Session, desk: Desk, case: Case, known_address: str) -> None:
    """A data-changing right on a case that rests on an unproven address: the known address confirms first."""
    case.identity_status = IdentityStatus.CODE_SENT
    transition(case, State.AWAITING_IDENTITY, actor=desk.actor, at=desk.now,
               reason="erasure, rectification or restriction on an unproven sender: confirmation code sent "
                      "to the known address")
    _send_code(session, desk, case, known_address)


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
        _send_code(session, desk, case, known.email)
    else:
        send(session, desk, case, "identity_question", to=case.requester_email or sender)


def _code_reply(session: Session, desk: Desk, case: Case, reading: ReplyReading) -> str:
    """Check the codes in a reply against the case's one live code: every wrong guess counts, 5 per case.

    The comparison is constant-time; the count lives on the case's code rows, so neither a new
    mail nor a new code resets it. At the limit the live code is voided and the officer told.
    """
    codes = _code_rows(session, case)
    left = MAX_CODE_ATTEMPTS - sum(c.attempts for c in codes)
    if not codes or left <= 0:
        return _note(session, desk, case, "a code arrived, but no code can be checked for this case")
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
        return _note(session, desk, case, f"{MAX_CODE_ATTEMPTS} wrong codes: no code is accepted any more; "
                     "confirm the identity by hand")
    return "wrong code"


def _identity_reply(session: Session, desk: Desk, case: Case, sender: str, reading: ReplyReading) -> str | None:
    if reading.codes:
        outcome = _code_reply(session, desk, case, reading)
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
            _send_code(session, desk, case, customer.email)
            return "order matched: code sent to the known address"
    for address in reading.addresses:
        customer = customer_registry.lookup(session, desk.shop, address)
        if customer is not None:
            case.customer_id = customer.id
            case.identity_status = IdentityStatus.CODE_SENT
            _send_code(session, desk, case, customer.email)
            return "account address named: code sent to the known address"
    return None


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
