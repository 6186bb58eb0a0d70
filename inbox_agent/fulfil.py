"""Fulfilling rights: what a result mail says (prepare) and doing what it promises (execute).

``prepare`` runs when a result is drafted: it gathers the facts for the template and, for
access and portability, builds the export package from the registry, WooCommerce and the
agent's own records. ``execute`` runs when the officer approves: erasure, restriction and
objection are carried out through the WooCommerce API and the registry; whatever the API
cannot do becomes a checklist task, so nothing is silently left undone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from . import customer_registry, replies, webshop_jobs
from .addresses import address_key
from .cases import State, record, transition
from .config import Settings
from .connectors.woocommerce import Customer as WooCustomer
from .connectors.woocommerce import CustomerUpdate, Order, WooCommerceClient
from .db.tables import Case, CaseEvent, Customer, Outbox, StoredMessage, Task
from .exports import (
    CaseEventRecord,
    CaseRecord,
    CorrespondenceRecord,
    ExportMode,
    ExportOptions,
    ExportResult,
    ExportTooLarge,
    RegistryRecord,
    SubjectData,
    build_export,
)
from .models import Category
from .replies import Done, Kept, ResultDetails, Step
from .webshop_jobs import WebshopReader

if TYPE_CHECKING:  # desk calls prepare(); importing it at run time would be circular
    from .desk import Desk

FISCAL_YEARS = 7
"""Invoices and order administration are kept 7 years (art. 52 AWR)."""
CUSTOMER_TABLES = ("registry", "customer", "orders", "reviews")
"""Export tables that hold customer data; the request's own records (cases) do not count as "data held"."""
FROZEN = ("frozen_account", "frozen_orders", "frozen_marketing")
"""What a restriction freezes (``ITEMS`` keys in templates/<lang>/_common.txt)."""


def woocommerce(settings: Settings, shop: str) -> WooCommerceClient | None:
    """A client for this shop's own webshop; None when it has none (steps become manual tasks)."""
    webshop = settings.webshop(shop)
    return WooCommerceClient(webshop) if webshop is not None else None


def has_webshop(desk: Desk) -> bool:
    """A webshop is connected for this shop: its drafts wait for a snapshot of its data."""
    return desk.settings.webshop(desk.shop) is not None


def _registry_row(session: Session, case: Case) -> Customer | None:
    return session.get(Customer, case.customer_id) if case.customer_id else None


def _case_records(session: Session, case: Case) -> Iterator[CaseRecord]:
    """This customer's cases with their timeline and correspondence (metadata; text while kept)."""
    query = select(Case).where(Case.shop == case.shop)
    if case.customer_id:
        query = query.where(or_(Case.customer_id == case.customer_id, Case.id == case.id))
    else:
        query = query.where(Case.id == case.id)
    for other in session.scalars(query.order_by(Case.id)):
        inbound = [
            CorrespondenceRecord(at=m.received_at, direction="in", from_address=other.requester_email or "",
                                 to_address=m.mailbox, message_id=m.message_id)
            for m in session.scalars(select(StoredMessage).where(StoredMessage.case_id == other.id))
        ]
        outbound = [
            CorrespondenceRecord(at=o.sent_at or o.created_at, direction="out", from_address=o.shop,
                                 to_address=o.to_addr, subject=o.subject, message_id=o.message_id, kind=o.kind,
                                 text=o.body_text)
            for o in session.scalars(select(Outbox).where(Outbox.case_id == other.id, Outbox.status == "sent"))
            if not o.kind.startswith("officer_")
        ]
        yield CaseRecord(
            reference=other.reference, rights=other.rights, state=other.state, language=other.language,
            received_at=other.received_at, deadline_target=other.deadline_target,
            deadline_legal=other.deadline_legal, deadline_extended=other.deadline_extended,
            extension_reason=other.extension_reason, identity_method=other.identity_method,
            decision=other.decision, decision_reason=other.decision_reason, closed_at=other.closed_at,
            events=[CaseEventRecord(at=e.at, actor=e.actor, kind=e.kind, from_state=e.from_state,
                                    to_state=e.to_state, reason=e.reason) for e in other.events],
            correspondence=sorted(inbound + outbound, key=lambda r: r.at),
        )


def _woo_orders(client: WebshopReader, customers: list[WooCustomer], email: str) -> Iterator[Order]:
    for customer in customers:
        yield from client.iter_customer_orders(customer.id)
    yield from client.iter_guest_orders(email)


def export_package(session: Session, desk: Desk, case: Case, mode: ExportMode,
                   client: WebshopReader | None) -> ExportResult:
    """Build the zip for an access or portability result; WooError propagates (the case waits)."""
    assert case.verified_email is not None
    row = _registry_row(session, case)
    customers = client.find_customers_by_email(case.verified_email) if client else []
    subject = SubjectData(
        email=case.verified_email,
        registry=RegistryRecord.model_validate(row, from_attributes=True) if row else None,
        customer=customers[0] if customers else None,
        orders=_woo_orders(client, customers, case.verified_email) if client else (),
        reviews=client.iter_reviews_by_email(case.verified_email) if client else (),
        cases=_case_records(session, case),
    )
    path = desk.settings.state_dir / "exports" / f"{case.reference}-{mode}.zip"
    options = ExportOptions(mode=mode, language=case.language if case.language in ("nl", "en", "de", "fr") else "nl",
                            body_retention_days=desk.settings.policy.body_retention_days,
                            max_bytes=desk.settings.policy.max_export_bytes, generated_at=desk.now)
    return build_export(subject, path, desk.box.shop, options)


def _export_warning(held: bool, webshop: bool, in_shop: bool, registered: Customer | None) -> str | None:
    """The officer's task when the package may not be everything: she checks it before approving."""
    if not held:
        where = "the webshop and the registry" if webshop else "the registry (no webshop is connected)"
        return f"No customer data found in {where}: the answer says so. Check by hand before approving."
    if not webshop:
        return ("No webshop is connected: the package holds only the registry and our mail. "
                "Add the webshop data by hand.")
    if not in_shop and registered is not None and registered.order_numbers:
        return (f"The registry lists orders {', '.join(registered.order_numbers)}, but the webshop returned no "
                "account or orders for this address: check the package before approving.")
    return None


def prepare(session: Session, desk: Desk, case: Case, right: str,
            client: WebshopReader | None) -> tuple[ResultDetails, list[str]]:
    """Facts and attachments for the result draft of one right."""
    today = desk.now.date()
    recipients = [r.name for r in desk.box.shop.recipients]
    sources = ["webshop"] if client else []
    if right in (Category.ACCESS, Category.PORTABILITY):
        try:
            package = export_package(session, desk, case, ExportMode(right), client)
        except ExportTooLarge as exc:
            session.add(Task(case_id=case.id, kind="export_too_large", title=f"Send the {right} package another "
                             f"way: {exc}", created_at=desk.now))
            return ResultDetails(package_too_large=True, sources=sources), []
        held = any(package.counts.get(table) for table in CUSTOMER_TABLES)
        searched = ["registry", "mail", *(["webshop"] if client else [])]
        in_shop = any(package.counts.get(table) for table in ("customer", "orders", "reviews"))
        if warning := _export_warning(held, client is not None, in_shop, _registry_row(session, case)):
            _task(session, desk, case, "check_export", warning)
        return ResultDetails(data_held=held, searched=searched, attachments=[package.path.name], sources=sources), \
            [str(package.path)]
    # Erasure, restriction and rectification: what the result will say once done. The draft is what
    # the officer approves; the text that leaves is rendered again from the steps really done.
    if right == Category.ERASURE:
        return ResultDetails(
            erased=[Done(what="account", on=today)],
            kept=[Kept(what="invoices", why="fiscal", until=date(today.year + FISCAL_YEARS, 12, 31))],
            recipients_informed=recipients,
        ), []
    if right == Category.RESTRICTION:
        return ResultDetails(frozen=list(FROZEN), recipients_informed=recipients), []
    if right == Category.RECTIFICATION:
        return ResultDetails(recipients_informed=recipients), []
    return ResultDetails(), []


def customer_update(changes: dict[str, str]) -> CustomerUpdate:
    """``{"billing.postcode": "7741AB", "first_name": "Anna"}`` as a WooCommerce update (validated)."""
    top: dict[str, str] = {}
    addresses: dict[str, dict[str, str]] = {"billing": {}, "shipping": {}}
    for key, value in changes.items():
        group, dot, field = key.partition(".")
        if dot and group in addresses:
            addresses[group][field] = value
        elif not dot and key in ("email", "first_name", "last_name"):
            top[key] = value
        else:
            raise ValueError(f"unknown field {key!r} (use email, first_name, last_name, billing.x or shipping.x)")
    return CustomerUpdate(**top, billing=addresses["billing"], shipping=addresses["shipping"])


def rectify(session: Session, desk: Desk, case: Case, update: CustomerUpdate) -> list[str]:
    """Change the registry row now and queue the webshop account(s) (``webshop_jobs``); without an API, a task."""
    assert case.verified_email is not None
    done: list[str] = []
    if has_webshop(desk):
        webshop_jobs.queue(session, case, desk.now, purpose="rectify", payload=update.model_dump())
    else:
        session.add(Task(case_id=case.id, kind="manual_rectification", created_at=datetime.now(UTC),
                         title="Apply the correction in the webshop: " + ", ".join(sorted(update.body()))))
    row = _registry_row(session, case)
    if row is not None:
        names = [update.first_name, update.last_name]
        if any(n is not None for n in names):
            first, _, last = row.name.partition(" ")
            row.name = " ".join(n for n in (update.first_name or first, update.last_name or last) if n)
        if update.email:
            row.email, row.email_key = update.email, address_key(update.email)
        if update.billing.get("postcode"):
            row.postcode = update.billing["postcode"].replace(" ", "").upper()
        done.append("customer registry updated")
    return done


def rectification_details(desk: Desk, fields: list[str]) -> ResultDetails:
    return ResultDetails(changes=[Done(what=f, on=desk.now.date()) for f in sorted(fields)],
                         recipients_informed=[r.name for r in desk.box.shop.recipients])


def execute(session: Session, desk: Desk, case: Case, right: str) -> list[str]:
    """Carry out an approved right in the database; return what was done, for the audit trail.

    The webshop's part of an erasure is queued (``webshop_jobs``, purpose ``erase``): its calls run
    outside this transaction, and until they are done the erasure is a pending step.
    """
    row = _registry_row(session, case)
    email = case.verified_email or (row.email if row else None)
    done: list[str] = []
    if right == Category.ERASURE:
        if has_webshop(desk) and email:
            webshop_jobs.queue(session, case, desk.now, purpose="erase")
        else:
            _task(session, desk, case, "manual_erasure", "Erase the customer's data in the webshop by hand "
                  "(keep invoices 7 years, art. 52 AWR)")
        if row is not None:
            for linked in session.scalars(select(Case).where(Case.customer_id == row.id)):
                linked.customer_id = None
            # The result is written once every step is done, after this row is gone: it greets by this name,
            # kept with the case (never the From display name) and dropped when the case is anonymised.
            record(case, REGISTRY_ERASED, actor=desk.actor, at=desk.now, data={"name": row.name, "email": row.email})
            session.delete(row)
            done.append("removed from the customer registry")
    elif right == Category.RESTRICTION:
        if row is not None:
            row.restricted = True
            done.append("registry: processing restricted (stored only)")
        _task(session, desk, case, "manual_restriction", "Freeze the customer's data in the webshop and "
              "newsletter tool; tell the customer before lifting it")
    elif right == Category.OBJECTION:
        if email and customer_registry.suppress(session, case.shop, email, desk.now):
            done.append("added to the direct-marketing suppression list")
        if row is not None:
            row.marketing_objection = True
        _task(session, desk, case, MARKETING_STOP, "Remove the customer from newsletter and analytics audiences")
    elif right == Category.RECTIFICATION and not any(e.kind == "rectified" for e in case.events):
        _task(session, desk, case, "manual_rectification", "Apply the correction in the webshop")
    return done


def _task(session: Session, desk: Desk, case: Case, kind: str, title: str) -> None:
    session.add(Task(case_id=case.id, kind=kind, title=title, created_at=desk.now))


# -- results only when true (LEGAL.md, "Results tell the truth") ----------------------------------

REGISTRY_ERASED = "registry_erased"
"""Event of the registry row's deletion; its data keeps the name the result greets with (``desk.greeting_name``)."""
HELD = "held"
"""Outbox status of an approved erasure, restriction or rectification result while steps are open."""
STEPPED = frozenset({Category.ERASURE, Category.RESTRICTION, Category.RECTIFICATION})
INTERIM_BEFORE = timedelta(days=2)
"""The interim notice goes out from the day before the target date (which ends 23:59), so it is there in time."""
_STEP_OF_JOB = {"erase": "webshop_erasure", "rectify": "webshop_rectification"}
MARKETING_STOP = "manual_objection"
"""The task that takes an objector off newsletter and analytics audiences: never skipped with the others."""
_STEP_OF_TASK = {"manual_erasure": "webshop_erasure", "manual_restriction": "webshop_restriction",
                 "manual_rectification": "webshop_rectification", MARKETING_STOP: "marketing_stop",
                 "art19_notify": "notify", "export_too_large": "export"}


def _tasks(session: Session, case: Case) -> list[Task]:
    session.flush()  # tasks added in this transaction count too
    return list(session.scalars(select(Task).where(Task.case_id == case.id).order_by(Task.id)))


def progress(session: Session, case: Case) -> tuple[list[Step], list[Step]]:
    """The case's execution steps: (done, with their dates; still open). Skipped steps are neither."""
    tasks = _tasks(session, case)
    manual = {t.kind for t in tasks}
    done = [Step(what=f"webshop_{right}", on=event.at.date()) for event in case.events
            if (right := _made_through_api(event)) and f"manual_{right}" not in manual]
    pending = [Step(what=_STEP_OF_JOB[p]) for p in webshop_jobs.pending_changes(session, case)]
    for task in tasks:
        if task.kind not in _STEP_OF_TASK:
            continue  # the officer's own checks are no steps to report to the customer
        step = Step(what=_STEP_OF_TASK[task.kind], recipient=task.recipient)
        if task.status == "done":
            done.append(step.model_copy(update={"on": (task.done_at or task.created_at).date()}))
        elif task.status == "open":
            pending.append(step)
    return done, pending


def _made_through_api(event: CaseEvent) -> str | None:
    """The right whose webshop change this event records (made at once, through the API), if any.

    Where the change is a manual task instead, the task is the step (``progress`` checks).
    """
    if event.kind == "executed" and event.data.get("right") in STEPPED:
        return str(event.data["right"])
    return None


def final_details(session: Session, case: Case, right: str) -> ResultDetails:
    """What the result of a data-changing right says once every step is done: only what was done."""
    done, _ = progress(session, case)
    notices = [t for t in _tasks(session, case) if t.kind == "art19_notify" and t.recipient]
    informed = list(dict.fromkeys(t.recipient for t in notices if t.status == "done" and t.recipient))
    skipped = [n for n in dict.fromkeys(t.recipient for t in notices if t.status == "skipped" and t.recipient)
               if n not in informed]
    webshop = next((s.on for s in done if s.what == f"webshop_{right}" and s.on), None)
    details = ResultDetails(recipients_informed=informed, recipients_not_informed=skipped)
    if right == Category.ERASURE:
        until = date(case.received_at.year + FISCAL_YEARS, 12, 31)
        # What the law keeps is told only when the rest was erased: an account not erased was not "kept".
        kept = [Kept(what="invoices", why="fiscal", until=until)] if webshop else []
        return details.model_copy(update={"erased": [Done(what="account", on=webshop)] if webshop else [],
                                          "kept": kept})
    if right == Category.RESTRICTION:
        return details.model_copy(update={"frozen": list(FROZEN) if webshop else []})
    if not webshop:  # the webshop correction was skipped: the customer's data there is unchanged
        return details
    changes = [Done(what=f, on=e.at.date()) for e in case.events if e.kind == "rectified" for f in e.data["fields"]]
    return details.model_copy(update={"changes": changes or [Done(what="as_requested", on=webshop)]})


def hold_until_done(session: Session, desk: Desk, case: Case, draft: Outbox) -> None:
    """Right after approval: a data-changing result waits while any step is open, else gets its true text."""
    if draft.kind.removeprefix("result_") not in STEPPED:
        return
    if any(t.status == "open" for t in _tasks(session, case)):
        draft.status = HELD
        record(case, "result_held", actor=desk.actor, at=desk.now, reason="sent once every step is done",
               data={"mail": draft.id, "kind": draft.kind})
    else:
        _true_text(session, desk, case, draft)


def waiting_for_steps(session: Session, desk: Desk, case: Case) -> bool:
    """True while approved results are held; the case is then back in progress, on the officer's list."""
    if not _held(session, case):
        return False
    if case.state == State.AWAITING_APPROVAL:
        transition(case, State.IN_PROGRESS, actor=desk.actor, at=desk.now,
                   reason="approved; the result goes out once every step is done")
    return True


def release_held(session: Session, desk: Desk, case: Case) -> bool:
    """After a step is finished: once none is open, the held results get their true text and are queued."""
    held = _held(session, case)
    if not held or any(t.status == "open" for t in _tasks(session, case)) or webshop_jobs.pending_changes(session,
                                                                                                            case):
        return False
    _release(session, desk, case, held)
    return True


def _release(session: Session, desk: Desk, case: Case, held: list[Outbox]) -> None:
    """Queue each held result with the text of what was done; one the officer edited goes back to her.

    Her words were written before the steps were done and may claim one that was skipped, or a date
    that was not the real one; the agent cannot tell from free text. So an edited result is never
    sent as written after a hold: it returns as a draft, and her second approval (every step now
    final, nothing executed again) sends it as she then wrote it.
    """
    for row in held:
        if _edited(case, row):
            row.status = "draft"
            record(case, "result_review", actor=desk.actor, at=desk.now, reason="steps finished: check the edited "
                   "text states only what was done", data={"mail": row.id, "kind": row.kind})
            continue
        _true_text(session, desk, case, row)
        row.status, row.next_attempt_at = "queued", desk.now
        record(case, "result_released", actor=desk.actor, at=desk.now, data={"mail": row.id, "kind": row.kind})
    if case.state == State.IN_PROGRESS and any(row.status == "draft" for row in held):
        transition(case, State.AWAITING_APPROVAL, actor=desk.actor, at=desk.now, reason="result drafts ready")


def close_blocker(session: Session, case: Case, *, skip: bool, withdrawn: bool) -> tuple[str, dict[str, str]] | None:
    """Why the officer may not close this case now (an ``officer_error`` key and its values), or None.

    Open steps or a held result need ``skip`` (``settle_for_close``); a queued webshop change runs on
    its own and cannot be skipped; a result she edited waits for her to check it against the steps.
    An objection's stop of direct marketing is absolute (Art. 21(3)): its removal task is never skipped
    in bulk; she does it, or skips that one task with its own reason, before the case closes.
    """
    if any(t.status == "open" and t.kind == MARKETING_STOP for t in _tasks(session, case)):
        return "objection_open", {"case": case.reference}
    held = _held(session, case)
    _, pending = progress(session, case)
    if not held and not pending:
        return None
    if webshop_jobs.pending_changes(session, case):
        return "webshop_queued", {"case": case.reference}
    if not skip:
        return "open_steps", {"case": case.reference, "steps": str(len(pending)), "results": str(len(held))}
    if not withdrawn and any(_edited(case, row) for row in held):
        return "edited_held", {"case": case.reference}
    return None


def under_way(session: Session, case: Case) -> bool:
    """Something was approved, is held or has steps open: closing as spam or merging would strand it."""
    return (any(e.kind == "approved" for e in case.events) or bool(_held(session, case))
            or bool(progress(session, case)[1]))


def erasure_executed(case: Case) -> bool:
    """An approved erasure was carried out: a case closed after it keeps only non-identifying facts."""
    return any(e.kind == "approved" and e.data.get("kind") == f"result_{Category.ERASURE}" for e in case.events)


def settle_for_close(session: Session, desk: Desk, case: Case, *, reason: str, withdrawn: bool) -> None:
    """The officer closes a case with steps open (``cases close --skip-open-steps``): nothing stays held silently.

    Each open step task is skipped with her reason, in the audit trail. A held result is then written
    from what was really done (the skipped steps are not claimed) and sent, since the customer is owed
    an answer on what was done (Art. 12(3)); when the customer withdrew the request it is discarded.
    A queued webshop change is not a step she can skip: it runs on its own (``officer.close`` refuses).
    """
    for task in _tasks(session, case):
        if task.status == "open" and task.kind in _STEP_OF_TASK and task.kind != MARKETING_STOP:
            task.status, task.reason, task.done_by, task.done_at = "skipped", reason, desk.actor, desk.now
            record(case, "task_skipped", actor=desk.actor, at=desk.now, reason=reason, data={"task": task.id})
    held = _held(session, case)
    if withdrawn:
        for row in held:
            row.status, row.last_error = "rejected", f"case closed: {reason}"
        return
    _release(session, desk, case, held)


def interim_notice(session: Session, desk: Desk, case: Case) -> None:
    """The target date comes before the last step: tell the customer what is done and what is pending."""
    if desk.now < case.effective_target - INTERIM_BEFORE or not case.verified_email or not _held(session, case):
        return
    if any(e.kind == "interim_notice" for e in case.events):
        return
    done, pending = progress(session, case)
    if not pending:
        return
    from .desk import send  # desk imports this module

    send(session, desk, case, "interim", to=case.verified_email, details=ResultDetails(done=done, pending=pending))
    record(case, "interim_notice", actor=desk.actor, at=desk.now, data={"pending": len(pending)})


def _held(session: Session, case: Case) -> list[Outbox]:
    return list(session.scalars(select(Outbox).where(Outbox.case_id == case.id, Outbox.status == HELD)
                                .order_by(Outbox.id)))


def _edited(case: Case, row: Outbox) -> bool:
    return any(e.kind == "draft_edited" and e.data.get("mail") == row.id for e in case.events)


def _true_text(session: Session, desk: Desk, case: Case, row: Outbox) -> None:
    """Render the result again from what was done; an officer's own edit of the text is kept as approved."""
    if _edited(case, row):
        return
    from .desk import greeting_name, reply_context  # desk imports this module

    details = final_details(session, case, row.kind.removeprefix("result_"))
    context = reply_context(desk, case, greeting_name(session, case, row.to_addr), details=details)
    mail = replies.render(row.kind, context, to=row.to_addr,
                          in_reply_to=row.in_reply_to, references=row.references,
                          templates_dir=desk.settings.templates_dir)
    row.subject, row.body_text, row.body_html, row.language = mail.subject, mail.body_text, mail.body_html, \
        mail.language
