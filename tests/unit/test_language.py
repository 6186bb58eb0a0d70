"""Language detection from function words."""

from __future__ import annotations

import pytest

from inbox_agent.language import detect_language, fold, identify_language


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


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("account wissen aub", "nl"),
        ("supprimer compte svp", "fr"),
        ("Konto löschen", "de"),
        ("delete acct pls", "en"),
        ("Désinscription newsletter", "fr"),
        ("Nieuwsbrief uit", "nl"),
        # a tie of function words ("me" is Dutch, English and French): the character model breaks it
        ("stop emailing me", "en"),
        ("unsubscribe me", "en"),
    ],
)
def test_short_phone_texts_get_a_language(text: str, lang: str) -> None:
    """Too few function words for a vote: py3langid's character model decides, not ``other``."""
    assert identify_language(text)[0] == lang


def test_an_unclear_text_is_reported_unsure() -> None:
    assert identify_language("12345 67890") == ("other", False)
    assert identify_language("Verwijder a.u.b. mijn account, ik wil geen mails meer van jullie") == ("nl", True)
