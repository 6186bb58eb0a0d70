"""The customer's own words: quoted replies, forwarded history and the signature cut away.

Only new text may trigger a privacy case: a reply that quotes the shop's footer ("you can
have your data deleted") or an old request is not a new request. The markers (attribution
lines such as "Op ... schreef ...:", Outlook header blocks, forward separators, phone
signatures) are data in classifiers/<lang>/markers.toml; all languages' markers are applied
together because the language is only known once the new text has been found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADER_FIELD = re.compile(r"^\s*\*?([A-Za-zÀ-ÿ-]{2,12})\s*\*?\s*:")
_LOOKAHEAD = 6
"""Lines an Outlook header block ("From:" ... "Sent:" ... "Subject:") may span."""


@dataclass(frozen=True)
class QuoteMarkers:
    """Compiled line patterns; each matches one whole (stripped) line."""

    attribution: re.Pattern[str]
    """"On ... wrote:"-style lines that introduce a quote."""
    history: re.Pattern[str]
    """Separators after which everything is old mail ("-----Original Message-----")."""
    forward: re.Pattern[str]
    """Separators that start a forwarded message."""
    header_from: frozenset[str]
    """Lower-case field names that open an Outlook header block (from, van, von, de)."""
    header_other: frozenset[str]
    """Field names that must follow within a few lines (sent, date, subject, onderwerp, ...)."""
    signature: re.Pattern[str]
    """Lines that start a signature ("-- ", "Sent from my iPhone")."""
    footer: re.Pattern[str]
    """Lines that start a disclaimer or a mailing's footer ("This email is confidential", "You are receiving this
    email because you ..."): a signature only below the writer's own words."""

    @classmethod
    def build(
        cls,
        attribution: list[str],
        history: list[str],
        forward: list[str],
        header_from: list[str],
        header_other: list[str],
        signature: list[str],
        footer: list[str],
    ) -> QuoteMarkers:
        def either(patterns: list[str]) -> re.Pattern[str]:
            return re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!x)x", re.IGNORECASE)

        return cls(
            attribution=either(attribution),
            history=either(history),
            forward=either(forward),
            header_from=frozenset(h.lower() for h in header_from),
            header_other=frozenset(h.lower() for h in header_other),
            signature=either(signature),
            footer=either(footer),
        )


@dataclass(frozen=True)
class Split:
    own: str
    """New text including any signature (what talon calls the reply)."""
    forwarded: str
    """The body of a forwarded message, when the mail forwards one; else ""."""
    quoted: str = ""
    """The quoted history, newest message first: the '>' lines without their marks, then whatever an attribution or an
    "original message" separator ends the new text with. Context for a short answer ("Ja graag"), never a request."""


def _is_quote(line: str) -> bool:
    return line.lstrip().startswith(">")


def _next_content(lines: list[str], start: int) -> str | None:
    for line in lines[start : start + 4]:
        if line.strip():
            return line
    return None


def _opens_header_block(lines: list[str], i: int, markers: QuoteMarkers) -> bool:
    first = _HEADER_FIELD.match(lines[i])
    if not first or first.group(1).lower() not in markers.header_from:
        return False
    for line in lines[i + 1 : i + 1 + _LOOKAHEAD]:
        field = _HEADER_FIELD.match(line)
        if field and field.group(1).lower() in markers.header_other:
            return True
    return False


def _attribution_span(lines: list[str], i: int, markers: QuoteMarkers) -> int:
    """Number of lines (1 or 2, mail clients wrap long attributions) forming an attribution, or 0.

    Every attribution ends with a colon; testing that first keeps the regexes off most lines.
    """
    line = lines[i].strip()
    if not line or _is_quote(line):
        return 0
    if not line.endswith(":") and not (i + 1 < len(lines) and lines[i + 1].rstrip().endswith(":")):
        return 0
    if markers.attribution.search(line):
        return 1
    if (
        i + 1 < len(lines)
        and not markers.attribution.search(lines[i + 1].strip())
        and markers.attribution.search(line + " " + lines[i + 1].strip())
    ):
        return 2
    follower = _next_content(lines, i + 1)
    if line.endswith(":") and follower is not None and _is_quote(follower) and len(line) < 200:
        return 1  # an attribution in a language we have no marker for, still followed by a quote
    return 0


def split_reply(text: str, markers: QuoteMarkers) -> Split:
    """Separate the sender's new text from quoted and forwarded history.

    '>'-quoted lines and their attribution are skipped but reading goes on after them, so
    new text between quoted blocks (inline replies) is kept. An attribution that is not
    followed by '>' lines, an "original message" separator or an Outlook header block ends
    the new text; a forward separator ends it too and hands back what was forwarded.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    own: list[str] = []
    quoted: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if _is_quote(line):
            quoted.append(stripped.lstrip("> "))
            i += 1
            continue
        separator_like = stripped[:1] in {"-", "_"} or stripped.endswith(":")
        if separator_like and markers.forward.search(stripped):
            return Split("\n".join(own).strip(), "\n".join(lines[i + 1 :]).strip())
        if (separator_like and markers.history.search(stripped)) or _opens_header_block(lines, i, markers):
            quoted.extend(lines[i:])
            break
        span = _attribution_span(lines, i, markers)
        if span:
            follower = _next_content(lines, i + span)
            if follower is None or not _is_quote(follower):
                quoted.extend(lines[i + span :])
                break
            i += span
            continue
        own.append(line)
        i += 1
    return Split("\n".join(own).strip(), "", "\n".join(quoted).strip())


def cut_signature(text: str, markers: QuoteMarkers) -> str:
    """Drop everything from the first signature marker on ("-- ", "Verstuurd vanaf mijn iPhone"), or from the first
    footer below the writer's own words: a writer who opens with a footer's words ("You are receiving this email
    because you hold my data. I request a copy ...", "Dit bericht is bestemd voor de functionaris
    gegevensbescherming: verwijder ...") is writing, not signing."""
    lines = text.split("\n")
    below = False
    for i, line in enumerate(lines):
        line = line.rstrip()
        if markers.signature.search(line) or (below and markers.footer.search(line)):
            return "\n".join(lines[:i]).strip()
        below = below or bool(line)
    return text.strip()
