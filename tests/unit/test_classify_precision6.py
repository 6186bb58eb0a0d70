"""Round 6 precision (issue 15, fresh_g and fresh_j released for tuning): mail-structure rules a one-line phrasing
table cannot show.

A mailing's footer that says why the reader gets it ("You received this email because your shop is listed ...") is
no part of what the writer asks: a supplier's pitch whose footer offered "we will remove your address in line with
GDPR" was an erasure.
"""

from __future__ import annotations

import pytest

from inbox_agent.classify import Classifier
from inbox_agent.models import Address, Category, ParsedMessage


def categories(classifier: Classifier, text: str) -> set[Category]:
    msg = ParsedMessage(message_id="<p6@example>", text=text, from_=Address(email="sales@vendor.example"))
    return set(classifier.classify(msg).categories)


@pytest.mark.parametrize("text", [
    "Dear team,\n\nWe make wooden toys and would love to send you our catalogue.\n\nBest,\nAnna\n\n"
    "You are receiving this email because your shop is listed in a webshop directory. Reply STOP and we will "
    "delete your details and remove you from our mailing list.",
    "Beste winkelier,\n\nWij maken houten speelgoed en sturen u graag onze catalogus.\n\nGroet,\nAnna\n\n"
    "U ontvangt deze e-mail omdat uw winkel in een register staat. Wilt u niets meer ontvangen, dan verwijderen "
    "wij uw e-mailadres uit ons bestand.",
    "Guten Tag,\n\nwir stellen Holzspielzeug her und senden Ihnen gern unseren Katalog.\n\nGrüße\nAnna\n\n"
    "Sie erhalten diese E-Mail, weil Ihr Shop in einem Verzeichnis steht. Antworten Sie mit STOP, dann löschen wir "
    "Ihre Adresse aus unserem Verteiler und schicken keine Werbung mehr.",
    "Bonjour,\n\nNous fabriquons des jouets en bois et vous enverrons volontiers notre catalogue.\n\nCordialement,\n"
    "Anna\n\nVous recevez ce message car votre boutique figure dans un annuaire. Répondez STOP et nous supprimerons "
    "votre adresse de notre liste.",
])
def test_a_mailings_footer_asks_nothing(classifier: Classifier, text: str) -> None:
    assert categories(classifier, text) == {Category.NONE}


@pytest.mark.parametrize("text", [
    "You received this email because I want my account deleted. Please delete it.",
    "U ontvangt deze mail omdat ik mijn account wil laten verwijderen. Verwijder het alstublieft.",
])
def test_a_writer_saying_why_they_write_is_read(classifier: Classifier, text: str) -> None:
    assert Category.ERASURE in categories(classifier, text)
