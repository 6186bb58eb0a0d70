"""Access and portability packages, checked file by file and field by field."""

from __future__ import annotations

import csv
import io
import itertools
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from inbox_agent.config import Recipient, ShopSettings
from inbox_agent.connectors.woocommerce import Customer, Order, Review, WooCommerceClient
from inbox_agent.exports import (
    CaseEventRecord,
    CaseRecord,
    CorrespondenceRecord,
    ExportMode,
    ExportOptions,
    ExportTooLarge,
    RegistryRecord,
    SubjectData,
    build_export,
)
from inbox_agent.fictitious_shop import fictitious_shop
from inbox_agent.sandbox_shop import FakeWooCommerce, customer_json, order_json, review_json

EMAIL = "jan@example.nl"
WHEN = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ACCESS_FILES = [
    "data.json", "schema.json", "registry.csv", "customer.csv", "addresses.csv", "orders.csv", "order_items.csv",
    "reviews.csv", "cases.csv", "case_events.csv", "correspondence.csv", "fields.csv", "overview.html",
    "overview.txt", "README.txt",
]


def subject(first_name: str = "Jan", orders: int = 2, objection: bool = False) -> SubjectData:
    case = CaseRecord(
        reference="KT-2026-000123", rights=["access"], state="in_progress", received_at=WHEN,
        identity_method="known address",
        events=[CaseEventRecord(at=WHEN, actor="agent", kind="received", to_state="received")],
        correspondence=[CorrespondenceRecord(at=WHEN, direction="in", from_address=EMAIL,
                                             to_address="info@luminet.nl", subject="Inzage", message_id="<a@b>")],
    )
    return SubjectData(
        email=EMAIL,
        registry=RegistryRecord(email=EMAIL, name="Jan Jansen", customer_ref="7", source="woocommerce",
                                order_numbers=["1"], marketing_objection=objection),
        customer=Customer.model_validate(customer_json(7, EMAIL, first=first_name)),
        orders=(Order.model_validate(order_json(n, 7, EMAIL, items=2)) for n in range(1, orders + 1)),
        reviews=[Review.model_validate(review_json(3, EMAIL))],
        cases=[case],
    )


def export(tmp_path: Path, data: SubjectData, shop: ShopSettings | None = None, **options: Any) -> zipfile.ZipFile:
    result = build_export(data, tmp_path / "out" / "package.zip", shop or fictitious_shop(),
                          ExportOptions(generated_at=WHEN, **options))
    return zipfile.ZipFile(result.path)


def text(package: zipfile.ZipFile, name: str) -> str:
    return package.read(name).decode("utf-8-sig")


def rows(package: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text(package, name))))


def header(package: zipfile.ZipFile, name: str) -> list[str]:
    return next(csv.reader(io.StringIO(text(package, name))))


def test_access_package_holds_every_file_and_reports_counts(tmp_path: Path) -> None:
    result = build_export(subject(), tmp_path / "package.zip", fictitious_shop(), ExportOptions(generated_at=WHEN))

    assert result.files == ACCESS_FILES
    assert zipfile.ZipFile(result.path).namelist() == ACCESS_FILES
    assert result.counts == {"registry": 1, "customer": 1, "addresses": 2, "orders": 2, "order_items": 4,
                             "reviews": 1, "cases": 1, "case_events": 1, "correspondence": 1}
    assert result.size_bytes == result.path.stat().st_size
    assert [p.name for p in tmp_path.iterdir()] == ["package.zip"]  # no work folder left behind


def test_data_json_is_a_faithful_copy(tmp_path: Path) -> None:
    data = json.loads(text(export(tmp_path, subject()), "data.json"))

    assert list(data) == ["format", "mode", "generated_at", "shop", "customer", "orders", "reviews", "registry",
                          "cases"]
    assert (data["format"], data["mode"], data["generated_at"]) == ("inbox-agent-export/1", "access",
                                                                    "2026-03-02T10:00:00Z")
    assert data["shop"]["operator"] == "Testdorp Webdiensten BV"
    customer = data["customer"]
    assert (customer["id"], customer["email"], customer["username"]) == (7, EMAIL, "jan7")
    assert customer["billing"]["postcode"] == "7741 AA" and customer["shipping"]["phone"] == "0612345678"
    order = data["orders"][0]
    assert (order["id"], order["total"], order["total_tax"], order["transaction_id"]) == (1, "29.15", "4.20",
                                                                                         "tr_00000001")
    assert order["payment_method_title"] == "iDEAL" and order["customer_note"] == "Graag bij de buren"
    assert [i["name"] for i in order["line_items"]] == ["Rompertje maat 56", "Rompertje maat 57"]
    assert order["shipping_lines"][0]["method_title"] == "PostNL"
    assert order["date_paid_gmt"] == "2025-03-01T09:31:00Z"
    assert data["reviews"][0]["review"] == "<p>Mooi zacht!</p>\n"
    assert data["registry"]["order_numbers"] == ["1"]
    case = data["cases"][0]
    assert case["reference"] == "KT-2026-000123" and case["events"][0]["kind"] == "received"
    assert case["correspondence"][0]["subject"] == "Inzage"


def test_every_csv_has_its_documented_header_and_rows(tmp_path: Path) -> None:
    package = export(tmp_path, subject())

    assert header(package, "addresses.csv") == ["customer_id", "kind", "first_name", "last_name", "company",
                                                "address_1", "address_2", "city", "state", "postcode", "country",
                                                "email", "phone"]
    assert header(package, "order_items.csv") == ["order_id", "id", "name", "product_id", "variation_id",
                                                  "quantity", "sku", "price", "subtotal", "subtotal_tax", "total",
                                                  "total_tax", "meta_data"]
    assert header(package, "customer.csv") == ["id", "email", "first_name", "last_name", "username", "role",
                                               "date_created_gmt", "date_modified_gmt", "is_paying_customer",
                                               "meta_data"]
    assert {"billing_email", "shipping_country", "transaction_id", "shipping_lines"} <= set(
        header(package, "orders.csv"))
    assert header(package, "cases.csv")[:3] == ["reference", "rights", "state"]
    assert header(package, "case_events.csv")[:2] == ["case_reference", "at"]
    assert header(package, "correspondence.csv")[:3] == ["case_reference", "at", "direction"]

    customer = rows(package, "customer.csv")[0]
    assert (customer["id"], customer["email"], customer["is_paying_customer"]) == ("7", EMAIL, "true")
    assert [(a["customer_id"], a["kind"], a["city"]) for a in rows(package, "addresses.csv")] == [
        ("7", "billing", "Coevorden"), ("7", "shipping", "Coevorden")]
    order = rows(package, "orders.csv")[1]
    assert (order["id"], order["billing_email"], order["total"]) == ("2", EMAIL, "29.15")
    assert json.loads(order["shipping_lines"])[0]["method_title"] == "PostNL"
    assert [(i["order_id"], i["sku"]) for i in rows(package, "order_items.csv")] == [
        ("1", "RMP-0"), ("1", "RMP-1"), ("2", "RMP-0"), ("2", "RMP-1")]
    assert rows(package, "reviews.csv")[0]["rating"] == "5"
    assert rows(package, "registry.csv")[0]["marketing_objection"] == "false"
    case = rows(package, "cases.csv")[0]
    assert (case["reference"], json.loads(case["rights"]), case["received_at"]) == (
        "KT-2026-000123", ["access"], "2026-03-02T10:00:00Z")
    assert rows(package, "case_events.csv")[0]["case_reference"] == "KT-2026-000123"
    assert rows(package, "correspondence.csv")[0]["from_address"] == EMAIL


def fields(package: zipfile.ZipFile) -> dict[tuple[str, str], str]:
    """fields.csv as {(file, column): description}; its header is in the package's language."""
    _header, *lines = csv.reader(io.StringIO(text(package, "fields.csv")))
    return {(file, column): about for file, column, about in lines}


def test_fields_csv_describes_every_column_of_every_csv(tmp_path: Path) -> None:
    package = export(tmp_path, subject())
    described: dict[str, list[str]] = {}
    for (file, column), about in fields(package).items():
        assert about.strip(), (file, column)
        if column:
            described.setdefault(file, []).append(column)

    tables = [f for f in ACCESS_FILES if f.endswith(".csv") and f != "fields.csv"]
    assert sorted(described) == sorted(tables)
    for name in tables:
        assert described[name] == header(package, name), name


@pytest.mark.parametrize(("language", "header"), [("nl", "uitleg"), ("de", "Beschreibung"), ("fr", "description")])
def test_fields_csv_is_in_the_customers_language(tmp_path: Path, language: str, header: str) -> None:
    """Issue 14: fields.csv was English in Dutch and German packages."""
    english = fields(export(tmp_path / "en", subject(), language="en"))
    package = export(tmp_path / language, subject(), language=language)
    translated = fields(package)
    assert next(csv.reader(io.StringIO(text(package, "fields.csv"))))[2] == header
    assert translated.keys() == english.keys()
    untranslated = [key for key, about in translated.items() if about == english[key]]
    assert untranslated == []


def _described(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow $ref and nullable anyOf to the schema that has properties or items."""
    while True:
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
        elif "anyOf" in node:
            node = next(n for n in node["anyOf"] if n.get("type") != "null")
        else:
            return node


def _check(schema: dict[str, Any], node: dict[str, Any], value: Any, where: str) -> int:
    node = _described(schema, node)
    if isinstance(value, dict) and "properties" in node:
        checked = 0
        for key, item in value.items():
            prop = node["properties"].get(key)
            assert prop is not None, f"{where}.{key} missing from schema.json"
            assert prop.get("description"), f"{where}.{key} has no description"
            checked += 1 + _check(schema, prop, item, f"{where}.{key}")
        return checked
    if isinstance(value, list) and "items" in node:
        return sum(_check(schema, node["items"], item, f"{where}[]") for item in value)
    return 0


def test_schema_json_describes_every_data_json_field(tmp_path: Path) -> None:
    package = export(tmp_path, subject())
    schema = json.loads(text(package, "schema.json"))

    checked = _check(schema, schema, json.loads(text(package, "data.json")), "data")

    assert checked > 150  # every key at every depth, not just the top level
    assert schema["description"].startswith("data.json van een inzagepakket")  # the package's language, nl


def _descriptions(schema: dict[str, Any]) -> dict[str, str]:
    found = {"": schema["description"]}
    for model, definition in [("", schema), *schema["$defs"].items()]:
        found |= {f"{model}.{name}": prop["description"] for name, prop in definition.get("properties", {}).items()
                  if "description" in prop}
    return found


@pytest.mark.parametrize("language", ["nl", "de", "fr"])
@pytest.mark.parametrize("mode", ["access", "portability"])
def test_schema_json_is_in_the_customers_language(tmp_path: Path, language: str, mode: str) -> None:
    """Issue 14: schema.json kept the models' English descriptions in Dutch, German and French packages."""
    english = json.loads(text(export(tmp_path / "en", subject(), language="en", mode=mode), "schema.json"))
    schema = json.loads(text(export(tmp_path / language, subject(), language=language, mode=mode), "schema.json"))
    translated, original = _descriptions(schema), _descriptions(english)
    assert translated.keys() == original.keys() and len(translated) > 80
    assert [key for key, about in translated.items() if about == original[key]] == []
    assert not any("title" in prop for definition in schema["$defs"].values()
                   for prop in definition.get("properties", {}).values())  # "Billing City": English, and only the key


def test_overview_names_recipients_and_the_authority_and_escapes_html(tmp_path: Path) -> None:
    shop = fictitious_shop()
    shop.recipients.append(Recipient(name="Sendcloud <b>", purpose="verzendlabels", country="NL"))
    package = export(tmp_path, subject(first_name="<script>alert(1)</script>"), shop, language="en")
    html, plain = text(package, "overview.html"), text(package, "overview.txt")

    for page in (html, plain):
        for name in ("Meer dan Online", "Mollie", "PostNL", "Google Analytics", "WooCommerce"):
            assert name in page
        assert "Autoriteit Persoonsgegevens" in page
        assert "art. 52 AWR" in page
        assert "Google Analytics (US): EU-US Data Privacy Framework" in page
        assert "We take no decisions about you based solely on automated processing" in page
        assert "180 days after your request is closed" in page
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Jansen" in html
    assert "Sendcloud &lt;b&gt;" in html
    assert "<script>alert(1)</script> Jansen <jan@example.nl>" in plain


@pytest.mark.parametrize(("language", "title", "complaint"), [
    ("nl", "Uw persoonsgegevens bij Kinderwinkel Testdorp", "Klacht indienen"),
    ("en", "Your personal data at Kinderwinkel Testdorp", "Complaints"),
    ("de", "Ihre personenbezogenen Daten bei Kinderwinkel Testdorp", "Beschwerde"),
    ("fr", "Vos données personnelles chez Kinderwinkel Testdorp", "Réclamation"),
])
def test_overview_is_in_the_customers_language(tmp_path: Path, language: str, title: str, complaint: str) -> None:
    package = export(tmp_path, subject(), language=language)

    for name in ("overview.html", "overview.txt"):
        page = text(package, name)
        assert title in page and complaint in page and "Autoriteit Persoonsgegevens" in page
    assert f'<html lang="{language}">' in text(package, "overview.html")


def test_overview_states_configured_automation_objection_and_no_customer_data(tmp_path: Path) -> None:
    shop = fictitious_shop(automated_decisions="Orders above EUR 500 are held for a fraud check.")
    data = subject(objection=True).model_copy(update={"customer": None, "orders": (), "reviews": ()})
    data = data.model_copy(update={"registry": None})

    plain = text(export(tmp_path, data, shop, language="en"), "overview.txt")

    assert "Orders above EUR 500 are held for a fraud check." in plain
    assert "We hold no customer data about you" in plain
    marked = text(export(tmp_path, subject(objection=True), language="en"), "overview.txt")
    assert "You objected to direct marketing" in marked and "Yes. Testdorp Webdiensten BV processes" in marked


def test_portability_holds_only_what_the_customer_provided(tmp_path: Path) -> None:
    cases_read: list[int] = []

    def cases() -> Iterator[CaseRecord]:
        cases_read.append(1)
        yield from ()

    data = subject().model_copy(update={"cases": cases()})
    package = export(tmp_path, data, mode=ExportMode.PORTABILITY)

    assert package.namelist() == ["data.json", "schema.json", "customer.csv", "addresses.csv", "orders.csv",
                                  "order_items.csv", "reviews.csv", "fields.csv", "README.txt"]
    document = json.loads(text(package, "data.json"))
    assert list(document) == ["format", "mode", "generated_at", "shop", "customer", "orders", "reviews"]
    assert document["mode"] == "portability" and len(document["orders"]) == 2
    assert "registry" not in json.loads(text(package, "schema.json"))["properties"]
    assert "Uw gegevens van Kinderwinkel Testdorp, om mee te nemen" in text(package, "README.txt")
    assert not cases_read


def test_too_large_package_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ExportTooLarge, match=r"passed the 0\.0 MB limit at data\.json"):
        build_export(subject(orders=50), tmp_path / "package.zip", fictitious_shop(),
                     ExportOptions(max_bytes=2_000, generated_at=WHEN))

    assert list(tmp_path.iterdir()) == []


def test_a_customer_with_2000_orders_streams_from_woocommerce_into_the_package(tmp_path: Path) -> None:
    with FakeWooCommerce() as woo:
        woo.add(woo.customers, customer_json(7, EMAIL))
        woo.add(woo.orders, *(order_json(n, 7, EMAIL) for n in range(1, 2001)), order_json(5000, 0, EMAIL))
        with WooCommerceClient(woo.settings()) as client:
            customer = client.find_customers_by_email(EMAIL)[0]
            orders = itertools.chain(client.iter_customer_orders(customer.id), client.iter_guest_orders(EMAIL))
            data = SubjectData(email=EMAIL, customer=customer, orders=orders)
            result = build_export(data, tmp_path / "package.zip", fictitious_shop(),
                                  ExportOptions(mode=ExportMode.PORTABILITY, generated_at=WHEN))

    package = zipfile.ZipFile(result.path)
    assert result.counts["orders"] == 2001 and result.counts["order_items"] == 2001
    order_rows = rows(package, "orders.csv")
    assert [r["id"] for r in order_rows] == [str(n) for n in [*range(1, 2001), 5000]]
    assert len(json.loads(text(package, "data.json"))["orders"]) == 2001
