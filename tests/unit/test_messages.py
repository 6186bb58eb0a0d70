"""The message catalogue: both languages complete, and every English sentence the code records readable back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import inbox_agent
from inbox_agent import accounts
from inbox_agent.messages import LANGUAGES, CatalogueError, catalogue, read
from inbox_agent.web.i18n import Words

PACKAGE = Path(inbox_agent.__file__).parent


def recorded_sentences() -> list[tuple[str, str, str]]:
    """(place, section, sentence) for each literal reason, note or task title in the package's code."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            values = [(k.arg, k.value) for k in node.keywords]
            if name == "_note" and len(node.args) == 4:
                values.append(("reason", node.args[3]))
            if name == "_task" and len(node.args) == 5:
                values.append(("title", node.args[4]))
            for arg, value in values:
                if arg in ("reason", "title") and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    section = "task" if arg == "title" else "reason"
                    found.append((f"{path.relative_to(PACKAGE)}:{node.lineno}", section, value.value))
    return found


def test_both_languages_have_the_same_entries_and_the_officer_languages() -> None:
    assert LANGUAGES == accounts.LANGUAGES
    assert catalogue("nl").keys() == catalogue("en").keys()
    assert catalogue("nl")["state.awaiting_approval"] == "wacht op goedkeuring"


def test_every_literal_reason_and_task_title_in_the_code_can_be_said_in_dutch() -> None:
    sentences = recorded_sentences()
    assert len(sentences) > 20
    nl = Words("nl")
    unknown = [
        (place, text)
        for place, section, text in sentences
        if read(section, text) is None and nl.sentence(section, text) == text
    ]
    assert unknown == []


def test_composed_reasons_are_read_part_by_part_and_inside_parentheses() -> None:
    nl = Words("nl")
    assert (
        nl.sentence("reason", "sent from the customer's known address (dmarc=pass according to mx.shop.example)")
        == "verstuurd vanaf het bekende adres van de klant (dmarc=pass volgens mx.shop.example)"
    )
    assert (
        nl.sentence("reason", "dmarc=fail according to mx.x; confirmation code sent to the known address")
        == "dmarc=fail volgens mx.x; bevestigingscode naar het bekende adres gestuurd"
    )
    assert nl.sentence("reason", "Klant belde; wil stoppen") == "Klant belde; wil stoppen"
    assert (
        nl.task("Inform Mollie of the erasure (Art. 19 GDPR)") == "Mollie inlichten over de verwijdering (art. 19 AVG)"
    )


def test_days_left_and_dates_as_she_says_them() -> None:
    from datetime import UTC, datetime

    nl, en = Words("nl"), Words("en")
    assert [nl.days_left(d) for d in (-3, -1, 0, 1, 5)] == [
        "3 dagen te laat",
        "1 dag te laat",
        "vandaag",
        "1 dag",
        "5 dagen",
    ]
    assert en.days_left(-3) == "3 days overdue"
    assert nl.when(datetime(2026, 3, 31, 22, 30, tzinfo=UTC)) == "1 apr 2026 00:30"
    assert en.day(datetime(2026, 12, 1, 12, tzinfo=UTC)) == "1 Dec 2026"


def test_an_officer_error_is_english_for_the_cli_and_dutch_on_the_page() -> None:
    from inbox_agent.officer_error import OfficerError

    error = OfficerError("closed", case="KT-2026-000001", state="completed")
    assert str(error) == "case KT-2026-000001 is completed"
    assert Words("nl").error(error) == "verzoek KT-2026-000001 is afgerond"


def test_a_catalogue_with_a_key_in_one_language_only_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import inbox_agent.messages as messages

    real = messages._flatten

    def lopsided(table: dict[str, object], prefix: str = "") -> dict[str, str]:
        flat = real(table, prefix)
        if not prefix and flat.get("app") == "Privacy requests":
            flat["only.english"] = "x"
        return flat

    monkeypatch.setattr(messages, "_flatten", lopsided)
    catalogue.cache_clear()
    try:
        with pytest.raises(CatalogueError, match=r"only\.english"):
            catalogue("nl")
    finally:
        monkeypatch.undo()
        catalogue.cache_clear()
