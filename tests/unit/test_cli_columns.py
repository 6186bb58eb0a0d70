"""The terminal's tables (``blocked list``, ``officer history``): one line per row, whatever a cell holds."""

from __future__ import annotations

from inbox_agent.cli.cases_cmds import columns


def test_a_reason_typed_on_two_lines_stays_on_its_row() -> None:
    table = columns([["Adres", "Reden"], ["promo@example.net", "Reclame\r\nvoor pillen"], ["a@example.org", "x"]])
    assert table.splitlines() == ["Adres              Reden", "promo@example.net  Reclame voor pillen",
                                  "a@example.org      x"]
