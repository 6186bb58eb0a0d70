"""``cases list`` on a SQLite file reads the queue with sqlite3 (case_list.py), as workqueue.find reads it.

The statement it runs is the queue's own, compiled (case_list_sql.py); these tests hold it to that,
to find's rows on the same database, to the same schema check and to the same one-line faults.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import update

from bench.bench_queue import seed
from inbox_agent import case_list, case_list_sql, workqueue
from inbox_agent.accounts import add_officer
from inbox_agent.actors import CLI_ACTOR
from inbox_agent.db.session import Database, SchemaOutdated, alembic_config, require_current_schema, upgrade
from inbox_agent.db.tables import Case
from inbox_agent.desk import case_views
from inbox_agent.fictitious_shop import shop_toml
from inbox_agent.workqueue import CaseQuery, find

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
REGENERATE = "python -c 'from inbox_agent import workqueue; workqueue.write_sqlite_statements()'"


def test_the_compiled_statements_are_the_queues_own() -> None:
    assert workqueue.sqlite_statements() == case_list_sql.STATEMENTS, f"case_list_sql.py is out of date: {REGENERATE}"


def test_the_rows_are_finds_rows_in_finds_order(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'queue.sqlite'}"
    db = Database(url)
    upgrade(db.engine)
    seed(db, 150, NOW)
    with db.transaction() as session:  # an extension moves the deadline that counts; one due within the window
        session.execute(update(Case).where(Case.id == 10).values(deadline_extended=NOW + timedelta(days=40)))
        session.execute(update(Case).where(Case.id == 11).values(deadline_target=NOW + timedelta(days=3)))
    for view in ("mine", "all"):
        with db.transaction() as session:
            expected = find(session, NOW, CaseQuery(view=view), soon_days=7, per_page=10**9).rows
        assert case_list.read(url, view, NOW, 7) == expected
        assert {r.need for r in expected} >= {"approve", "overdue", "soon", "tasks", "customer", "work"}
    assert any(r.closed for r in expected) and any(r.extended for r in expected)
    db.dispose()


def test_the_schema_is_checked_as_every_command_checks_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    db = Database(url)
    command.upgrade(alembic_config(db.engine), "a1f3c5e7b9d2")
    with pytest.raises(SchemaOutdated) as through_sqlalchemy:
        require_current_schema(db.engine)
    with pytest.raises(SchemaOutdated) as here:
        case_list.read(url, "mine", NOW, 7)
    assert str(here.value) == str(through_sqlalchemy.value)
    with pytest.raises(SchemaOutdated, match="at nothing"):
        case_list.read(f"sqlite:///{tmp_path / 'empty.sqlite'}", "mine", NOW, 7)
    db.dispose()


def test_other_databases_go_through_sqlalchemy() -> None:
    for url in ("postgresql+psycopg://u@localhost/db", "sqlite://", "sqlite:///:memory:",
                "sqlite+pysqlite:///x.sqlite", "sqlite:///x.sqlite?mode=ro"):
        assert case_list.read(url, "mine", NOW, 7) is None


def _cases_list(tmp_path: Path, url: str, actor: str = "") -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(f'secret_key = "0123456789abcdef0123"\nstate_dir = "{tmp_path}"\n'
                      '[imap]\nusername = "u"\n[smtp]\nfrom_address = "privacy@shop.example"\n'
                      f'[database]\nurl = "{url}"\n{shop_toml()}', encoding="utf-8")
    code = ("import sys\nfrom inbox_agent.cli import main\ntry:\n    main(['cases', 'list', '--config', sys.argv[1]])\n"
            "finally:\n    print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'holidays'}))")
    return subprocess.run([sys.executable, "-c", code, str(config)], capture_output=True, text=True,
                          env={**os.environ, "INBOX_AGENT_OFFICER": actor})


def test_cases_list_on_sqlite_imports_no_sqlalchemy_and_says_a_fault_in_one_line(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'agent.sqlite'}")
    upgrade(db.engine)
    seed(db, 3, datetime.now(UTC))
    with db.transaction() as session:
        add_officer(session, "eve", "a long enough password", language="en", now=datetime.now(UTC), actor=CLI_ACTOR)
    db.dispose()
    listed = _cases_list(tmp_path, f"sqlite:///{tmp_path / 'agent.sqlite'}")
    lines = listed.stdout.splitlines()
    assert listed.returncode == 0 and lines[0].startswith("Kenmerk ") and lines[-1] == "[]"  # no such account: Dutch
    english = _cases_list(tmp_path, f"sqlite:///{tmp_path / 'agent.sqlite'}", actor="eve").stdout.splitlines()
    assert english[0].split()[:4] == ["Reference", "State", "Days", "left"] and english[-1] == "[]"  # hers
    ranked = ["KT-2026-000003", "KT-2026-000002", "KT-2026-000001"]  # a draft, work, waiting for the customer
    assert [line.split()[0] for line in lines[1:-1]] == ranked
    (tmp_path / "folder.sqlite").mkdir()
    unreadable = _cases_list(tmp_path, f"sqlite:///{tmp_path / 'folder.sqlite'}")
    assert (unreadable.returncode, unreadable.stderr) == (5, "error: database: OperationalError: unable to open "
                                                             "database file\n")


def test_days_left_count_amsterdam_days_also_just_after_midnight(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'queue.sqlite'}"
    db = Database(url)
    upgrade(db.engine)
    seed(db, 2, NOW)
    due = datetime(2027, 1, 1, 22, 59, tzinfo=UTC)  # 23:59 on 1 January in Amsterdam
    with db.transaction() as session:
        session.execute(update(Case).values(deadline_target=due, deadline_extended=None))
    half_past_midnight = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January in Amsterdam
    with db.transaction() as session:
        found = find(session, half_past_midnight, CaseQuery(view="all"), soon_days=7, per_page=10**9).rows
        shown = [case_views.case_detail(session, r.reference, half_past_midnight).days_left for r in found]
    listed = case_list.read(url, "all", half_past_midnight, 7)
    db.dispose()
    assert listed == found and [r.days_left for r in found] == [0, 0]  # due today, not tomorrow
    assert shown == [0, 0]  # cases show and the case page count the same days
    assert case_list.days_left(due, datetime(2027, 1, 1, 23, 30, tzinfo=UTC)) == -1  # 00:30 on 2 January


def test_a_percent_encoded_file_name_is_the_file_sqlalchemy_opens(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'my queue.sqlite'}")
    upgrade(db.engine)
    seed(db, 3, NOW)
    db.dispose()
    rows = case_list.read(f"sqlite:///{tmp_path / 'my%20queue.sqlite'}", "all", NOW, 7)
    assert rows is not None and len(rows) == 3
    assert not (tmp_path / "my%20queue.sqlite").exists()  # no empty database made beside it
