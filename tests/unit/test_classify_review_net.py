"""The review net (issue 15 item 6): human mail about the writer's own data, account or mailings with an action word
of a right is never lost in silence. Either a rule finds the request, or the mail goes to the "to check" list."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_agent.classify import Classifier
from inbox_agent.evaluate import evaluate, format_report
from inbox_agent.models import Address, Category, Classification, ParsedMessage


def classify(classifier: Classifier, text: str, subject: str = "") -> Classification:
    return classifier.classify(
        ParsedMessage(
            message_id="<t@example>",
            subject=subject,
            text=text,
            from_=Address(email="klant@voorbeeld.example"),
            return_path="klant@voorbeeld.example",
        )
    )


@pytest.mark.parametrize(
    ("text", "seen"),
    [
        # the writer's own data, account or mailings with an action word: a right found, or on the list
        ("Doe mijn profiel maar dicht, ik gebruik het toch niet meer.", True),
        ("Die oude inschrijving van mij mag eraf, die gebruik ik niet.", True),
        ("Could you swap the email address on my account for this one?", True),
        ("Please take my name off the account, it belongs to my sister now.", True),
        ("Können Sie mein Konto einfach zumachen? Ich brauche es nicht.", True),
        ("Pourriez-vous fermer mon compte, s'il vous plaît ?", True),
        ("In my profile my phone number is 06 1234 5687, it should end in 78. Please fix.", True),
        ("Voor onze zoon graag geen reclame meer, verder is alles prima.", True),
        ("Eigenlijk ben ik wel benieuwd: wat weten jullie allemaal van mij?", True),
        ("Juste une question : vous savez quoi sur moi ?", True),
        # ordinary shop mail: no right, and not on the list either
        ("Mijn pakket is nog steeds niet aangekomen, kunnen jullie kijken waar het is?", False),
        ("Ik wil graag op de nieuwsbrief, kunnen jullie mij erop zetten?", False),
        ("Where is my parcel? The tracking page has not changed for a week.", False),
        ("Ich weiß nicht mehr, mit welcher Adresse ich mich angemeldet habe.", False),
        ("Le code promo reçu après mon inscription ne fonctionne pas.", False),
        ("Ich würde gerne Ihren Newsletter abonnieren, finde aber das Formular nicht.", False),
        ("Kan er een kaartje met een berichtje van mij bij het cadeau?", False),
        ("Ik kom sinds gisteren niet meer in mijn account, het wachtwoord herstellen lukt niet. Wat nu?", False),
        ("Bitte überweisen Sie den Kaufpreis auf mein Konto, ich habe den Kauf widerrufen.", False),
        # a change refused beside an order's matter says what to leave alone: not on the list (other rights refused
        # are a half match of the rules, which the models then judge: test_classify.py)
        ("Kunnen jullie het afleveradres van bestelling 5512 wijzigen? Mijn adres in het account hoeft niet "
         "veranderd te worden.", False),
        ("Could you send order 3318 to my office instead? Nothing needs to change on my account.", False),
        ("Bitte liefern Sie die Bestellung 7781 an meine Eltern. An meinem Konto soll sich nichts ändern.", False),
        ("Pouvez-vous livrer la commande 4410 chez ma mère ? Mon adresse dans le compte ne change pas.", False),
        ("Mijn bestelling 5512 is binnen. Ik wil niet dat mijn gegevens verwerkt worden.", True),
    ],
)
def test_own_data_with_an_action_word_is_never_silent_and_shop_mail_stays_off_the_list(
    classifier: Classifier, text: str, seen: bool
) -> None:
    result = classify(classifier, text)
    assert (result.categories != [Category.NONE] or result.review) is seen, result


def test_eval_counts_the_misses_that_are_not_even_on_the_list(classifier: Classifier, tmp_path: Path) -> None:
    (tmp_path / "mail").mkdir()
    raw = "From: anna@voorbeeld.example\r\nTo: info@shop.example\r\nSubject: vraag\r\nMessage-ID: <{n}@x>\r\n\r\n"
    raw += "{body}\r\n"

    bodies = {
        "a.eml": "Ik wil NIET dat mijn account verwijderd wordt.",  # missed, on the list
        "b.eml": "Kunnen jullie mij wat meer vertellen over de kinderwagen?",  # missed, silent
    }
    for n, (name, body) in enumerate(bodies.items()):
        (tmp_path / "mail" / name).write_text(raw.format(n=n, body=body), encoding="utf-8")
    (tmp_path / "labels.jsonl").write_text(
        '{"file": "a.eml", "categories": ["erasure"], "language": "nl"}\n'
        '{"file": "b.eml", "categories": ["access"], "language": "nl"}\n'
    )
    report = evaluate(classifier, tmp_path)
    assert report["missed_requests"] == ["a.eml", "b.eml"]
    assert report["missed_silent"] == ["b.eml"]
    assert "missed silently     1  b.eml" in format_report(report)
