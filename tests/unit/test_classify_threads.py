"""Replies read with their thread (issue 15, round 12): a bare yes or no to the shop's quoted question, and a short
chase or withdrawal of the request the thread names. The quote is context here, never a trigger of its own."""

from __future__ import annotations

import pytest

from inbox_agent.classify import Classifier
from inbox_agent.classify.answers import quoted_questions
from inbox_agent.models import Address, ParsedMessage
from inbox_agent.quotes import split_reply

SHOP = "Op 3 nov 2026 om 15:31 schreef Kleine Toppers <info@luminet.nl>:"


def reply(own: str, *quoted: str, subject: str = "Re: Uw privacyverzoek", attribution: str = SHOP) -> ParsedMessage:
    """A reply whose new text is ``own`` above the quoted lines."""
    quote = "\n".join(f"> {line}" if line else ">" for line in quoted)
    return ParsedMessage(
        message_id="<t@example>",
        subject=subject,
        text=f"{own}\n\n{attribution}\n\n{quote}\n",
        from_=Address(email="klant@voorbeeld.example"),
        return_path="klant@voorbeeld.example",
    )


def cats(classifier: Classifier, msg: ParsedMessage) -> set[str]:
    return {c.value for c in classifier.classify(msg).categories}


@pytest.mark.parametrize(
    ("own", "quoted", "expected"),
    [
        ("Ja graag, doe maar.\n\nRuud", ["Beste heer Kamphuis,", "", "U bent afgemeld voor onze nieuwsbrief.",
                                         "Wilt u dat wij uw klantaccount ook volledig verwijderen?",
                                         "Laat het ons even weten."], {"erasure"}),
        ("nee bedankt", ["Hoi Hans,", "", "Wil je onze nieuwsbrief blijven ontvangen? Laat het ons weten."],
         {"objection"}),
        ("Yes please", ["Dear Ms Price,", "", "Would you like us to delete your account as well?"], {"erasure"}),
        ("Ja bitte", ["Sehr geehrte Frau Kühn,", "", "Sollen wir Ihr Kundenkonto ebenfalls löschen?"], {"erasure"}),
        ("Oui merci", ["Bonjour Madame,", "", "Souhaitez-vous que nous vous désinscrivions de la newsletter ?"],
         {"objection"}),
        ("Non merci. Bonne journée.", ["Bonjour Mathilde,", "",
                                       "Souhaitez-vous continuer à recevoir nos offres par e-mail ?"], {"objection"}),
        # a list the question opens: "beides" says yes to both
        ("ja, beides\n\nAnouk", ["Beste Anouk,", "", "Om zeker te weten wat je bedoelt: wil je", "",
                                  "- een kopie van alle gegevens die wij van je hebben, en/of",
                                  "- dat wij daarna je account en gegevens verwijderen?"], {"access", "erasure"}),
        # a tag question asks about what was said before it
        ("Klopt", ["Beste heer Scholten,", "", "Wij hebben uw bericht zo begrepen dat u wilt dat wij uw gegevens",
                   "niet meer gebruiken voor de nieuwsbrief. Klopt dat?"], {"objection"}),
        # a no to an erasure, a yes to a mailing kept, a yes about an order: nothing asked
        ("Nee hoor", ["Wilt u dat wij uw account verwijderen?"], {"none"}),
        ("Ja hoor, graag", ["Wil je onze nieuwsbrief blijven ontvangen?"], {"none"}),
        ("Ja graag", ["Zullen wij bestelling 40211 voor u annuleren?"], {"none"}),
        # the question the answer is under: not a newsletter's footer below its sign-off, not a list of all rights
        ("ja graag!", ["Deze week 15% korting op alle winterjassen. Zin in een cadeautje?", "", "Warme groet,",
                       "Team Kleine Toppers", "", "Geen nieuwsbrief meer ontvangen? Afmelden kan hier."], {"none"}),
        ("Ja", ["Dit zijn je rechten:", "", "1. Inzage: je krijgt een kopie van alle gegevens die we van je hebben.",
                "2. Verbeteren: klopt er iets niet, zoals je naam of adres? Dan passen we het aan.",
                "3. Wissen: we verwijderen je gegevens.", "", "Welke bedoel je? Reageer met het nummer.", "",
                "Heb je een andere vraag over privacy? Schrijf die dan gewoon terug."], {"none"}),
        # more than an answer: the writer's own words count, not the question
        ("Nee.\nIk wil de nieuwsbrief juist graag blijven krijgen, hij is leuk.", ["Wil je onze nieuwsbrief blijven "
                                                                                  "ontvangen?"], {"none"}),
    ],
)
def test_a_bare_answer_asks_what_the_shops_question_names(classifier: Classifier, own: str, quoted: list[str],
                                                          expected: set[str]) -> None:
    assert cats(classifier, reply(own, *quoted)) == expected


@pytest.mark.parametrize(
    ("own", "quoted", "expected"),
    [
        ("En?\n\nVerstuurd vanaf mijn iPhone", ["Goedenavond,",
                                                "Ik wil graag weten welke gegevens jullie van mij hebben opgeslagen."],
         {"privacy_other"}),
        ("Any news on this? It's been over five weeks.\n\nDan",
         ["Hello,", "Under the GDPR I'd like a copy of the personal data you hold about me."], {"privacy_other"}),
        ("Toujours rien reçu. Vous pouvez me dire où en est ma demande ?",
         ["Bonjour,", "Je souhaite recevoir une copie des données personnelles que vous détenez à mon sujet."],
         {"privacy_other"}),
        ("Gibt es Neuigkeiten?", ["Guten Tag,", "bitte löschen Sie mein Kundenkonto und alle meine Daten."],
         {"privacy_other"}),
        ("Please ignore my previous email - I'd like to keep my account after all. Sorry for the trouble!",
         ["Dear Ms Thompson,", "We have received your request to delete your account and personal data."],
         {"privacy_other"}),
        # "..." in a chase cue: words between ("niets meer van jullie gehoord", "nichts mehr von Ihnen gehört")
        ("Ik heb na deze bevestiging niets meer van jullie gehoord. Wanneer kan ik het verwachten?\n\nPeter",
         ["Beste klant,", "Wij hebben uw verzoek om inzage in uw persoonsgegevens ontvangen."], {"privacy_other"}),
        ("Seitdem habe ich nichts mehr von Ihnen gehört.", ["Guten Tag,", "bitte löschen Sie mein Kundenkonto."],
         {"privacy_other"}),
        # a thread about an order: a chase of it is shop mail
        ("En?", ["Wanneer wordt mijn bestelling 40211 geleverd?"], {"none"}),
        ("Ik heb sindsdien niets meer gehoord.", ["Wanneer wordt mijn bestelling 40211 geleverd?"], {"none"}),
        ("Any news on this?", ["Hello, my parcel 3SKTPS0458821 has not arrived yet."], {"none"}),
    ],
)
def test_a_short_reply_chasing_or_taking_back_its_threads_request_is_about_its_handling(
        classifier: Classifier, own: str, quoted: list[str], expected: set[str]) -> None:
    assert cats(classifier, reply(own, *quoted, subject="Re: vraag", attribution="On Wed, 2 Jun 2027 wrote:")) \
        == expected


@pytest.mark.parametrize(
    ("own", "quoted", "language"),
    [
        ("ja, beides\n\nAnouk", ["Beste Anouk,", "", "Wil je een kopie van je gegevens, of dat wij je account",
                                  "verwijderen? Laat het ons even weten."], "nl"),
        ("40388\n9405 BJ", ["Beste mevrouw Jansen,", "", "Wilt u uw ordernummer en postcode sturen? Dan kunnen wij",
                            "uw verzoek verder behandelen."], "nl"),
        ("Unsubscribe", ["Black Friday is begonnen! Tot 40% korting op kinderwagens en autostoeltjes.",
                         "Geen nieuwsbrief meer ontvangen? Afmelden kan hier."], "en"),
        # a bare word of several languages ("stop") names none of them: the thread tells
        ("Stop", ["Black Friday is begonnen! Tot 40% korting op kinderwagens en autostoeltjes.",
                  "Geen nieuwsbrief meer ontvangen? Afmelden kan hier."], "nl"),
    ],
)
def test_a_few_words_take_the_language_of_their_thread_unless_they_name_a_request(
        classifier: Classifier, own: str, quoted: list[str], language: str) -> None:
    assert classifier.classify(reply(own, *quoted)).language == language


def test_the_quoted_message_is_kept_for_context(classifier: Classifier) -> None:
    text = ("nee bedankt\n\n-----Oorspronkelijk bericht-----\nVan: Kleine Toppers <info@luminet.nl>\n"
            "Verzonden: woensdag 25 november 2026 10:00\nAan: hans@planet.example\n"
            "Onderwerp: Blijf je op de hoogte?\n\n"
            "Hoi Hans,\n\nWil je onze nieuwsbrief blijven ontvangen?\n\nGroetjes\n\n"
            "-----Oorspronkelijk bericht-----\nVan: Hans <hans@planet.example>\nVerzonden: maandag\n\nZijn er ook "
            "rompers in maat 74?")
    split = split_reply(text, classifier.quote_markers)
    assert split.own == "nee bedankt"
    # the first quoted message's questions only: the older message below it asks its own
    assert quoted_questions(split.quoted) == ("Wil je onze nieuwsbrief blijven ontvangen?",)
