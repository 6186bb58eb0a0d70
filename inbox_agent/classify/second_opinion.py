"""A learned second opinion beside the rules: a spaCy text classifier trained on the labelled mail of this project.

Why: six rounds of rules lifted the mail they were tuned on to 0.90-0.99 macro-F1 but mail nobody here had seen by
about a point a round (0.75-0.92), each new rule bringing its own false alarms. A text classifier trained on the
same labelled mail and phrasing tables (``training.py``) generalises differently: it reads the whole mail, not one
clause. The rules stay the engine, because they show the officer why (rule id and the words matched); the model
only settles what the rules leave open, within the thresholds of ``classifiers/second_opinion/settings.toml``:

- a right the rules did not find is added when the model is sure of it (``add_right``), with the sentence that
  scores highest as evidence, so that a request in words no rule knows does not go unseen; never one the rules
  read as negated, hypothetical or done ("Bitte löschen Sie mein Konto NICHT"): they read the scope of those words,
  the model does not;
- privacy_other likewise (``add_privacy_other``), beside a right or alone;
- neither where the mail does not name it in words the rules know (``RulesVerdict.refused``): a right by a phrase of
  it or by two word groups of one of its rules, privacy_other by one word group (``LanguageRules.named``). On other
  text the models guess (a sign-off, "Enjoy! -Martin", scored objection 0.92; of the 93 real-world human mails of
  ``shared/corpus/mail/zammad`` 21 got a right or privacy_other that way, 7 with one word of it required, 1 with
  two);
- a right or privacy_other the rules found is taken back when the model gives it next to nothing (``keep_right``,
  ``keep_privacy_other``), unless a ``firm`` rule found it (a right exercised in the law's own words: the classifier
  keeps those out of ``revise``); a mail left with nothing goes to the officer's "to check" list, never silently
  away, and so does a mail the rules half matched (a right negated, hypothetical or done, privacy words without a
  request). Both only when the model gives some right or privacy_other at least ``check_from``: below it, it reads
  the mail as shop mail. On the validation sets (round 8) and the tuning sets (round 9) every request rescued there
  scored 0.048 or more, the shop mail on the list from 0.006; 0.045 keeps it to 0-6.6 % of their none mail, none of
  their requests newly silent;
- a right the rules found that the model gives next to nothing in the whole mail is kept when it reads the right in
  a paragraph of its own (``keep_right_paragraph``): a request in the P.S. of a long product complaint;
- a right the model adds beside the rules' question about processing takes ``add_right_beside_question``: the
  question ("Do you pass my address on for advertising?") is what such a mail asks.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import spacy
from spacy.language import Language
from spacy.pipeline import TextCategorizer
from spacy.tokenizer import Tokenizer

from ..models import MODEL_RULE, RIGHTS, Category, Evidence
from .blas_threads import use_one_blas_thread
from .ensemble_net import PROBE, Ensemble
from .language_rules import VOCAB_GROWTH
from .rulebook import RulesError

LABELS = (*RIGHTS, Category.PRIVACY_OTHER)
"""What the model scores; ``none`` is a mail where it scores nothing high."""
MODEL_CHARS = 4000
"""Of a mail, the model reads this much: requests stand near the top, and a long mail costs time, not judgement."""
EVIDENCE_CHARS = 300
"""An unpunctuated phone mail is one long sentence: its evidence is its start."""
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def mail_text(subject: str, own: str, extra: Sequence[str]) -> str:
    """A mail's subject, own words and re-submitted text, uncut: the paragraphs ``SecondOpinion.revise`` looks in."""
    return "\n".join([subject, own, *extra])


def model_text(subject: str, own: str, extra: Sequence[str]) -> str:
    """What the model reads of a mail, in training and at work alike: ``mail_text`` cut at ``MODEL_CHARS``."""
    return mail_text(subject, own, extra)[:MODEL_CHARS]


@dataclass(frozen=True)
class Thresholds:
    add_right: float
    add_right_beside_question: float
    add_privacy_other: float
    keep_right: float
    keep_right_paragraph: float
    keep_privacy_other: float
    check_from: float

    @classmethod
    def read(cls, path: Path) -> Thresholds:
        """``settings.toml``: seven probabilities between 0 and 1, each named; anything else is refused by name."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise RulesError(f"{path}: {exc}") from exc
        names = set(cls.__dataclass_fields__)
        if unknown := sorted(set(data) - names):
            raise RulesError(f"{path}: unknown setting {', '.join(unknown)} (known: {', '.join(sorted(names))})")
        if missing := sorted(names - set(data)):
            raise RulesError(f"{path}: missing setting {', '.join(missing)}")
        for name, value in data.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
                raise RulesError(f"{path}: {name} must be a probability between 0 and 1, not {value!r}")
        return cls(**{name: float(value) for name, value in data.items()})


@dataclass(frozen=True)
class Opinion:
    """The evidence after the model's word, and whether the mail is one for "to check" should nothing be found."""

    evidence: list[Evidence]
    check: bool


class SecondOpinion:
    """The trained models (``classifiers/second_opinion/model-*``) and their thresholds; read-only once loaded.

    Several models trained alike from different seeds, their probabilities averaged: on ~3,000 labelled mails one
    model's judgement of a borderline mail turns on its seed (missed requests 8 to 20 of 486 between two seeds on
    the validation sets), three together hold steady. They share one tokenizer (``xx``, the same for each)."""

    def __init__(self, models: Sequence[Language], thresholds: Thresholds) -> None:
        use_one_blas_thread()  # the nets' products are small: more threads cost CPU, not time (blas_threads)
        self.tokenizer = cast(Tokenizer, models[0].tokenizer)
        probe = self.tokenizer(PROBE.lower())
        textcats = [cast(TextCategorizer, nlp.get_pipe("textcat_multilabel")) for nlp in models]
        self.ensemble = Ensemble.of(textcats, probe)
        self.labels = [Category(label) for label in self.ensemble.labels]
        self.vocab_limit = len(self.tokenizer.vocab.strings) + VOCAB_GROWTH
        self.thresholds = thresholds

    @classmethod
    def load(cls, folder: Path) -> SecondOpinion:
        thresholds = Thresholds.read(folder / "settings.toml")
        paths = sorted(folder.glob("model-*"))
        if not paths:
            raise RulesError(f"{folder}: no trained model (model-*); see classifiers/README.md")
        try:
            return cls([spacy.load(p) for p in paths], thresholds)
        except (OSError, ValueError, KeyError) as exc:
            raise RulesError(f"{folder}: not a trained model ({exc}); see classifiers/README.md") from exc

    def scores(self, texts: Sequence[str]) -> list[dict[Category, float]]:
        """The models' mean probability of each label, for each text (a mail's ``model_text``, or a sentence)."""
        totals = []
        for text in texts:
            doc = self.tokenizer(text.lower())
            total = dict.fromkeys(LABELS, 0.0)
            if len(doc):  # a text of no words scores nothing (the bag of words cannot read an empty one)
                mean = self.ensemble.probabilities(self.ensemble.features(doc))
                total.update(zip(self.labels, mean.tolist(), strict=True))
            totals.append(total)
        if len(self.tokenizer.vocab.strings) > self.vocab_limit:
            # every new word of a mail stays in the vocabulary; the models read hashes of the words, not this
            # vocabulary, so a fresh tokenizer (the blank one they were trained with) reads the same
            self.tokenizer = cast(Tokenizer, spacy.blank("xx").tokenizer)
            self.vocab_limit = len(self.tokenizer.vocab.strings) + VOCAB_GROWTH
        return totals

    def revise(self, text: str, evidence: Sequence[Evidence], refused: Collection[Category] = (),
               own: str | None = None, near_miss: bool = False, question: bool = False,
               whole: str | None = None) -> Opinion:
        """The rules' evidence with what the model adds or takes back (see the module's docstring); no right of
        ``refused`` (``RulesVerdict.refused``) is added. ``own`` is the mail's ``model_text`` without its forwarded
        or attached texts, when it has any: a rule hit is taken back only when the model gives it next to nothing
        in the writer's own words too (an invoice attached to "Bitte löschen Sie mein Konto" reads as shop mail).
        ``near_miss``: the rules half matched the mail (``RulesVerdict.near_miss``). ``question``: the rules'
        privacy_other is a question about processing, no complaint or worry (``Classifier._asks_only``). ``whole``:
        the mail's ``mail_text``, uncut where ``text`` is cut at ``MODEL_CHARS`` (a P.S. after 4,000 characters is read
        there)."""
        scores = self.scores([text])[0]
        most = max(scores.values())  # the model's reading of the mail as privacy mail at all
        t = self.thresholds

        def keep(e: Evidence) -> float:
            return t.keep_privacy_other if e.category is Category.PRIVACY_OTHER else t.keep_right

        # a category the model does not score (none) is not its to take back
        kept = [e for e in evidence if scores.get(e.category, 1.0) >= keep(e)]
        if own is not None and len(kept) < len(evidence):
            own_scores = self.scores([own])[0]
            most = max(most, *own_scores.values())
            kept = [e for e in evidence if max(scores.get(e.category, 1.0), own_scores.get(e.category, 1.0)) >= keep(e)]
        if len(kept) < len(evidence):
            kept = [e for e in evidence if e in kept or self._kept_in_paragraph(whole or text, e)]
        found = {e.category for e in kept}
        # "Geven jullie mijn adres door aan andere bedrijven, bijvoorbeeld voor reclame?": where the rules found the
        # mail's question about processing, that question is what it asks; a right beside it takes a surer model
        bar = t.add_right_beside_question if question and Category.PRIVACY_OTHER in found else t.add_right
        added = [] if found & set(RIGHTS) else [c for c in RIGHTS if scores[c] >= bar and c not in refused]
        if (Category.PRIVACY_OTHER not in found and Category.PRIVACY_OTHER not in refused
                and scores[Category.PRIVACY_OTHER] >= t.add_privacy_other):
            added.append(Category.PRIVACY_OTHER)
        kept += [Evidence(category=c, rule=f"{MODEL_RULE}.{c.value}", text=self._telling_sentence(text, c))
                 for c in added]
        withdrawn = bool(evidence) and not kept
        return Opinion(evidence=kept, check=(near_miss or withdrawn) and most >= t.check_from)

    def _kept_in_paragraph(self, text: str, evidence: Evidence) -> bool:
        """A right the rules found stands in a paragraph of a longer mail that the models read as asking it (at least
        ``keep_right_paragraph``): "P.S. ... Please close it and erase my details then." after three paragraphs about a
        return scored 0.04 as a whole mail, the models reading it as the shop mail it mostly is."""
        words = " ".join(evidence.text.split())
        if evidence.category not in RIGHTS or not words:
            return False
        paragraphs = [p for p in _PARAGRAPH_BREAK.split(text) if p.strip()]
        # every paragraph that holds the rule's words, the highest counting: an earlier one may name them only in
        # passing ("A friend told me to close my account over this" before "P.S. close my account")
        holding = [p[:MODEL_CHARS] for p in paragraphs if words in " ".join(p.split())]
        if len(paragraphs) < 2 or not holding:
            return False
        best = max(score[evidence.category] for score in self.scores(holding))
        return best >= self.thresholds.keep_right_paragraph

    def _telling_sentence(self, text: str, category: Category) -> str:
        """The sentence of ``text`` the model scores highest for ``category``: what the officer is shown as why."""
        sentences = [s.strip()[:EVIDENCE_CHARS] for s in _SENTENCE_END.split(text) if s.strip()]
        if not sentences:
            return ""
        scores = self.scores(sentences)
        return max(zip(scores, sentences, strict=True), key=lambda pair: pair[0][category])[1]
