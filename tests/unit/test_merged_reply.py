"""A reply to a merged request reaches the case it joined, however it names the merged one.

Before: only a reply carrying our signed Message-ID was redirected; one that found the merged
request by the [reference] in its subject landed on the closed, merged case.
"""

from __future__ import annotations

from datetime import UTC, datetime

from inbox_agent.config import REPO_ROOT, Settings
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case
from inbox_agent.desk.context import Desk
from inbox_agent.models import Address, ParsedMessage
from inbox_agent.pipeline import thread_case
from inbox_agent.withdrawal import load_cues

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def case(reference: str, state: str, joined: int | None = None) -> Case:
    return Case(shop="default", reference=reference, state=state, rights=["access"], language="nl",
                requester_email="anna@example.org", identity_status="unverified", received_at=NOW,
                deadline_raw=NOW, deadline_legal=NOW, deadline_target=NOW, created_at=NOW, thread_ids=[], events=[],
                linked_case_id=joined)


def test_a_subject_reference_to_a_merged_request_finds_the_case_it_joined(settings: Settings,
                                                                           database: Database) -> None:
    desk = Desk(settings=settings, box=settings.mailbox("default"), now=NOW,
                cues=load_cues(REPO_ROOT / "classifiers" / "conversation.toml"))
    msg = ParsedMessage(message_id="<r@example.org>", subject="Re: [KT-2026-000002] ontvangen", text="Dank je.",
                        from_=Address(email="anna@example.org"))
    with database.transaction() as session:
        older = case("KT-2026-000001", "in_progress")
        session.add(older)
        session.flush()
        session.add(case("KT-2026-000002", "merged", joined=older.id))
        session.flush()
        found, note = thread_case(session, desk, msg)
        assert found is not None and (found.reference, note) == ("KT-2026-000001", None)
