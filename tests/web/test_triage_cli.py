"""``inbox-agent review open|dismiss`` and the blocked-sender guard in the outbox, without mail servers.

The list's mails are stored as the pipeline stores them (a classification marked ``review``,
no case); opening one goes through the desk, so the acknowledgement is queued and the deadline
runs from the mail's arrival. A blocked address gets nothing: what is queued for it stops, and
a mail the desk queues for it later is held back.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from click.testing import CliRunner
from sqlalchemy import select, text
from workspace_harness import OFFICER, cli_config

from inbox_agent import blocklist
from inbox_agent.cli import main
from inbox_agent.config import Settings
from inbox_agent.db.models import Case, Outbox, ReviewDecision, StoredMessage
from inbox_agent.db.session import Database, alembic_config, upgrade
from inbox_agent.deadlines import compute, due_at
from inbox_agent.desk import send
from inbox_agent.runtime import officer_desk

from agent_harness import request_mail

MARKED = {"categories": ["none"], "language": "nl", "automated": False, "review": True, "evidence": []}
ARRIVED = datetime.now(UTC).replace(microsecond=0) - timedelta(days=4)


def stored(uid: int, sender: str) -> StoredMessage:
    raw = request_mail("Ik wil NIET dat mijn account verwijderd wordt.", sender=sender)
    return StoredMessage(mailbox="default", folder="INBOX", uidvalidity=1, uid=uid, sha256=str(uid), size=len(raw),
                         received_at=ARRIVED, raw=raw, created_at=ARRIVED, status="processed", processed_at=ARRIVED,
                         classification=MARKED)


def test_review_open_and_dismiss_from_the_terminal(site: tuple[Settings, Database], tmp_path: Path) -> None:
    settings, db = site
    config = cli_config(tmp_path, settings.database.url)
    with db.transaction() as session:
        session.add_all([stored(1, "anna@example.org"), stored(2, "bram@example.org")])
    with db.transaction() as session:
        first, second = session.scalars(select(StoredMessage.id).order_by(StoredMessage.id)).all()

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["review", *args, "--config", str(config)])
        return result.exit_code, result.output

    assert run("open", str(first), "--as", OFFICER)[0] == 2  # a right is required
    code, output = run("open", str(first), "--right", "access", "--right", "objection", "--as", OFFICER)
    assert code == 0 and output.startswith("case KT-") and output.endswith(f"opened from mail {first}\n")
    assert run("open", str(first), "--right", "access", "--as", OFFICER) == (
        1, f"error: mail {first} is not (or no longer) on the list to check\n")
    assert run("dismiss", str(second), "--reason", " ", "--as", OFFICER)[0] == 1
    assert run("dismiss", str(second), "--reason", "gewone klantvraag", "--as", "nobody")[0] == 1  # an account acts
    assert run("dismiss", str(second), "--reason", "gewone klantvraag", "--as", OFFICER) == (
        0, f"mail {second} taken off the list\n")
    assert run("list")[1] == "nothing to check in the last 30 days\n"
    with db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert (case.rights, case.received_at, case.requester_email) == (["access", "objection"], ARRIVED,
                                                                         "anna@example.org")
        assert case.deadline_legal == due_at(compute(ARRIVED).legal)
        assert (case.events[0].actor, case.events[0].kind) == (OFFICER, "received")
        ack = session.scalars(select(Outbox).where(Outbox.case_id == case.id, Outbox.kind == "ack")).one()
        assert (ack.to_addr, ack.status) == ("anna@example.org", "queued")
        dismissed = session.scalars(select(ReviewDecision).where(ReviewDecision.message_id == second)).one()
        assert (dismissed.action, dismissed.reason, dismissed.actor) == ("dismissed", "gewone klantvraag", OFFICER)

        now = datetime.now(UTC)
        blocklist.block(session, "default", "anna@example.org", reason="spam", actor=OFFICER, now=now)
        session.refresh(ack)
        assert ack.status == "blocked"  # queued before the block: stopped
        later = send(session, officer_desk(settings, "default", OFFICER, now), case, "clarification",
                     to="anna@example.org")
        assert later.status == "blocked" and later.last_error == blocklist.BLOCKED_NOTE
        assert blocklist.is_blocked(session, "default", "anna@example.org")
        assert not blocklist.is_blocked(session, "default", "bram@example.org")


def test_mail_already_marked_for_review_is_on_the_list_after_the_upgrade(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite'}")
    command.upgrade(alembic_config(db.engine), "a1f3c5e7b9d2")  # the schema before message.to_check
    with db.engine.begin() as conn:
        for uid, cls in enumerate((MARKED, {**MARKED, "review": False}, {**MARKED, "automated": True}, MARKED)):
            conn.execute(text("INSERT INTO message (mailbox, folder, uidvalidity, uid, sha256, size, received_at,"
                              " status, keyword_set, moved, classification, created_at) VALUES ('default', 'INBOX',"
                              " 1, :uid, :uid, 1, :at, 'processed', 0, 0, :cls, :at)"),
                         {"uid": uid, "at": ARRIVED.isoformat(), "cls": json.dumps(cls)})
        conn.execute(text("INSERT INTO review_decision (message_id, action, actor, at) VALUES (4, 'dismissed',"
                          " 'marieke', :at)"), {"at": ARRIVED.isoformat()})
    upgrade(db.engine)
    with db.transaction() as session:
        assert session.scalars(select(StoredMessage.id).where(StoredMessage.to_check)).all() == [1]
    db.dispose()
