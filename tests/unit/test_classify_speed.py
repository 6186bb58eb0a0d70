"""The classifier's speed structures give what the slower ways gave: the phrase trie finds what spaCy's PhraseMatcher
finds, in the same order, without a Doc; the per-word table of ``_layout`` stays bounded and changes no segment."""

from __future__ import annotations

import pytest
import spacy
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from inbox_agent import classify
from inbox_agent.classify import Classifier, _PhraseTrie

PHRASES = [
    ("verwijder", ["verwijder"]),
    ("verwijder_account", ["verwijder", "mijn", "account"]),
    ("mijn_account", ["mijn", "account"]),
    ("delete_me", ["verwijder", "mijn", "account"]),  # the same words as another label: order is spaCy's
    ("forget", ["verwijder", "mijn", "account"]),
    ("account", ["account"]),
]
WORDS = ["graag", "verwijder", "mijn", "account", "\n", "verwijder", "mijn", "account", "en", "account"]


def test_trie_matches_like_the_phrase_matcher() -> None:
    vocab = spacy.blank("nl").vocab
    matcher = PhraseMatcher(vocab)
    trie = _PhraseTrie()
    for label, words in PHRASES:
        matcher.add(label, [Doc(vocab, words=words)])
        trie.add(label, words)
    trie.settle(vocab)
    for words in (WORDS, WORDS[:4], ["account"], ["graag"]):
        expected = [(vocab.strings[key], start, end) for key, start, end in matcher(Doc(vocab, words=words))]
        assert trie(words) == expected


def test_word_table_is_bounded_and_changes_nothing(classifier: Classifier, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = classifier.languages["nl"]
    text = "Graag verwijder mijn account en al mijn gegevens, bestelling 12345 van 3 mei. Alvast bedankt!"
    before = rules.segment(text)
    monkeypatch.setattr(classify, "CACHE_LIMIT", 5)
    rules.segment(" ".join(f"woord{n}" for n in range(50)))  # new words past the bound: the table starts again
    assert len(rules._words) <= 6
    after = rules.segment(text)
    assert (after.norms, after.sentence, after.clause, after.owns, after.groups, after.direct) == (
        before.norms, before.sentence, before.clause, before.owns, before.groups, before.direct)
