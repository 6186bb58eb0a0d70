import pytest

from inbox_agent.config import REPO_ROOT
from inbox_agent.conversation import read_reply
from inbox_agent.models import Category, Classification, Evidence
from inbox_agent.withdrawal import Cues, load_cues, withdraws

CUES: Cues = load_cues(REPO_ROOT / "classifiers" / "conversation.toml")
NOTHING = Classification(categories=[Category.NONE], language="nl", automated=False)


@pytest.mark.parametrize("text", [
    "Laat maar, het is al opgelost.",
    "Ik trek mijn verzoek in.",
    "Never mind, I found it myself.",
    "Hiermit ziehe ich meine Anfrage zurück.",
    "Finalement, je retire ma demande.",
    # round 12 (fresh set AU): "ignore my previous email", a mind changed
    "Please ignore my previous email - I'd like to keep my account after all.",
    "Negeer mijn vorige mail maar, het account mag blijven.",
    "Bitte ignorieren Sie meine letzte Mail.",
    "Ne tenez pas compte de mon précédent message, j'ai changé d'avis.",
])
def test_withdrawals_are_recognised(text: str) -> None:
    assert withdraws(text, CUES)


@pytest.mark.parametrize("text", [
    "Ik trek mijn verzoek niet in, ik wacht nog steeds op antwoord.",
    "Laat maar weten wanneer het klaar is.",
    "I do not withdraw my request.",
    "I have not changed my mind: please delete everything.",
])
def test_negations_and_look_alikes_are_not_withdrawals(text: str) -> None:
    assert not withdraws(text, CUES)


def test_reply_reading_finds_code_order_postcode_and_new_rights() -> None:
    cls = Classification(categories=[Category.ACCESS, Category.ERASURE], language="nl", automated=False,
                         evidence=[Evidence(category=Category.ERASURE, rule="nl.erasure.verwijder_account", text="x")])
    reading = read_reply("De code is 482 913. Bestelling #KT10231? nee: bestelnummer 10231, postcode 7741 ab."
                         " Mijn oude adres is oud@example.org", cls, ["access"], CUES, sender="nieuw@example.com")
    assert "482913" in reading.codes
    assert "10231" in reading.order_numbers
    assert reading.postcodes == ["7741AB"]
    assert reading.addresses == ["oud@example.org"]
    assert reading.new_rights == [Category.ERASURE]
    assert not reading.withdraw


def test_a_right_only_the_second_opinion_reads_does_not_change_the_case() -> None:
    # "Hier is de code: 120 000" scored rectification 0.55: the digits read as a new value
    cls = Classification(categories=[Category.RECTIFICATION], language="nl", automated=False,
                         evidence=[Evidence(category=Category.RECTIFICATION, rule="model.rectification",
                                            text="Hier is de code: 120 000")])
    reading = read_reply("Hier is de code: 120 000", cls, ["erasure"], CUES, sender="a@b.nl")
    assert reading.codes == ["120000"] and reading.new_rights == []


def test_plain_reply_reads_as_nothing() -> None:
    reading = read_reply("Dank je wel voor het snelle antwoord!", NOTHING, ["access"], CUES, sender="a@b.nl")
    assert reading.codes == [] and not reading.withdraw and reading.new_rights == []
