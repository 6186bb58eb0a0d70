"""A block the officer commits while a batch is being routed holds from the batch's next message on.

On PostgreSQL every statement of the batch's transaction sees what others committed. The block list's
answers are remembered to save lookups (blocklist.is_blocked), but only for one message: remembered for the
whole transaction, a block made meanwhile let up to a batch of 50 mails through to the blocked address.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from unit.test_pipeline_batch import NOW, stored

from inbox_agent import blocklist, pipeline
from inbox_agent.classify import Classifier
from inbox_agent.config import load_settings
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case, Outbox, StoredMessage
from inbox_agent.fictitious_shop import FICTITIOUS_SHOP

SPAM = "pieter@example.net"


def test_a_block_committed_mid_batch_holds_for_the_next_message(pg_url: str, classifier: Classifier) -> None:
    settings = load_settings(None, imap={"username": "u"}, smtp={"from_address": "privacy@shop.example"},
                             database={"url": pg_url}, secret_key="0123456789abcdef0123",
                             shop=FICTITIOUS_SHOP | {"officer_email": "officer@shop.example"})
    database = Database(pg_url)
    stored(database, [SPAM, "anna@example.org", SPAM])
    asked = 0

    def officer_blocks_after_the_first() -> bool:  # asked before the batch, then before each of its messages
        nonlocal asked
        asked += 1
        if asked == 3:
            with database.transaction() as other:  # the officer's own transaction, committed at once
                blocklist.block(other, "default", SPAM, reason="spam", actor="officer", now=datetime.now(UTC))
        return False

    routed = pipeline.Pipeline(settings, database, classifier, clock=lambda: NOW).process_pending(
        officer_blocks_after_the_first)
    assert routed == 3
    with database.transaction() as session:
        cases = list(session.scalars(select(Case).where(Case.requester_email == SPAM)))
        to_spam = [(o.status, o.kind) for o in session.scalars(select(Outbox).where(Outbox.to_addr == SPAM)
                                                                 .order_by(Outbox.id))]
        third = session.scalars(select(StoredMessage).order_by(StoredMessage.id)).all()[2]
    # the first message opened its case and queued its mails before the block; the third opens nothing
    assert len(cases) == 1 and to_spam == [("queued", "ack"), ("queued", "identity_question")], to_spam
    assert third.case_id is None, third.case_id
    database.dispose()
