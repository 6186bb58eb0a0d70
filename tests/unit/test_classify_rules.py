"""A malformed rules folder fails at load with a message naming the file and the rule, instead of
silently classifying differently (a second rule of the same id used to replace the first)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_agent.classify import Classifier, RulesError

RULE = """
[[rule]]
id = "{id}"
category = "erasure"
all = ["erase", "account"]
{extra}
"""


def rules_dir(tmp_path: Path, rules: str, markers: str = "") -> Path:
    folder = tmp_path / "rules" / "en"
    folder.mkdir(parents=True)
    (folder / "rules.toml").write_text('[terms]\nerase = ["delete"]\naccount = ["account"]\n' + rules)
    (folder / "markers.toml").write_text(markers)
    return tmp_path / "rules"


@pytest.mark.parametrize(
    ("rules", "markers", "message"),
    [
        (RULE.format(id="a", extra="") + RULE.format(id="a", extra=""), "", "used twice"),
        (RULE.format(id="a", extra='frame = "sometimes"'), "", "frame must be"),
        (RULE.format(id="a", extra=""), 'objects = ["data"]', "objects: unknown term groups"),
        (RULE.format(id="a", extra=""), 'bare_unless = ["order"]', "bare_unless: unknown term groups"),
    ],
)
def test_malformed_rules_are_refused(tmp_path: Path, rules: str, markers: str, message: str) -> None:
    with pytest.raises(RulesError, match=message):
        Classifier.load(rules_dir(tmp_path, rules, markers), cache_dir=tmp_path / "cache")
