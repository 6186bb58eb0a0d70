"""``inbox-agent deadline`` prints the same dates as deadlines.compute, as JSON or readable text."""

from __future__ import annotations

import json

from click.testing import CliRunner

from inbox_agent.cli import main


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["deadline", *args])
    return result.exit_code, result.output


def test_json_shape_and_values() -> None:
    code, out = run("2026-01-31", "--json")
    assert code == 0
    assert json.loads(out) == {
        "received": "2026-01-31", "raw": "2026-02-28", "legal": "2026-03-02",
        "target": "2026-02-28", "extended": "2026-04-28",
    }


def test_readable_text_names_every_date_with_weekday() -> None:
    code, out = run("2026-03-27")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["received", "raw", "legal", "target", "extended"]
    assert "Mon 2026-04-27" in lines[1]
    assert "Tue 2026-04-28" in lines[2]
    assert "Sun 2026-04-26" in lines[3]


def test_datetime_with_offset_is_converted_to_amsterdam() -> None:
    code, out = run("2026-03-31T23:30:00+00:00", "--json")
    assert code == 0
    assert json.loads(out)["received"] == "2026-04-01"


def test_bad_date_is_a_usage_error() -> None:
    code, out = run("31-01-2026")
    assert code == 2
    assert "not a date" in out
