"""Quoted-history and signature stripping, including the talon reply fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_agent.classify import Classifier
from inbox_agent.parse import parse
from inbox_agent.quotes import QuoteMarkers, cut_signature, split_reply

TALON = Path(__file__).parents[2] / ".." / "shared" / "corpus" / "mail" / "talon" / "standard_replies"


@pytest.fixture(scope="module")
def markers(classifier: Classifier) -> QuoteMarkers:
    return classifier.quote_markers


def clean(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


@pytest.mark.parametrize(
    ("text", "own"),
    [
        ("Nieuw.\n\nOp di 3 mrt 2026 om 09:12 schreef Shop <a@b.nl>:\n> oud\n", "Nieuw."),
        ("Neu.\n\nAm Mo., 2. März 2026 um 08:15 Uhr schrieb Shop <a@b.de>:\n> alt", "Neu."),
        ("Nouveau.\nLe 16/04/2026 à 18:00, Shop a écrit :\n> ancien", "Nouveau."),
        ("Nieuw.\n\n-----Oorspronkelijk bericht-----\nVan: x\nOnderwerp: y\n\noud", "Nieuw."),
        ("Nieuw.\n\nVan: Shop <a@b.nl>\nVerzonden: woensdag\nAan: x\nOnderwerp: y\n\noud", "Nieuw."),
        ("Le 1 mars, Shop a écrit :\n> ancien\n\nMa réponse.\n> encore\n\nSuite.", "Ma réponse.\n\nSuite."),
    ],
)
def test_split_reply(markers: QuoteMarkers, text: str, own: str) -> None:
    assert clean(split_reply(text, markers).own) == own


def test_forward_is_separated(markers: QuoteMarkers) -> None:
    split = split_reply("Kijk eens.\n\n---------- Doorgestuurd bericht ---------\nVan: x\n\nOud bericht", markers)
    assert split.own == "Kijk eens." and "Oud bericht" in split.forwarded


def test_signature_cut(markers: QuoteMarkers) -> None:
    assert cut_signature("Verwijder mijn account.\n\nVerstuurd vanaf mijn iPhone", markers) == "Verwijder mijn account."


@pytest.mark.parametrize("name", sorted(p.name for p in TALON.glob("*.eml")) if TALON.is_dir() else ["absent"])
def test_talon_standard_replies(markers: QuoteMarkers, name: str) -> None:
    if not TALON.is_dir():
        pytest.skip(f"talon corpus {TALON} not present")
    own = clean(split_reply(parse((TALON / name).read_bytes()).text, markers).own)
    expected_file = TALON / f"{name.removesuffix('.eml')}_reply_text"
    if expected_file.exists():
        assert own == clean(expected_file.read_text(encoding="utf-8"))
    else:
        assert own.startswith("Hello") and "Hi" not in own.splitlines()
