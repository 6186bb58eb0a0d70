"""PostgreSQL tests: one private cluster per session, a fresh database per test, shops as TOML config.

The configs are real files because the daemons under test are real ``inbox-agent`` processes
reading ``--config``, as on the mail host. Skipped with the reason when the PostgreSQL server
binaries are not installed.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from inbox_agent.db.session import Database, upgrade
from inbox_agent.fictitious_shop import FICTITIOUS_SHOP
from inbox_agent.sandbox import DovecotServer, SandboxError, SmtpSink
from inbox_agent.sandbox_pg import PostgresServer

from agent_harness import SECRET, TRUSTED, warm_cache

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer()
        server.start()
    except SandboxError as exc:
        pytest.skip(f"no PostgreSQL server for the tests: {exc}")
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """A new database at the newest migration (the same Alembic scripts as SQLite)."""
    url = postgres.create_database(f"agent_{next(_numbers)}")
    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    return url


def _toml(value: Any) -> str:
    """TOML for the plain values a config holds: JSON's strings, numbers and arrays are valid TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value) if isinstance(value, Path) else value)


@pytest.fixture
def shop_config(tmp_path: Path, dovecot: DovecotServer, smtp_sink: SmtpSink,
                pg_url: str) -> Callable[..., Path]:
    """Factory: ``shop_config(("toppers", "KT", "Kleine Toppers"), ..., **extra)`` writes a config
    with one ``[[mailboxes]]`` entry (and a new empty Dovecot account) per shop; returns its path."""

    def make(*shops: tuple[str, str, str], **extra: Any) -> Path:
        mailboxes = []
        for name, prefix, shop_name in shops:
            user = f"{name}{next(_numbers)}"
            dovecot.add_user(user, f"secret-{user}")
            mailboxes.append({
                "name": name,
                "imap": {"host": dovecot.host, "port": dovecot.port, "username": user,
                         "password": f"secret-{user}", "security": "none", "idle": False, "poll_seconds": 0.5,
                         "existing_mail": "process"},  # seeded before the first run
                "shop": FICTITIOUS_SHOP | {"name": shop_name, "reference_prefix": prefix,
                                           "officer_email": f"officer@{name}.example"},
            })
        warm_cache(tmp_path / "state")
        values: dict[str, Any] = {
            "secret_key": SECRET,
            "state_dir": tmp_path / "state",
            "log_format": "json",
            "database": {"url": pg_url},
            "smtp": {"host": smtp_sink.host, "port": smtp_sink.port, "security": "none",
                     "from_address": "privacy@shop.example"},
            "policy": {"trusted_authserv_ids": [TRUSTED]},
            "mailboxes": mailboxes,
            **extra,
        }
        path = tmp_path / f"config-{next(_numbers)}.toml"
        path.write_text("".join(f"{key} = {_toml(value)}\n" for key, value in values.items()), encoding="utf-8")
        return path

    return make
