"""Turning the desk's answers (desk/case_views.py) into what a page shows: urgency, highlighted evidence, attachments.

Presentation only: nothing here decides anything about a case.
"""

from __future__ import annotations

import re
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from ..config import Settings, ShopSettings
from ..deadlines import POLICY_DAYS, compute
from ..exports import summarise
from ..figures import Figures
from ..models import ParsedMessage


def urgency(days_left: int, soon_days: int) -> str:
    """CSS class for a deadline: past it, within the reminder window, or comfortable."""
    if days_left < 0:
        return "overdue"
    return "soon" if days_left <= soon_days else "ok"


def highlight(text: str, phrases: list[str]) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, is_evidence) pairs; the template escapes every piece.

    Matching ignores case and treats any run of whitespace as one space, since the
    classifier's evidence comes from the normalised new text and the mail wraps lines.
    A plain alternation, longest first, not ``language.any_of``: a mail's few phrases make a
    new pattern each time, and the tree takes longer to compile than it saves in the search
    (1.3x slower on the tuning sets' evidence, the same pieces marked).
    """
    patterns = [r"\s+".join(map(re.escape, p.split())) for p in sorted(set(phrases), key=len, reverse=True)]
    patterns = [p for p in patterns if p]
    if not patterns:
        return [(text, False)]
    pieces = re.split(f"({'|'.join(patterns)})", text, flags=re.IGNORECASE)
    return [(piece, i % 2 == 1) for i, piece in enumerate(pieces) if piece]


class OriginalMail(BaseModel):
    """One stored mail of a case as the case page shows it."""

    id: int
    received: datetime
    sender: str
    subject: str
    pieces: list[tuple[str, bool]]
    attachments: list[str]
    purged: bool
    categories: list[str]
    language: str
    evidence: list[dict[str, Any]]


def original_mail(meta: dict[str, Any], parsed: ParsedMessage | None) -> OriginalMail:
    """``meta`` is one entry of ``CaseDetail.messages``; ``parsed`` is None once the body is purged."""
    classification = meta.get("classification") or {}
    evidence: list[dict[str, Any]] = classification.get("evidence", [])
    return OriginalMail(
        id=meta["id"],
        received=meta["received"],
        sender=(parsed.from_.email if parsed and parsed.from_ else ""),
        subject=parsed.subject if parsed else "",
        pieces=highlight(parsed.text, [e["text"] for e in evidence]) if parsed else [],
        attachments=[a.filename or a.content_type for a in parsed.attachments] if parsed else [],
        purged=parsed is None,
        categories=classification.get("categories", []),
        language=classification.get("language", ""),
        evidence=evidence,
    )


class Attachment(BaseModel):
    """One file a draft would attach; ``size`` None when the file is missing."""

    name: str
    size: int | None


def attachments(paths: list[str]) -> list[Attachment]:
    found = []
    for path in map(Path, paths):
        try:
            size: int | None = path.stat().st_size
        except OSError:
            size = None
        found.append(Attachment(name=path.name, size=size))
    return found


CHECKED_SOURCES = ("registry", "webshop_account", "orders")
"""Sources a customer's package normally holds something from: a zero is flagged for the officer."""


class PackageSource(BaseModel):
    source: str
    count: int
    flagged: bool


class PackageSummary(BaseModel):
    """What one package holds per source (as ``cases export REF`` prints it), and whether that looks whole."""

    sources: list[PackageSource]
    state: Literal["complete", "partial", "empty", "unreadable"]


def package_summary(path: str) -> PackageSummary:
    try:
        counts = summarise(Path(path))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return PackageSummary(sources=[], state="unreadable")
    sources = [PackageSource(source=s, count=n, flagged=s in CHECKED_SOURCES and not n) for s, n in counts.items()]
    held = [n for s, n in counts.items() if s != "requests"]
    state: Literal["complete", "partial", "empty"] = \
        "empty" if not any(held) else "partial" if any(s.flagged for s in sources) else "complete"
    return PackageSummary(sources=sources, state=state)


class DeadlineStep(BaseModel):
    """One line of "how this deadline was computed": a catalogue key and its values."""

    key: str
    values: dict[str, Any]


def deadline_steps(received_at: datetime, extended: bool) -> list[DeadlineStep]:
    """The deadline as LEGAL.md computes it, step by step, for the officer to check.

    Dates are Amsterdam days (``compute`` works in Amsterdam time); the page formats them.
    """
    d = compute(received_at)
    steps = [DeadlineStep(key="deadline.received", values={"moment": received_at}),
             DeadlineStep(key="deadline.raw", values={"day": d.raw})]
    day = d.raw
    while day < d.legal:
        why = "deadline.weekend" if day.weekday() >= 5 else "deadline.holiday"
        steps.append(DeadlineStep(key="deadline.moved", values={"day": day, "why": why}))
        day += timedelta(days=1)
    steps.append(DeadlineStep(key="deadline.legal", values={"day": d.legal}))
    thirty = d.received + timedelta(days=POLICY_DAYS)
    steps.append(DeadlineStep(key="deadline.target_30" if thirty <= d.raw else "deadline.target_raw",
                              values={"day": d.target}))
    if extended:
        steps.append(DeadlineStep(key="deadline.extended", values={"day": d.extended}))
    return steps


RIGHT_COLOURS = {"access": "#1d5c8f", "rectification": "#7a4fb0", "erasure": "#b42318", "restriction": "#854d00",
                 "portability": "#23653f", "objection": "#0f6b73", "privacy_other": "#56616d"}
"""One colour per right in the charts (each at least 3:1 against white, WCAG's bar for graphics)."""
CHART_WIDTH, CHART_HEIGHT, AXIS = 720, 220, 24


class Segment(BaseModel):
    right: str
    y: float
    height: float
    count: int
    colour: str


class MonthBar(BaseModel):
    month: str
    x: float
    width: float
    total: int
    segments: list[Segment]


def month_bars(figures: Figures) -> list[MonthBar]:
    """Stacked bars (one per month, one segment per right) in a CHART_WIDTH x CHART_HEIGHT box."""
    per_month: dict[str, list[tuple[str, int]]] = {m: [] for m in figures.months}
    for row in figures.per_month:
        per_month[row.month].append((row.right, row.count))
    top = max([sum(n for _, n in rows) for rows in per_month.values()] + [1])
    slot = CHART_WIDTH / max(len(figures.months), 1)
    bars = []
    for i, (month, rows) in enumerate(per_month.items()):
        y, segments = float(CHART_HEIGHT - AXIS), []
        for right, count in rows:
            height = count / top * (CHART_HEIGHT - AXIS - 20)  # room above the tallest bar for its total
            y -= height
            segments.append(Segment(right=right, y=round(y, 1), height=round(height, 1), count=count,
                                    colour=RIGHT_COLOURS.get(right, "#56616d")))
        bars.append(MonthBar(month=month, x=round(i * slot + slot * 0.15, 1), width=round(slot * 0.7, 1),
                             total=sum(n for _, n in rows), segments=segments))
    return bars


class TemplateFile(BaseModel):
    language: str
    name: str
    subject: str
    from_shop: bool
    """True when the shop's own templates_dir replaces the shipped text."""


def templates_in_use(settings: Settings, shop: ShopSettings) -> list[TemplateFile]:
    """The mail texts per language that ``replies.render`` picks for this shop."""
    found: dict[tuple[str, str], TemplateFile] = {}
    for folder, from_shop in ((settings.templates_dir, False), (shop.templates_dir, True)):
        if folder is None:
            continue
        for path in sorted(folder.glob("*/*.txt")):
            if path.name.startswith("_") or path.parent.name == "exports":
                continue  # macros shared by the texts, and the export package's overview: not mails
            key = (path.parent.name, path.stem)
            found[key] = TemplateFile(language=key[0], name=key[1], subject=_subject(path), from_shop=from_shop)
    return [found[k] for k in sorted(found)]


def _subject(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("Subject:"):
            return line.removeprefix("Subject:").strip()
    return ""
