"""Floors for the two fresh mail sets of issue 15, written by people who had not read the rules.

Set A (``fresh_a``) was used for tuning; set B (``fresh_b``) is held out: it was scored once
before the classifier v2 work and once at its end, and nobody tuned on it. The floors sit just
below the figures reached then (A: macro-F1 0.991; B: 0.869, 11 of its requests missed), so a
rule change that loses ground on mail nobody tuned for fails here. B's floor leaves a little more
room: one guard ("your data" is the addressee's, against loops between two desks) came after B's
last scoring. Raising a floor is fine;
tuning a rule by reading fresh_b is not (it would stop measuring anything).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_agent.classify import Classifier
from inbox_agent.config import REPO_ROOT
from inbox_agent.evaluate import evaluate

FIXTURES = Path(__file__).parents[1] / "fixtures" / "classify"

FLOORS = {
    # set: (macro-F1 at least, none false-positive rate at most, missed requests at most,
    #       automated precision at least, automated recall at least)
    "fresh_a": (0.98, 0.01, 1, 1.0, 1.0),
    "fresh_b": (0.85, 0.04, 13, 1.0, 1.0),
    # set C (225 mails, issue 15 v2): 0.852 on the code before v2, tuned on after its first scoring to 0.939
    # (one GDPR pitch with List-Unsubscribe is labelled human there; the agent reads list mail as automated)
    "fresh_c": (0.93, 0.01, 1, 0.95, 1.0),
    # set D (224 mails, held out like B): scored by the lead only, on the code before v2 (0.845, none FP
    # 4.1 %, 9 missed, automated recall 0.947) and after it (0.843, 4.1 %, 9, 0.947): nobody tuned on it
    "fresh_d": (0.83, 0.045, 9, 1.0, 0.94),
}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load(REPO_ROOT / "classifiers")


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_fresh_set_holds_its_floor(classifier: Classifier, name: str) -> None:
    macro_f1, none_fp, missed, automated_precision, automated_recall = FLOORS[name]
    report = evaluate(classifier, FIXTURES / name)
    # Figures only: the messages of the held-out set are not to be read while working on rules.
    figures = {k: report[k] for k in ("macro_f1", "none_false_positive_rate", "automated", "language_accuracy")}
    assert report["macro_f1"] >= macro_f1, figures
    assert report["none_false_positive_rate"] <= none_fp, figures
    assert len(report["missed_requests"]) <= missed, figures
    assert report["automated"]["recall"] >= automated_recall, figures
    assert report["automated"]["precision"] >= automated_precision, figures
    assert report["language_accuracy"] >= 0.99, figures
