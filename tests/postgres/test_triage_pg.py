"""The list to check and the blocked senders on PostgreSQL: the review flag is read inside the JSON column there too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inbox_agent import blocklist, review
from inbox_agent.db.session import Database
from inbox_agent.db.tables import StoredMessage

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
MARKED = {"categories": ["none"], "language": "nl", "automated": False, "review": True, "evidence": []}
RAW = b"From: Anna <anna@example.org>\r\nSubject: account\r\n\r\nIk wil NIET dat mijn account verwijderd wordt.\r\n"


def stored(uid: int, classification: dict[str, object] | None) -> StoredMessage:
    when = NOW - timedelta(days=1)
    return StoredMessage(mailbox="default", folder="INBOX", uidvalidity=1, uid=uid, sha256=str(uid), size=len(RAW),
                         received_at=when, raw=RAW, created_at=when, status="processed", processed_at=when,
                         classification=classification)


def test_review_count_dismiss_and_block_on_postgres(pg_url: str) -> None:
    db = Database(pg_url)
    with db.transaction() as session:
        session.add_all([stored(1, MARKED), stored(2, {**MARKED, "review": False}),
                         stored(3, {**MARKED, "automated": True}), stored(4, None), stored(5, MARKED)])
    with db.transaction() as session:
        assert review.count(session, NOW) == 2
        first = review.to_check(session, NOW - timedelta(days=30))[-1].message
        review.dismiss(session, first, reason="geen verzoek", actor="marieke", now=NOW)
    with db.transaction() as session:
        assert review.count(session, NOW) == 1 and [h.message for h in review.handled(session, NOW)] == [first]
        blocklist.block(session, "default", "Anna@Example.ORG", reason="spam", actor="marieke", now=NOW)
        assert blocklist.is_blocked(session, "default", "Anna@example.org")
        assert not blocklist.is_blocked(session, "other", "Anna@example.org")
    db.dispose()
