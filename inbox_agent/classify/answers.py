"""A bare yes or no that answers the shop's quoted question: the question says what was said yes or no to.

"Ja graag, doe maar." under "Wilt u dat wij uw klantaccount ook volledig verwijderen?" asks for the erasure, and
"nee bedankt" under "Wil je onze nieuwsbrief blijven ontvangen?" objects to it; neither holds a word of its own that
a rule could read. Only a reply whose new text is nothing but the answer (``answer_yes`` / ``answer_no`` first, then
``answer_words`` and a name) is read this way, and only the last yes/no question above the sign-off (``closing``) of
the message it quotes first: the one the answer is under, not a newsletter's footer; a quoted question never counts
otherwise (issue 15: the quote is context, never a trigger).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..language import LETTER_WORD, fold

ANSWER_WORDS = 8
"""At most this many words of new text, a name and greeting included, can be a bare answer."""
OTHER_LINE_WORDS = 4
"""Lines beside the answer hold at most this many words (a name, "Bestelling 40535")."""
TAG_WORDS = 4
"""A question of at most this many words is a tag question ("Klopt dat?", "Is that right?")."""
TAG_CONTEXT = 2
"""Sentences before a tag question read with it."""
QUOTE_CHARS = 2500
"""The quoted message's questions are looked for in this much of the quote (the shop's mail comes first)."""
_END = re.compile(r"(?<=[.!?])\s+")
_BULLET = re.compile(r"^(?:[-*•·]|\d+[.)])\s")
_SEPARATOR = re.compile(r"^[-_=]{3,}|^[-_]{2,}\s*\w.*[-_]{2,}$")
_HEADER = re.compile(r"^\s*[\w-]{2,20}\s*:\s")


@dataclass(frozen=True)
class Answer:
    """The new text says yes (``agrees``) or no to the question of the quoted message."""

    agrees: bool
    question: str
    words: str
    """The answer as written ("Ja graag, doe maar.")."""


class Answers:
    """The answer words of every language (markers.toml ``answer_yes``, ``answer_no``, ``answer_words``), the words
    that turn the shop's question into the writer's (``answer_swap``) and the questions a no objects to
    (``keep_receiving``)."""

    def __init__(self, markers: Iterable[dict[str, Any]]) -> None:
        markers = list(markers)

        def folded(key: str) -> frozenset[str]:
            return frozenset(" ".join(fold(w).split()) for m in markers for w in m.get(key, []))

        self.yes, self.no, self.filler = folded("answer_yes"), folded("answer_no"), folded("answer_words")
        self.swap = {fold(k): v for m in markers for k, v in m.get("answer_swap", {}).items()}
        self.keep = folded("keep_receiving")
        self.open_words = folded("open_question")
        self.closing = folded("closing")

    def read(self, own: str, quoted: str) -> Answer | None:
        """The answer, when ``own`` is one and ``quoted`` asks something; else None. Besides the answer's line, only
        short lines (a name, an order number: ``OTHER_LINE_WORDS``) may stand in the new text."""
        lines = [line.strip() for line in own.splitlines() if line.strip()]
        if len(own.split()) > ANSWER_WORDS:
            return None
        for i, line in enumerate(lines):
            agrees = self._polarity(LETTER_WORD.findall(fold(line)))
            if agrees is None and self._only_filler(line):
                continue  # "Hoi," before the answer
            if agrees is None or any(len(other.split()) > OTHER_LINE_WORDS for other in lines[i + 1 :]):
                return None
            questions = quoted_questions(self._above_closing(quoted), self.open_words)
            return Answer(agrees, questions[-1], line) if questions else None
        return None

    def _above_closing(self, quoted: str) -> str:
        """The quoted text up to the first message's sign-off ("Met vriendelijke groet", "Kind regards")."""
        lines = quoted[:QUOTE_CHARS].splitlines()
        for i, line in enumerate(lines):
            if " ".join(LETTER_WORD.findall(fold(line))) in self.closing:
                return "\n".join(lines[:i])
        return quoted

    def as_the_writers(self, question: str) -> str:
        """The shop's question in the writer's words: "Wilt u dat wij uw account verwijderen?" -> "... mijn account
        ...": the rules read "uw" / "your" as the shop's own (a guard against loops between two desks)."""
        return " ".join(self.swap.get(fold(w), w) for w in question.split())

    def keeps_receiving(self, question: str) -> bool:
        """The question asks whether the writer wants to go on receiving a mailing ("Wil je onze nieuwsbrief blijven
        ontvangen?"): a no to it objects."""
        words = f" {' '.join(LETTER_WORD.findall(fold(question)))} "
        return any(f" {k} " in words for k in self.keep)

    def _only_filler(self, line: str) -> bool:
        return all(w in self.filler for w in LETTER_WORD.findall(fold(line)))

    def _polarity(self, words: list[str]) -> bool | None:
        """True for yes, False for no: the line opens with an answer ("nee", "ja graag", "non merci") and holds
        nothing but answer words after it."""
        for size in (3, 2, 1):
            head = " ".join(words[:size])
            if len(words) >= size and (head in self.yes or head in self.no):
                if all(w in self.filler or w in self.yes or w in self.no for w in words[size:]):
                    return head in self.yes
                return None
        return None


def quoted_questions(quoted: str, open_words: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The yes/no questions of the first quoted message, its sentences that end in "?" and open with no ``open_words``
    ("Welke bedoel je?" asks no yes or no). A tag question ("Klopt dat?", "Passt das so?", at most ``TAG_WORDS`` words)
    asks about what was said before it, so it comes with the ``TAG_CONTEXT`` sentences before it; a list that a
    question's sentence opens ("wil je" / "- een kopie ..." / "- dat wij ... verwijderen?") is part of it."""
    sentences = _sentences(first_message(quoted))
    found = []
    for k, sentence in enumerate(sentences):
        words = LETTER_WORD.findall(fold(sentence))
        if sentence.endswith("?") and words and words[0] not in open_words:
            tag = len(sentence.split()) <= TAG_WORDS
            found.append(" ".join(sentences[max(0, k - TAG_CONTEXT) : k + 1]) if tag else sentence)
    return tuple(found)


def first_message(quoted: str) -> list[str]:
    """The lines of the quoted message that comes first, header lines and separators left out, up to the next
    attribution ("Op ... schreef", "On ... wrote:") or header block, where an older message begins."""
    lines: list[str] = []
    for line in quoted[:QUOTE_CHARS].splitlines():
        stripped = line.strip()
        header = _HEADER.match(line) is not None
        attribution = stripped.endswith(":") and any(c.isdigit() or c == "@" for c in stripped)
        if lines and (header or attribution):
            break
        if not (header or attribution or _SEPARATOR.match(stripped)) and (lines or stripped):
            lines.append(stripped)
    return lines


def _sentences(lines: list[str]) -> list[str]:
    """Sentences, a paragraph's lines read as one text; a line that ends without a mark before a list ("wil je" /
    "- een kopie ..." / "- dat wij ... verwijderen?") goes on into it."""
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if not line:
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        if not paragraphs[-1] and len(paragraphs) > 1 and _BULLET.match(line) \
                and paragraphs[-2][-1][-1:] not in (".", "!", "?", ":", ","):
            paragraphs.pop()
        paragraphs[-1].append(line)
    return [s for p in paragraphs if p for s in _END.split(" ".join(p)) if s.strip()]
