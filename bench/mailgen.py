"""Synthetic but realistic shop mail for the benchmarks, from a seeded RNG and small phrase tables.

The texts below were written for the benchmark (nl/en/de/fr); nothing is copied from the
evaluation corpus. The mix per 100 mails: 30 privacy requests (every right, every language),
5 robots (newsletters with List-Unsubscribe, out-of-office with Auto-Submitted, bounces as
multipart/report) and 65 ordinary customer mails (order and product questions). Bodies come
in varied MIME shapes: plain 8bit, quoted-printable, base64, ISO-8859-1, HTML only and
multipart/alternative, some with quoted history below the new text.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

LANGUAGES = ("nl", "en", "de", "fr")
LANGUAGE_WEIGHTS = (45, 30, 15, 10)
RIGHTS = ("access", "erasure", "rectification", "restriction", "portability", "objection")
TRUSTED_AUTHSERV = "mx.bench.test"
SHOP_ADDRESS = "info@bench-shop.test"

FIRST = {
    "nl": ["Sanne", "Joris", "Femke", "Daan", "Lotte", "Bram", "Anouk", "Thijs", "Ilse", "Ruben", "Marloes", "Gijs"],
    "en": ["Emily", "James", "Olivia", "Harry", "Sophie", "Jack", "Chloe", "Oliver", "Grace", "Thomas"],
    "de": ["Lena", "Jonas", "Mia", "Felix", "Hannah", "Lukas", "Leonie", "Paul", "Marie", "Tobias"],
    "fr": ["Camille", "Louis", "Manon", "Hugo", "Léa", "Théo", "Chloé", "Antoine", "Élodie", "Julien"],
}
LAST = {
    "nl": ["de Vries", "Jansen", "van Dijk", "Bakker", "Visser", "Smit", "Mulder", "de Boer", "Bos", "Dekker"],
    "en": ["Smith", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Wright", "Hughes", "Green", "Hall"],
    "de": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Schäfer", "Koch"],
    "fr": ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Rousseau", "Fontaine", "Chevalier"],
}
DOMAINS = ["ziggo.test", "kpnmail.test", "gmail.test", "outlook.test", "web.test", "orange.test", "hotmail.test"]
STREETS = ["Lindelaan 14", "Kerkstraat 3a", "Station Road 22", "Hauptstraße 7", "rue des Lilas 9", "Molenweg 88"]
PRODUCTS = ["regenjas", "rain jacket", "Regenjacke", "veste de pluie", "babyslofjes", "wool socks",
            "Kinderschuhe", "body en coton", "speelkleed", "romper", "Strampler", "bonnet"]

GREETING = {
    "nl": ["Beste {shop},", "Hallo,", "Goedemiddag,", "Geachte heer/mevrouw,", "Hoi,"],
    "en": ["Dear {shop},", "Hello,", "Hi there,", "Good afternoon,", "To whom it may concern,"],
    "de": ["Sehr geehrte Damen und Herren,", "Hallo,", "Guten Tag,", "Liebes {shop}-Team,"],
    "fr": ["Madame, Monsieur,", "Bonjour,", "Bonjour à toute l'équipe {shop},"],
}
CLOSING = {
    "nl": ["Met vriendelijke groet,", "Groetjes,", "Alvast bedankt,", "Vriendelijke groeten,"],
    "en": ["Kind regards,", "Best wishes,", "Thanks in advance,", "Regards,"],
    "de": ["Mit freundlichen Grüßen,", "Viele Grüße,", "Vielen Dank im Voraus,"],
    "fr": ["Cordialement,", "Bien à vous,", "Merci d'avance,", "Salutations distinguées,"],
}
FILLER = {
    "nl": ["Ik ben al een paar jaar klant bij jullie.", "Mijn laatste bestelling was vorige maand.",
           "Ik hoor graag zo snel mogelijk van u.", "Mijn klantnummer staat hieronder."],
    "en": ["I have been a customer for a few years.", "My last order was placed last month.",
           "I look forward to hearing from you soon.", "My customer number is below."],
    "de": ["Ich bin seit einigen Jahren Kundin bei Ihnen.", "Meine letzte Bestellung war im letzten Monat.",
           "Ich freue mich auf Ihre baldige Antwort.", "Meine Kundennummer finden Sie unten."],
    "fr": ["Je suis cliente chez vous depuis quelques années.", "Ma dernière commande date du mois dernier.",
           "Dans l'attente de votre réponse.", "Vous trouverez mon numéro de client ci-dessous."],
}
PRIVACY = {
    "nl": {
        "access": ["Ik wil graag inzage in al mijn persoonsgegevens die u van mij bewaart.",
                   "Kunt u mij een kopie sturen van alle gegevens die u over mij heeft opgeslagen?"],
        "erasure": ["Graag wil ik dat u mijn account en al mijn gegevens verwijdert.",
                    "Wilt u al mijn persoonlijke gegevens uit uw systeem verwijderen?"],
        "rectification": ["Mijn adres in mijn account klopt niet, wilt u het wijzigen naar {street}?",
                          "Mijn achternaam is verkeerd gespeld in mijn account, wilt u dit corrigeren?"],
        "restriction": ["Ik verzoek u de verwerking van mijn gegevens te beperken totdat mijn klacht is opgelost.",
                        "Wilt u het gebruik van mijn gegevens tijdelijk stopzetten zolang mijn bezwaar loopt?"],
        "portability": ["Kunt u mijn bestelgeschiedenis exporteren als CSV-bestand, zodat ik die kan meenemen?",
                        "Ik wil mijn gegevens in een machineleesbaar formaat ontvangen om over te stappen."],
        "objection": ["Ik maak bezwaar tegen het gebruik van mijn gegevens voor marketing.",
                      "Ik wil niet langer dat u mijn gegevens gebruikt voor reclame en profilering."],
    },
    "en": {
        "access": ["Please send me a copy of all personal data you have about me.",
                   "Could you tell me which personal data you keep about me?"],
        "erasure": ["Please delete my account and all my personal data.",
                    "I want you to erase all the data you have on me."],
        "rectification": ["My address in your records is wrong, please correct it to {street}.",
                          "My surname is misspelled in my account, please update it."],
        "restriction": ["Please restrict the processing of my data until my complaint is resolved.",
                        "Please restrict the use of my personal data until my complaint is sorted."],
        "portability": ["Please send me my order history in a machine-readable format such as CSV.",
                        "Please export my account data as a JSON file so I can transfer it to another shop."],
        "objection": ["I object to the processing of my personal data for marketing purposes.",
                      "Please stop using my data for advertising and profiling."],
    },
    "de": {
        "access": ["Ich bitte um Auskunft über meine bei Ihnen gespeicherten personenbezogenen Daten (Art. 15 DSGVO).",
                   "Welche Daten haben Sie über mich gespeichert? Ich bitte um eine Kopie."],
        "erasure": ["Bitte löschen Sie mein Kundenkonto und alle meine persönlichen Daten.",
                    "Ich verlange die Löschung sämtlicher Daten, die Sie über mich gespeichert haben."],
        "rectification": ["Meine Adresse ist bei Ihnen falsch gespeichert, bitte berichtigen Sie sie: {street}.",
                          "Meine Telefonnummer ist falsch, bitte ändern Sie sie in meinem Konto."],
        "restriction": ["Bitte sperren Sie meine Daten, bis meine Beschwerde geklärt ist.",
                        "Ich verlange die Einschränkung der Verarbeitung meiner Daten nach Art. 18 DSGVO."],
        "portability": ["Bitte übermitteln Sie mir meine Daten in einem maschinenlesbaren Format (CSV).",
                        "Ich möchte meine Bestellhistorie als Datei exportieren, um den Shop zu wechseln."],
        "objection": ["Ich widerspreche der Nutzung meiner Daten für Werbezwecke.",
                      "Hiermit lege ich Widerspruch gegen die Verarbeitung meiner Daten für Marketing ein."],
    },
    "fr": {
        "access": ["Je souhaite obtenir une copie de toutes les données personnelles que vous détenez sur moi.",
                   "Conformément au RGPD, je demande l'accès à mes données personnelles."],
        "erasure": ["Merci de supprimer mon compte client et toutes mes données personnelles.",
                    "Je vous demande d'effacer toutes les données que vous conservez à mon sujet."],
        "rectification": ["Mon adresse est incorrecte dans votre fichier, merci de la rectifier : {street}.",
                          "Mon nom de famille est mal orthographié dans mon compte, merci de le corriger."],
        "restriction": ["Je vous demande de limiter le traitement de mes données jusqu'à la fin de ma réclamation.",
                        "Merci de suspendre l'utilisation de mes données personnelles en attendant."],
        "portability": ["Pourriez-vous m'envoyer mes données dans un format lisible par machine (CSV) ?",
                        "Je souhaite exporter l'historique de mes commandes pour le transférer à une autre boutique."],
        "objection": ["Je m'oppose à l'utilisation de mes données à des fins de prospection commerciale.",
                      "Je m'oppose à ce que mes données soient utilisées pour de la publicité."],
    },
}
PRIVACY_SUBJECT = {
    "nl": ["Verzoek persoonsgegevens", "Mijn gegevens", "AVG-verzoek", "Vraag over mijn account", "Privacy"],
    "en": ["Data request", "My personal data", "GDPR request", "Regarding my account", "Privacy"],
    "de": ["Datenschutzanfrage", "Meine Daten", "DSGVO-Anfrage", "Mein Kundenkonto"],
    "fr": ["Demande RGPD", "Mes données personnelles", "Mon compte client", "Confidentialité"],
}
ORDER = {
    "nl": ["Mijn bestelling {order} is nog steeds niet bezorgd, kunt u kijken waar het pakket blijft?",
           "Ik heb bestelling {order} ontvangen maar de {product} is te klein. Hoe kan ik die ruilen?",
           "Kan ik het bezorgadres van bestelling {order} nog aanpassen?",
           "De betaling van bestelling {order} is twee keer afgeschreven."],
    "en": ["My order {order} has not arrived yet, could you check where the parcel is?",
           "I received order {order} but the {product} is too small. How do I exchange it?",
           "Can I still change the delivery date of order {order}?",
           "I was charged twice for order {order}."],
    "de": ["Meine Bestellung {order} ist noch nicht angekommen, wo bleibt das Paket?",
           "Die {product} aus Bestellung {order} ist zu klein, wie kann ich sie umtauschen?",
           "Kann ich die Lieferadresse der Bestellung {order} noch ändern?"],
    "fr": ["Ma commande {order} n'est toujours pas arrivée, pouvez-vous vérifier le colis ?",
           "J'ai reçu la commande {order} mais le {product} est trop petit. Comment l'échanger ?",
           "Est-il encore possible de modifier l'adresse de livraison de la commande {order} ?"],
}
ORDER_SUBJECT = {
    "nl": ["Bestelling {order}", "Waar blijft mijn pakket?", "Ruilen", "Vraag over mijn bestelling"],
    "en": ["Order {order}", "Where is my parcel?", "Exchange", "Question about my order"],
    "de": ["Bestellung {order}", "Wo bleibt mein Paket?", "Umtausch"],
    "fr": ["Commande {order}", "Où est mon colis ?", "Échange d'article"],
}
PRODUCT = {
    "nl": ["Is de {product} ook leverbaar in maat 86?", "Is de {product} wasbaar op 40 graden?",
           "Wanneer komt de {product} weer op voorraad?", "Van welk materiaal is de {product} gemaakt?"],
    "en": ["Is the {product} available in size 18-24 months?", "Can the {product} be machine washed?",
           "When will the {product} be back in stock?", "What material is the {product} made of?"],
    "de": ["Gibt es die {product} auch in Größe 92?", "Ist die {product} waschmaschinenfest?",
           "Wann ist die {product} wieder lieferbar?"],
    "fr": ["Le {product} existe-t-il en taille 24 mois ?", "Le {product} passe-t-il en machine ?",
           "Quand le {product} sera-t-il de nouveau disponible ?"],
}
PRODUCT_SUBJECT = {
    "nl": ["Vraag over {product}", "Maat {product}", "Voorraad"],
    "en": ["Question about the {product}", "Sizes", "Stock question"],
    "de": ["Frage zu {product}", "Größen", "Verfügbarkeit"],
    "fr": ["Question sur {product}", "Tailles", "Disponibilité"],
}
NEWSLETTER = {
    "nl": ("Nieuwe collectie: 20% korting dit weekend", "Ontdek onze nieuwe voorjaarscollectie."),
    "en": ("Spring sale: 20% off this weekend", "Discover our new spring collection."),
    "de": ("Frühjahrs-Sale: 20 % Rabatt", "Entdecken Sie unsere neue Frühjahrskollektion."),
    "fr": ("Soldes de printemps : -20 %", "Découvrez notre nouvelle collection de printemps."),
}
OOO = {
    "nl": ("Afwezig: {subject}", "Ik ben afwezig tot en met maandag en lees mijn mail niet."),
    "en": ("Out of office: {subject}", "I am out of the office until Monday with no access to email."),
    "de": ("Abwesenheitsnotiz: {subject}", "Ich bin bis Montag nicht im Büro und lese keine E-Mails."),
    "fr": ("Absence : {subject}", "Je suis absente jusqu'à lundi et ne lis pas mes e-mails."),
}
QUOTE_INTRO = {
    "nl": "Op {date} schreef {shop} <{addr}>:", "en": "On {date}, {shop} <{addr}> wrote:",
    "de": "Am {date} schrieb {shop} <{addr}>:", "fr": "Le {date}, {shop} <{addr}> a écrit :",
}
QUOTED = {
    "nl": "Bedankt voor je bestelling! We gaan er meteen mee aan de slag.",
    "en": "Thank you for your order! We are getting it ready right away.",
    "de": "Vielen Dank für Ihre Bestellung! Wir bearbeiten sie sofort.",
    "fr": "Merci pour votre commande ! Nous la préparons tout de suite.",
}
SHAPES = ("plain", "plain", "qp", "base64", "latin1", "html", "alternative", "alternative")


@dataclass(frozen=True)
class Mail:
    """One generated mail and what it is, for checking what the agent did with it."""

    index: int
    kind: str  # privacy | order | product | newsletter | ooo | bounce
    language: str
    sender: str
    right: str | None
    raw: bytes
    date: datetime

    @property
    def robot(self) -> bool:
        return self.kind in ("newsletter", "ooo", "bounce")


def _kind(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.30:
        return "privacy"
    if roll < 0.35:
        return rng.choice(("newsletter", "ooo", "bounce"))
    return "order" if roll < 0.70 else "product"


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _body(rng: random.Random, lang: str, core: str, first: str, last: str, index: int) -> str:
    lines = [rng.choice(GREETING[lang]).format(shop="Bench Shop"), "", core]
    if rng.random() < 0.5:
        lines.append(rng.choice(FILLER[lang]))
    lines += ["", rng.choice(CLOSING[lang]), f"{first} {last}"]
    if rng.random() < 0.3:
        lines.append(f"klant/customer {100000 + index}")
    return "\n".join(lines) + "\n"


def _quoted(lang: str, when: datetime) -> str:
    intro = QUOTE_INTRO[lang].format(date=when.strftime("%d-%m-%Y %H:%M"), shop="Bench Shop", addr=SHOP_ADDRESS)
    return f"\n{intro}\n> {QUOTED[lang]}\n>\n> Bench Shop\n"


def _set_body(msg: EmailMessage, shape: str, text: str) -> None:
    html_text = "<html><body>" + "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n") if line)
    html_text += "</body></html>"
    if shape == "plain":
        msg.set_content(text, cte="8bit")
    elif shape == "qp":
        msg.set_content(text, cte="quoted-printable")
    elif shape == "base64":
        msg.set_content(text, cte="base64")
    elif shape == "latin1":
        try:
            text.encode("iso-8859-1")
            msg.set_content(text, charset="iso-8859-1", cte="quoted-printable")
        except UnicodeEncodeError:
            msg.set_content(text, cte="quoted-printable")
    elif shape == "html":
        msg.set_content(html_text, subtype="html", cte="quoted-printable")
    else:
        msg.set_content(text, cte="quoted-printable")
        msg.add_alternative(html_text, subtype="html", cte="quoted-printable")


def _bounce(rng: random.Random, index: int, when: datetime) -> bytes:
    boundary = f"bench-bounce-{index}"
    lost = f"oud.adres{index}@{rng.choice(DOMAINS)}"
    return _crlf(f"""\
Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@{rng.choice(DOMAINS)}>
To: {SHOP_ADDRESS}
Subject: Undelivered Mail Returned to Sender
Date: {format_datetime(when)}
Message-ID: <bounce.{index}@bench.test>
MIME-Version: 1.0
Auto-Submitted: auto-replied
Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.bench.test.
I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{lost}>: host mx.example said: 550 5.1.1 User unknown

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.bench.test

Final-Recipient: rfc822; {lost}
Action: failed
Status: 5.1.1

--{boundary}
Content-Type: text/rfc822-headers

From: Bench Shop <{SHOP_ADDRESS}>
To: {lost}
Subject: Je bestelling is onderweg

--{boundary}--
""".encode())


SPACING_SECONDS = 37
"""Mean gap between two mails (about 2,300 a day), so a 50k backlog spans three weeks."""


def generate(count: int, seed: int = 8, end: datetime | None = None) -> list[Mail]:
    """``count`` mails, the same texts for the same seed, dated up to ``end`` (default: this hour).

    Recent dates matter: a backlog of last year's requests would also trigger an overdue alert per case.
    """
    rng = random.Random(seed)
    end = end or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(seconds=count * SPACING_SECONDS)
    mails: list[Mail] = []
    for index in range(count):
        lang = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]
        kind = _kind(rng)
        when = start + timedelta(seconds=index * SPACING_SECONDS + rng.randrange(30))
        first, last = rng.choice(FIRST[lang]), rng.choice(LAST[lang])
        local = f"{first}.{last}".lower().replace(" ", "").replace("é", "e").replace("ü", "ue").replace("ä", "ae")
        local = local.encode("ascii", "ignore").decode()
        sender = f"{local}.{index}@{rng.choice(DOMAINS)}"
        if kind == "bounce":
            mails.append(Mail(index, kind, lang, "mailer-daemon", None, _bounce(rng, index, when), when))
            continue
        order = f"#{rng.randrange(10000, 99999)}"
        product = rng.choice(PRODUCTS)
        right: str | None = None
        msg = EmailMessage()
        msg["Return-Path"] = f"<{sender}>"
        dmarc = rng.choice(("pass", "pass", "none", "fail"))
        msg["Authentication-Results"] = (f"{TRUSTED_AUTHSERV}; spf=pass smtp.mailfrom={sender}; "
                                         f"dkim=pass header.d={sender.rpartition('@')[2]}; dmarc={dmarc}")
        msg["Date"] = format_datetime(when)
        msg["Message-ID"] = f"<bench.{index}.{rng.randrange(1 << 30):x}@{sender.rpartition('@')[2]}>"
        msg["To"] = f"Bench Shop <{SHOP_ADDRESS}>"
        if kind == "newsletter":
            subject, core = NEWSLETTER[lang]
            msg["From"] = f"Babywinkel Nieuws <nieuws@brands{index % 7}.test>"
            msg["List-Unsubscribe"] = f"<mailto:unsubscribe@brands{index % 7}.test?subject={index}>"
            msg["List-Id"] = f"<news.brands{index % 7}.test>"
            msg["Precedence"] = "bulk"
            sender = f"nieuws@brands{index % 7}.test"
            text = core + "\n\n" + "\n".join(f"- {p}" for p in rng.sample(PRODUCTS, 4)) + "\n"
        elif kind == "ooo":
            subject, core = OOO[lang]
            subject = subject.format(subject=rng.choice(ORDER_SUBJECT[lang]).format(order=order))
            msg["From"] = f"{first} {last} <{sender}>"
            msg["Auto-Submitted"] = "auto-replied"
            text = core + f"\n\n{first} {last}\n"
        else:
            if kind == "privacy":
                right = rng.choice(RIGHTS)
                core = rng.choice(PRIVACY[lang][right]).format(street=rng.choice(STREETS))
                subject = rng.choice(PRIVACY_SUBJECT[lang])
            elif kind == "order":
                core = rng.choice(ORDER[lang]).format(order=order, product=product)
                subject = rng.choice(ORDER_SUBJECT[lang]).format(order=order)
            else:
                core = rng.choice(PRODUCT[lang]).format(product=product)
                subject = rng.choice(PRODUCT_SUBJECT[lang]).format(product=product)
            msg["From"] = f"{first} {last} <{sender}>"
            text = _body(rng, lang, core, first, last, index)
            if rng.random() < 0.25:
                subject = ("Re: " if lang != "de" else "AW: ") + subject
                text += _quoted(lang, when - timedelta(days=3))
        msg["Subject"] = subject
        _set_body(msg, rng.choice(SHAPES), text)
        mails.append(Mail(index, kind, lang, sender, right, _crlf(msg.as_bytes()), when))
    return mails
