"""A malformed rules folder fails at load with a message naming the file and the rule, instead of
silently classifying differently (a second rule of the same id used to replace the first)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inbox_agent.classify import Classifier, RulesError
from inbox_agent.config import REPO_ROOT

RULE = """
[[rule]]
id = "{id}"
category = "erasure"
all = ["erase", "account"]
{extra}
"""


def rules_dir(tmp_path: Path, rules: str, markers: str = "", concerns: str = "") -> Path:
    folder = tmp_path / "rules" / "en"
    folder.mkdir(parents=True)
    (folder / "rules.toml").write_text('[terms]\nerase = ["delete"]\naccount = ["account"]\n' + rules)
    (folder / "markers.toml").write_text(markers)
    if concerns:
        (folder / "concerns.toml").write_text(concerns)
    shutil.copy(REPO_ROOT / "classifiers" / "conversation.toml", tmp_path / "rules")
    return tmp_path / "rules"


@pytest.mark.parametrize(
    ("rules", "markers", "message"),
    [
        (RULE.format(id="a", extra="") + RULE.format(id="a", extra=""), "", "used twice"),
        (RULE.format(id="a", extra='frame = "sometimes"'), "", "frame must be"),
        (RULE.format(id="a", extra=""), 'objects = ["data"]', "objects: unknown term groups"),
        (RULE.format(id="a", extra=""), 'bare_unless = ["order"]', "bare_unless: unknown term groups"),
        # A phrase among single-word clause breaks never matched one word ("so that", "afin que" did nothing).
        (RULE.format(id="a", extra=""), 'clause_break = ["and", "so that"]', r"clause_break: one word each.*so that"),
        (RULE.format(id="a", extra=""), 'clause_break_pair = ["so"]', "clause_break_pair: two words each"),
    ],
)
def test_malformed_rules_are_refused(tmp_path: Path, rules: str, markers: str, message: str) -> None:
    with pytest.raises(RulesError, match=message):
        Classifier.load_rules(rules_dir(tmp_path, rules, markers), cache_dir=tmp_path / "cache")


@pytest.mark.parametrize(
    ("concerns", "message"),
    [
        (RULE.format(id="a", extra=""), r"rules\.toml and .*concerns\.toml: rule id 'en\.erasure\.a' used twice"),
        ('[terms]\naccount = ["profile"]\n', r"rules\.toml and .*concerns\.toml: term group 'account' defined twice"),
    ],
)
def test_a_rule_or_term_in_both_rule_files_is_refused(tmp_path: Path, concerns: str, message: str) -> None:
    """concerns.toml (the privacy_other rules) and rules.toml are one rulebook: the second definition would
    silently replace the first."""
    rules = rules_dir(tmp_path, RULE.format(id="a", extra=""), concerns=concerns)
    with pytest.raises(RulesError, match=message):
        Classifier.load_rules(rules, cache_dir=tmp_path / "cache")


def test_concerns_toml_rules_use_the_rules_toml_terms(tmp_path: Path) -> None:
    concerns = '[terms]\nwhy = ["why"]\n[[rule]]\nid = "why_account"\ncategory = "privacy_other"\n'
    concerns += 'all = ["why", "account"]\n'
    classifier = Classifier.load_rules(rules_dir(tmp_path, "", concerns=concerns), cache_dir=tmp_path / "cache")
    assert "en.privacy_other.why_account" in classifier.languages["en"].rules


def test_a_clause_break_pair_opens_a_clause_at_its_first_word(tmp_path: Path) -> None:
    """"afin que", "ook wil": neither word alone opens a clause ("pour" is also "for"), the pair does."""
    markers = 'clause_break = ["and"]\nclause_break_pair = ["so that"]'
    rules = Classifier.load_rules(rules_dir(tmp_path, "", markers), cache_dir=tmp_path / "cache").languages["en"]
    seg = rules.segment("delete it so that I get nothing and so I am done")
    it, so, that, i, and_, so_alone, am = (seg.clause[n] for n in (1, 2, 3, 4, 7, 8, 10))
    assert it < so == that == i < and_ == so_alone == am  # "so" alone is no break here


def test_a_rules_folder_without_its_reply_cues_is_refused_by_name(tmp_path: Path) -> None:
    folder = rules_dir(tmp_path, "")
    (folder / "conversation.toml").unlink()
    with pytest.raises(RulesError, match=r"conversation\.toml: missing"):
        Classifier.load_rules(folder, cache_dir=tmp_path / "cache")
