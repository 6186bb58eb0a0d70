"""Result drafts: one per requested right, written once the identity is settled.

Shared by verification (a settled identity drafts at once), a customer's reply that adds a right
and the officer's redraft; the daemon calls it again with the webshop snapshot it fetched.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import webshop_jobs
from ..case_states import State, record, transition
from ..db.tables import Case, Outbox
from ..webshop_jobs import WebshopReader
from . import fulfil
from .case_mail import notify_officer, send
from .context import Desk


def with_id(session: Session, case: Case) -> None:
    """A case opened in this transaction gets its id at a flush; open_case leaves that to the batch's."""
    if case.id is None:
        session.flush()


def draft_results(session: Session, desk: Desk, case: Case, webshop: WebshopReader | None = None) -> None:
    """A result draft per requested right not drafted yet; the officer approves each one.

    With a webshop connected, the drafts are written from a ``webshop`` snapshot: until one is
    given, the case queues a fetch (``webshop_job``) and waits, so no HTTP call ever runs in
    this transaction. Drafts already made stay.
    """
    assert case.verified_email is not None
    with_id(session, case)  # the queries below and fulfil's rows use it
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
