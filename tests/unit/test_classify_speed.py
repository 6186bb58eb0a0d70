"""The classifier's speed structures give what the slower ways gave: the phrase trie finds what spaCy's PhraseMatcher
finds, in the same order, without a Doc; the per-word table of ``_layout`` stays bounded and changes no segment; a
phrase list spelled as a tree of shared beginnings (``any_of``) matches what its alternation matches."""

from __future__ import annotations

import re

import pytest
import spacy
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from inbox_agent.classify import Classifier, _PhraseTrie, language_rules, normalise
from inbox_agent.language import any_of
from inbox_agent.robots import _apart

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
    for module in (normalise, language_rules):  # the bound both word tables read
        monkeypatch.setattr(module, "CACHE_LIMIT", 5)
    rules.segment(" ".join(f"woord{n}" for n in range(50)))  # new words past the bound: the table starts again
    assert len(rules._words) <= 6
    after = rules.segment(text)
    assert (after.norms, after.sentence, after.clause, after.owns, after.groups, after.direct) == (
        before.norms, before.sentence, before.clause, before.owns, before.groups, before.direct)


LISTS = [
    ["ab", "abcd"],  # one phrase the beginning of another: "abc" is neither
    ["i'm on holiday", "on holiday until", "im urlaub", "absent jusqu", "absente jusqu", "a mon retour",
     "a mon retour le"],
    ["x.y", "x*", "(z)", "a b"],  # re's special letters are letters here
    ["q"],
    [],
]
TEXTS = ["", "ab", "abc", "abcd", "xab", "x.y", "xzy", "x*", "(z)", "z", "a b", "ab ", "q", "zz",
         "i'm on holiday until 3 May", "je suis absente jusqu'au 5", "a mon retour", "im urlau", "on holiday"]


@pytest.mark.parametrize("phrases", LISTS)
def test_a_phrase_tree_matches_what_the_alternation_matches(phrases: list[str]) -> None:
    tree = re.compile(any_of(phrases))
    alternation = re.compile("|".join(map(re.escape, phrases)) or "(?!x)x")
    for text in TEXTS:
        assert (tree.fullmatch(text) is None) == (alternation.fullmatch(text) is None), (phrases, text)
        assert (tree.search(text) is None) == (alternation.search(text) is None), (phrases, text)


def test_out_of_office_phrases_found_past_the_one_search_for_any() -> None:
    phrases = tuple(LISTS[1])
    assert _apart("i'm on holiday until 3 may", phrases) == ["i'm on holiday"]  # the two overlap: one marker
    assert _apart("a mon retour le 5", phrases) == ["a mon retour"]
    assert _apart("nothing of the kind", phrases) == []
