"""The classifier's phrase trie finds what spaCy's PhraseMatcher finds, in the same order, without a Doc."""

from __future__ import annotations

import spacy
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from inbox_agent.classify import _PhraseTrie

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
