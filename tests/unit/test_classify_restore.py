"""An erased account asked back is no erasure; a word of getting something else back takes nothing away.

The ``restore`` cues ("terugkrijgen", "wiederherstellen", "récupérer") once counted anywhere in the mail: a
refund or a parcel to get back, or a password to recover, dropped the erasure the same mail asked for, and took
the mail off the "to check" list, so the request was ignored in silence (reviewer's finding on round 4).
"""

from __future__ import annotations

import pytest

from inbox_agent.classify import Classifier
from inbox_agent.models import Address, Category, ParsedMessage


def classify(classifier: Classifier, text: str) -> tuple[set[Category], bool]:
    msg = ParsedMessage(message_id="<r@example>", text=text, from_=Address(email="klant@voorbeeld.example"),
                        return_path="klant@voorbeeld.example")
    result = classifier.classify(msg)
    return set(result.categories), result.review


@pytest.mark.parametrize("text", [
    "Ik heb de jas teruggestuurd, wanneer kan ik mijn geld terugkrijgen? Verwijder ook mijn account.",
    "I sent the shoes back last week, when do I get it back? Also please delete my account.",
    "Ich kann mein Passwort nicht wiederherstellen. Bitte löschen Sie einfach mein Konto.",
    "Mon colis est au point relais, quand puis-je le récupérer ? Et supprimez mon compte s'il vous plaît.",
])
def test_getting_something_else_back_keeps_the_erasure(classifier: Classifier, text: str) -> None:
    categories, _ = classify(classifier, text)
    assert Category.ERASURE in categories


@pytest.mark.parametrize("text", [
    "Mijn account is per ongeluk verwijderd. Kunnen jullie het terugzetten?",
    "My account was deleted by mistake last week. Can you restore my account please?",
    "Mein Konto wurde versehentlich gelöscht. Können Sie es wiederherstellen?",
])
def test_an_erased_account_asked_back_is_no_erasure(classifier: Classifier, text: str) -> None:
    categories, review = classify(classifier, text)
    assert Category.ERASURE not in categories
    assert not review
