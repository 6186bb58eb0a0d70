"""The customer registry: who is a known customer, and at which address.

Import is all-or-nothing: every row is validated first and a file with one bad row
changes nothing, with a clear line per bad row.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from .addresses import address_key
from .connectors.woocommerce import Customer as WooCustomer
from .db.tables import Customer, Suppression
from .models import KnownCustomer

_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
REQUIRED_COLUMNS = ("email", "name", "customer_id")


class CustomerImportError(ValueError):
    """Bad import file; ``problems`` holds one line per bad row."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class CustomerRecord(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    email: str
    name: str = ""
    customer_id: str = Field(min_length=1)
    postcode: str | None = None
    order_numbers: list[str] = Field(default_factory=list)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _ADDRESS.match(value):
            raise ValueError(f"not an e-mail address: {value!r}")
        return value

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str | None) -> str | None:
        return normalise_postcode(value) if value else None


def normalise_postcode(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()


def parse_csv(text: str) -> list[CustomerRecord]:
    """Validate a whole CSV file (columns email,name,customer_id[,postcode,order_numbers])."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CustomerImportError([f"missing column(s): {', '.join(missing)} (need {', '.join(REQUIRED_COLUMNS)})"])
    records: list[CustomerRecord] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line_no, row in enumerate(reader, start=2):
        try:
            orders = [o.strip() for o in (row.get("order_numbers") or "").replace(";", " ").split() if o.strip()]
            record = CustomerRecord(
                email=row.get("email") or "",
                name=row.get("name") or "",
                customer_id=row.get("customer_id") or "",
                postcode=row.get("postcode") or None,
                order_numbers=orders,
            )
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"])
                problems.append(f"line {line_no}: {field}: {err['msg'].removeprefix('Value error, ')}")
            continue
        key = address_key(record.email)
        if key in seen:
            problems.append(f"line {line_no}: {record.email} already on line {seen[key]}")
            continue
        seen[key] = line_no
        records.append(record)
    if problems:
        raise CustomerImportError(problems)
    return records


def upsert(session: Session, shop: str, records: Iterable[CustomerRecord], *, source: str, now: datetime) -> int:
    count = 0
    for record in records:
        key = address_key(record.email)
        row = session.scalar(select(Customer).where(Customer.shop == shop, Customer.email_key == key))
        if row is None:
            row = Customer(shop=shop, email_key=key, created_at=now, source=source)
            session.add(row)
        row.email, row.name, row.customer_ref = record.email, record.name, record.customer_id
        row.postcode, row.order_numbers, row.updated_at = record.postcode, record.order_numbers, now
        count += 1
    return count


def lookup(session: Session, shop: str, email: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.shop == shop, Customer.email_key == address_key(email)))


def by_order(session: Session, shop: str, order_number: str, postcode: str) -> Customer | None:
    """The customer holding this order number at this postcode (the LEGAL.md fallback check)."""
    wanted = normalise_postcode(postcode)
    for row in session.scalars(select(Customer).where(Customer.shop == shop, Customer.postcode == wanted)):
        if order_number in row.order_numbers:
            return row
    return None


def last_sync(session: Session, shop: str, *, source: str) -> datetime | None:
    """When rows from ``source`` were last written, less a day of overlap for clock skew."""
    last = session.scalar(select(func.max(Customer.updated_at)).where(Customer.shop == shop,
                                                                      Customer.source == source))
    return last - timedelta(days=1) if last else None


def from_woocommerce(customer: WooCustomer) -> CustomerRecord | None:
    """A registry record from a webshop account (accounts without a valid address are skipped)."""
    name = " ".join(n for n in (customer.first_name, customer.last_name) if n)
    try:
        return CustomerRecord(email=customer.email, name=name, customer_id=str(customer.id),
                              postcode=customer.billing.postcode or None)
    except ValidationError:
        return None


def suppress(session: Session, shop: str, email: str, now: datetime) -> bool:
    """Put an address on the direct-marketing suppression list; False when it was on it already."""
    key = address_key(email)
    if session.scalar(select(Suppression).where(Suppression.shop == shop, Suppression.email_key == key)) is not None:
        return False
    session.add(Suppression(shop=shop, email_key=key, created_at=now))
    return True


def suppressed(session: Session, shop: str) -> list[tuple[str, datetime]]:
    rows = session.scalars(select(Suppression).where(Suppression.shop == shop).order_by(Suppression.id))
    return [(row.email_key, row.created_at) for row in rows]


_KNOWN = select(Customer.id, Customer.email, Customer.name).where(
    Customer.shop == bindparam("shop"), Customer.email_key == bindparam("key"))


def known_customer(session: Session, shop: str, email: str) -> KnownCustomer | None:
    """The registry row identify needs, without an ORM object: opening a case asks for every address it names."""
    row = session.connection().execute(_KNOWN, {"shop": shop, "key": address_key(email)}).first()
    return KnownCustomer(id=row.id, email=row.email, name=row.name) if row is not None else None
