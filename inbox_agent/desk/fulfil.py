"""Fulfilling rights: what a result mail says (prepare) and doing what it promises (execute).

``prepare`` runs when a result is drafted: it gathers the facts for the template and, for
access and portability, builds the export package from the registry, WooCommerce and the
agent's own records. ``execute`` runs when the officer approves: erasure, restriction and
objection are carried out through the WooCommerce API and the registry; whatever the API
cannot do becomes a checklist task, so nothing is silently left undone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .. import customer_registry, webshop_jobs
from ..addresses import address_key
from ..case_states import record
from ..config import Settings
from ..connectors.woocommerce import Customer as WooCustomer
from ..connectors.woocommerce import CustomerUpdate, Order, WooCommerceClient
from ..db.tables import Case, Customer, Outbox, StoredMessage, Task
from ..exports import (
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
from ..models import Category
from ..replies import Done, Kept, ResultDetails
from ..webshop_jobs import WebshopReader
from .case_mail import REGISTRY_ERASED
from .context import Desk

FISCAL_YEARS = 7
"""Invoices and order administration are kept 7 years (art. 52 AWR)."""
CUSTOMER_TABLES = ("registry", "customer", "orders", "reviews")
"""Export tables that hold customer data; the request's own records (cases) do not count as "data held"."""
FROZEN = ("frozen_account", "frozen_orders", "frozen_marketing")
"""What a restriction freezes (``ITEMS`` keys in templates/<lang>/_common.txt)."""
MARKETING_STOP = "manual_objection"
"""The task that takes an objector off newsletter and analytics audiences: never skipped with the others."""


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
