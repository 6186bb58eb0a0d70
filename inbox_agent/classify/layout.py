"""A text as the rules read it: tokens with their sentences and clauses, the writer's own words, and its cues.

``_Segment`` is one text (subject, own text, forwarded or attached text) tokenised and normalised; the helpers
here decide where a sentence or clause ends (punctuation, short phone lines, abbreviations, enumerations), which
every veto and every co-occurrence counts in. ``_blank`` is the tokenizer the segments are made with, and
``_Texts`` a mail's texts by part (own text, subject, attached and forwarded ones) with its language.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import compile_prefix_regex

from ..models import Category

MAX_CHARS = 20_000
"""Characters of new text fed to spaCy; requests are stated at the start, not in 5 MB of logs."""
_EMOTICONS = {":)", ":-)", ";)", ";-)", ":(", ":-(", ":D", ":-D", ":P", ":-P", ":p", ":-p", "^^"}
"""A smiley stands where chat-style writing puts its full stop ("onze jongste is zindelijk :) Mijn account mag
blijven"): it ends the sentence, so the words on either side meet in no rule."""
_SENTENCE_END = {".", "!", "?", "…", *_EMOTICONS}
_CLAUSE_END = {",", ";", ":", "(", ")", "-", "–", "—", "•", "*"}
SHORT_LINE = 45
"""A line break after a line shorter than this ends a clause: phone text has no punctuation
("stop de nieuwsbrief / account mag blijven"), while wrapped prose lines run to ~72 characters."""
_PUNCTUATION = re.compile(r"[.,;?!]")
_ENUMERATION = {"(", ":"}
ABBREVIATION_LETTERS = 4
"""A word of at most this many letters before a period may be an abbreviation ("bzw.", "lit.", "z.")."""
_WORDS = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_ABBREVIATION = re.compile(r"\b([A-Za-z]{1,4})\.(?=[ \t]*\d)")
""""Art. 17", "Abs. 3": the period is not a sentence end and must not split a phrase. The number is on the
same line: "nicht mehr.\n3. Den Newsletter" ends a sentence before a numbered item."""
_NUMBER_AFTER_PERIOD = re.compile(r"\.[ \t]*\d")
"""What every ``_ABBREVIATION`` match holds: one search for it (a scan for periods) spares most texts the ``sub``."""


def _spaced(doc: Doc, i: int) -> bool:
    """A token with white space on both sides: a dash between clauses, not the hyphen of "pouvez-vous"."""
    return bool(doc[i].whitespace_) and (i == 0 or bool(doc[i - 1].whitespace_))


def _sentences(seg: _Segment, groups: Iterable[str]) -> set[int]:
    """The sentences in which a word of any of the cue ``groups`` stands."""
    return {seg.sentence[start] for group in groups for start, _ in seg.groups.get(group, ())}


def _few_words(text: str, most: int) -> bool:
    """``len(_WORDS.findall(text)) <= most``, counting no further than one word past ``most``."""
    return next(itertools.islice(_WORDS.finditer(text), most, None), None) is None


def _prepare(text: str) -> str:
    text = text[:MAX_CHARS]
    return _ABBREVIATION.sub(r"\1", text) if _NUMBER_AFTER_PERIOD.search(text) else text


def _blank(lang: str) -> Language:
    """spacy.blank(lang); French without spaCy's 2.3 s tokenizer-exception import.

    Only elision (l', d', qu') matters for matching: the multi-language tokenizer plus an
    elision prefix splits it the same way.
    """
    if lang != "fr":
        return spacy.blank(lang)
    nlp = spacy.blank("xx")
    prefixes = [r"[A-Za-z]{1,2}['’]", r"[Qq]u['’]", *(nlp.Defaults.prefixes or ())]
    tokenizer: Tokenizer = nlp.tokenizer
    tokenizer.prefix_search = compile_prefix_regex(prefixes).search
    return nlp


@dataclass
class _Segment:
    """One text (subject, own text, forwarded or attached text) tokenised and normalised."""

    doc: Doc
    text: str
    """What ``doc`` was made of (its tokens' text with white space, joined)."""
    norms: list[str]
    """The normalised form of each token (one empty word for an empty text)."""
    sentence: list[int]
    clause: list[int]
    owns: list[int]
    """The positions of the writer's own words (``markers.toml: own``)."""
    groups: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    direct: list[tuple[str, int, int]] = field(default_factory=list)
    framed: bool = False
    """The whole text is a request frame: the subject line, or a text of a few words."""
    near_miss: bool = False
    """A right was named but negated, hypothetical or already done, or a privacy topic came up."""
    netted: bool = False
    """Caught by the review net (``LanguageRules._in_net``): worth a look when no request is found."""
    guarded: bool = False
    """A right was vetoed by a guard: the text is about an order (or the like), a bare subject asks nothing."""
    vetoed: set[Category] = field(default_factory=set)
    """Categories of rights named here only as negated, hypothetical or already done."""
    reported: dict[Category, str] = field(default_factory=dict)
    """Rights the writer reports having asked for before ("ik had toch gevraagd mijn account te verwijderen"),
    with the words: asked again when the text says it was not carried out (``_unfulfilled``)."""
    done: str = ""
    """The words of a right reported as carried out ("my account had been deleted"), if any."""
    object_starts: list[int] | None = None
    """Sorted token positions where an object of a right starts (computed when a right first needs them)."""

    pointers: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    """Per object group, the pointing words that stand for an object of that group named before (``refer`` rules)."""
    bare: list[tuple[int, int]] = field(default_factory=list)
    """The actions alone in their clause, their object left out (``LanguageRules._bare_actions``), as empty spans."""

    def words(self, start: int, end: int) -> str:
        """``doc[start:end].text`` (the tokens as written, the last one's white space left off), without the Span."""
        count = len(self.doc)
        start = min(max(start, 0), count)
        end = min(max(end, start), count)
        if start == end:
            return ""
        last = self.doc[end - 1]
        return self.text[self.doc[start].idx : last.idx + len(last)]

    @functools.cached_property
    def norm_doc(self) -> Doc:
        """A Doc of ``norms``, made when first asked for: most texts are matched and judged without one."""
        return Doc(self.doc.vocab, words=self.norms)


def _opens_sentence(seg: _Segment, i: int) -> bool:
    """Token ``i`` is the first word of its sentence (line breaks and spaces aside)."""
    prev = next((j for j in range(i - 1, -1, -1) if not seg.doc[j].is_space), None)
    return prev is None or seg.sentence[prev] != seg.sentence[i]


def _continues(doc: Doc, i: int) -> bool:
    """A period followed by a digit, or by a lower-case word after an abbreviation ("lit. d", "z. B. 3"), ends
    no sentence; after a whole word it does, also in phone text without capitals ("al 5 weken. jullie zouden")."""
    if doc[i].text != "." or i + 1 >= len(doc):
        return False
    following = doc[i + 1].text
    before = doc[i - 1].text if i else ""
    abbreviation = len(before) <= ABBREVIATION_LETTERS or not before.isalpha()
    return following[:1].isdigit() or (following[:1].islower() and abbreviation)


def _ends_later(doc: Doc, i: int) -> bool:
    """Another end mark follows at once: "niks besteld?? hebben jullie een lek 😳" ends one sentence at its last mark,
    not one per mark (a lone "?" would count as a sentence of its own between the two)."""
    return i + 1 < len(doc) and doc[i + 1].text in _SENTENCE_END


def _sentence_follows(doc: Doc, i: int) -> bool:
    """A new sentence starts after token ``i``: at the end, at a line break or at a capital."""
    return i + 1 >= len(doc) or "\n" in doc[i + 1].text or doc[i + 1].text[:1].isupper()


@dataclass(frozen=True)
class _Texts:
    own: str
    subject: str
    extra: list[str]
    language: str
    sure: bool
    """False when the language is a guess: then every language's rules run."""
    short: bool
    """Few own words (``MIXED_WORDS``): other languages' rules run when the own language's find nothing."""
    confirmed: bool = False
    """The mail answers our confirmation that a right was carried out ("Re: Je bent afgemeld"): a right in
    its text counts only where it is asked for in so many words ("ok thanks, ik krijg niks meer" asks nothing)."""
    quoted: str = ""
    """The quoted history (``quotes.Split.quoted``): context for a bare answer or a chase, never a trigger."""
    reply_subject: str = ""
    """A reply's subject ("Re: inzage gegevens"): with the first quoted message, what a chase is about."""
