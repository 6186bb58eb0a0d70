"""Shared fixtures: one private Dovecot (and Cyrus) per session, a fresh IMAP account per test, an SMTP sink.

Tests stay isolated without restarting the servers: every ``make_imap_settings()`` call adds a new
user, whose mailbox starts empty. ``imap_server`` runs a test once per server (Dovecot, Cyrus).
Password hashes in the test process are argon2 at its lowest cost (``cheap_password_hashes``); a test's
SQLite database is a copy of one migrated per session (``migrated_sqlite``).
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from inbox_agent import accounts
from inbox_agent.classify import Classifier
from inbox_agent.config import REPO_ROOT, ImapSettings
from inbox_agent.db.session import Database, upgrade
from inbox_agent.sandbox import CyrusServer, DovecotServer, ImapSandbox, SandboxAccount, SmtpSink

_user_numbers = itertools.count(1)

LONGEST_FIRST = (
    "tests/web/test_every_word.py",
    "tests/integration/test_package.py",
    "tests/test_bench_smoke.py",
    "tests/unit/test_classify_fresh.py",
    "tests/integration/test_cli.py",
    "tests/reliability/test_crash_safety.py",
    "tests/reliability/test_disclosure.py",
    "tests/reliability/test_case_authority.py",
)
"""Files of a minute or so each, started first, and the unit tests (many files of seconds each) last: the two workers
(``scripts/test``: one file per worker at a time) then end together on short files instead of one waiting while the
other runs a long file last (the web tests sort last)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    first = {name: rank for rank, name in enumerate(LONGEST_FIRST)}

    def order(item: pytest.Item) -> tuple[int, bool]:
        path = item.nodeid.split("::")[0]
        return first.get(path, len(first)), path.startswith("tests/unit/")

    items.sort(key=order)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """argon2 at its lowest cost in the test process. The shipped cost (64 MiB, 3 passes, 4 lanes) is
    0.25 s of CPU per hash or check, and the web tests log in and guess hundreds of times. What the
    tests check (who gets in, delays, audit rows, rehashing) does not depend on the cost; daemons and
    commands started as processes keep the shipped one, and a hash of either kind checks under both."""
    shipped = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    accounts._hasher = shipped


@pytest.fixture(scope="session")
def sqlite_at_head(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest revision once per session, for ``migrated_sqlite`` to copy."""
    path = tmp_path_factory.mktemp("schema") / "head.sqlite"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    db.dispose()  # checkpoints the WAL: the file alone is the whole database
    return path


@pytest.fixture
def migrated_sqlite(sqlite_at_head: Path) -> Callable[[Path], str]:
    """Factory: ``migrated_sqlite(path)`` puts a database at the newest migration there and returns
    its URL. A copy of the session's migrated file: running the migrations is 0.1 s of CPU and a
    dozen fsyncs per test, copying a few ms (test_migrations runs them for real)."""

    def make(path: Path) -> str:
        shutil.copyfile(sqlite_at_head, path)
        return f"sqlite:///{path}"

    return make


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    """The shipped rules and second opinion, loaded once per test session."""
    return Classifier.load(REPO_ROOT / "classifiers")


@pytest.fixture(scope="session")
def rules_alone() -> Classifier:
    """The shipped rules without the second opinion: what the rules read, before the models' word."""
    return Classifier.load_rules(REPO_ROOT / "classifiers")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A Dovecot on 127.0.0.1 with a plain port (``.port``) and a TLS port (``.tls_port``)."""
    with DovecotServer(tls=True) as server:
        yield server


@pytest.fixture(scope="session")
def cyrus() -> Iterator[CyrusServer]:
    """A Cyrus IMAP on 127.0.0.1 (plain port): personal folders under INBOX., at most 100 keywords."""
    with CyrusServer() as server:
        yield server


@pytest.fixture(params=["dovecot", "cyrus"])
def imap_server(request: pytest.FixtureRequest) -> ImapSandbox:
    """Each IMAP server of the session in turn: a test using this runs against both."""
    server: ImapSandbox = request.getfixturevalue(request.param)
    return server


def _new_account(server: ImapSandbox, **overrides: Any) -> ImapSettings:
    user = f"user{next(_user_numbers)}"
    server.add_user(user, f"secret-{user}")
    return server.settings(user, **overrides)


@pytest.fixture
def make_account() -> Callable[..., ImapSettings]:
    """Factory: ``make_account(server, **overrides)``, ImapSettings of a new empty account there."""
    return _new_account


@pytest.fixture
def fresh_dovecot() -> Iterator[DovecotServer]:
    """A Dovecot of the test's own (plain port only), for tests that fail logins on purpose.

    Dovecot punishes a failed login by delaying the next logins from the same IP by seconds
    (auth penalty, not configurable in 2.3); on the shared server that would slow later tests.
    """
    with DovecotServer() as server:
        yield server


@pytest.fixture
def make_imap_settings(dovecot: DovecotServer) -> Callable[..., ImapSettings]:
    """Factory: each call creates a new user with an empty mailbox and returns its ImapSettings
    (plain port, security "none"); keyword arguments override settings fields."""

    def make(**overrides: Any) -> ImapSettings:
        return _new_account(dovecot, **overrides)

    return make


@pytest.fixture
def imap_account(make_imap_settings: Callable[..., ImapSettings]) -> ImapSettings:
    """ImapSettings for a fresh, empty account on the session Dovecot."""
    return make_imap_settings()


@pytest.fixture
def imap_peer(dovecot: DovecotServer, imap_account: ImapSettings) -> SandboxAccount:
    """A second client on the ``imap_account`` mailbox: append mail, read flags/UIDs/raw bytes."""
    return dovecot.account(imap_account.username)


@pytest.fixture
def make_mail() -> Callable[..., bytes]:
    """Factory for a small RFC 5322 message as CRLF bytes (what an IMAP server hands back)."""

    def make(subject: str = "Hello", body: str = "Hi there.\n", sender: str = "klant@example.org",
             to: str = "info@shop.example") -> bytes:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, to, subject
        msg["Message-ID"] = make_msgid(domain="example.org")
        msg.set_content(body)
        return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    return make


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A running SMTP sink on a free port (no AUTH); ``.messages``, ``.wait_for(n)``."""
    with SmtpSink() as sink:
        yield sink
