from datetime import UTC, datetime

import pytest

from inbox_agent.customer_registry import CustomerImportError, by_order, lookup, parse_csv, upsert
from inbox_agent.db.session import Database

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def test_every_bad_row_is_named_and_nothing_is_imported() -> None:
    text = ("email,name,customer_id\n"
            "anna@example.org,Anna,1\n"
            "not-an-address,Bob,2\n"
            "carl@example.org,Carl,\n"
            "ANNA@example.org,Anna again,4\n")
    with pytest.raises(CustomerImportError) as err:
        parse_csv(text)
    problems = err.value.problems
    assert len(problems) == 2
    assert problems[0].startswith("line 3: email: not an e-mail address")
    assert problems[1].startswith("line 4: customer_id")


def test_duplicate_address_by_local_part_exactness() -> None:
    with pytest.raises(CustomerImportError, match=r"line 3: anna@EXAMPLE\.org already on line 2"):
        parse_csv("email,name,customer_id\nanna@example.org,A,1\nanna@EXAMPLE.org,B,2\n")
    assert len(parse_csv("email,name,customer_id\nanna@example.org,A,1\nAnna@example.org,B,2\n")) == 2


def test_missing_column_is_one_clear_line() -> None:
    with pytest.raises(CustomerImportError, match="missing column"):
        parse_csv("mail,name\nx@y.nl,X\n")


def test_lookup_and_order_postcode_match(database: Database) -> None:
    records = parse_csv("email,name,customer_id,postcode,order_numbers\nanna@example.org,Anna,1,7741 ab,KT1 KT2\n")
    with database.transaction() as session:
        assert upsert(session, "default", records, source="csv", now=NOW) == 1
    with database.transaction() as session:
        assert lookup(session, "default", "anna@EXAMPLE.ORG") is not None
        assert lookup(session, "default", "Anna@example.org") is None
        assert lookup(session, "other-shop", "anna@example.org") is None
        found = by_order(session, "default", "KT2", "7741AB")
        assert found is not None and found.email == "anna@example.org"
        assert by_order(session, "default", "KT2", "1234XY") is None
