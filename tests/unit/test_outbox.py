from datetime import UTC, datetime, timedelta

import pytest

from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case, Outbox
from inbox_agent.models import IdentityStatus, OutgoingMail
from inbox_agent.outbox import (
    MAX_ATTEMPTS,
    DisclosureRefused,
    claim_due,
    enqueue,
    mark_failed,
)

SECRET = "0123456789abcdef0123"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def a_case(**kw: object) -> Case:
    values: dict[str, object] = dict(
        shop="default", reference="KT-2026-000001", state="in_progress", identity_status=IdentityStatus.VERIFIED,
        verified_email="anna@example.org", requester_email="anna@example.org", received_at=NOW, deadline_raw=NOW,
        deadline_legal=NOW, deadline_target=NOW, created_at=NOW, rights=["access"], thread_ids=[],
    )
    values.update(kw)
    return Case(**values)


def mail(kind: str = "ack", to: str = "anna@example.org", automatic: bool = True) -> OutgoingMail:
    return OutgoingMail(kind=kind, to=to, subject="[KT-2026-000001] x", body_text="x", automatic=automatic)


def put(session, m: OutgoingMail, case: Case | None, brake: int = 5, now: datetime = NOW) -> Outbox:  # type: ignore[no-untyped-def]
    return enqueue(session, m, shop="default", case=case, secret=SECRET, domain="shop.example", now=now, brake=brake)


def test_result_goes_only_to_the_verified_address(database: Database) -> None:
    with database.transaction() as session:
        case = a_case()
        session.add(case)
        session.flush()
        with pytest.raises(DisclosureRefused):
            put(session, mail("result_access", to="someone.else@example.org", automatic=False), case)
        with pytest.raises(DisclosureRefused):
            put(session, mail("result_access", automatic=False), a_case(reference="KT-2026-000002",
                                                                          identity_status=IdentityStatus.CODE_SENT))
        row = put(session, mail("result_access", to="anna@EXAMPLE.org", automatic=False), case)
        assert row.status == "draft"
        assert row.message_id in case.thread_ids


def test_brake_blocks_the_sixth_automatic_mail_in_24_hours(database: Database) -> None:
    with database.transaction() as session:
        statuses = [put(session, mail(), None, now=NOW + timedelta(minutes=i)).status for i in range(6)]
        assert statuses == ["queued"] * 5 + ["blocked"]
        later = put(session, mail(), None, now=NOW + timedelta(hours=25))
        assert later.status == "queued"
        officer = put(session, mail("officer_new_case", to="anna@example.org"), None)
        assert officer.status == "queued"


def test_claimed_rows_are_not_claimed_again_until_the_claim_expires(database: Database) -> None:
    with database.transaction() as session:
        put(session, mail(), None)
    with database.transaction() as session:
        assert len(claim_due(session, "host:1", NOW)) == 1
    with database.transaction() as session:
        assert claim_due(session, "host:2", NOW) == []
        assert len(claim_due(session, "host:2", NOW + timedelta(minutes=6))) == 1


def test_backoff_grows_and_gives_up() -> None:
    row = Outbox(attempts=0, status="queued")
    mark_failed(row, "421 busy", NOW, permanent=False)
    assert row.next_attempt_at == NOW + timedelta(seconds=30)
    mark_failed(row, "421 busy", NOW, permanent=False)
    assert row.next_attempt_at == NOW + timedelta(seconds=60)
    for _ in range(MAX_ATTEMPTS):
        mark_failed(row, "421 busy", NOW, permanent=False)
    assert row.status == "failed"
    permanent = Outbox(attempts=0, status="queued")
    mark_failed(permanent, "550 no such user", NOW, permanent=True)
    assert permanent.status == "failed"


def test_the_sender_checks_disclosure_again_right_before_smtp(database: Database) -> None:
    """README: check_disclosure runs when a draft is made, when approved, and again before sending."""
    with database.transaction() as session:
        case = a_case()
        session.add(case)
        session.flush()
        row = put(session, mail("result_access", automatic=False), case)
        ack = put(session, mail("ack"), case)
        row.status = "queued"  # approved
        case.verified_email = "anna.new@example.org"  # rectified since: the approved address is no longer hers
    with database.transaction() as session:
        claimed = claim_due(session, "w1", NOW + timedelta(seconds=1))
        assert [r.id for r in claimed] == [ack.id]
        blocked = session.get_one(Outbox, row.id)
        assert blocked.status == "blocked"
        assert "disclosure guard before sending" in (blocked.last_error or "")
    with database.transaction() as session:
        other = a_case(reference="KT-2026-000009")
        session.add(other)
        session.flush()
        again = put(session, mail("result_access", automatic=False), other)
        again.status = "queued"
        other.identity_status = IdentityStatus.CODE_SENT  # the verification was withdrawn after approval
    with database.transaction() as session:
        assert claim_due(session, "w1", NOW + timedelta(seconds=2)) == []
        assert session.get_one(Outbox, again.id).status == "blocked"
