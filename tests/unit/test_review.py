"""The "to check" list reads the review flag back from stored classifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inbox_agent.classify import Classifier
from inbox_agent.db.session import Database
from inbox_agent.db.tables import StoredMessage
from inbox_agent.models import Address, ParsedMessage
from inbox_agent.review import to_check

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
RAW = (
    b"From: Anna <anna@voorbeeld.example>\r\nSubject: mijn account\r\nMessage-ID: <r@x>\r\n\r\n"
    b"Ik wil NIET dat mijn account verwijderd wordt.\r\n"
)


def stored(
    uid: int, classification: dict[str, object] | None, *, days_ago: int = 1, case: bool = False
) -> StoredMessage:
    when = NOW - timedelta(days=days_ago)
    return StoredMessage(
        mailbox="default",
        folder="INBOX",
        uidvalidity=1,
        uid=uid,
        sha256=str(uid),
        size=len(RAW),
        received_at=when,
        raw=RAW,
        created_at=when,
        status="processed",
        processed_at=when,
        classification=classification,
    )


def test_only_unanswered_human_mail_marked_for_review_is_listed(database: Database, classifier: Classifier) -> None:
    text = "Ik wil NIET dat mijn account verwijderd wordt."
    msg = ParsedMessage(
        message_id="<r@x>", subject="mijn account", text=text, from_=Address(email="anna@voorbeeld.example")
    )
    marked = classifier.classify(msg).model_dump(mode="json", exclude={"new_text"})
    assert marked["review"] is True
    plain = {**marked, "review": False}
    robot = {**marked, "automated": True}
    with database.transaction() as session:
        session.add_all(
            [stored(1, marked), stored(2, plain), stored(3, robot), stored(4, None), stored(5, marked, days_ago=40)]
        )
    with database.transaction() as session:
        items = to_check(session, NOW - timedelta(days=30))
    assert [i.message for i in items] == [1]
    assert items[0].sender == "anna@voorbeeld.example" and items[0].subject == "mijn account"
    assert items[0].language == "nl"
