"""Classifier behaviour on hand-written mails, plus the corpus thresholds from issue #3."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_agent.classify import Classifier
from inbox_agent.config import REPO_ROOT
from inbox_agent.evaluate import evaluate
from inbox_agent.models import Address, Category, ParsedMessage
from inbox_agent.parse import ParseError, parse

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "classify"


def mail(text: str, subject: str = "", **extra: object) -> ParsedMessage:
    return ParsedMessage(
        message_id="<t@example>",
        subject=subject,
        text=text,
        from_=Address(email="klant@voorbeeld.example"),
        return_path="klant@voorbeeld.example",
        **extra,
    )


def cats(classifier: Classifier, text: str, subject: str = "") -> set[str]:
    return {c.value for c in classifier.classify(mail(text, subject)).categories}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hoi, kunnen jullie me acount verwijdren? ik gebruik het nooit", {"erasure"}),
        ("Mijn gegevens mogen gewist worden, ook het account graag opheffen.", {"erasure"}),
        ("Ik wil graag weten welke gegevens jullie over mij bewaren.", {"access"}),
        ("Mijn achternaam is verkeerd gespeld in mijn account, willen jullie die corrigeren?", {"rectification"}),
        ("Ik wil geen nieuwsbrief meer ontvangen, graag afmelden.", {"objection"}),
        ("Please delete my account and all my data.", {"erasure"}),
        ("Could you send me a copy of the personal data you hold about me?", {"access"}),
        ("Bitte löschen Sie mein Kundenkonto.", {"erasure"}),
        ("Je souhaite que mon compte soit supprimé.", {"erasure"}),
        ("Can I get my order history exported as CSV?", {"portability"}),
        ("Bitte schränken Sie die Verarbeitung meiner Daten ein, bis das geklärt ist.", {"restriction"}),
    ],
)
def test_requests_in_four_languages(classifier: Classifier, text: str, expected: set[str]) -> None:
    assert cats(classifier, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Ik wil NIET dat mijn account verwijderd wordt, ik bestel binnenkort weer.",
        "Bitte löschen Sie mein Konto NICHT, ich möchte es behalten.",
        "Als ik ooit mijn account wil verwijderen, hoe werkt dat dan?",
        "Kunnen jullie bestelling 20319 annuleren en verwijderen?",
        "Please cancel and delete order #20467, wrong size.",
        "Kunnen jullie het bezorgadres van mijn bestelling nog aanpassen?",
        "Ik maak bezwaar tegen de retourkosten van mijn bestelling.",
    ],
)
def test_negation_hypotheticals_and_orders_do_not_trigger(classifier: Classifier, text: str) -> None:
    assert cats(classifier, text) == {"none"}


def test_shop_policy_no_longer_using_services_is_erasure(classifier: Classifier) -> None:
    assert cats(classifier, "Ik ga geen gebruik meer maken van jullie webshop.") == {"erasure"}


def test_several_categories_and_evidence(classifier: Classifier) -> None:
    result = classifier.classify(mail("Stuur mij eerst een kopie van mijn gegevens en verwijder daarna mijn account."))
    assert set(result.categories) == {Category.ACCESS, Category.ERASURE}
    assert any(e.rule.startswith("nl.erasure.") and "account" in e.text for e in result.evidence)


def test_subject_counts_but_not_a_reply_subject(classifier: Classifier) -> None:
    assert cats(classifier, "", subject="Verwijder aub mijn account") == {"erasure"}
    assert cats(classifier, "Bedankt, alles ontvangen.", subject="Re: Inzageverzoek") == {"none"}


def test_quoted_history_does_not_count(classifier: Classifier) -> None:
    result = classifier.classify(parse((FIXTURES / "nl_erasure_reply.eml").read_bytes()))
    assert result.categories == [Category.ERASURE]
    assert "inzien" not in result.new_text


def test_request_in_attached_message_is_read(classifier: Classifier) -> None:
    msg = mail("Zie bijlage.", embedded_texts=["Please delete my account and all my personal data."])
    assert classifier.classify(msg).categories == [Category.ERASURE]


def test_forwarded_request_without_own_words_is_read(classifier: Classifier) -> None:
    text = "---------- Forwarded message ---------\nFrom: me <me@x.example>\nSubject: x\n\nPlease delete my account."
    assert classifier.classify(mail(text)).categories == [Category.ERASURE]


def test_automated_mail_is_none(classifier: Classifier) -> None:
    result = classifier.classify(parse((FIXTURES / "de_ooo.eml").read_bytes()))
    assert result.automated and result.categories == [Category.NONE]


@pytest.mark.parametrize("text", ["", "\x00\x01\x02" * 1000, "verwijder mijn account " * 250_000])
def test_bad_input_gives_a_result(classifier: Classifier, text: str) -> None:
    assert classifier.classify(mail(text)).categories


def test_garbage_file_parses_to_a_result(classifier: Classifier) -> None:
    assert classifier.classify(parse((FIXTURES / "garbage.eml").read_bytes())).categories


@pytest.mark.parametrize("name", ["dev", "letters"])
def test_corpus_macro_f1(classifier: Classifier, name: str) -> None:
    folder = CORPUS / name
    if not (folder / "labels.jsonl").exists():
        pytest.skip(f"corpus {folder} not present")
    report = evaluate(classifier, folder)
    assert report["macro_f1"] >= 0.95, report["misclassified"]
    assert report["none_false_positive_rate"] <= 0.02
    assert report["automated"]["recall"] == 1.0


def test_a_language_that_outgrows_its_memory_bound_is_reloaded() -> None:
    classifier = Classifier.load_rules(REPO_ROOT / "classifiers")  # the rules' pipelines (the models': their own test)
    rules = classifier.languages["nl"]
    rules.vocab_limit = len(rules.nlp.vocab.strings) + 50
    text = "Verwijder mijn account. " + " ".join(f"ordernummer{i}" for i in range(100))
    assert cats(classifier, text) == {"erasure"}
    fresh = classifier.languages["nl"]
    assert fresh is not rules
    assert len(fresh.nlp.vocab.strings) < len(rules.nlp.vocab.strings)
    assert cats(classifier, text) == {"erasure"}


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("Pakket niet afgeleverd", "Het pakket is nooit gekomen. Verwijder mijn account en al mijn gegevens maar."),
        ("Order not delivered", "My parcel never arrived. Please delete my account and all my data."),
        ("Returned to sender", "The parcel came back to you. I am done: delete my account please."),
    ],
)
def test_human_request_with_a_delivery_subject_is_not_automated(
    classifier: Classifier, subject: str, text: str
) -> None:
    result = classifier.classify(mail(text, subject))
    assert not result.automated and Category.ERASURE in result.categories


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Verwijder mijn account en stuur me geen nieuwsbrief meer", {"erasure", "objection"}),
        ("Please delete my account and do not send me any more newsletters", {"erasure", "objection"}),
        ("Bitte löschen Sie mein Konto und schicken Sie mir keine Werbung mehr", {"erasure", "objection"}),
        ("Welche Daten geben Sie an Dritte weiter?", {"privacy_other"}),
        ("Please send me my data and my orders as a CSV file so I can import them elsewhere", {"portability"}),
    ],
)
def test_negation_and_guards_stay_in_their_clause(classifier: Classifier, text: str, expected: set[str]) -> None:
    """A negated second request does not cancel the first; data sent to third parties or in a file is no access."""
    assert cats(classifier, text) == expected


@pytest.mark.parametrize("subject", ["Unsubscribe", "uitschrijven", "Abmelden", "désinscription"])
def test_a_bare_unsubscribe_subject_from_a_person_is_an_objection(classifier: Classifier, subject: str) -> None:
    assert cats(classifier, "", subject) == {"objection"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("verwijder mijn account\nik bestel hier nooit meer", {"erasure"}),
        ("Hoi\nwanneer komt mijn pakket\nik heb nog niks gehoord", {"none"}),
        (
            "Mijn inzageverzoek van maart is nog steeds niet beantwoord. Verwijder dan ook meteen mijn account.",
            {"erasure", "privacy_other"},
        ),
        (
            "My access request from March has still not been answered. Please just delete my account now.",
            {"erasure", "privacy_other"},
        ),
        (
            "Ik kreeg een phishing mail op het adres dat ik alleen bij jullie gebruik. Is er een datalek?",
            {"privacy_other"},
        ),
        ("Mijn account is vorig jaar verwijderd, moet ik nu een nieuw account aanmaken om te bestellen?", {"none"}),
        ("We offer GDPR compliance consulting for webshops, get your privacy policy audited now!", {"none"}),
    ],
)
def test_structure_complaints_and_completed_requests(classifier: Classifier, text: str, expected: set[str]) -> None:
    """Phone lines are clauses; a complaint about handling stands next to a new right; an old,
    completed request is no new one; a GDPR sales pitch is none."""
    assert cats(classifier, text) == expected


def test_a_long_cover_note_that_resubmits_its_attachment_is_read_with_it(classifier: Classifier) -> None:
    note = (
        "Goedemiddag, ik heb u vorige maand al een mail gestuurd maar daar heb ik nooit iets op gehoord. "
        "Ik stuur hem daarom hierbij nogmaals mee als bijlage, met de vraag om er nu wel iets mee te doen. "
        "Met vriendelijke groet, Anja"
    )
    msg = mail(note, embedded_texts=["Graag wil ik dat u mijn account en al mijn gegevens verwijdert."])
    assert Category.ERASURE in classifier.classify(msg).categories


def test_a_resubmitted_request_is_the_request_alone(classifier: Classifier) -> None:
    """The cover note's "no answer for weeks" is about the first sending of the request it re-submits: no
    privacy_other next to it. The same words with the request in the mail's own text are a complaint as well."""
    note = "Hierbij nogmaals mijn verzoek van april, zie bijlage. Het is nu zes weken later en ik heb niks gehoord."
    resent = mail(note, embedded_texts=["Graag wil ik dat u mijn account en al mijn gegevens verwijdert."])
    assert classifier.classify(resent).categories == [Category.ERASURE]
    restated = "Hierbij nogmaals mijn verzoek om mijn account te verwijderen. Na zes weken heb ik niks gehoord."
    assert cats(classifier, restated) == {"erasure", "privacy_other"}


def test_real_world_human_mail_seldom_gets_a_privacy_label(classifier: Classifier) -> None:
    """Zammad's test mail (templates, charset tests, invoices, a birthday mailing) asks nothing of a privacy desk. The
    models gave 21 of its 93 human mails a right or privacy_other from words such as "Enjoy!" or a line of asterisks;
    with a word of the category required, 7 (charset tests and templates whose words the rules know: "This is the text
    part" objection); with a right named by two word groups of one of its rules, 1 (round 14)."""
    folder = CORPUS / "mail" / "zammad"
    if not folder.is_dir():
        pytest.skip(f"corpus {folder} not present")
    human = labelled = 0
    for path in sorted(folder.glob("*.box")):
        try:
            result = classifier.classify(parse(path.read_bytes()))
        except ParseError:
            continue
        human += not result.automated
        labelled += not result.automated and result.categories != [Category.NONE]
    assert human == 93
    assert labelled <= 1


def test_the_models_add_no_right_to_a_mail_without_a_word_of_it(classifier: Classifier) -> None:
    """The models alone scored these objection 0.92 and access 0.72 (real-world mail, shared/corpus/mail/zammad); a
    right the models add needs a word of it the rules know (a word group of its rules, or a phrase)."""
    assert classifier.classify(mail("Enjoy!\n\n-Martin")).categories == [Category.NONE]
    assert classifier.classify(mail("Message text", subject="Subject of message")).categories == [Category.NONE]


def test_a_negated_or_hypothetical_right_goes_to_the_review_list(classifier: Classifier,
                                                                   rules_alone: Classifier) -> None:
    """The rules read a right negated or hypothetical as a half match; the models then keep on the list what they
    read as privacy mail (a question about leaving some day) and leave off what they read as shop mail (check_from)."""
    hypothetical = classifier.classify(mail("Mocht ik ooit mijn account willen opzeggen, hoe gaat dat dan?"))
    assert hypothetical.categories == [Category.NONE] and hypothetical.review
    negated = mail("Ik wil niet dat mijn account verwijderd wordt, maar waar blijft mijn bestelling?")
    assert rules_alone.classify(negated).review  # a right refused beside an order's matter: the rules' half match
    shop_mail = classifier.classify(negated)
    assert shop_mail.categories == [Category.NONE] and not shop_mail.review
    plain = classifier.classify(mail("Kunnen jullie bestelling 20319 annuleren en verwijderen?"))
    assert plain.categories == [Category.NONE] and not plain.review
    request = classifier.classify(mail("Verwijder mijn account."))
    assert not request.review


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi, my Dutch is bad. Please verwijder my account, I don't need it anymore. Thanks!", {"erasure"}),
        ("Guten Tag, bitte mein account verwijderen. Danke", {"erasure"}),
        ("Can you freeze my account for now instead of deleting it?", {"restriction"}),
    ],
)
def test_a_short_mail_with_borrowed_words(classifier: Classifier, text: str, expected: set[str]) -> None:
    """Dutch or English words in a short mail in another language still ask for a right; the
    borrowed rules speak only when the mail's own language found nothing."""
    assert cats(classifier, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "We understand from your mail that you would like:\n- erasing your data\nNot quite right? Let us know.",
        "We begrijpen uit je mail dat je dit wilt:\n- je gegevens wissen\nKlopt dat niet? Laat het ons weten.",
    ],
)
def test_the_addressees_data_is_no_request(classifier: Classifier, text: str) -> None:
    """Another desk's acknowledgement (robot headers stripped by a relay) names *your* data: no loop."""
    assert cats(classifier, text) == {"none"}


@pytest.mark.parametrize(
    "footer",
    [
        "Dit bericht kan vertrouwelijke informatie bevatten. Hoe wij persoonsgegevens verwerken vindt u in onze "
        "privacyverklaring.",
        # "bestemd voor" is the Dutch "intended for"; the company's own processing needs no "uw"
        "Dit bericht is uitsluitend bestemd voor de geadresseerde. Ontvangt u het onterecht, wis het dan en meld het "
        "ons. Bakker Bouw B.V. verwerkt persoonsgegevens conform de AVG. U mag uw gegevens altijd inzien of laten "
        "wissen.",
        "This email and any attachments are confidential. If you received it in error, please delete it and tell "
        "me; I process your contact details only to arrange the interview.",
    ],
)
def test_a_disclaimer_below_the_signature_is_not_the_writers_words(classifier: Classifier, footer: str) -> None:
    text = f"Hello, could you tell me when the new strollers are in stock?\n\nRegards,\nJan\n\n{footer}"
    result = classifier.classify(mail(text))
    assert result.categories == [Category.NONE] and not result.review, result.evidence


def test_dictated_punctuation_splits_a_mail_without_marks(classifier: Classifier) -> None:
    """Dictation writes "punt" and "komma": without them the whole mail is one clause, and the "vorig jaar" of the
    second sentence read the request of the first as a report of the past."""
    text = (
        "Hallo ik wil graag weten wat jullie allemaal van mij hebben opgeslagen punt ik heb vorig jaar een "
        "kinderwagen gekocht komma en nu krijg ik overal reclame"
    )
    assert cats(classifier, text) == {"access"}


def test_an_attachment_that_asks_for_nothing_keeps_the_questions_beside_a_right(classifier: Classifier) -> None:
    """Only an attached text that holds the request itself makes the cover note part of a re-submitted request: an
    invoice attached leaves "to whom did you pass my address?" a question of its own next to the erasure."""
    note = "Bitte löschen Sie mein Konto. Und an wen haben Sie meine Adresse weitergegeben?"
    invoice = mail(note, embedded_texts=["Rechnung 2231, Kinderwagen Modell Lino, 349,00 EUR, bezahlt am 3. Mai."])
    assert sorted(c.value for c in classifier.classify(invoice).categories) == ["erasure", "privacy_other"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the writer's own account or profile holds the data: theirs to correct, a child's birth date too
        ("Elle est née en 2021 et pas en 2020. Merci de corriger sa date de naissance dans mon compte.",
         {"rectification"}),
        ("He turns four in June, not July. Could you correct his date of birth in my account?", {"rectification"}),
        # another company receives the data: a question about recipients, no copy for the writer
        ("Und bekommt Google dadurch meine Daten?", {"none"}),
        ("Does Google get my data that way?", {"none"}),
        # a purpose bounds the restriction ("to what is needed for my order"): the order is no guard
        ("Kunnen jullie het gebruik van mijn gegevens beperken tot wat nodig is voor mijn lopende bestelling?",
         {"restriction"}),
        ("Could you limit the processing of my details to what is needed for my open order?", {"restriction"}),
        # no longer in the shop's customer file: erasure
        ("Ik wil niet meer in jullie klantenbestand staan.", {"erasure"}),
        # nothing of the writer's to keep: erasure (fresh_al)
        ("Ik kom niet meer terug, dus jullie hoeven mijn gegevens ook niet meer te bewaren.", {"erasure"}),
        ("I won't be back, so you don't need to keep my details any more.", {"erasure"}),
        ("Ich komme nicht wieder, Sie müssen meine Daten also nicht mehr aufbewahren.", {"erasure"}),
        ("Je ne reviendrai pas, vous n'avez donc plus besoin de garder mes données.", {"erasure"}),
        ("Als dat rond is, mag mijn account met alles erop en eraan weg.", {"erasure"}),
        ("After I receive this, please remove all of it.", {"erasure"}),
        ("Je voudrais que vous ne fassiez plus rien avec mes données pour le moment. Vous pouvez les garder, je ne "
         "demande pas de suppression.", {"restriction"}),
        # "no idea what you keep" negates the knowing, not the request
        ("Ik heb echt geen idee wat jullie van mij bewaren, kunnen jullie mij een overzicht sturen?", {"access"}),
        ("I have no idea what data you keep about me, could you send me a copy?", {"access"}),
        # thanks for what was done reports it done; a request after the thanks stands
        ("Bedankt voor het aanpassen van mijn adres in het account. Het pakket is goed aangekomen.", {"none"}),
        ("Thanks for deleting my account so quickly, much appreciated.", {"none"}),
        ("Vielen Dank für das Löschen meines Kontos, das ging schnell.", {"none"}),
        ("Merci d'avoir supprimé mon compte si rapidement.", {"none"}),
        ("Thanks for your help with the return. Please delete my account now.", {"erasure"}),
    ],
)
def test_rules_read_the_writer_and_the_object_round_10(rules_alone: Classifier, text: str,
                                                        expected: set[str]) -> None:
    """The rules alone (the models would hide a rules' gap: they add what the rules miss in a one-line mail)."""
    assert cats(rules_alone, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # whether the shop sells data on is a question about recipients, no copy for the writer
        ("Ik wil weten hoe dat kan en of jullie gegevens doorverkopen.", {"privacy_other"}),
        # a thank-you for the data sent reports the access done
        ("Dank voor de toegestuurde gegevens.", {"none"}),
        # the present passive is a wish: "hebben" belongs to the relative clause before it
        ("Ik wil dat alles wat jullie van mij hebben verwijderd wordt.", {"erasure"}),
        ("Graag zou ik willen dat alle gegevens die jullie over mij hebben verwijderd worden.", {"erasure"}),
        # an overview of the orders with their invoices is the bookkeeping's
        ("Kunnen jullie mij een overzicht sturen van al mijn bestellingen, of alle facturen in één pdf?", {"none"}),
        # what is kept and how long, asked inside an erasure, is no access request
        ("Je vous prie d'effacer mes données. Indiquez-moi, le cas échéant, quelles données restent conservées et pour "
         "quelle durée.", {"erasure"}),
        # a date without its year ends its sentence before a capital: its negation stays there
        ("Mein Sohn ist am 2.11.2020 geboren, nicht am 11.02. Können Sie das in meinem Konto korrigieren?",
         {"rectification"}),
        # the site's form rejects what was typed: a site matter, no record to correct
        ("When I try to create an account it keeps saying my postcode is wrong.", {"none"}),
        ("Beim Konto anlegen kommt die Meldung, meine Postleitzahl sei falsch.", {"none"}),
        ("Quand je veux créer un compte, le site dit que mon code postal est incorrect.", {"none"}),
        # "I'd like to know whether" asks a question: a leak asked about beside a right is privacy_other too, and the
        # "data" of "data breach" is nobody's data to copy
        ("Ich möchte wissen, ob es bei Ihnen ein Datenleck gab. Und bitte löschen Sie mein Kundenkonto.",
         {"erasure", "privacy_other"}),
        ("Je voudrais savoir s'il y a eu une fuite de données chez vous. Et supprimez mon compte, s'il vous plaît.",
         {"erasure", "privacy_other"}),
        ("I would like to know whether there was a data breach at your shop. And please delete my account.",
         {"erasure", "privacy_other"}),
        # cookies that are baked, a writer sharing her own life online, a supplier's product data and a company's
        # own details are nobody's personal data
        ("Wir wollen mit den Kindern Plätzchen backen, bzw. Cookies, wie mein Sohn sagt. Sind die Ausstecher aus "
         "Edelstahl?", {"none"}),
        ("Op Instagram deel ik ons dagelijks leven met zo'n 40.000 volgers. Zullen we samenwerken?", {"none"}),
        ("Willen jullie de oude gegevens uit jullie systeem verwijderen, zodat alleen de nieuwe artikelnummers "
         "gebruikt worden?", {"none"}),
        ("Please update our details in your supplier records: our company moves to Vesterbrogade 151 on 1 January.",
         {"none"}),
        # someone outside the shop knew the writer's data: a leak told by its symptoms; the courier knows the address
        ("Ik kreeg een sms van een onbekend nummer. Ze wisten mijn naam en wat ik bij jullie besteld had.",
         {"privacy_other"}),
        ("Somebody called me last night and knew my name and my address.", {"privacy_other"}),
        ("Gestern kam ein Anruf. Die kannten meinen Namen und meine Adresse.", {"privacy_other"}),
        ("Hier j'ai reçu un appel, ils connaissaient mon nom et mon adresse.", {"privacy_other"}),
        ("The courier knew my address but still did not deliver.", {"none"}),
        # a salutation is a field of the record; "umstellen" changes it
        ("In euren Mails steht immer Herr Hoffmann, ich bin aber eine Frau. Im Konto kann ich die Anrede nicht ändern. "
         "Könnt ihr das bitte auf Frau umstellen?", {"rectification"}),
        # the writer will do it herself: nothing asked of the shop
        ("Kan de levering een week later? Ons account passen we zelf wel aan als we verhuisd zijn.", {"none"}),
        # a photo taken out or no longer to be shown is erased ("rausnehmen" split, "niet meer dat ... online")
        ("Bitte nehmt das Foto mit meiner Tochter aus der Bewertung raus.", {"erasure"}),
        ("Ik wil niet meer dat de foto van mijn zoon op jullie site staat.", {"erasure"}),
        ("I don't want the photo of my son on your website any more.", {"erasure"}),
        ("Ich möchte nicht mehr, dass das Foto meiner Tochter online ist.", {"erasure"}),
        ("Je ne veux plus que la photo de mon fils soit en ligne.", {"erasure"}),
        ("Ik wil geen foto's van de buggy online zetten, mag ik toch meedoen?", {"none"}),
        # a deliberation told in the past ("ik wilde eigenlijk vragen ..., maar") asks nothing
        ("Ik wilde eigenlijk vragen of jullie alles van mij wilden wissen, maar ik heb nog garantie op de kinderstoel.",
         {"none"}),
        ("I was thinking about it for a while. Please delete my account now.", {"erasure"}),
        # "keep my information" for someone else to see is no copy for the writer
        ("My insurer may want to see proof of purchase, so please keep my information exactly as it is. Apart from "
         "that I would like you not to do anything with it for the time being.", {"restriction"}),
        # a noun after a pointing determiner that heads an object named before points like a pronoun
        ("In meinem Kundenkonto ist als Geburtsdatum meines Sohnes der 03.12.2025 hinterlegt. Das stimmt nicht. Ich "
         "ersuche Sie, das Datum richtigzustellen.", {"rectification"}),
        ("Ik heb het pakket teruggestuurd. Kunnen jullie het nummer van de retourzending controleren?", {"none"}),
        # an order word inside a field's own name ("l'adresse de facturation") is part of the name, no rival for "la"
        ("L'adresse de facturation enregistrée dans mon compte est celle de mon ancien appartement. Merci de la "
         "remplacer par : 6 allée des Tilleuls, 59650 Villeneuve-d'Ascq.", {"rectification"}),
        ("La facture de ma commande 3321 porte une mauvaise adresse. Merci de la corriger.", {"none"}),
    ],
)
def test_rules_read_the_writer_and_the_object_round_11(rules_alone: Classifier, text: str,
                                                        expected: set[str]) -> None:
    """The rules alone (the models would hide a rules' gap: they add what the rules miss in a one-line mail)."""
    assert cats(rules_alone, text, subject="Frage") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an object named after "from" / "uit" / "aus" is where the thing goes from: the pointing word is the field
        ("There's a phone number in the file that I never gave you. Please delete it from my account.", {"erasure"}),
        ("Mijn oude telefoonnummer staat er nog in. Kunnen jullie het uit mijn account verwijderen?", {"erasure"}),
        # "het verwijderen" points at the field named before (veld_verwijderen reads a pointing word)
        ("Mijn oude telefoonnummer staat er nog in. Kunnen jullie het verwijderen?", {"erasure"}),
        ("Ik heb bestelling 40211 dubbel geplaatst. Kunnen jullie het verwijderen?", {"none"}),
        # the split "er ... uit"
        ("Bestelling 40535. En nu ik toch mail: mijn telefoonnummer mag er ook uit.", {"erasure"}),
        # thanks for an acknowledgement report the request it acknowledged, they do not ask it again
        ("Thank you for confirming receipt of my subject access request of 8 November. Further to that request, I ask "
         "that my order history be transmitted directly, in a machine-readable format, to Little Oak Ltd.",
         {"portability"}),
        ("Bedankt voor de bevestiging van mijn inzageverzoek. Kunnen jullie ook mijn telefoonnummer verwijderen?",
         {"erasure"}),
        # the writer's mailbox with a mail provider is no account with us
        ("Yes, that was me. Please send the export to rachel@home.example as I asked - I'm closing this gmail account "
         "next month.", {"none"}),
        ("Please close my account with you.", {"erasure"}),
        # "verschwinden" erases what it names
        ("Danach soll das Konto mit allem Drum und Dran verschwinden.", {"erasure"}),
        ("Mein Paket ist verschwunden, können Sie nachforschen?", {"none"}),
        # a mailing stopped in a clause of its own does not turn a field's erasure into the mailing's
        ("Je vous demande donc de supprimer sa date de naissance et son prénom de mon compte, et de ne plus m'envoyer "
         "ces mails d'anniversaire.", {"erasure", "objection"}),
        ("Merci de supprimer mon adresse e-mail de la newsletter.", {"objection"}),
        # an article before a noun that heads a compound named before points like "das" (de repeating_articles)
        ("Meine Handynummer hatte ich nur aus Versehen ins Feld eingetragen. Bitte löschen Sie die Nummer aus meinem "
         "Kundenkonto.", {"erasure"}),
        ("Meine Handynummer ist richtig. Bitte löschen Sie die Bestellung aus meinem Kundenkonto.", {"none"}),
        # the erasure itself carried out, a noun with its verb (carry_out_erasure in 4 languages)
        ("I expect you to carry out the deletion now and confirm in writing.", {"erasure"}),
        ("Ik verwacht dat jullie de verwijdering nu echt uitvoeren.", {"erasure"}),
        ("Ich erwarte, dass Sie die Löschung jetzt wirklich durchführen.", {"erasure"}),
        ("Je vous demande de procéder à la suppression sans délai.", {"erasure"}),
        ("Please process the return of order 4411.", {"none"}),
        # fr: mailings told to stop, data fetched as a file, visits no longer linked to the account (tracking)
        ("Je veux que ces envois s'arrêtent pour de bon.", {"objection"}),
        ("Pouvez-vous arrêter l'envoi de ma commande ?", {"none"}),
        ("Et si possible, j'aimerais les récupérer sous forme de fichier exploitable (CSV, JSON).", {"portability"}),
        ("Je vous serais reconnaissant de ne plus associer mes visites à mon compte client.", {"none"}),
        ("Je ne veux plus être client chez vous.", {"erasure"}),
        # "only keep" asked, not told of the carrier
        ("The pakketje is at the afhaalpunt. The mail says they only keep it 7 days. Can you ask PostNL to hold it "
         "longer?", {"none"}),
        ("Please only keep my data for the invoices from now on.", {"restriction"}),
        # a house number wrong on an order confirmation is the order's
        ("Huisnummer op deze bevestiging is fout, moet 21 zijn en niet 12. Het pakket is nog niet verstuurd toch?",
         {"none"}),
    ],
)
def test_rules_read_the_writer_and_the_object_round_12(rules_alone: Classifier, text: str,
                                                        expected: set[str]) -> None:
    """The rules alone, as in round 11."""
    assert cats(rules_alone, text, subject="Vraag") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a new address "for this once" is the delivery's, not the account's (order groups, 4 languages)
        ("Kan de bestelling van vanochtend naar mijn moeder? Nieuw adres voor deze keer: Kerkstraat 9, 7741 HB "
         "Coevorden. Mijn eigen adres mag gewoon blijven staan.", {"none"}),
        ("Please ship it to my office, just this once: new address 12 Mill Lane, Leeds.", {"none"}),
        ("Bitte liefern Sie nur dieses Mal an die neue Adresse Hauptstraße 4, 8010 Graz.", {"none"}),
        ("Pour cette fois, la nouvelle adresse est 12 rue Haute, 4000 Liège.", {"none"}),
        ("Mijn nieuwe adres is Kerkstraat 9, 7741 HB Coevorden. Willen jullie dat in mijn account aanpassen?",
         {"rectification"}),
        # the writer's mail provider stops, not the writer's mail from us
        ("Mijn provider stopt per 1 juni met e-mail, dus dit adres werkt straks niet meer.", {"none"}),
        ("My email provider is stopping its service, so please change my address to new@home.example.",
         {"rectification"}),
        ("Stop met die mails.", {"objection"}),
        # an automated decision about the writer (Art. 22) is a processing topic (concerns.toml, 4 languages)
        ("Is there some automatic credit check or scoring happening on your side?", {"privacy_other"}),
        ("Gebruiken jullie geautomatiseerde besluitvorming bij klanten?", {"privacy_other"}),
        ("Wurde das per automatisierte Entscheidung abgelehnt?", {"privacy_other"}),
        ("Est-ce une décision automatisée ?", {"privacy_other"}),
    ],
)
def test_rules_read_the_object_round_13(rules_alone: Classifier, text: str, expected: set[str]) -> None:
    """The rules alone: a delivery's one-off address and a mail provider's stop ask no right of the shop."""
    assert cats(rules_alone, text, subject="Vraag") == expected


@pytest.mark.parametrize(
    "text",
    [
        "Ik wil de nieuwsbrief juist graag blijven krijgen, hij is leuk.",
        "I want to keep receiving your newsletter, it's lovely.",
        "Ich möchte den Newsletter weiterhin erhalten.",
        "Je veux continuer à recevoir la newsletter.",
    ],
)
def test_a_wish_to_keep_the_newsletter_refuses_the_models_objection(classifier: Classifier, text: str) -> None:
    """The models read "nieuwsbrief" as an objection (round 12, found under a "no" to the shop's question)."""
    assert cats(classifier, text, subject="nieuwsbrief") == {"none"}


@pytest.mark.parametrize(
    "text",
    [
        "Ik wil graag jullie nieuwsbrief ontvangen, maar het formulier doet niks. Kunnen jullie mij er zo op zetten?",
        "I'd love to receive your newsletter, but the form does nothing. Could you add me to the newsletter?",
        "Ich würde gerne den Newsletter erhalten, aber das Formular geht nicht.",
        "J'aimerais recevoir votre newsletter, mais le formulaire ne marche pas.",
    ],
)
def test_a_wish_to_receive_the_newsletter_refuses_the_models_objection(rules_alone: Classifier, text: str) -> None:
    """The second opinion read "nieuwsbrief" in a sign-up wish as an objection (0.56): the wish refuses it."""
    assert Category.OBJECTION in rules_alone.evidence(rules_alone.texts(mail(text, "nieuwsbrief"))).refused
