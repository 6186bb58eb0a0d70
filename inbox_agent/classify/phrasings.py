"""The phrasing tables (``tests/fixtures/classify/phrasings*.txt``): one line a phrasing, ``categories | subject |
body``, ``-`` for no subject, ``#`` for comments and for the ``# FAILS:`` lines that fail today.

One reader and one way to make a line a message, for the tests that hold the tables, the training of the second
opinion and the classification snapshot: a line read differently in one of them would be another line.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from ..models import Address, ParsedMessage


class Phrasing(NamedTuple):
    expected: str
    """Comma-separated categories, as written."""
    subject: str
    body: str
    number: int
    """Line number in its table."""

    def message(self) -> ParsedMessage:
        return ParsedMessage(message_id="<p@example.org>", subject="" if self.subject == "-" else self.subject,
                             from_=Address(email="klant@example.org"), text=self.body)


def read_table(table: Path) -> list[Phrasing]:
    phrasings = []
    for number, line in enumerate(table.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            expected, subject, body = line.split(" | ", 2)
            phrasings.append(Phrasing(expected, subject, body, number))
    return phrasings
