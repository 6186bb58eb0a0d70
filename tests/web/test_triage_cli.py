"""``inbox-agent review open|dismiss``, ``cases spam`` and ``blocked list|lift``, and the blocked-sender guard in
the outbox, without mail servers.

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
from inbox_agent.accounts import add_officer
from inbox_agent.actors import CLI_ACTOR
from inbox_agent.case_states import record
from inbox_agent.cli import main
from inbox_agent.config import Settings
from inbox_agent.customer_registry import CustomerRecord, upsert
from inbox_agent.db.session import Database, alembic_config, upgrade
from inbox_agent.db.tables import BlockedSender, Case, Outbox, ReviewDecision, StoredMessage
from inbox_agent.deadlines import AMSTERDAM, compute, due_at
from inbox_agent.desk.case_mail import send
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

    code, listed = run("list")  # in the officer's language (no account of the login name: Dutch)
    assert code == 0 and listed.splitlines()[0].split() == ["Mail", "Ontvangen", "Taal", "Van", "Onderwerp"]
    assert sorted(line.split()[0] for line in listed.splitlines()[1:]) == sorted([str(first), str(second)])
    assert "Nederlands" in listed and "anna@example.org" in listed
    assert {i["message"] for i in json.loads(run("list", "--json")[1])} == {first, second}  # codes, as they were
    assert run("open", str(first), "--as", OFFICER)[0] == 2  # a right is required
    code, output = run("open", str(first), "--right", "access", "--right", "objection", "--as", OFFICER)
    assert code == 0 and output.startswith("verzoek KT-") and output.endswith(f"geopend vanuit mail {first}\n")
    assert run("open", str(first), "--right", "access", "--as", OFFICER) == (
        1, f"fout: mail {first} staat niet (meer) op de lijst om te controleren\n")
    assert run("dismiss", str(second), "--reason", " ", "--as", OFFICER)[0] == 1
    assert run("dismiss", str(second), "--reason", "gewone klantvraag", "--as", "nobody")[0] == 1  # an account acts
    assert run("dismiss", str(second), "--reason", "gewone klantvraag", "--as", OFFICER) == (
        0, f"mail {second} van de lijst gehaald\n")
    assert run("list")[1] == "niets te controleren in de laatste 30 dagen\n"
    assert run("list", "--as", "nobody")[1] == "niets te controleren in de laatste 30 dagen\n"
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



def test_spam_and_block_from_the_terminal_with_the_limits_of_the_web_page(
    site: tuple[Settings, Database], tmp_path: Path
) -> None:
    """`cases spam`, `blocked list|lift` as the officer types them, said in her language, times in Amsterdam."""
    settings, db = site
    config = cli_config(tmp_path, settings.database.url)
    senders = ("anna@example.org", "promo@example.net", "carla@example.net", "carla@example.net", "dirk@example.org")
    with db.transaction() as session:
        session.add_all([stored(uid, sender) for uid, sender in enumerate(senders, start=1)])
        upsert(session, "default", [CustomerRecord(email="anna@example.org", name="Anna", customer_id="1")],
               source="test", now=ARRIVED)
        add_officer(session, "jan", "a long enough password", language="en", now=ARRIVED, actor=CLI_ACTOR)

    def run(*args: str, actor: str = OFFICER) -> tuple[int, str]:
        result = CliRunner().invoke(main, [*args, "--config", str(config)], env={"INBOX_AGENT_OFFICER": actor})
        return result.exit_code, result.output

    with db.transaction() as session:
        messages = session.scalars(select(StoredMessage.id).order_by(StoredMessage.id)).all()
    anna, promo, carla, carla_again, dirk = (run("review", "open", str(m), "--right", "access")[1].split()[1]
                                             for m in messages)
    with db.transaction() as session:  # carla's first request proved her address, her second did not
        cases = {c.reference: c for c in session.scalars(select(Case))}
        cases[carla].verified_email, cases[carla_again].verified_email = "carla@example.net", None
        record(cases[dirk], "approved", actor=OFFICER, at=datetime.now(UTC), data={"kind": "result_access"})

    assert run("cases", "spam", anna, "--reason", "Reclame", "--block") == (
        1, "fout: anna@example.org hoort bij een klant in het klantenbestand en kan niet geblokkeerd worden: een "
           "spammail kan dat adres vervalst hebben; sluit als spam zonder te blokkeren\n")
    assert run("cases", "spam", promo, "--reason", " ") == (
        1, "fout: zeg waarom dit spam is (dat komt in de audittrail)\n")
    code, output = run("cases", "spam", promo, "--reason", "Reclame", actor="nobody")
    assert code == 1 and output.startswith("fout: geen account met de naam 'nobody'; beslis als een functionaris")
    assert run("cases", "spam", dirk, "--reason", "Reclame", "--as", "jan") == (
        1, f"error: case {dirk} has an approved answer, a held result or open steps: it is being carried out, so "
           "it cannot be closed as spam or merged; finish or skip its steps and close it (cases close)\n")
    assert run("cases", "spam", "KT-2000-000999", "--reason", "Reclame") == (
        1, "fout: geen verzoek met kenmerk 'KT-2000-000999'\n")
    with db.transaction() as session:
        assert session.scalars(select(BlockedSender)).all() == []
        assert "rejected" not in {c.state for c in session.scalars(select(Case))}

    assert run("cases", "spam", promo, "--reason", "Reclame voor pillen", "--block") == (
        0, f"{promo}: als spam afgesloten; er gaat geen antwoord naar de afzender, en promo@example.net is "
           "geblokkeerd.\n")
    assert run("cases", "spam", promo, "--reason", "Reclame") == (1, f"fout: verzoek {promo} is geweigerd\n")
    assert run("cases", "spam", carla_again, "--reason", "Toch reclame", "--block", "--as", "jan") == (
        0, f"{carla_again}: closed as spam; no answer goes to the sender, and carla@example.net is blocked.\n")
    with db.transaction() as session:
        closed = session.scalars(select(Case).where(Case.reference == promo)).one()
        assert (closed.state, closed.decision, closed.decision_reason) == ("rejected", "spam", "Reclame voor pillen")
        assert [e.actor for e in closed.events if e.kind == "spam"] == [OFFICER]
        acks = {ref: status for ref, status in session.execute(
            select(Case.reference, Outbox.status).join(Case, Outbox.case_id == Case.id).where(Outbox.kind == "ack"))}
        # the spam cases' own mail is dropped; carla's verified request still gets its mail despite the block
        assert acks == {anna: "queued", promo: "rejected", carla: "queued", carla_again: "rejected", dirk: "queued"}
        blocks = session.scalars(select(BlockedSender).order_by(BlockedSender.id)).all()
        assert [(b.address, b.blocked_by, b.case_reference) for b in blocks] == [
            ("promo@example.net", OFFICER, promo), ("carla@example.net", "jan", carla_again)]
        blocked_at = blocks[0].blocked_at

    code, output = run("blocked", "list")
    header, *rows = output.splitlines()
    assert code == 0 and header.split() == ["Adres", "Verzoek", "Geblokkeerd", "door", "Blokkade", "Reden"]
    assert rows[1].split()[:2] == ["promo@example.net", promo] and rows[1].endswith("actief    Reclame voor pillen")
    assert f" {blocked_at.astimezone(AMSTERDAM):%H:%M} " in rows[1]  # Amsterdam time, not UTC

    assert run("blocked", "lift", "promo@example.net", "--as", "jan") == (0, "Block on promo@example.net lifted.\n")
    assert run("blocked", "lift", "promo@example.net") == (1, "fout: promo@example.net is niet geblokkeerd\n")
    code, output = run("blocked", "list", "--as", "jan")
    assert code == 0 and output.splitlines()[0].split()[:2] == ["Address", "Request"]
    assert "lifted by jan on " in output.splitlines()[2]
    with db.transaction() as session:
        assert blocklist.is_blocked(session, "default", "carla@example.net")
        assert not blocklist.is_blocked(session, "default", "promo@example.net")
