"""The one-line wording of a database fault that the daemon and the mailbox loop log."""

import sqlite3

from sqlalchemy.exc import OperationalError

from inbox_agent.db.outage import describe


def test_a_known_cause_is_named_with_the_drivers_class() -> None:
    exc = OperationalError("UPDATE case SET ...", {}, sqlite3.OperationalError("database is locked"))
    assert describe(exc) == "OperationalError: database is locked"


def test_an_unknown_message_is_left_out_since_it_may_quote_row_values() -> None:
    exc = OperationalError("INSERT ...", {}, sqlite3.OperationalError("value 'anna@example.org' too long"))
    assert describe(exc) == "OperationalError"
