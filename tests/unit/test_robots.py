"""Automated-mail detection: headers, structure, and header-less out-of-office texts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inbox_agent import robots
from inbox_agent.models import Address, Attachment, ParsedMessage
from inbox_agent.parse import ParseError, parse
from inbox_agent.robots import detect_automated

SISIMAI = Path(__file__).parents[2] / ".." / "shared" / "corpus" / "mail" / "sisimai" / "maildir-bsd"


def msg(**fields: object) -> ParsedMessage:
    base: dict[str, object] = {
        "message_id": "<m@x>",
        "from_": Address(email="anna@voorbeeld.example"),
        "return_path": "anna@voorbeeld.example",
        "text": "Hallo, een vraag over mijn bestelling.",
    }
    base.update(fields)
    return ParsedMessage(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fields",
    [
        {"headers": {"auto-submitted": "auto-replied"}},
        {"headers": {"precedence": "bulk"}},
        {"headers": {"list-unsubscribe": "<https://x.example/u>"}},
        {"headers": {"x-autorespond": "yes"}},
        {"return_path": ""},
        {"from_": Address(email="MAILER-DAEMON@mx.example")},
        {"from_": Address(email="noreply@mollie.example")},
        {"content_type": "multipart/report"},
        {"attachments": [Attachment(filename=None, content_type="message/delivery-status", size=10)]},
        {"subject": "Undelivered Mail Returned to Sender", "text": "This is the mail system at host mx.example."},
        {"subject": "Automatic reply: uw bestelling", "text": "Bedankt voor uw bericht."},
        {"from_": None},
        {
            "text": "Je suis absente jusqu'au 2 mars, avec un accès très limité à ma messagerie.",
            "in_reply_to": "<order-mail@shop.example>",
        },
    ],
)
def test_machine_signals(fields: dict[str, object]) -> None:
    assert detect_automated(msg(**fields), ("acces tres limite a ma messagerie",)) is not None


def test_person_is_not_automated() -> None:
    assert detect_automated(msg(headers={"auto-submitted": "no"}), ("ik ben afwezig",)) is None


@pytest.mark.parametrize(
    "subject",
    [
        "Pakket niet afgeleverd",
        "Order not delivered",
        "Returned to sender",
        "Nicht zustellbar?",
        "Colis non distribuable",
        "Out of office: mijn account",
        "Re: Undelivered Mail Returned to Sender",
    ],
)
def test_subject_words_alone_never_make_mail_automated(subject: str) -> None:
    """Customers describe lost parcels in these words; only headers and structure decide."""
    text = "Hallo, mijn pakket kwam terug. Verwijder ook meteen mijn account en al mijn gegevens. " * 15
    assert detect_automated(msg(subject=subject, text=text), ("ik ben afwezig",)) is None


def test_every_sisimai_bounce_is_automated() -> None:
    if not SISIMAI.is_dir():
        pytest.skip(f"sisimai corpus {SISIMAI} not present")
    missed = []
    for path in sorted(SISIMAI.glob("*.eml")):
        try:
            parsed = parse(path.read_bytes())
        except ParseError:
            continue  # quarantined, never answered either
        if detect_automated(parsed) is None:
            missed.append(path.name)
    assert missed == []


def test_a_person_mentioning_a_holiday_in_a_new_mail_is_not_an_auto_reply() -> None:
    text = "Hallo, wie lange dauert die Lieferung? Wir sind ab dem 8. Mai im Urlaub."
    markers = ("im urlaub", "nach meiner ruckkehr")
    assert detect_automated(msg(text=text), markers) is None
    assert detect_automated(msg(text=text, in_reply_to="<x@shop.example>"), markers) is not None
    assert detect_automated(msg(text=text + " Nach meiner Rückkehr melde ich mich."), markers) is not None


@pytest.mark.parametrize(
    "text",
    [
        "DELIVERY HAS FAILED TO THESE RECIPIENTS OR GROUPS: anna@voorbeeld.example",
        "Your Message Could Not Be Delivered to anna@voorbeeld.example.",
        "Zustellung an Empfänger fehlgeschlagen. Your message could NOT be delivered: 550 5.1.1 User Unknown",
        "Zustellung fehlgeschlagen: no \u017fuch u\u017fer",  # long s: IGNORECASE matches it to "s"
        "Unzustellbar: USER UN\u212aNOWN",  # the Kelvin sign is a "k" to IGNORECASE
        "Teslimat ba\u015far\u0131s\u0131z: \u0130nvalid user address",  # dotted capital I
    ],
)
def test_bounce_text_is_found_in_any_case(text: str) -> None:
    """Text is searched in lower case without IGNORECASE, unless it holds a letter that IGNORECASE matches to an ASCII
    one: both find capitals."""
    assert detect_automated(msg(text=text)) == "bounce text"


def test_only_the_listed_letters_beyond_ascii_meet_ascii_in_another_case() -> None:
    """The lower-case search without IGNORECASE sees what IGNORECASE sees on every text without ``_FOLDS_TO_ASCII``:
    the pattern is ASCII, and no other code point matches an ASCII one under IGNORECASE, has ASCII in its lower case,
    or stops or starts being a digit in it."""
    assert robots._BOUNCE_BODY.pattern.isascii()
    ascii_char, digit = re.compile(r"[\x00-\x7f]", re.IGNORECASE), re.compile(r"\d")
    meets_ascii = [
        ch
        for ch in map(chr, range(0x80, 0x110000))
        if not 0xD800 <= ord(ch) <= 0xDFFF
        and (
            ascii_char.match(ch) is not None
            or any(c.isascii() for c in ch.lower())
            or (digit.match(ch) is None) != (digit.match(ch.lower()) is None)
        )
    ]
    assert meets_ascii == [ch for ch in map(chr, range(0x110000)) if robots._FOLDS_TO_ASCII.match(ch)]
