"""The register of handled requests (LEGAL.md "Register"): facts, never content.

No addresses, names or message text appear here, so an erasure request's entry is
non-identifying by construction; the reference is the only key back to the case.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from .case_states import CLOSED
from .db.tables import Case, Task


class RegisterEntry(BaseModel):
    reference: str
    shop: str
    rights: str
    received: str
    answered: str
    state: str
    decision: str
    reasons: str
    extended_until: str
    identity_method: str
    recipients_notified: str
    anonymised: bool


def _date(value: datetime | None) -> str:
    return value.date().isoformat() if value else ""


def entries(session: Session, shop: str | None = None) -> list[RegisterEntry]:
    query = select(Case).where(Case.state.in_([s.value for s in CLOSED]))
    if shop:
        query = query.where(Case.shop == shop)
    result = []
    for case in session.scalars(query.order_by(Case.id)):
        notified = session.scalars(
            select(Task.recipient).where(Task.case_id == case.id, Task.kind == "art19_notify", Task.status == "done")
        )
        result.append(
            RegisterEntry(
                reference=case.reference,
                shop=case.shop,
                rights=" ".join(case.rights),
                received=_date(case.received_at),
                answered=_date(case.closed_at),
                state=case.state,
                decision=case.decision or "",
                reasons=case.decision_reason or case.extension_reason or "",
                extended_until=_date(case.deadline_extended),
                identity_method=case.identity_method or "",
                recipients_notified=", ".join(r for r in notified if r),
                anonymised=case.anonymised,
            )
        )
    return result


def to_csv(rows: list[RegisterEntry]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(RegisterEntry.model_fields))
    writer.writeheader()
    for row in rows:
        writer.writerow(row.model_dump())
    return out.getvalue()
