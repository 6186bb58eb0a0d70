"""The lemma tables are read a line at a time (their layout: one entry per line); any other layout is read whole."""

from __future__ import annotations

import io
import json

import pytest

from inbox_agent.classify import _json_entries

TABLE = {"Alle": "all", "gegevens": ["gegeven", "gegevens"], 'zeg "hoi"': "zeggen", "Ärger": "ärger"}


SHIPPED = "{\n" + ",\n".join(f"    {json.dumps(k)}: {json.dumps(v)}" for k, v in TABLE.items()) + "\n}\n"


def test_the_shipped_layout_is_read_entry_by_entry_in_order() -> None:
    assert list(_json_entries(io.StringIO(SHIPPED))) == list(TABLE.items())


@pytest.mark.parametrize("text", [json.dumps(TABLE), json.dumps(TABLE, indent=4, ensure_ascii=False)])
def test_another_layout_gives_the_same_table(text: str) -> None:
    """One line, or a list over several lines: read whole (entries read before that come again, unchanged)."""
    assert dict(_json_entries(io.StringIO(text))) == TABLE


def test_with_keys_only_their_lines_are_parsed() -> None:
    """A line with a backslash is parsed whatever its key: the key may hold an escaped quote."""
    entries = dict(_json_entries(io.StringIO(SHIPPED), {"alle", "ärger"}))
    assert entries == {"Alle": "all", 'zeg "hoi"': "zeggen", "Ärger": "ärger"}
