"""inbound.store writes new mail as plain rows in one bulk insert: the rows must be what the ORM wrote.

One row per mail (the later UID when a folder holds it twice), a known mail only re-pointed, history
below the first start's mark, and no JSON ``null`` where the classification is not there yet.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from inbox_agent import inbound
from inbox_agent.db.session import Database
from inbox_agent.mailbox import FetchedMail

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def mail(uid: int, body: bytes) -> FetchedMail:
    raw = b"Message-ID: <m" + body + b"@example.org>\r\nSubject: s\r\n\r\n" + body
    return FetchedMail(uid=uid, uidvalidity=1, raw=raw, internal_date=NOW, flags=(), size=len(raw))


def test_one_row_per_mail_with_its_later_uid_history_below_the_mark_and_no_json_null(database: Database) -> None:
    with database.transaction() as session:
        state = inbound.folder_state(session, "default", "INBOX")
        inbound.start_here(state, 1, [1], NOW, history=True)  # uid 1 was there before the first start
        first = inbound.store(session, "default", "INBOX", state, [mail(1, b"old"), mail(2, b"a"), mail(3, b"b"),
                                                                   mail(4, b"a")], max_bytes=10**6, now=NOW)
        again = inbound.store(session, "default", "INBOX", state, [mail(7, b"b")], max_bytes=10**6, now=NOW)
        assert (first.new, first.known, again.new, again.known, state.last_uid) == (3, 1, 0, 1, 7)
    with database.transaction() as session:
        rows = session.execute(text("select uid, status, message_id, classification is null, to_check, keyword_set, "
                                    "processed_at is not null, outcome from message order by uid")).all()
    assert [tuple(r) for r in rows] == [
        (1, "history", "<mold@example.org>", 1, 0, 0, 1, "history: in the folder before the agent's first start"),
        (4, "pending", "<ma@example.org>", 1, 0, 0, 0, None),
        (7, "pending", "<mb@example.org>", 1, 0, 0, 0, None),
    ]
