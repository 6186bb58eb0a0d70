"""Refused IMAP operations: the backoff steps, the digest line, and the CLI's one line and exit code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from inbox_agent import faults
from inbox_agent.cli import main
from inbox_agent.config import REPO_ROOT, load_settings
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Outbox
from inbox_agent.fictitious_shop import FICTITIOUS_SHOP, shop_toml
from inbox_agent.sandbox import free_port
from inbox_agent.scheduler import tick
from inbox_agent.withdrawal import load_cues

from agent_harness import warm_cache

NOW = datetime(2026, 3, 3, 7, 5, tzinfo=UTC)  # 08:05 in Amsterdam: digest time


def test_backoff_doubles_per_refusal_up_to_the_cap_and_ends_with_success(database: Database) -> None:
    delays = []
    with database.transaction() as session:
        now = NOW
        for _ in range(8):
            assert faults.due(session, "default", "move", now)
            fault = faults.refused(session, "default", "move", "NO [TRYCREATE] no", now)
            delays.append((fault.retry_at - now).total_seconds())
            assert not faults.due(session, "default", "move", now + timedelta(seconds=delays[-1] - 1))
            assert faults.due(session, "default", "store", now)  # other operations are not held up
            now = fault.retry_at
        assert [f.attempts for f in faults.current(session)] == [8]
        faults.succeeded(session, "default", "move")
        assert faults.current(session) == []
        assert faults.due(session, "default", "move", now)
    assert delays == [30, 60, 120, 240, 480, 900, 900, 900]


def test_a_refusal_reaches_the_officers_digest(database: Database) -> None:
    settings = load_settings(None, imap={"username": "u"}, smtp={"from_address": "privacy@shop.example"},
                             database={"url": str(database.engine.url)}, secret_key="0123456789abcdef0123",
                             shop=FICTITIOUS_SHOP | {"officer_email": "officer@shop.example", "default_language": "en"})
    with database.transaction() as session:
        faults.refused(session, "default", "create", "IMAP server x refuses to create folder 'Privacy': "
                       "Permission denied", NOW - timedelta(hours=2))
    tick(settings, database, NOW, load_cues(REPO_ROOT / "classifiers" / "conversation.toml"))
    with database.transaction() as session:
        [body] = session.scalars(select(Outbox.body_text).where(Outbox.kind == "officer_digest"))
    assert "The mail server refuses an operation" in body
    assert "CREATE 03-03-2026 06:05: IMAP server x refuses to create folder 'Privacy': Permission denied" in body


def _config(tmp_path: Path, imap_port: int, db_url: str) -> Path:
    warm_cache(tmp_path / "state")  # `run --once` loads the classifier before it connects
    config = tmp_path / "config.toml"
    config.write_text(f"""secret_key = "0123456789abcdef0123"
state_dir = "{tmp_path / 'state'}"
[imap]
host = "127.0.0.1"
port = {imap_port}
username = "shop"
password = "pw"
security = "none"
timeout_seconds = 2
[smtp]
host = "127.0.0.1"
port = {free_port()}
security = "none"
from_address = "privacy@shop.example"
[database]
url = "{db_url}"
{shop_toml()}""", encoding="utf-8")
    return config


@pytest.fixture
def settings_file(tmp_path: Path, database: Database) -> Path:
    return _config(tmp_path, free_port(), str(database.engine.url))


def test_run_once_against_an_unreachable_server_is_one_line_and_exit_3(settings_file: Path) -> None:
    result = CliRunner().invoke(main, ["run", "--once", "--config", str(settings_file)])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    [line] = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert line.startswith("error: cannot reach IMAP 127.0.0.1:") and line.endswith(": connection refused")


def test_a_missing_output_folder_is_one_line_and_exit_6(settings_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "agent.prom"
    result = CliRunner().invoke(main, ["metrics", "--config", str(settings_file), "--output", str(target)])
    assert result.exit_code == 6, result.output
    assert result.output.strip().splitlines()[-1].startswith("error: No such file or directory: ")


def test_an_unusable_database_is_one_line_and_exit_5(tmp_path: Path) -> None:
    (tmp_path / "not-a-db.sqlite").write_bytes(b"this is not a database" * 100)
    config = _config(tmp_path, free_port(), f"sqlite:///{tmp_path / 'not-a-db.sqlite'}")
    result = CliRunner().invoke(main, ["run", "--once", "--config", str(config)])
    assert result.exit_code == 5, result.output
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1] == "error: database: DatabaseError: file is not a database"

