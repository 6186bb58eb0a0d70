"""Which of nl/en/de/fr a mail is written in, from function words, letter shapes and py3langid.

Replies and rules are per language, and mail arrives in four languages at a shop on the
Dutch-German-Belgian border. Function words (articles, pronouns, auxiliaries) give a reliable
vote after a dozen words and cost one set lookup per word; for very short texts the letters
that only one language uses (ß, ij, ç ...) break ties. When that vote is empty or close
("account wissen aub"), py3langid's character n-gram model (shipped inside its wheel, no
network) decides; when it is unsure too, the caller runs every language's rules.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .resources import user_cache_dir

if TYPE_CHECKING:  # imported where it is loaded: robots.py and the CLI need fold(), not numpy
    from .langid_model import LangidModel

LANGUAGES = ("nl", "en", "de", "fr")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS: dict[str, frozenset[str]] = {
    "nl": _words(
        "de het een en van ik je jij u jullie wij we zij mijn mij me ons onze is zijn was waren wil "
        "graag dat die dit deze niet geen ook maar met voor naar op aan bij uit om te tot als of "
        "heb hebben heeft kan kunnen kunt wordt worden werd nog al er hier daar wat wie waar hoe "
        "alstublieft alsjeblieft aub bvd bedankt dank groet groeten vriendelijke beste hoi hallo goedemorgen "
        "goedemiddag goedenavond geachte mvg gr groetjes bestelling gegevens verwijderen zou mag "
        "moet nu wel even jullie uw welke over ben bent hebt gaat mee zo ze ze niks"
    ),
    "en": _words(
        "the a an and of to in is are was were i you he she we they my me our your it this that "
        "these those not no do does did don't can could would should will have has had be been "
        "with for on at from by about please thanks thank hi hello dear regards best kind "
        "sincerely what which who where how when if or but so just also any all order my pls plz thx"
    ),
    "de": _words(
        "der die das ein eine einen einem und ich sie wir ihr mein meine meinen meiner mich mir "
        "uns ist sind war nicht kein keine auch aber mit für auf an bei aus um zu bis als oder "
        "habe haben hat kann können wird werden noch schon hier dort was wer wo wie bitte danke "
        "vielen grüße gruß freundlichen sehr geehrte damen herren hallo guten tag ihre ihren "
        "ihnen dass daß möchte über vom zum zur im dem den des sich es bestellung daten"
    ),
    "fr": _words(
        "le la les un une des et de du je vous nous il elle ils mon ma mes me moi notre votre "
        "vos est sont était ne pas plus aucun aussi mais avec pour sur à au aux chez par en dans "
        "ai avez avons peut pouvez pourriez sera être été ce cette ces qui que quoi où comment "
        "merci bonjour bonsoir cordialement madame monsieur salutations si ou d'avance svp stp "
        "commande données compte souhaite voudrais"
    ),
}
_VOTERS: dict[str, tuple[str, ...]] = {
    word: tuple(lang for lang, words in _STOPWORDS.items() if word in words)
    for stop in _STOPWORDS.values()
    for word in stop
}
"""Per function word, the languages it votes for: one lookup a word, not one per language."""
_WORD = re.compile(r"[a-zà-ÿ']+")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
"""Combining marks (what NFKD splits accents into)."""
_HINTS: dict[str, tuple[tuple[str, ...], str, re.Pattern[str] | None]] = {
    "de": (("ä", "ö", "ü", "ß"), "", None),
    "fr": (("é", "è", "ê", "ç", "à", "ù", "œ"), "'", re.compile(r"\b[dlj]'")),
    "nl": (("ij",), "van", re.compile(r"\bvan\b")),
}
"""Per language, the letters that only it uses: strings each of which counts where it stands, and a pattern counted
only in a text that holds its string (one scan of ``str.count`` each instead of a regular expression's alternation
at every position). No two of one language's hints overlap, so their counts add up to the matches of their
alternation ("[éèêçàùœ]|\\b[dlj]'")."""


SURE_SCORE = 3.0
"""Function-word votes the winner needs ..."""
SURE_MARGIN = 2.0
"""... and its lead over the runner-up, before py3langid is asked."""
MODEL_SURE = 0.9
"""py3langid probability (over nl/en/de/fr only) above which its answer is taken as sure."""

_identifier: LangidModel | None = None
_identifier_lock = threading.Lock()


def load_model(cache_dir: Path) -> LangidModel:
    """py3langid's model for our four languages, from its compact copy in ``cache_dir`` (built there the
    first time, ~3 s); one per process: the copy depends only on py3langid's version."""
    global _identifier
    with _identifier_lock:
        if _identifier is None:
            from .langid_model import LangidModel

            _identifier = LangidModel.load(cache_dir, LANGUAGES)
    return _identifier


def _model() -> LangidModel:
    """The model ``load_model`` loaded (the classifier does it), else the one in the user's cache folder."""
    return _identifier or load_model(user_cache_dir())


def _votes(text: str) -> dict[str, float]:
    lowered = text.lower()
    words = _WORD.findall(lowered.replace("’", "'"))
    scores = {lang: 0.0 for lang in LANGUAGES}
    for word in words:
        for lang in _VOTERS.get(word, ()):
            scores[lang] += 1.0
    for lang, (strings, needle, pattern) in _HINTS.items():
        count = sum(lowered.count(s) for s in strings)
        if pattern is not None and needle in lowered:
            count += len(pattern.findall(lowered))
        scores[lang] += 0.5 * min(count, 4)
    return scores


def identify_language(text: str, max_chars: int = 5000) -> tuple[str, bool]:
    """(language, sure): ``nl``/``en``/``de``/``fr``, or ``other`` for text with no letters at all.

    ``sure`` is False when neither the function words nor py3langid give a clear answer; the
    classifier then runs the rules of every language.
    """
    sample = text[:max_chars]
    scores = _votes(sample)
    ranked = sorted(LANGUAGES, key=lambda lang: scores[lang], reverse=True)
    best, runner_up = ranked[0], ranked[1]
    if scores[best] >= SURE_SCORE and scores[best] - scores[runner_up] >= SURE_MARGIN:
        return best, True
    if not any(c.isalpha() for c in sample):
        return "other", False
    guess, probability = _model().classify(sample)
    if probability >= MODEL_SURE or scores[best] < 1.0 or guess == best:
        return guess, probability >= MODEL_SURE or guess == best
    if scores[guess] == scores[best]:  # "stop emailing me": "me" is a word of three languages, the model's is one
        return guess, False
    return best, False


def detect_language(text: str, max_chars: int = 5000) -> str:
    """``nl``, ``en``, ``de``, ``fr`` or ``other`` (nothing recognisable, e.g. an empty body)."""
    return identify_language(text, max_chars)[0]


def fold(text: str) -> str:
    """Lower case without accents, so "Löschung", "loschung" and "LÖSCHUNG" agree."""
    text = text.lower().replace("ß", "ss").replace("’", "'")
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


LETTER_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
"""A word of letters, an apostrophe inside it allowed ("c'est", "d’accord"); digits and punctuation are no words."""


PHRASE_GAP = 4
"""The words a "..." in a phrase stands for at most: "niets ... gehoord" is "niets meer van jullie gehoord"."""


def phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """Whole-word search for any of the phrases, on folded text with single spaces; "..." in a phrase stands for up to
    ``PHRASE_GAP`` words."""
    parted = [[" ".join(fold(part).split()) for part in p.split("...")] for p in phrases if p.strip()]
    gapped = [rf"(?:\s\S+){{0,{PHRASE_GAP}}}\s".join(map(re.escape, parts)) for parts in parted if len(parts) > 1]
    return re.compile(rf"(?<!\w)(?:{'|'.join([any_of(p[0] for p in parted if len(p) == 1), *gapped])})(?!\w)")


def any_of(phrases: Iterable[str]) -> str:
    """A regular expression (its source) matching exactly the ``phrases``, as their alternation ``a|b|...`` would, but
    spelled as a tree of their shared beginnings: Python's ``re`` tries an alternation's branches one after another at
    every position of the text, the tree only the branches that begin with the letter there (150 out-of-office or
    sales phrases: 2-3x faster). Matches nothing when there are no phrases."""
    tree: dict[str, Any] = {}
    for phrase in phrases:
        node = tree
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}  # a phrase ends here

    def spell(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + spell(child) for char, child in sorted(node.items()) if char]
        if "" in node:
            return f"(?:{'|'.join(branches)})?" if branches else ""
        return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"

    return spell(tree) if tree else "(?!x)x"
