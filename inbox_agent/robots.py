"""Is this mail written by a machine? Auto-replies, bounces, lists and noreply senders are never answered.

Answering a robot starts mail loops (RFC 3834) and answering a bounce sends personal data to an
address that no longer belongs to the customer, so the test errs towards "automated": any one
signal suffices. Signals come from headers first (cheap and reliable), then from the shape of
the message (DSN/MDN reports, null or mailer-daemon senders, bounce texts) and finally from the
text of out-of-office replies that carry no header at all. Subject words alone never decide:
"Pakket niet afgeleverd" or "Returned to sender" is how customers describe a lost parcel.
"""

from __future__ import annotations

import functools
import re

from .language import any_of, fold
from .models import ParsedMessage

_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_ROBOT_LOCALPART = re.compile(
    r"^(mailer-daemon|post_?master|owner-.*|.*-(admin|owner|request|bounces?)|no-?reply|do-?not-?reply|donotreply|bounces?|"
    r"mail-?delivery(-?system|-?subsystem)?|maildelivery|mdaemon|autoreply|auto-reply|"
    r"notifications?|notify|wordpress|woocommerce|shopify|magento|daemon)([+._-].*)?$",
    re.IGNORECASE,
)
_AUTO_REPLY_LABELS = (
    r"auto(matic|matisch|matische)?[ -]?(reply|response|antwort|antwoord)|autoreply|abwesenheitsnotiz|abwesenheit|"
    r"r[ée]ponse automatique|auto-?r[ée]ponse|out of (the )?office( reply)?|afwezigheidsmelding|afwezig|abwesend|"
    r"absence du bureau|absence"
)
_AUTO_REPLY_PREFIX = re.compile(rf"^\s*({_AUTO_REPLY_LABELS})\s*:", re.IGNORECASE)
"""The prefix an auto-replier writes in front of the subject it answers ("Automatic reply: ...").

It counts only on a short body (see ``OOO_MAX_WORDS``): a subject is never enough on its own,
since customers write "Order not delivered" or "Returned to sender" about their parcels."""
_AUTO_REPLY_SUBJECT = re.compile(rf"^\s*({_AUTO_REPLY_LABELS})\s*$", re.IGNORECASE)
"""A subject that is nothing but the auto-replier's label ("Abwesenheitsnotiz", "Absence"): with one
out-of-office marker in the body it is an auto-reply, as an answer to a mail is."""
_REPORT_SUBJECT = re.compile(
    r"^\s*(report domain:|complaint about message from \d{1,3}(\.\d{1,3}){3}\b)",
    re.IGNORECASE,
)
"""Machine report formats (DMARC aggregate reports, Hotmail abuse feedback) that carry the
reported message as an attachment; checked together with that attachment."""
OOO_MAX_WORDS = 120
"""Out-of-office replies are short; a long mail that mentions a holiday is a person writing."""
_REPORT_TYPES = {"multipart/report", "message/delivery-status", "message/disposition-notification"}
_BOUNCE_BODY = re.compile(
    r"this is the mail system at host|could not be delivered to one or more|"
    r"delivery to the following recipients? failed|the following addresses? had permanent|"
    r"the following message to .* was undeliverable|message could not be delivered|"
    r"this message was created automatically by mail delivery software|"
    r"a message that you sent could not be delivered|unable to deliver (your )?message|"
    r"i'm afraid i wasn't able to deliver|delivery has failed to these recipients|"
    r"your message (was|could) not be delivered|permanent (fatal )?errors?|"
    r"550[ -]5\.\d\.\d|554[ -]5\.\d\.\d|5\.1\.1 |user unknown|mailbox unavailable|"
    r"returned mail: |original message follows|undeliverable message|no such user|"
    r"invalid user address|had delivery problems|requested action not taken|"
    r"there was an error delivering your mail to",
    re.IGNORECASE,
)
_BOUNCE_BODY_ASCII = re.compile(_BOUNCE_BODY.pattern)
"""The same, without IGNORECASE, for text in lower case: ~3x faster, and the same matches on text without
``_FOLDS_TO_ASCII`` letters (the pattern's letters are all ASCII and lower case; other letters stay out of its
reach in either case: only ``.`` matches them)."""
_FOLDS_TO_ASCII = re.compile("[\u0130\u0131\u017f\u212a]")
"""The letters beyond ASCII that IGNORECASE matches to an ASCII letter or whose lower case holds one: dotted and dotless
i, long s and the Kelvin sign (tests/unit/test_robots.py looks through every code point). Text with one of them is
searched with IGNORECASE."""


def detect_automated(msg: ParsedMessage, ooo_phrases: tuple[str, ...] = (), own_text: str | None = None) -> str | None:
    """The first machine signal found, as words for the officer, or None for a person's mail.

    ``ooo_phrases`` are lower-case out-of-office sentences (from classifiers/<lang>/markers.toml);
    they catch auto-replies whose software sets no header at all. They are looked for in ``own_text``
    (the new text without quoted history) when given: a person's reply that quotes the shop's "thank you
    for your message" is no auto-reply.
    """
    headers = msg.headers
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"
    precedence = (headers.get("precedence") or headers.get("x-precedence") or "").strip().lower()
    if precedence in _PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in (
        "x-autoreply",
        "x-autorespond",
        "x-autogenerated",
        "x-auto-reply-from",
        "x-mailautoreply",
        "x-fc-machinegenerated",
        "x-failed-recipients",
        "feedback-type",
        "x-cron-env",
    ):
        if name in headers:
            return f"{name} header"
    suppress = headers.get("x-auto-response-suppress", "").lower()
    if "oof" in suppress or "autoreply" in suppress:
        return "x-auto-response-suppress marks an auto-reply"
    if "x-ms-exchange-generated-message-source" in headers or "x-ms-exchange-inbox-rules-loop" in headers:
        return "generated by an Exchange rule"
    for name in ("list-id", "list-unsubscribe", "list-post"):
        if name in headers:
            return f"mailing list ({name})"
    if msg.content_type in _REPORT_TYPES:
        return f"delivery or read report ({msg.content_type})"
    if any(part.content_type in _REPORT_TYPES for part in msg.attachments):
        return "delivery or read report attached"
    if msg.return_path == "":
        return "empty Return-Path (null sender)"
    if msg.from_ is None:
        return "no sender address (From: <> or none)"
    sender = msg.from_.email
    local = sender.rpartition("@")[0]
    if local and _ROBOT_LOCALPART.match(local):
        return f"robot sender {sender}"
    if msg.embedded_texts and _REPORT_SUBJECT.match(msg.subject):
        return "machine report with the reported message attached"
    head = msg.text[:4000]
    folds = not head.isascii() and _FOLDS_TO_ASCII.search(head) is not None
    if (_BOUNCE_BODY.search(head) if folds else _BOUNCE_BODY_ASCII.search(head.lower())) is not None:
        return "bounce text"
    lowered = " ".join(fold((head if own_text is None else own_text)[:1500]).split())
    if len(lowered.split()) > OOO_MAX_WORDS:
        return None
    if _AUTO_REPLY_PREFIX.match(msg.subject):
        return "auto-reply subject prefix on a short text"
    # An out-of-office text answers a mail. Without In-Reply-To/References it takes two of its
    # markers ("nicht im Büro" ... "nach meiner Rückkehr"): a person mentioning a holiday in a new
    # mail ("wir sind ab dem 8. Mai im Urlaub") has one at most.
    found = _apart(lowered, ooo_phrases)
    if found and (msg.in_reply_to or msg.references or len(found) >= 2 or _AUTO_REPLY_SUBJECT.match(msg.subject)):
        return f"out-of-office text ({', '.join(repr(p) for p in found[:2])})"
    return None


def _apart(text: str, phrases: tuple[str, ...]) -> list[str]:
    """The phrases found in ``text`` that do not overlap one another: "i'm on holiday until friday" holds
    "i'm on holiday" and "on holiday until", which are one marker, not two."""
    if _any_phrase(phrases).search(text) is None:
        return []  # most mail: one search instead of a find per phrase
    spans = sorted(
        (start, start + len(phrase), phrase)
        for phrase in set(phrases)
        if (start := text.find(phrase)) >= 0
    )
    kept: list[str] = []
    end = -1
    for start, stop, phrase in spans:
        if start >= end:
            kept.append(phrase)
            end = stop
        else:
            end = max(end, stop)
    return kept


@functools.lru_cache(maxsize=8)
def _any_phrase(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """Finds whether any of ``phrases`` is in a text (the markers of the classifier's languages)."""
    return re.compile(any_of(phrases))
