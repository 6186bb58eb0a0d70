"""Access (Art. 15) and portability (Art. 20) packages: one zip per request.

An access package holds a faithful machine-readable copy of everything we hold (data.json with
schema.json, one CSV per table with fields.csv describing every column) plus a readable
overview (overview.html/.txt) of what LEGAL.md lists: purposes, categories, recipients by name,
retention, rights, the Autoriteit Persoonsgegevens, sources, automated decisions and transfers.
A portability package holds only what the customer gave us (account, addresses, orders, reviews)
as JSON and CSV with field descriptions.

Orders arrive as an iterator and are written once, row by row, into data.json and the CSVs in a
private temporary folder next to the target, which is then zipped entry by entry: memory stays
flat however long the order history is. Column and JSON descriptions come from the models' field
docstrings, so the schema, fields.csv and the data cannot drift apart.
"""

from __future__ import annotations

import csv
import json
import os
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import IO, Any, Literal, get_origin

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

from .config import ShopSettings
from .connectors.woocommerce import Address, Customer, LineItem, Order, Review
from .resources import shipped

FORMAT = "inbox-agent-export/1"
TEMPLATES_DIR = shipped("templates") / "exports"
Language = Literal["nl", "en", "de", "fr"]


class ExportTooLarge(Exception):
    """The package would exceed the configured size; the officer sends it another way."""


class ExportMode(StrEnum):
    ACCESS = "access"
    PORTABILITY = "portability"


class Record(BaseModel):
    """The agent's own records, filled by the caller from the database."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)


class RegistryRecord(Record):
    email: str
    """The e-mail address we know you by; results are only ever sent there."""
    name: str = ""
    """Your name as we registered it."""
    customer_ref: str | None = None
    """Your customer number in the webshop."""
    postcode: str | None = None
    """Postal code, used to check your identity with an order number."""
    order_numbers: list[str] = Field(default_factory=list)
    """Order numbers, used to check your identity."""
    source: str = ""
    """Where this entry came from (webshop or an import)."""
    restricted: bool = False
    """Whether processing is restricted at your request (Art. 18): your data is only stored."""
    marketing_objection: bool = False
    """Whether you objected to direct marketing (Art. 21): it stops for good."""
    created_at: datetime | None = None
    """When the entry was made (UTC)."""
    updated_at: datetime | None = None
    """When the entry last changed (UTC)."""


class CaseEventRecord(Record):
    at: datetime
    """When it happened (UTC)."""
    actor: str
    """Who acted: the agent or the privacy officer."""
    kind: str
    """What happened (received, acknowledged, identity checked, answered, ...)."""
    from_state: str | None = None
    """State of the request before."""
    to_state: str | None = None
    """State of the request after."""
    reason: str | None = None
    """Why, where a reason was recorded."""


class CorrespondenceRecord(Record):
    at: datetime
    """When the mail was received or sent (UTC)."""
    direction: Literal["in", "out"]
    """"in": a mail from you; "out": a mail from us."""
    from_address: str
    """Sender address."""
    to_address: str
    """Recipient address."""
    subject: str = ""
    """Subject line."""
    message_id: str | None = None
    """Technical message identifier (Message-ID)."""
    kind: str | None = None
    """For our mails: which kind (acknowledgement, identity check, result, ...)."""
    attachments: list[str] = Field(default_factory=list)
    """File names of attachments."""
    text: str | None = None
    """The message text while we still keep it (deleted a fixed period after the request closes)."""


class CaseRecord(Record):
    reference: str
    """Reference of your privacy request (e.g. KT-2026-000123)."""
    rights: list[str] = Field(default_factory=list)
    """Rights you invoked (access, rectification, erasure, restriction, portability, objection)."""
    state: str
    """Where the request stands."""
    language: str = "nl"
    """Language we answer in."""
    received_at: datetime
    """When your request reached us (UTC)."""
    deadline_target: datetime | None = None
    """The date we aim to answer by (our 30-day promise)."""
    deadline_legal: datetime | None = None
    """The legal deadline (one month, Art. 12(3))."""
    deadline_extended: datetime | None = None
    """Extended deadline, if the term was extended."""
    extension_reason: str | None = None
    """Why the term was extended."""
    identity_method: str | None = None
    """How your identity was checked."""
    decision: str | None = None
    """The outcome (granted, partly granted, refused)."""
    decision_reason: str | None = None
    """Reasons for the outcome."""
    closed_at: datetime | None = None
    """When the request was closed (UTC)."""
    events: list[CaseEventRecord] = Field(default_factory=list)
    """Every step taken on the request."""
    correspondence: list[CorrespondenceRecord] = Field(default_factory=list)
    """Mails exchanged about the request."""


class SubjectData(BaseModel):
    """Everything about one person, as the caller gathered it; iterables are read exactly once."""

    email: str
    """The known address the package is for."""
    registry: RegistryRecord | None = None
    customer: Customer | None = None
    orders: Iterable[Order] = ()
    """Account orders and guest orders, e.g. chained WooCommerceClient iterators."""
    reviews: Iterable[Review] = ()
    cases: Iterable[CaseRecord] = ()


class ExportOptions(BaseModel):
    model_config = ConfigDict(frozen=True)

    mode: ExportMode = ExportMode.ACCESS
    language: Language = "nl"
    max_bytes: int = Field(20 * 1024 * 1024, gt=0)
    """Zip size limit: most mail hosts refuse attachments above 20-25 MB."""
    body_retention_days: int = Field(180, ge=0)
    """PolicySettings.body_retention_days, stated in the overview's retention section."""
    generated_at: datetime | None = None
    """Defaults to now; fixed in tests."""


class ExportResult(BaseModel):
    path: Path
    size_bytes: int
    files: list[str]
    counts: dict[str, int]


class ShopInfo(Record):
    name: str
    """The webshop."""
    operator: str
    """The company responsible for your data (the controller)."""
    privacy_contact: str
    """Where to send privacy questions and requests."""
    postal_address: str
    """The controller's postal address."""


class PortabilityDocument(Record):
    """data.json of a portability package: the data you provided to us (Art. 20 GDPR)."""

    format: str
    """Name and version of this file format."""
    mode: ExportMode
    """"access" (Art. 15: everything we hold) or "portability" (Art. 20: what you gave us)."""
    generated_at: datetime
    """When this package was made (UTC)."""
    shop: ShopInfo
    """Who made this package."""
    customer: Customer | None
    """Your webshop account (null if you ordered as a guest only)."""
    orders: list[Order]
    """Your orders, from your account and as a guest with your e-mail address."""
    reviews: list[Review]
    """Product reviews you wrote."""


class AccessDocument(PortabilityDocument):
    """data.json of an access package: all personal data we hold about you (Art. 15 GDPR)."""

    registry: RegistryRecord | None
    """Our privacy desk's own record of you."""
    cases: list[CaseRecord]
    """Your privacy requests: steps taken and mails exchanged."""


# --- CSV tables -----------------------------------------------------------------------------


def _flatten(
    model: type[BaseModel], omit: frozenset[str] = frozenset()
) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """(column, description, path into model_dump) per field; nested models become prefixed columns."""
    for name, info in model.model_fields.items():
        if name in omit:
            continue
        about, annotation = info.description or "", info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for sub, sub_about, path in _flatten(annotation):
                yield f"{name}_{sub}", f"{about.rstrip('.')}: {sub_about}", (name, *path)
        else:
            yield name, about, (name,)


@dataclass(frozen=True)
class _Table:
    """One CSV: a model's fields flattened; list fields not split off are written as JSON text."""

    name: str
    model: type[BaseModel]
    about: str
    keys: tuple[tuple[str, str], ...] = ()
    """Leading columns linking a row to its parent (name, description)."""
    omit: frozenset[str] = frozenset()
    """Fields that get their own table."""

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    @cached_property
    def _fields(self) -> list[tuple[str, str, tuple[str, ...]]]:
        return list(_flatten(self.model, self.omit))

    def columns(self) -> list[tuple[str, str]]:
        return [*self.keys, *((name, about) for name, about, _ in self._fields)]

    def described(self) -> Iterator[tuple[str, list[tuple[str, str]]]]:
        """Per field column, its description as (``Model.field`` key, English text) parts, outer first:
        ``billing_city`` is the order's billing address, then the address's city."""
        for column, _, path in self._fields:
            model: type[BaseModel] = self.model
            parts = []
            for step in path:
                info = model.model_fields[step]
                parts.append((f"{model.__name__}.{step}", info.description or ""))
                if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
                    model = info.annotation
            yield column, parts

    def row(self, item: BaseModel, keys: Iterable[object]) -> list[str]:
        data = item.model_dump(mode="json")
        values: list[object] = list(keys)
        for _, _, path in self._fields:
            value: Any = data
            for step in path:
                value = value[step]
            values.append(value)
        return [_cell(v) for v in values]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


_CUSTOMER_KEY = (("customer_id", "Customer number the address belongs to."),
                 ("kind", '"billing" or "shipping" (delivery).'))
_TABLES = {
    t.name: t
    for t in (
        _Table("registry", RegistryRecord, "Our privacy desk's record of you."),
        _Table("customer", Customer, "Your webshop account.", omit=frozenset({"billing", "shipping"})),
        _Table("addresses", Address, "Addresses saved on your account.", keys=_CUSTOMER_KEY),
        _Table("orders", Order, "Your orders, one row each.", omit=frozenset({"line_items"})),
        _Table("order_items", LineItem, "Products per order.",
               keys=(("order_id", "Order the line belongs to."),)),
        _Table("reviews", Review, "Product reviews you wrote."),
        _Table("cases", CaseRecord, "Your privacy requests.", omit=frozenset({"events", "correspondence"})),
        _Table("case_events", CaseEventRecord, "Steps taken on your privacy requests.",
               keys=(("case_reference", "Request the step belongs to."),)),
        _Table("correspondence", CorrespondenceRecord, "Mails about your privacy requests.",
               keys=(("case_reference", "Request the mail belongs to."),)),
    )
}


class _Tables:
    """Open CSV writers for one package; counts rows per table."""

    def __init__(self, folder: Path, names: Iterable[str]) -> None:
        self.counts: dict[str, int] = {}
        self._files: dict[str, IO[str]] = {}
        self._writers: dict[str, Any] = {}
        for name in names:
            table = _TABLES[name]
            handle = (folder / table.file).open("w", encoding="utf-8-sig", newline="")
            self._files[name] = handle
            self._writers[name] = csv.writer(handle)
            self._writers[name].writerow([column for column, _ in table.columns()])
            self.counts[name] = 0

    def write(self, name: str, item: BaseModel, *keys: object) -> None:
        self._writers[name].writerow(_TABLES[name].row(item, keys))
        self.counts[name] += 1

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()


def _customer_rows(tables: _Tables, customer: Customer) -> None:
    tables.write("customer", customer)
    tables.write("addresses", customer.billing, customer.id, "billing")
    tables.write("addresses", customer.shipping, customer.id, "shipping")


def _order_rows(tables: _Tables, order: Order) -> None:
    tables.write("orders", order)
    for item in order.line_items:
        tables.write("order_items", item, order.id)


def _case_rows(tables: _Tables, case: CaseRecord) -> None:
    tables.write("cases", case)
    for event in case.events:
        tables.write("case_events", event, case.reference)
    for mail in case.correspondence:
        tables.write("correspondence", mail, case.reference)


ACCESS_ONLY = frozenset({"registry", "cases", "case_events", "correspondence"})
"""Tables of the agent's own records: not data the customer provided, so not in a portability package."""
_ROWS: dict[str, Callable[[_Tables, Any], None]] = {
    "registry": lambda tables, item: tables.write("registry", item),
    "customer": _customer_rows,
    "orders": _order_rows,
    "reviews": lambda tables, item: tables.write("reviews", item),
    "cases": _case_rows,
}
"""How each data.json section becomes CSV rows; sections without an entry have no table."""


# --- the package ----------------------------------------------------------------------------


def build_export(
    subject: SubjectData, path: Path, shop: ShopSettings, options: ExportOptions | None = None
) -> ExportResult:
    """Write the package for ``subject`` to ``path`` (a .zip); raise ExportTooLarge over the limit.

    Nothing is left behind on failure: the work folder is removed and ``path`` is only replaced
    by a complete package.
    """
    options = options or ExportOptions()
    access = options.mode is ExportMode.ACCESS
    document = AccessDocument if access else PortabilityDocument
    table_names = [name for name in _TABLES if access or name not in ACCESS_ONLY]
    generated = (options.generated_at or datetime.now(UTC)).astimezone(UTC)
    shop_info = ShopInfo(name=shop.name, operator=shop.operator, privacy_contact=shop.privacy_contact,
                         postal_address=shop.postal_address)
    values = {
        "format": FORMAT, "mode": options.mode, "generated_at": generated, "shop": shop_info,
        "customer": subject.customer, "orders": subject.orders, "reviews": subject.reviews,
        "registry": subject.registry, "cases": subject.cases,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with TemporaryDirectory(dir=path.parent, prefix=".export-") as tmp:
        work = Path(tmp)
        tables = _Tables(work, table_names)
        try:
            with (work / "data.json").open("w", encoding="utf-8") as out:
                _write_data(out, document, values, tables)
        finally:
            tables.close()
        schema = _schema(document, options.language)
        (work / "schema.json").write_text(json.dumps(schema, indent=2, ensure_ascii=False), encoding="utf-8")
        _fields_csv(work / "fields.csv", table_names, options.language)
        readable = ["overview.html", "overview.txt", "README.txt"] if access else ["README.txt"]
        files = ["data.json", "schema.json", *(_TABLES[n].file for n in table_names), "fields.csv", *readable]
        context = _context(subject, shop, options, tables.counts, files, generated)
        for name in readable:
            template = "overview.txt" if name == "README.txt" else name
            (work / name).write_text(_render(template, context), encoding="utf-8")
        size = _zip(work, files, work / "package.zip", options.max_bytes)
        os.replace(work / "package.zip", path)
    return ExportResult(path=path, size_bytes=size, files=files, counts=tables.counts)


def _write_data(
    out: IO[str], document: type[PortabilityDocument], values: dict[str, Any], tables: _Tables
) -> None:
    """Stream data.json in the document model's field order; list items are written one by one."""
    out.write("{")
    for n, (name, info) in enumerate(document.model_fields.items()):
        out.write(f'{"," if n else ""}\n{json.dumps(name)}: ')
        value, rows = values[name], _ROWS.get(name)
        if get_origin(info.annotation) is not list:
            out.write(to_json(value).decode())
            if rows and value is not None:
                rows(tables, value)
            continue
        out.write("[")
        for i, item in enumerate(value):
            out.write(f'{"," if i else ""}\n  {item.model_dump_json()}')
            if rows:
                rows(tables, item)
        out.write("\n]")
    out.write("\n}\n")


def _schema(document: type[PortabilityDocument], language: Language) -> dict[str, Any]:
    """data.json's JSON Schema with every field description in the customer's language.

    The texts are fields.csv's (``[fields.columns]``) plus ``[schema]`` for fields that are no CSV
    column; English is the models' own. The titles pydantic derives from the field names ("Billing
    City") are dropped: they only repeat the key, in English.
    """
    schema = document.model_json_schema(mode="serialization")
    words = _strings(language)
    texts: dict[str, str] = {**words.get("fields", {}).get("columns", {}), **words.get("schema", {})}
    for model, definition in [(str(schema.get("title", "")), schema), *schema.get("$defs", {}).items()]:
        for name, prop in definition.get("properties", {}).items():
            prop.pop("title", None)
            if "description" in prop:  # the documents share their fields: one text serves both
                key = f"{PortabilityDocument.__name__ if model.endswith('Document') else model}.{name}"
                prop["description"] = texts.get(f"{model}.{name}", texts.get(key, prop["description"]))
    schema["description"] = texts.get(document.__name__, schema.get("description", ""))
    return schema


def _fields_csv(path: Path, tables: Iterable[str], language: Language) -> None:
    """Every table and column explained in the customer's language (``[fields]`` in the wording file).

    English comes from the models' own descriptions; another language without a text for a
    column is a gap in its wording file, which ``test_exports`` finds.
    """
    words = _strings(language).get("fields", {})
    columns, links = words.get("columns", {}), words.get("links", {})
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(words.get("header", ["file", "column", "description"]))
        for name in tables:
            table = _TABLES[name]
            writer.writerow([table.file, "", words.get("tables", {}).get(name, table.about)])
            writer.writerows([table.file, column, links.get(f"{name}.{column}", about)]
                             for column, about in table.keys)
            for column, parts in table.described():
                *outer, own = [columns.get(key, about) for key, about in parts]
                writer.writerow([table.file, column, ": ".join([*(o.rstrip(".") for o in outer), own])])


def _zip(folder: Path, files: list[str], target: Path, max_bytes: int) -> int:
    """Deflate ``files`` into ``target`` one by one, checking the size after each."""
    with target.open("wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in files:
            archive.write(folder / name, name)
            if raw.tell() > max_bytes:
                raise ExportTooLarge(
                    f"the package passed the {_mb(max_bytes)} limit at {name} ({_mb(raw.tell())} so far): "
                    "send it another way (e.g. a download link) or raise the export size limit"
                )
    return target.stat().st_size


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


# --- the readable overview ------------------------------------------------------------------

_CATEGORIES = (
    ("account", "customer"), ("addresses", "addresses"), ("orders", "orders"), ("payments", "orders"),
    ("shipping", "orders"), ("reviews", "reviews"), ("requests", "cases"),
)
"""Overview categories (worded in templates/exports/<lang>.toml) and the table that counts them."""


@dataclass(frozen=True)
class _Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)


def _strings(language: Language) -> dict[str, Any]:
    with (TEMPLATES_DIR / f"{language}.toml").open("rb") as handle:
        return tomllib.load(handle)


def _render(name: str, context: dict[str, Any]) -> str:
    """HTML is autoescaped: names and addresses come from customers and may hold markup."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(name).render(context)


def _context(
    subject: SubjectData, shop: ShopSettings, options: ExportOptions, counts: dict[str, int],
    files: list[str], generated: datetime,
) -> dict[str, Any]:
    """Overview and README content as plain strings; the templates only lay it out (and escape it)."""
    t = _strings(options.language)
    customer, registry = subject.customer, subject.registry
    name = f"{customer.first_name} {customer.last_name}".strip() if customer else ""
    facts = {
        "shop": shop.name, "operator": shop.operator, "contact": shop.privacy_contact,
        "officer": shop.privacy_officer, "address": shop.postal_address, "date": f"{generated:%Y-%m-%d}",
        "who": f"{name or (registry.name if registry else '')} <{subject.email}>".strip(),
        "days": options.body_retention_days,
    }
    rows = [[file, t["files"][file], str(counts.get(file.removesuffix(".csv"), ""))] for file in files]
    package = _Section(t["package"]["title"], header=t["package"]["header"], rows=rows)
    fmt = _Section(t["format"]["title"], items=t["format"]["items"])
    if options.mode is ExportMode.PORTABILITY:
        return {"lang": options.language, "title": t["portability_title"].format(**facts),
                "intro": t["portability_intro"].format(**facts), "sections": [package, fmt]}
    held = any(counts.get(n) for n in ("registry", "customer", "orders", "reviews"))
    outside = [r for r in shop.recipients if r.outside_eea]
    objected = registry is not None and registry.marketing_objection
    categories = [
        [c["name"], str(counts.get(table, 0)), c["purpose"], c["basis"], c["retention"].format(**facts)]
        for c, table in ((t["categories"][key], table) for key, table in _CATEGORIES)
    ]
    recipients = [[r.name, r.purpose_in(options.language), r.country, r.safeguard or ""] for r in shop.recipients]
    no_safeguard = t["transfers"]["no_safeguard"].format(**facts)
    transfers = [f"{r.name} ({r.country}): {r.safeguard or no_safeguard}" for r in outside]
    sections = [
        _Section(t["processing"]["title"], [t["processing"]["yes" if held else "no"].format(**facts)]),
        package,
        _Section(t["categories"]["title"], header=t["categories"]["header"], rows=categories),
        _Section(t["recipients"]["title"], [t["recipients"]["intro"]], header=t["recipients"]["header"],
                 rows=recipients),
        _Section(t["transfers"]["title"], [t["transfers"]["intro" if outside else "none"]], items=transfers),
        _Section(t["sources"]["title"], [t["sources"]["text"].format(**facts)]),
        _Section(t["automated"]["title"], [shop.automated_decisions or t["automated"]["none"]]),
        _Section(t["marketing"]["title"], [t["marketing"]["objected" if objected else "not_objected"]]),
        _Section(t["rights"]["title"], [t["rights"]["how"].format(**facts)], items=t["rights"]["items"]),
        _Section(t["complaint"]["title"], [t["complaint"]["text"]]),
        _Section(t["contact"]["title"], [t["contact"]["text"].format(**facts)]),
        fmt,
    ]
    return {"lang": options.language, "title": t["title"].format(**facts),
            "intro": t["intro"].format(**facts), "sections": sections}


def summarise(package: Path) -> dict[str, int]:
    """What a package holds per source, read back from its data.json: for the officer before approval.

    ``registry`` and ``webshop_account`` are 0 or 1; the others count items.
    """
    with zipfile.ZipFile(package) as archive:
        data = json.loads(archive.read("data.json"))
    return {
        "registry": int(data.get("registry") is not None),
        "webshop_account": int(data.get("customer") is not None),
        "orders": len(data.get("orders", [])),
        "reviews": len(data.get("reviews", [])),
        "requests": len(data.get("cases", [])),
    }
