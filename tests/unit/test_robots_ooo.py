"""Out-of-office replies without any header, in nl/en/de/fr, read with the markers in classifiers/.

An auto-reply that sets no Auto-Submitted header is told by its body: two of its markers in the new text
(one when it answers a mail, In-Reply-To). Subject words never decide: a customer writing about a lost
parcel ("Pakket niet afgeleverd", "Returned to sender") is a person, and their request counts.
"""

from __future__ import annotations

import pytest

from inbox_agent.classify import Classifier
from inbox_agent.models import Address, Category, ParsedMessage


def mail(subject: str, text: str, **fields: object) -> ParsedMessage:
    base: dict[str, object] = {
        "message_id": "<m@x.example>",
        "from_": Address(email="pat.jansen@voorbeeld.example"),
        "return_path": "pat.jansen@voorbeeld.example",
        "subject": subject,
        "text": text,
    }
    base.update(fields)
    return ParsedMessage(**base)  # type: ignore[arg-type]


OUT_OF_OFFICE = [
    # Flemish, no header, no In-Reply-To
    (
        "Afwezig",
        "Goeiedag,\n\nIk ben met verlof tot 3 september. Uw mail wordt niet doorgestuurd. Bij dringende vragen "
        "kan u terecht bij mijn collega Els (els@bouw.example).\n\nMet vriendelijke groeten,\nKoen",
    ),
    (
        "Re: uw bestelling",
        "Beste,\n\nTijdens mijn afwezigheid worden e-mails niet gelezen. Vanaf maandag 4 mei ben ik terug.\n\nSanne",
    ),
    (
        "Out of office",
        "Thank you for your email. I am on holiday until 12 August and your message will not be forwarded. "
        "For urgent matters please contact my colleague at office@firm.example.",
    ),
    # German and Swiss German (ss for ß), no header
    (
        "Abwesenheitsnotiz",
        "Vielen Dank für Ihre E-Mail. Unser Büro ist bis 24.04. geschlossen. Ihre Nachricht wird nach unserer "
        "Rückkehr bearbeitet.\n\nKita Sonnenschein",
    ),
    (
        "Abwesenheit",
        "Grüezi\n\nIch bin bis 10. Juli im Urlaub. In dringenden Fällen wenden Sie sich bitte an "
        "info@schreinerei.example.\n\nFreundliche Grüsse\nReto",
    ),
    # Belgian French, no header
    (
        "Absence",
        "Bonjour,\n\nJe suis absente du 20 février au 2 mars inclus. Pendant mon absence, vos messages ne seront "
        "pas lus.\n\nPour toute commande urgente, merci de contacter la boutique.\n\nVéronique",
    ),
]


@pytest.mark.parametrize(("subject", "text"), OUT_OF_OFFICE)
def test_out_of_office_text_without_headers_is_automated(classifier: Classifier, subject: str, text: str) -> None:
    result = classifier.classify(mail(subject, text))
    assert result.automated, result
    assert result.automated_reason is not None and result.automated_reason.startswith("out-of-office text")
    assert result.categories == [Category.NONE]


HUMANS = [
    ("Pakket niet afgeleverd", "Hoi, mijn pakket kwam nooit aan. Verwijder ook mijn account, ik bestel niks meer."),
    ("Returned to sender", "Hi, the parcel came back to you. Please delete my account and all my data, thanks."),
    ("Order not delivered", "Hello, my order never arrived. I'm on holiday until Friday, please delete my account."),
    ("Paket nicht zugestellt", "Hallo, das Paket kam nie an. Bitte löschen Sie mein Kundenkonto und meine Daten."),
    ("Colis retourné à l'expéditeur", "Bonjour, le colis vous est revenu. Merci de supprimer mon compte."),
]


@pytest.mark.parametrize(("subject", "text"), HUMANS)
def test_everyday_subjects_from_people_stay_human(classifier: Classifier, subject: str, text: str) -> None:
    result = classifier.classify(mail(subject, text))
    assert not result.automated, result.automated_reason
    assert Category.ERASURE in result.categories


def test_a_reply_quoting_the_shops_thank_you_is_no_auto_reply(classifier: Classifier) -> None:
    """The markers are read in the new text: the quoted history belongs to the shop."""
    text = (
        "Guten Tag,\n\nhier meine Bestellnummer. Bitte löschen Sie jetzt mein Konto.\n\nUwe\n\n"
        "Am 09.02.2026 um 11:04 schrieb Kleine Toppers <info@shop.example>:\n"
        "> vielen Dank für Ihre Nachricht. Ihre Nachricht wird nach unserer Rückkehr bearbeitet.\n"
        "> Während meiner Abwesenheit wenden Sie sich bitte an die Zentrale.\n"
    )
    result = classifier.classify(mail("Re: Ihre Anfrage", text, in_reply_to="<ack@shop.example>"))
    assert not result.automated, result.automated_reason
    assert Category.ERASURE in result.categories
