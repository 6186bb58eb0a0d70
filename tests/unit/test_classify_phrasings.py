"""Everyday phrasings in four languages, written for this test (not taken from any corpus).

Each line of fixtures/classify/phrasings.txt is ``categories | subject | body``; the table
guards the rules' generalisation: synonyms, separable verbs, typos, and order near-misses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_agent.classify import Classifier
from inbox_agent.models import Address, ParsedMessage

TABLES = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "classify").glob("phrasings*.txt"))
"""phrasings.txt, and phrasings_<langs>.txt tables of later rounds (one file per round, so that two people can
add lines at the same time)."""
LINES = [line.split(" | ", 2) for table in TABLES for line in table.read_text(encoding="utf-8").splitlines()
         if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize(("expected", "subject", "body"), LINES, ids=[b[:40] for _, _, b in LINES])
def test_phrasing(classifier: Classifier, expected: str, subject: str, body: str) -> None:
    msg = ParsedMessage(message_id="<p@example.org>", subject="" if subject == "-" else subject,
                        from_=Address(email="klant@example.org"), text=body)
    result = classifier.classify(msg)
    assert sorted(result.categories) == sorted(expected.split(",")), result.evidence
