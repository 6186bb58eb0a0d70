"""Rendering mail texts: every kind in every language, legal content, fall-back, overrides, escaping."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from jinja2 import TemplateError
from pydantic import ValidationError

from inbox_agent.config import Recipient
from inbox_agent.deadlines import compute
from inbox_agent.fictitious_shop import fictitious_shop
from inbox_agent.models import Category
from inbox_agent.replies import (
    AUTOMATIC_KINDS,
    KINDS,
    OFFICER_KINDS,
    RESULT_KINDS,
    Done,
    Kept,
    OpenCase,
    ReplyContext,
    ResultDetails,
    format_date,
    render,
)

LANGUAGES = ("nl", "en", "de", "fr")
REF = "KT-2026-000123"
DEADLINES = compute(datetime(2026, 1, 31, 10, tzinfo=UTC))  # target 28 Feb, legal 2 Mar, extended 28 Apr

# What a caller must supply per kind; everything else is left at its default in the minimal context.
REQUIRED: dict[str, dict[str, Any]] = {
    "identity_code": {"code": "483920", "code_valid_hours": 72},
    "extension": {"rights": [Category.ACCESS], "extension_reasons": "Many requests at once."},
    "refusal": {"rights": [Category.ERASURE], "refusal_reasons": "We need the invoices."},
    "interim": {"rights": [Category.ERASURE]},
    **{kind: {"case_url": "http://127.0.0.1:8025/cases/7"} for kind in OFFICER_KINDS if kind != "officer_digest"},
}


def full_context(language: str, **changes: Any) -> ReplyContext:
    values: dict[str, Any] = {
        "shop": fictitious_shop(),
        "reference": REF,
        "deadlines": DEADLINES,
        "rights": [Category.ACCESS, Category.ERASURE],
        "language": language,
        "customer_name": "Sanne",
        "identity_pending": True,
        "code": "483920",
        "code_valid_hours": 72,
        "extension_reasons": "Many requests at once.",
        "refusal_reasons": "We need the invoices.",
        "case_url": "http://127.0.0.1:8025/cases/7",
        "details": ResultDetails(
            attachments=["data.json", "data.csv", "overview.txt"],
            sources=["PostNL: track and trace code"],
            changes=[Done(what="Address changed", on=date(2026, 2, 3))],
            erased=[Done(what="Account", on=date(2026, 2, 3))],
            kept=[Kept(what="Invoices", why="Tax law.", until=date(2033, 1, 1))],
            frozen=["Account"],
            recipients_informed=["PostNL"],
            note="Officer note.",
        ),
        "open_cases": [
            OpenCase(reference="KT-2026-000001", state="in_progress", target=date(2026, 2, 28),
                     legal=date(2026, 3, 2), days_left=3, url="http://127.0.0.1:8025/cases/1"),
            OpenCase(reference="KT-2026-000002", state="awaiting_identity", target=date(2026, 2, 20),
                     legal=date(2026, 3, 2), days_left=-2),
        ],
    }
    return ReplyContext(**(values | changes))


def minimal_context(kind: str, language: str) -> ReplyContext:
    case = {} if kind == "officer_digest" else {"reference": REF, "deadlines": DEADLINES}
    return ReplyContext(shop=fictitious_shop(), language=language, **case, **REQUIRED.get(kind, {}))


def assert_well_formed(body: str) -> None:
    assert body.strip()
    for leftover in ("{{", "}}", "{%", "%}", "None", "\n\n\n"):
        assert leftover not in body


# --- every kind, every language --------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_fully(kind: str, language: str) -> None:
    mail = render(kind, full_context(language), to="sanne@example.nl", in_reply_to="<a@x>", references=["<a@x>"])
    assert mail.subject.startswith(f"[{REF}] ")
    assert mail.subject.count(REF) == 1
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert_well_formed(mail.body_text)
    assert mail.kind == kind
    assert (mail.to, mail.in_reply_to, mail.references) == ("sanne@example.nl", "<a@x>", ["<a@x>"])
    expected_language = "nl" if kind in OFFICER_KINDS and language in ("de", "fr") else language
    assert mail.language == expected_language


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_with_only_the_required_fields(kind: str, language: str) -> None:
    mail = render(kind, minimal_context(kind, language), to="sanne@example.nl")
    assert_well_formed(mail.body_text)


def test_drafts_and_automatic_mails() -> None:
    drafts = {"extension", "refusal", "not_verified", *RESULT_KINDS}
    assert set(KINDS) - AUTOMATIC_KINDS == drafts
    for kind in KINDS:
        assert render(kind, full_context("nl"), to="a@b.nl").automatic is (kind not in drafts)


def test_result_kind_per_right() -> None:
    assert RESULT_KINDS == (
        "result_access", "result_rectification", "result_erasure",
        "result_restriction", "result_portability", "result_objection",
    )


# --- legal content -----------------------------------------------------------------------------------

SIX_WEEKS = {"nl": "6 weken", "en": "6 weeks", "de": "6 Wochen", "fr": "6 semaines"}


@pytest.mark.parametrize("kind", ["refusal", "not_verified"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_refusals_name_the_dpa_and_the_six_week_court_right(kind: str, language: str) -> None:
    body = render(kind, full_context(language), to="a@b.nl").body_text
    assert "Autoriteit Persoonsgegevens" in body
    assert SIX_WEEKS[language] in body
    assert "artikel 35" in body or "article 35" in body or "Artikel 35" in body
    assert "UAVG" in body or "Uitvoeringswet AVG" in body
    assert "rechtbank" in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_refusal_carries_the_reasons(language: str) -> None:
    ctx = full_context(language, refusal_reasons="Het verzoek gaat over iemand anders.")
    assert "Het verzoek gaat over iemand anders." in render("refusal", ctx, to="a@b.nl").body_text


RECIPIENTS = [
    Recipient(name="Meer dan Online", purpose="hosting"),
    Recipient(name="Sendcloud", purpose="verzendlabels", country="NL"),
    Recipient(name="Klaviyo", purpose="nieuwsbrief", country="US", safeguard="Standard contractual clauses"),
]


@pytest.mark.parametrize("language", LANGUAGES)
def test_access_result_names_every_configured_recipient(language: str) -> None:
    ctx = full_context(language, shop=fictitious_shop(recipients=RECIPIENTS))
    body = render("result_access", ctx, to="a@b.nl").body_text
    for recipient in RECIPIENTS:
        assert recipient.name in body
        assert recipient.purpose in body
    transfers = [line for line in body.splitlines() if line.startswith("- Klaviyo (US)")]
    assert len(transfers) == 1 and "Standard contractual clauses" in transfers[0]
    assert "Sendcloud (NL)" not in body  # inside the EEA: not listed as a transfer
    assert "Autoriteit Persoonsgegevens" in body
    assert "52" in body and "7" in body  # invoices: 7 years, art. 52 AWR
    for attachment in ("data.json", "data.csv", "overview.txt"):
        assert attachment in body


def test_access_result_uses_shipped_recipients_and_automated_decisions_from_config() -> None:
    body = render("result_access", full_context("en"), to="a@b.nl").body_text
    for name in ("Meer dan Online", "Mollie", "PostNL", "WooCommerce", "Google Analytics"):
        assert name in body
    assert "We do not take decisions about you by computer alone" in body
    shop = fictitious_shop(automated_decisions="Orders above EUR 500 are checked for fraud automatically.")
    body = render("result_access", full_context("en", shop=shop), to="a@b.nl").body_text
    assert "checked for fraud automatically" in body


def test_access_result_when_no_data_is_held() -> None:
    ctx = full_context("nl", details=ResultDetails(data_held=False))
    body = render("result_access", ctx, to="a@b.nl").body_text
    assert "geen persoonsgegevens van je gevonden" in body
    assert "Autoriteit Persoonsgegevens" in body
    assert "webwinkel" not in body.split("Behalve")[0]  # no webshop connected: we do not claim to have searched it
    searched = full_context("nl", details=ResultDetails(data_held=False, searched=["registry", "mail", "webshop"]))
    assert "gezocht in onze webwinkel" in render("result_access", searched, to="a@b.nl").body_text


def test_access_result_promises_everything_only_when_the_webshop_was_searched() -> None:
    partial = render("result_access", full_context("en"), to="a@b.nl").body_text
    assert "a copy of what we hold about you in our customer records and our mail" in partial
    assert "copy of everything" not in partial
    whole = full_context("en", details=ResultDetails(searched=["registry", "mail", "webshop"]))
    assert "a copy of everything we hold about you" in render("result_access", whole, to="a@b.nl").body_text


@pytest.mark.parametrize(
    ("language", "extended"),
    [("nl", "28 april 2026"), ("en", "28 April 2026"), ("de", "28. April 2026"), ("fr", "28 avril 2026")],
)
def test_extension_gives_reasons_and_the_new_date(language: str, extended: str) -> None:
    body = render("extension", full_context(language), to="a@b.nl").body_text
    assert extended in body
    assert "Many requests at once." in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_identity_code_carries_code_and_reference(language: str) -> None:
    mail = render("identity_code", full_context(language), to="known@example.nl")
    assert "483920" in mail.body_text
    assert REF in mail.body_text


def test_shop_identity_comes_from_config() -> None:
    shop = fictitious_shop(name="Grote Toppers", operator="Acme BV", privacy_contact="privacy@acme.example",
                           privacy_officer="J. Jansen", postal_address="Dorpsstraat 1, 1234AB Ergens")
    body = render("ack", full_context("nl", shop=shop), to="a@b.nl").body_text
    for value in ("Acme BV", "privacy@acme.example", "J. Jansen", "Dorpsstraat 1, 1234AB Ergens"):
        assert value in body
    assert "Testdorp Webdiensten" not in body and "Testpersoon" not in body


def test_ack_mentions_pending_identity_only_when_pending() -> None:
    pending = render("ack", full_context("en"), to="a@b.nl").body_text
    verified = render("ack", full_context("en", identity_pending=False), to="a@b.nl").body_text
    assert "separate mail" in pending and "separate mail" not in verified
    assert "28 February 2026" in verified


def test_digest_lists_open_cases_with_days_left_and_has_no_case_tag() -> None:
    mail = render("officer_digest", minimal_context("officer_digest", "en").model_copy(
        update={"open_cases": full_context("en").open_cases}), to="officer@example.nl")
    assert not mail.subject.startswith("[")
    assert "KT-2026-000001" in mail.body_text and "3 day(s) left" in mail.body_text
    assert "2 day(s) past" in mail.body_text


# --- language fall-back and dates ------------------------------------------------------------------

@pytest.mark.parametrize("language", ["es", "other", "../nl"])
def test_unknown_language_falls_back_to_dutch(language: str) -> None:
    mail = render("ack", full_context(language), to="a@b.nl")
    assert mail.language == "nl"
    assert "28 februari 2026" in mail.body_text


def test_shop_default_language_comes_before_dutch() -> None:
    ctx = full_context("es", shop=fictitious_shop(default_language="de"))
    assert render("ack", ctx, to="a@b.nl").language == "de"


def test_missing_kind_in_a_language_falls_back_to_dutch_with_dutch_dates() -> None:
    mail = render("officer_reminder", full_context("fr"), to="officer@example.nl")
    assert mail.language == "nl"
    assert "2 maart 2026" in mail.body_text


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("nl", "28 februari 2026"), ("en", "28 February 2026"),
        ("de", "28. Februar 2026"), ("fr", "28 février 2026"),
    ],
)
def test_format_date(language: str, text: str) -> None:
    assert format_date(date(2026, 2, 28), language) == text


def test_format_date_french_first_of_month() -> None:
    assert format_date(date(2026, 3, 1), "fr") == "1er mars 2026"
    assert format_date(date(2026, 3, 1), "de") == "1. März 2026"


# --- overrides, escaping, headers --------------------------------------------------------------------

def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_shop_override_wins_and_the_rest_stays_shipped(tmp_path: Path) -> None:
    text = "Subject: Eigen tekst\n\nHoi {{ customer_name }}, tot {{ deadlines.target|date }}.\n"
    write(tmp_path / "nl" / "ack.txt", text)
    ctx = full_context("nl", shop=fictitious_shop(templates_dir=tmp_path))
    ack = render("ack", ctx, to="a@b.nl")
    assert ack.subject == f"[{REF}] Eigen tekst"
    assert ack.body_text == "Hoi Sanne, tot 28 februari 2026.\n"
    assert "kenmerk" in render("clarification", ctx, to="a@b.nl").body_text


def test_override_for_dutch_does_not_replace_a_shipped_translation(tmp_path: Path) -> None:
    write(tmp_path / "nl" / "ack.txt", "Subject: Eigen tekst\n\nHoi.\n")
    ctx = full_context("en", shop=fictitious_shop(templates_dir=tmp_path))
    assert render("ack", ctx, to="a@b.nl").subject == f"[{REF}] We have received your privacy request"


def test_html_alternative_escapes_the_customer_name() -> None:
    mail = render("ack", full_context("nl", customer_name="<script>alert(1)</script>"), to="a@b.nl")
    assert mail.body_html is not None
    assert "<script>" not in mail.body_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.body_html
    assert "Hallo <script>alert(1)</script>," in mail.body_text  # plain text is not HTML


def test_html_alternative_keeps_paragraphs_and_language() -> None:
    mail = render("ack", full_context("de"), to="a@b.nl")
    assert mail.body_html is not None
    assert '<html lang="de">' in mail.body_html
    assert mail.body_html.count("<p ") == mail.body_text.strip().count("\n\n") + 1


def test_subject_is_one_line_even_with_line_breaks_in_values(tmp_path: Path) -> None:
    write(tmp_path / "en" / "ack.txt", "Subject:  Request from {{ customer_name }}\t[" + REF + "]\n\nBody.\n")
    ctx = full_context("en", customer_name="Eve\r\nBcc: victim@example.com",
                       shop=fictitious_shop(templates_dir=tmp_path))
    mail = render("ack", ctx, to="a@b.nl\r\n", in_reply_to="<x@y>\r\n", references=["<a@b>\n"])
    assert mail.subject == f"[{REF}] Request from Eve Bcc: victim@example.com"
    assert (mail.to, mail.in_reply_to, mail.references) == ("a@b.nl", "<x@y>", ["<a@b>"])


def test_template_without_subject_line_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "nl" / "ack.txt", "Hallo zonder onderwerp\n")
    with pytest.raises(TemplateError, match="Subject"):
        render("ack", full_context("nl", shop=fictitious_shop(templates_dir=tmp_path)), to="a@b.nl")


def test_undefined_variable_is_an_error_not_a_gap(tmp_path: Path) -> None:
    write(tmp_path / "nl" / "ack.txt", "Subject: x\n\n{{ deadlnes.target }}\n")
    with pytest.raises(TemplateError):
        render("ack", full_context("nl", shop=fictitious_shop(templates_dir=tmp_path)), to="a@b.nl")


# --- what the caller must supply ---------------------------------------------------------------------

def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown mail kind"):
        render("_common", full_context("nl"), to="a@b.nl")


@pytest.mark.parametrize(
    ("kind", "missing"),
    [("identity_code", "code"), ("refusal", "refusal_reasons"), ("extension", "rights"),
     ("officer_new_case", "case_url"), ("ack", "reference")],
)
def test_kind_specific_fields_are_required(kind: str, missing: str) -> None:
    empty: Any = [] if missing == "rights" else None
    with pytest.raises(ValueError, match=missing):
        render(kind, full_context("nl", **{missing: empty}), to="a@b.nl")


def test_context_accepts_only_the_six_rights() -> None:
    with pytest.raises(ValidationError):
        full_context("nl", rights=[Category.PRIVACY_OTHER])


def test_blank_customer_name_becomes_none() -> None:
    assert full_context("nl", customer_name=" \r\n ").customer_name is None
    assert render("ack", full_context("nl", customer_name=None), to="a@b.nl").body_text.startswith("Hallo,\n")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["ack", "clarification", "identity_question"])
def test_an_overdue_case_is_promised_no_date_in_the_past(kind: str, language: str) -> None:
    """A backfilled case can open after its target date (issue 14): 'by 28 February' would be untrue then."""
    target = "28 februari 2026" if language == "nl" else "28. Februar 2026" if language == "de" else \
        "28 février 2026" if language == "fr" else "28 February 2026"
    assert target in render(kind, full_context(language), to="a@b.nl").body_text
    late = render(kind, full_context(language, overdue=True, backfilled=True), to="a@b.nl").body_text
    if kind == "ack":
        assert "31 januari 2026" in late or "31 January 2026" in late or "31. Januar 2026" in late \
            or "31 janvier 2026" in late  # the original date is named
    else:
        assert target not in late
