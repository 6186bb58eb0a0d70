"""Language detection from function words."""

from __future__ import annotations

import pytest

from inbox_agent.language import detect_language, fold


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Hoi, kunnen jullie mijn account verwijderen? Groetjes", "nl"),
        ("Hi, could you please delete my account? Thanks", "en"),
        ("Hallo, bitte löschen Sie mein Konto. Viele Grüße", "de"),
        ("Bonjour, pourriez-vous supprimer mon compte ? Merci", "fr"),
        ("", "other"),
        ("12345 67890", "other"),
    ],
)
def test_detect(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_fold_removes_accents_and_case() -> None:
    assert fold("LÖSCHUNG données Straße") == "loschung donnees strasse"
