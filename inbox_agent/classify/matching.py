"""Where a rule's words stand in a segment: the word trie for phrases and the co-occurrence of term groups.

``_PhraseTrie`` does what spaCy's PhraseMatcher does, on the normalised words and without building a Doc;
``_cooccurrences`` finds a rule's term groups together in a clause or sentence within its window. Both give
``Hit``s; which hits survive is the language rules' business (vetoes, frames, pointers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc
from spacy.vocab import Vocab

from .layout import _Segment
from .rulebook import Rule


@dataclass(frozen=True)
class Hit:
    rule: Rule
    start: int
    end: int


_LABELS = object()
"""The key under which a ``_PhraseTrie`` node holds the labels of the phrases that end there."""


class _PhraseTrie:
    """spaCy's PhraseMatcher on a list of words: every (label, start, end) where a phrase's words stand, in the order
    it gives them (by start, then end, then labels of one phrase in the matcher's own order: ``settle``), without the
    Doc it needs. A list of a few dozen words, most of which start no phrase, is matched in less time than building
    that Doc takes."""

    def __init__(self) -> None:
        self.root: dict[object, Any] = {}

    def add(self, label: str, words: Sequence[str]) -> None:
        node = self.root
        for word in words:
            node = node.setdefault(word, {})
        node.setdefault(_LABELS, {})[label] = None  # a label once per phrase end

    def settle(self, vocab: Vocab) -> None:
        """Labels that share a phrase in the order spaCy's PhraseMatcher gives them (its hash table's, not the order
        added), asked of one built with just them: a hit's evidence keeps its place among the others."""
        stack: list[tuple[dict[object, Any], list[str]]] = [(self.root, [])]
        while stack:
            node, words = stack.pop()
            labels = node.get(_LABELS, {})
            if len(labels) > 1:
                matcher = PhraseMatcher(vocab)
                for label in labels:
                    matcher.add(label, [Doc(vocab, words=words)])
                node[_LABELS] = {vocab.strings[key]: None for key, _, _ in matcher(Doc(vocab, words=words))}
            stack.extend((child, [*words, str(word)]) for word, child in node.items() if word is not _LABELS)

    def __call__(self, words: Sequence[str]) -> list[tuple[str, int, int]]:
        return [(label, start, end) for labels, start, end in self.spans(words) for label in labels]

    def spans(self, words: Sequence[str]) -> list[tuple[dict[str, None], int, int]]:
        """Where phrases end: (the labels of the phrases there, in order, start, end), as ``__call__`` lists them by
        label; a segment files each span under its labels without a tuple per label."""
        found: list[tuple[dict[str, None], int, int]] = []
        root = self.root
        count = len(words)
        for start, word in enumerate(words):
            node = root.get(word)
            end = start + 1
            while node is not None:
                labels = node.get(_LABELS)
                if labels is not None:
                    found.append((labels, start, end))
                if end == count:
                    break
                node = node.get(words[end])
                end += 1
        return found


def _only_in_clause(seg: _Segment, i: int, step: int, clause: int, allowed: Callable[[int], bool]) -> bool:
    """Every token from ``i`` on, by ``step`` (1 onwards, -1 back), to the edge of ``clause`` is ``allowed``: nothing
    else stands beside a hit in its clause. A refusal that closes its clause (``_ends_clause``) and an action without
    an object (``LanguageRules._bare_actions``) are the same walk with other words let through."""
    while 0 <= i < len(seg.clause) and seg.clause[i] == clause:
        if not allowed(i):
            return False
        i += step
    return True


def _ends_clause(seg: _Segment, end: int, clause: int, tail: tuple[str, ...]) -> bool:
    """Nothing but punctuation, frame cues and ``tail`` words follows ``end`` in its clause: "Das will ich nicht mehr
    bekommen, bitte." refuses, "Das will ich nicht verpassen" or "Je n'en veux pas d'autre que la bleue" has a verb or
    an object of its own after it."""
    frame = {i for g in ("_frame", *tail) for s, e in seg.groups.get(g, ()) for i in range(s, e)}
    return _only_in_clause(seg, end, 1, clause, lambda i: seg.doc[i].is_punct or i in frame)


def _cooccurrences(rule: Rule, seg: _Segment, pointer_follows: bool) -> list[Hit]:
    """One hit per clause whose first group meets every other group of the rule in its sentence (or
    ``rule.sentences`` consecutive ones), within ``rule.window`` tokens; the other groups are taken from
    the anchor's own clause first.

    Per clause, not per sentence: "I changed my address last month, please update it in my
    account" holds a report (vetoed) and a request, and the request must not be lost with it.

    A ``refer`` rule's object may be a pointing word (``_Segment.pointers``) in the anchor's own clause, and with
    ``pointer_follows`` only as the anchor's object, right after it ("delete it", not "it should be" nor "update me
    when it ships").
    """
    pointed = {span for g in rule.groups for span in seg.pointers.get(g, ())} if rule.refer else set()
    spans = [sorted([*seg.groups.get(g, ()), *seg.pointers[g]]) if pointed and g in seg.pointers else seg.groups.get(g)
             for g in rule.groups]
    if not all(spans):
        return []
    hits: list[Hit] = []
    seen: set[int] = set()
    for a_start, a_end in spans[0] or []:
        sent, clause = seg.sentence[a_start], seg.clause[a_start]
        if clause in seen:
            continue
        if rule.ends_clause and not _ends_clause(seg, a_end, clause, rule.tail):
            continue
        lo, hi = a_start, a_end
        for other in spans[1:]:
            best: tuple[bool, int, int, int] | None = None
            for o_start, o_end in other or []:
                if abs(seg.sentence[o_start] - sent) >= rule.sentences or (o_start < a_end and a_start < o_end):
                    continue
                if rule.clause and seg.clause[o_start] != clause:
                    continue
                if rule.clauses and abs(seg.clause[o_start] - clause) >= rule.clauses:
                    continue
                if (o_start, o_end) in pointed and (
                    seg.clause[o_start] != clause
                    or (pointer_follows and o_start != o_end and not a_end <= o_start <= a_end + 1)
                ):  # a bare action's empty span is its own left-out object, wherever the language puts objects
                    continue
                key = (seg.clause[o_start] != clause, abs(o_start - a_start), o_start, o_end)
                if best is None or key < best:
                    best = key
            if best is None:
                break
            lo, hi = min(lo, best[2]), max(hi, best[3])
        else:
            if hi - lo <= rule.window:
                hits.append(Hit(rule, lo, hi))
                seen.add(clause)
    return hits
