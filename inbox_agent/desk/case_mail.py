"""A case's mail: the rendered text of one kind put in the outbox, and the officer's notices.

Every case operation sends through ``send``, so the greeting (only the registry name, only to the
customer's own address), the thread headers and the outbox's guards are the same everywhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import replies
from ..addresses import same_address
from ..case_states import record
from ..db.tables import Case, Customer, Officer, Outbox
from ..deadlines import compute
from ..models import Category
from ..outbox import enqueue
from .context import Desk

REGISTRY_ERASED = "registry_erased"
"""Event of the registry row's deletion; its data keeps the name the result greets with (``greeting_name``)."""


def greeting_name(session: Session, case: Case, to: str) -> str | None:
    """The registry name, only in a mail to that customer's own address; else None (a neutral greeting).

    Never the display name of an incoming mail (anyone can write "JM Holdings Ltd" or HTML there),
    and never the account's name to an address not yet shown to be the customer's. After an erasure
    the row is gone: the name kept with the case when it was deleted greets (until anonymised).
    """
    customer = session.get(Customer, case.customer_id) if case.customer_id else None
    if customer is not None:
        return customer.name if same_address(customer.email, to) else None
    kept = next((e.data for e in reversed(case.events) if e.kind == REGISTRY_ERASED), {})
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


def officer_note(session: Session, desk: Desk, case: Case, reason: str) -> str:
    """A mail that may not change the case: the officer sees it, the sender gets nothing about the case."""
    record(case, "outsider_note", actor=desk.actor, at=desk.now, reason=reason)
    notify_officer(session, desk, case, "officer_new_case")
    return "a note for the officer: " + reason
