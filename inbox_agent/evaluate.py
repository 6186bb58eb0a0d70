"""Scores the classifier on a labelled folder (``mail/*.eml`` + ``labels.jsonl``).

The officer's safety net: after adding a phrase to classifiers/, ``inbox-agent eval`` shows
at once whether it helped (recall) or hurt (false positives on ordinary shop mail).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .classify import Classifier
from .models import RIGHTS, Category, Classification
from .parse import ParseError, parse

CATEGORIES = tuple(Category)


@dataclass(frozen=True)
class Outcome:
    file: str
    categories: list[str]
    language: str
    automated: bool
    review: bool = False
    """Sent to the officer's "to check" list (no request found, but it looks privacy-related)."""
    evidence: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    """Why the file could not be parsed (then it counts as ["none"], not automated)."""


def classify_file(classifier: Classifier, path: Path) -> Outcome:
    """One file, never an exception: unreadable or unparseable mail becomes ["none"] with a reason."""
    try:
        msg = parse(path.read_bytes())
    except (OSError, ParseError) as exc:
        return Outcome(path.name, [Category.NONE.value], "other", False, error=f"{type(exc).__name__}: {exc}")
    result: Classification = classifier.classify(msg)
    return Outcome(
        file=path.name,
        categories=[c.value for c in result.categories],
        language=result.language,
        automated=result.automated,
        review=result.review,
        evidence=[{"category": e.category.value, "rule": e.rule, "text": e.text} for e in result.evidence],
    )


def _ratio(num: float, den: float) -> float:
    return round(num / den, 4) if den else 0.0


def read_labels(folder: Path) -> list[dict[str, Any]]:
    """A labelled folder's ``labels.jsonl``, one label a mail (``file``, ``categories``, ``language``, ...)."""
    lines = (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def evaluate(classifier: Classifier, folder: Path) -> dict[str, Any]:
    """Metrics as described for ``inbox-agent eval --json``."""
    labels = read_labels(folder)
    started = time.perf_counter()
    outcomes = [classify_file(classifier, folder / "mail" / label["file"]) for label in labels]
    elapsed = time.perf_counter() - started
    counts = {c.value: {"tp": 0, "fp": 0, "fn": 0} for c in CATEGORIES}
    lang_ok = auto_tp = auto_fp = auto_fn = none_total = none_fp = 0
    wrong: list[dict[str, Any]] = []
    missed: list[str] = []
    silent: list[str] = []
    review = review_none = 0
    rights = {c.value for c in RIGHTS}
    for label, got in zip(labels, outcomes, strict=True):
        expected, predicted = set(label["categories"]), set(got.categories)
        if expected & rights and not predicted & rights:
            missed.append(got.file)
            if not got.review and predicted == {Category.NONE.value}:
                silent.append(got.file)
        review += got.review
        review_none += got.review and expected == {Category.NONE.value}
        for cat in counts:
            if cat in predicted and cat in expected:
                counts[cat]["tp"] += 1
            elif cat in predicted:
                counts[cat]["fp"] += 1
            elif cat in expected:
                counts[cat]["fn"] += 1
        lang_ok += label.get("language") == got.language
        want_auto = bool(label.get("automated"))
        auto_tp += want_auto and got.automated
        auto_fp += got.automated and not want_auto
        auto_fn += want_auto and not got.automated
        if expected == {Category.NONE.value}:
            none_total += 1
            none_fp += predicted != {Category.NONE.value}
        if expected != predicted or label.get("language") != got.language or want_auto != got.automated:
            wrong.append(
                {
                    "file": got.file,
                    "expected": sorted(expected),
                    "got": sorted(predicted),
                    "expected_language": label.get("language"),
                    "language": got.language,
                    "expected_automated": want_auto,
                    "automated": got.automated,
                    "evidence": [f"{e['rule']}: {e['text']}" for e in got.evidence],
                    **({"error": got.error} if got.error else {}),
                }
            )
    per_category: dict[str, dict[str, float]] = {}
    for cat, c in counts.items():
        precision = _ratio(c["tp"], c["tp"] + c["fp"])
        recall = _ratio(c["tp"], c["tp"] + c["fn"])
        f1 = _ratio(2 * precision * recall, precision + recall)
        per_category[cat] = {"precision": precision, "recall": recall, "f1": f1, "support": c["tp"] + c["fn"]}
    scored = [m["f1"] for m in per_category.values() if m["support"]]
    return {
        "messages": len(labels),
        "macro_f1": _ratio(sum(scored), len(scored)),
        "per_category": per_category,
        "language_accuracy": _ratio(lang_ok, len(labels)),
        # Nothing flagged means nothing flagged wrongly; nothing to find means nothing missed.
        "automated": {
            "precision": _ratio(auto_tp, auto_tp + auto_fp) if auto_tp + auto_fp else 1.0,
            "recall": _ratio(auto_tp, auto_tp + auto_fn) if auto_tp + auto_fn else 1.0,
        },
        "none_false_positive_rate": _ratio(none_fp, none_total),
        # A right asked for and no right found: the legal clock runs unseen.
        "missed_requests": missed,
        # Of those, the ones that reach nobody: no case (a privacy_other case is read by the officer, who sees the
        # right in it) and not on the "to check" list either.
        "missed_silent": silent,
        # Mails on the officer's "to check" list, and the share of the plain non-privacy mail among them.
        "review": review,
        "review_none_rate": _ratio(review_none, none_total),
        "messages_per_second": round(len(labels) / elapsed, 1) if elapsed else 0.0,
        "parse_errors": [o.file for o in outcomes if o.error],
        "misclassified": wrong,
    }


def format_report(report: dict[str, Any]) -> str:
    """The readable table printed without ``--json``."""
    lines = [f"{'category':<14}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"]
    for cat, m in report["per_category"].items():
        lines.append(f"{cat:<14}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{m['support']:>9}")
    auto = report["automated"]
    lines += [
        "",
        f"macro F1            {report['macro_f1']:.3f}  ({report['messages']} messages)",
        f"language accuracy   {report['language_accuracy']:.3f}",
        f"automated           precision {auto['precision']:.3f}  recall {auto['recall']:.3f}",
        f"none false-positive {report['none_false_positive_rate']:.3f}",
        f"missed requests     {len(report['missed_requests'])}  {' '.join(report['missed_requests'])}".rstrip(),
        f"missed silently     {len(report['missed_silent'])}  {' '.join(report['missed_silent'])}".rstrip(),
        f"to check (review)   {report['review']}  ({report['review_none_rate']:.3f} of none mail)",
        f"messages/second     {report['messages_per_second']}",
    ]
    if report["parse_errors"]:
        lines.append(f"parse errors        {', '.join(report['parse_errors'])}")
    if report["misclassified"]:
        lines += ["", "misclassified:"]
        for w in report["misclassified"]:
            lines.append(
                f"  {w['file']}: expected {','.join(w['expected'])} got {','.join(w['got'])}"
                f"  lang {w['expected_language']}/{w['language']}  auto {w['expected_automated']}/{w['automated']}"
            )
            lines.extend(f"      {e}" for e in w["evidence"])
    return "\n".join(lines)
