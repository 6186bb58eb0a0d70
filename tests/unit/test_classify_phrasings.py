"""Everyday phrasings in four languages, written for this test (not taken from any corpus).

Each line of fixtures/classify/phrasings.txt is ``categories | subject | body``; the table
guards the rules' generalisation: synonyms, separable verbs, typos, and order near-misses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_agent.classify import Classifier
from inbox_agent.classify.phrasings import Phrasing, read_table

TABLES = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "classify").glob("phrasings*.txt"))
"""phrasings.txt, and phrasings_<langs>.txt tables of later rounds (one file per round, so that two people can
add lines at the same time)."""
LINES = [phrasing for table in TABLES for phrasing in read_table(table)]


@pytest.mark.parametrize("phrasing", LINES, ids=[p.body[:40] for p in LINES])
def test_phrasing(classifier: Classifier, phrasing: Phrasing) -> None:
    result = classifier.classify(phrasing.message())
    assert sorted(result.categories) == sorted(phrasing.expected.split(",")), result.evidence
