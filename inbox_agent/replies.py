"""Mail texts: ``templates/<lang>/<kind>.txt`` rendered into an ``OutgoingMail``.

The texts are data an officer edits, not code (templates/README.md explains the format):
each file begins with a ``Subject:`` line, and a shop can replace any file by putting one
with the same path in ``ShopSettings.templates_dir``. Everything shop-specific (names,
addresses, the recipients list) comes from the context, so one set of texts serves every
mailbox. A missing language or kind falls back to Dutch, the shop's own language, rather
than leaving a customer without an answer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from pydantic import AfterValidator, BaseModel, Field, field_validator

from .config import ShopSettings
from .deadlines import Deadlines
from .models import RIGHTS, Category, OutgoingMail
from .resources import shipped

TEMPLATES_DIR = shipped("templates")
FALLBACK_LANGUAGE = "nl"

RESULT_KINDS: tuple[str, ...] = tuple(f"result_{right}" for right in RIGHTS)
OFFICER_KINDS: tuple[str, ...] = ("officer_new_case", "officer_reminder", "officer_overdue", "officer_digest")
KINDS: tuple[str, ...] = (
    "ack", "identity_code", "identity_question", "clarification", "extension", "refusal",
    "not_verified", "withdrawn", "interim", *RESULT_KINDS, *OFFICER_KINDS,
)  # fmt: skip
AUTOMATIC_KINDS = frozenset(
    {"ack", "identity_code", "identity_question", "clarification", "withdrawn", "interim", *OFFICER_KINDS}
)
"""Sent without approval. Results, extensions, refusals and not-verified answers carry a
decision, so they are drafts an officer approves. The interim notice reports on a result the
officer approved already."""

_NEEDS: dict[str, tuple[str, ...]] = {
    "identity_code": ("code", "code_valid_hours"),
    "extension": ("rights", "extension_reasons"),
    "refusal": ("rights", "refusal_reasons"),
    "interim": ("rights",),
    "officer_new_case": ("case_url",),
    "officer_reminder": ("case_url",),
    "officer_overdue": ("case_url",),
}
"""Context fields a kind cannot do without; a code mail without a code is a bug, not a text."""
_CASELESS = frozenset({"officer_digest"})


_MONTHS = {
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
}


def format_date(day: date, language: str) -> str:
    """``28 februari 2026``, ``28 February 2026``, ``28. Februar 2026``, ``1er mars 2026``."""
    month = _MONTHS.get(language, _MONTHS[FALLBACK_LANGUAGE]).split()[day.month - 1]
    if language == "de":
        return f"{day.day}. {month} {day.year}"
    if language == "fr" and day.day == 1:
        return f"1er {month} {day.year}"
    return f"{day.day} {month} {day.year}"


def _one_line(value: str) -> str:
    """Header values must not contain CR/LF (header injection) or other line breaks."""
    return " ".join(value.split())


def _is_right(category: Category) -> Category:
    if category not in RIGHTS:
        raise ValueError(f"{category} is not one of the six rights")
    return category


Right = Annotated[Category, AfterValidator(_is_right)]


class Done(BaseModel):
    """Something changed or erased, and the day it happened (Art. 16, 17).

    ``what`` is a key the templates put in words (``ITEMS``, or a field like ``billing.postcode``
    for a change), so the customer reads it in her language.
    """

    what: str
    on: date


class Kept(BaseModel):
    """Data kept after erasure: why, and until when (Art. 17(3), e.g. invoices under art. 52 AWR).

    ``what`` and ``why`` are keys (``ITEMS``, ``WHY`` in ``_common.txt``)."""

    what: str
    why: str
    until: date


class Step(BaseModel):
    """One execution step of a result: the webshop change, a manual task, an Art. 19 notice.

    ``what`` is a key of ``STEP_DONE``/``STEP_PENDING`` in ``_common.txt``; ``on`` is set once done.
    """

    what: str
    recipient: str | None = None
    on: date | None = None


class ResultDetails(BaseModel):
    """Case facts the result texts show; the officer's draft review checks them."""

    data_held: bool = True
    """Access: whether we process data about the customer at all."""
    attachments: list[str] = Field(default_factory=list)
    """File names of the attached copy (JSON/CSV with field descriptions, readable overview)."""
    sources: list[str] = Field(default_factory=list)
    """Where data not collected from the customer came from (``ITEMS`` keys); empty: all from the customer."""
    searched: list[str] = Field(default_factory=lambda: ["registry", "mail"])
    """Access: where we looked (``webshop`` only when one is connected), so "everything" is said only then."""
    package_too_large: bool = False
    """The package could not be mailed; the officer sends it another way."""
    changes: list[Done] = Field(default_factory=list)
    erased: list[Done] = Field(default_factory=list)
    kept: list[Kept] = Field(default_factory=list)
    frozen: list[str] = Field(default_factory=list)
    """``ITEMS`` keys of what is restricted."""
    recipients_informed: list[str] = Field(default_factory=list)
    """Recipients told of a rectification, erasure or restriction (Art. 19), by name: only notices done."""
    recipients_not_informed: list[str] = Field(default_factory=list)
    """Recipients whose notice the officer skipped, with a recorded reason."""
    done: list[Step] = Field(default_factory=list)
    pending: list[Step] = Field(default_factory=list)
    """Interim notice: the steps done so far and those still open."""
    note: str | None = None
    """Free text from the officer, shown above the signature."""


class OpenCase(BaseModel):
    """One line of the officer digest."""

    reference: str
    state: str
    target: date
    legal: date
    days_left: int
    """Days until ``target``; negative when it has passed."""
    url: str | None = None


class NewCase(BaseModel):
    """A case whose new-case notice was held back (batched): the digest names it first."""

    reference: str
    received: str
    """Amsterdam time, as the officer reads it, e.g. ``01-12-2026 21:15``."""
    rights: str
    """The rights asked for, already in the officer's words (or the words for "a question")."""
    url: str | None = None


class LoginThrottle(BaseModel):
    """A client that was made to wait after repeated wrong passwords: the officer's digest names it."""

    name: str
    client: str
    when: str
    """Amsterdam time, e.g. ``01-12-2026 21:15``."""


class ReplyContext(BaseModel):
    """Everything a template may use; templates see each field under its own name."""

    shop: ShopSettings
    reference: str | None = None
    """Case reference like KT-2026-000123; only the officer digest has none."""
    deadlines: Deadlines | None = None
    rights: list[Right] = Field(default_factory=list)
    language: str = FALLBACK_LANGUAGE
    customer_name: str | None = None
    identity_pending: bool = False
    backfilled: bool = False
    """Brought in by a backfill: the acknowledgement names the original date."""
    overdue: bool = False
    """The target date (the extended one where extended) has passed: texts promise no date in the past."""
    is_extended: bool = False
    """A recorded extension applies, so ``deadlines.extended`` is the outer limit."""
    code: str | None = None
    code_valid_hours: int | None = None
    extension_reasons: str | None = None
    refusal_reasons: str | None = None
    details: ResultDetails = Field(default_factory=ResultDetails)
    case_url: str | None = None
    new_cases: list[NewCase] = Field(default_factory=list)
    """Cases that came in since the previous notice, whose own notice was held back (the first of them)."""
    new_case_count: int = 0
    """How many such cases there are in all; the digest lists the first ``new_cases``."""
    new_since: str | None = None
    """When the previous notice went out (Amsterdam time): the digest lists what is new since then."""
    open_cases: list[OpenCase] = Field(default_factory=list)
    open_case_count: int = 0
    """All open cases; the digest lists only the most urgent of them (``open_cases``)."""
    login_throttles: list[LoginThrottle] = Field(default_factory=list)
    """Web logins held back since the previous digest (who was tried, from where, when)."""
    imap_refusals: list[str] = Field(default_factory=list)
    """IMAP operations the mail server keeps refusing (``faults.py``): operation, since when, its words."""

    @field_validator("customer_name")
    @classmethod
    def _name_on_one_line(cls, value: str | None) -> str | None:
        # A name reaches the subject line in some shop texts: keep it to one line, like a header.
        if value is None:
            return None
        return _one_line(value) or None


@pass_context
def _date_filter(context: Context, day: date) -> str:
    # The language of the file being rendered, so a Dutch fallback text gets Dutch dates.
    return format_date(day, _language_of(context.name))


def _language_of(template_name: str | None) -> str:
    return (template_name or "").partition("/")[0]


@functools.cache
def environment(shop_dir: Path | None, shipped_dir: Path = TEMPLATES_DIR) -> Environment:
    """Shop overrides first, then the shipped texts; HTML escaped, text left alone."""
    loaders = [FileSystemLoader(d) for d in (shop_dir, shipped_dir) if d is not None]
    env = Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    )
    env.filters["date"] = _date_filter
    return env


def _tidy(text: str) -> str:
    # Optional paragraphs and officer edits leave ragged blank lines; the customer should not see them.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def _split_subject(text: str, template_name: str) -> tuple[str, str]:
    first, _, body = text.partition("\n")
    label, colon, subject = first.partition(":")
    if not colon or label.strip().lower() != "subject":
        raise TemplateError(f"{template_name}: the first line must be 'Subject: ...'")
    return subject, body.strip() + "\n"


def _check_needs(kind: str, ctx: ReplyContext) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    needs = _NEEDS.get(kind, ()) + (() if kind in _CASELESS else ("reference", "deadlines"))
    missing = [name for name in needs if getattr(ctx, name) in (None, "", [])]
    if missing:
        raise ValueError(f"{kind} mail needs {', '.join(missing)}")


def _variables(ctx: ReplyContext) -> dict[str, Any]:
    fields = {name: getattr(ctx, name) for name in ReplyContext.model_fields}
    return fields | {"transfers": [r for r in ctx.shop.recipients if r.outside_eea]}


def render(
    kind: str,
    ctx: ReplyContext,
    *,
    to: str,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    templates_dir: Path = TEMPLATES_DIR,
) -> OutgoingMail:
    """Render one mail; the subject always starts with ``[reference]`` so replies find their case."""
    _check_needs(kind, ctx)
    env = environment(ctx.shop.templates_dir, templates_dir)
    languages = dict.fromkeys((ctx.language, ctx.shop.default_language, FALLBACK_LANGUAGE))
    template = env.select_template([f"{lang}/{kind}.txt" for lang in languages])
    language = _language_of(template.name)
    subject, body = _split_subject(_tidy(template.render(_variables(ctx))), template.name or kind)
    if ctx.reference:
        tag = f"[{ctx.reference}]"
        subject = f"{tag} {subject.replace(tag, '')}"
    subject = _one_line(subject)
    html = env.get_template("layout.html").render(
        subject=subject, paragraphs=body.split("\n\n"), language=language, shop=ctx.shop
    )
    return OutgoingMail(
        kind=kind,
        to=_one_line(to),
        subject=subject,
        body_text=body,
        body_html=html,
        language=language,
        in_reply_to=_one_line(in_reply_to) if in_reply_to else None,
        references=[_one_line(r) for r in references],
        automatic=kind in AUTOMATIC_KINDS,
    )
