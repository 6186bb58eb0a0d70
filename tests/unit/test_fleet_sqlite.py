"""The daemon registry and the scheduler's own lease on SQLite: one daemon holds everything, health names it.

The sharing between several daemons is tested on PostgreSQL (``tests/postgres/test_fleet.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import event, text

from inbox_agent import health
from inbox_agent.config import Settings
from inbox_agent.db.leases import release_owned
from inbox_agent.db.session import Database, alembic_config, upgrade
from inbox_agent.fleet import Fleet


def test_one_daemon_on_sqlite_holds_its_mailbox_and_the_scheduler_and_health_names_it(
    settings: Settings, database: Database
) -> None:
    now = datetime.now(UTC)
    fleet = Fleet(database, "mail-a.example:4242", len(settings.all_mailboxes()), settings.database.lease_seconds,
                  lambda: now)
    fleet.join(heartbeat=False)
    with database.transaction() as session:
        assert fleet.hold(session, "default", "INBOX")
        assert fleet.hold_scheduler(session)
    report = health.check(settings, database, now)
    assert [(d.instance, d.host, d.pid, d.mailboxes) for d in report.daemons] == [
        ("mail-a.example:4242", "mail-a.example", 4242, 1)]
    assert report.scheduler is not None
    assert (report.scheduler.holder, report.scheduler.since) == ("mail-a.example:4242", now)

    fleet.leave()  # a clean stop: no heartbeat, nothing held
    with database.transaction() as session:
        release_owned(session, fleet.instance)
    fleet.beat()
    report = health.check(settings, database, now)
    assert report.daemons == [] and report.scheduler is not None and report.scheduler.holder is None
    assert report.mailboxes[0].lease_owner is None


def test_the_scheduler_lease_leaves_folder_state_for_a_table_of_its_own(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite'}")
    command.upgrade(alembic_config(db.engine), "5cc2f2da6fc9")  # the scheduler's lease was a fake folder
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO folder_state (mailbox, folder, uidvalidity, last_uid, lease_owner, lease_until,"
                          " history_below_uid) VALUES ('(scheduler)', '', 0, 0, 'mail-a.example:4242',"
                          " '2026-12-01 12:00:00', 0)"))
    upgrade(db.engine)
    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM folder_state")).scalar_one() == 0
        assert conn.execute(text("SELECT name, holder FROM scheduler_lease")).all() == [("scheduler", None)]
    db.dispose()


def test_holding_a_thousand_mailboxes_at_once_takes_a_few_statements_and_keeps_the_shares(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'many.sqlite'}")
    upgrade(db.engine)
    now = datetime.now(UTC)
    folders = [(f"shop{n:04d}", "INBOX") for n in range(1000)]
    first, second = (Fleet(db, f"mail-{name}.example:4242", len(folders), 60.0, lambda: now) for name in "ab")
    first.join(heartbeat=False)
    second.join(heartbeat=False)
    first.beat()  # each has seen the other: 500 each
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with db.transaction() as session:
        with_rows = first.hold(session, "shop0999", "INBOX")  # one row exists already, the others not
    with db.transaction() as session:
        held = first.hold_all(session, folders)
    statements.clear()
    with db.transaction() as session:
        assert first.hold_all(session, folders) == held  # renewed: the same ones
    assert len(statements) <= 3, statements  # two SELECTs of 500 names each, one UPDATE of the leases (executemany)
    with db.transaction() as session:
        others = second.hold_all(session, folders)
    db.dispose()
    assert with_rows and held[-1]
    assert sum(held) == sum(others) == 500
    assert [a != b for a, b in zip(held, others, strict=True)] == [True] * 1000  # every mailbox held once
