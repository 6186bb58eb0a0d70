"""A block rests on a From nobody proved: it must not cut a real customer off (review of 'spam / block sender').

Before: a spam with a forged ``From: anna@...`` closed as "spam + block" blocked every mail to Anna, so
the result of her own verified case was created "blocked" and could not be approved, and her later
DMARC-proven requests were stored "ignored" with nobody told.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from inbox_agent import blocklist, review
from inbox_agent.classify import Classifier
from inbox_agent.config import REPO_ROOT, Settings, load_settings
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case, Customer, Outbox, StoredMessage
from inbox_agent.deadlines import compute, due_at
from inbox_agent.desk import from_review, officer, spam
from inbox_agent.desk.case_mail import send
from inbox_agent.desk.context import Desk
from inbox_agent.desk.drafting import draft_results
from inbox_agent.fictitious_shop import FICTITIOUS_SHOP
from inbox_agent.officer_error import OfficerError
from inbox_agent.pipeline import Pipeline
from inbox_agent.withdrawal import load_cues

from agent_harness import TRUSTED, request_mail

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
ANNA = "anna@example.org"
CUES = load_cues(REPO_ROOT / "classifiers" / "conversation.toml")


@pytest.fixture
def trusting(database: Database) -> Settings:
    """The unit settings, with the shop's own mail host trusted for sender proof."""
    return load_settings(None, imap={"username": "u"}, smtp={"from_address": "privacy@shop.example"},
                         database={"url": str(database.engine.url)}, secret_key="0123456789abcdef0123",
                         shop=FICTITIOUS_SHOP | {"officer_email": "officer@shop.example"},
                         policy={"trusted_authserv_ids": [TRUSTED]})


def desk(settings: Settings) -> Desk:
    return Desk(settings=settings, box=settings.mailbox("default"), now=NOW, cues=CUES, actor="officer")


def case(reference: str, *, verified: bool) -> Case:
    dl = compute(NOW)
    return Case(shop="default", reference=reference, state="in_progress" if verified else "awaiting_identity",
                rights=["access"], language="nl", requester_email=ANNA, verified_email=ANNA if verified else None,
                identity_status="verified" if verified else "unverified", received_at=NOW,
                deadline_raw=due_at(dl.raw), deadline_legal=due_at(dl.legal), deadline_target=due_at(dl.target),
                created_at=NOW, thread_ids=[], events=[])


def test_blocking_a_forged_sender_spares_the_verified_customer(trusting: Settings, database: Database) -> None:
    with database.transaction() as session:
        hers, forged = case("KT-2026-000001", verified=True), case("KT-2026-000002", verified=False)
        session.add_all([hers, forged])
        session.flush()
        queued = send(session, desk(trusting), hers, "clarification", to=ANNA)
        spam.close_as_spam(session, desk(trusting), forged.reference, reason="reclame", block=True)
        assert blocklist.is_blocked(session, "default", ANNA)
        session.refresh(queued)
        assert queued.status == "queued"  # her own case's mail still goes out
        assert send(session, desk(trusting), forged, "clarification", to=ANNA).status == "blocked"
        draft_results(session, desk(trusting), hers)
    with database.transaction() as session:
        (result,) = session.scalars(select(Outbox).where(Outbox.kind == "result_access")).all()
        assert result.status == "draft"  # was "blocked": nothing left to approve, the case stuck
        officer.approve(session, desk(trusting), "KT-2026-000001")
        assert result.status == "queued"


def test_a_blocked_senders_proven_request_goes_to_the_list_to_check(trusting: Settings, database: Database,
                                                                     classifier: Classifier) -> None:
    with database.transaction() as session:
        blocklist.block(session, "default", ANNA, reason="spam", actor="officer", now=NOW)
        for uid, dmarc in ((1, "pass"), (2, "fail")):
            raw = request_mail("Ik wil graag inzage in mijn gegevens.", sender=ANNA, dmarc=dmarc)
            session.add(StoredMessage(mailbox="default", folder="INBOX", uidvalidity=1, uid=uid, sha256=str(uid),
                                      size=len(raw), received_at=NOW, raw=raw, created_at=NOW, status="pending"))
    Pipeline(trusting, database, classifier).process_pending()
    with database.transaction() as session:
        outcomes = {uid: outcome for uid, outcome in session.execute(select(StoredMessage.uid, StoredMessage.outcome))}
        listed = [item.message for item in review.to_check(session, NOW - timedelta(days=1))]
        proven = session.scalars(select(StoredMessage.id).where(StoredMessage.uid == 1)).one()
        assert session.scalars(select(Case)).all() == []
    assert outcomes == {1: "to check: from a blocked sender, but the sender is proven",
                        2: "ignored: the officer blocked this sender"}
    assert listed == [proven]
    with database.transaction() as session:  # the officer opens it: the block does not stand in the way
        opened = from_review.open_case(session, desk(trusting), proven, ["access"])
        assert opened.requester_email == ANNA


def test_a_customer_in_the_registry_cannot_be_blocked(trusting: Settings, database: Database) -> None:
    with database.transaction() as session:
        session.add(Customer(shop="default", email=ANNA, email_key=ANNA, name="Anna Jansen", created_at=NOW,
                             updated_at=NOW))
        session.add(case("KT-2026-000002", verified=False))
    with database.transaction() as session, pytest.raises(OfficerError) as refused:
        spam.close_as_spam(session, desk(trusting), "KT-2026-000002", reason="reclame", block=True)
    assert refused.value.key == "officer_error.block_customer"
    with database.transaction() as session:
        assert not blocklist.is_blocked(session, "default", ANNA)
        spam.close_as_spam(session, desk(trusting), "KT-2026-000002", reason="reclame", block=False)


def test_the_blocklist_is_asked_once_per_address_and_transaction_and_follows_a_block_and_its_lift(
    database: Database,
) -> None:
    """A request asks about its sender up to three times (opening the case, the ack, the identity mail)."""
    from sqlalchemy import event

    asked: list[str] = []
    event.listen(database.engine, "before_cursor_execute",
                 lambda *a: asked.append(a[2]) if "FROM blocked_sender" in a[2] else None)
    with database.transaction() as session:
        assert not any(blocklist.is_blocked(session, "default", a) for a in (ANNA, "anna@EXAMPLE.org", ANNA))
        assert len(asked) == 1
        blocklist.block(session, "default", ANNA, reason="reclame", actor="officer", now=NOW)
        assert blocklist.is_blocked(session, "default", ANNA)
        [row] = blocklist.in_force(session, ANNA, "default")
        blocklist.lift(session, row.id, actor="officer", now=NOW)
        assert not blocklist.is_blocked(session, "default", ANNA)  # was still blocked until the next flush
        blocklist.block(session, "default", ANNA, reason="reclame", actor="officer", now=NOW)
    with database.transaction() as session:
        assert blocklist.is_blocked(session, "default", ANNA)  # another transaction asks again
