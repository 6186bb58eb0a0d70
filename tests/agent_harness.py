"""Test harness for the whole agent: settings, a configured Agent, customer mail as the mail host delivers it."""

from __future__ import annotations

import asyncio
import functools
import shutil
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from inbox_agent.classify import Classifier
from inbox_agent.config import REPO_ROOT, ImapSettings, Settings, load_settings
from inbox_agent.customer_registry import CustomerRecord, upsert
from inbox_agent.daemon import Counters, Daemon
from inbox_agent.db.session import Database, upgrade
from inbox_agent.fictitious_shop import FICTITIOUS_SHOP, shop_toml
from inbox_agent.resources import user_cache_dir
from inbox_agent.sandbox import ReceivedMail, SandboxAccount, SmtpSink

SECRET = "test-secret-key-0123456789abcdef"
TRUSTED = "mx.shop.example"


def request_mail(
    body: str,
    *,
    subject: str = "Vraag",
    sender: str = "klant@example.org",
    name: str = "Klant",
    dmarc: str = "pass",
    headers: dict[str, str] | None = None,
    in_reply_to: str | None = None,
) -> bytes:
    """A customer's mail as the shop's mail host delivers it (with its Authentication-Results)."""
    msg = EmailMessage()
    msg["Authentication-Results"] = (f"{TRUSTED}; spf=pass smtp.mailfrom={sender}; dmarc={dmarc} "
                                     f"header.from={sender.rpartition('@')[2]}")
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = "info@shop.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="example.org")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class Agent:
    """One configured agent: its mailbox (``peer``), SMTP sink, database, and ``run_once``."""

    def __init__(self, settings: Settings, classifier: Classifier, peer: SandboxAccount, sink: SmtpSink) -> None:
        self.settings = settings
        self.classifier = classifier
        self.peer = peer
        self.sink = sink
        self.db = Database(settings.database.url)
        upgrade(self.db.engine)

    def run_once(self) -> Counters:
        return asyncio.run(Daemon(self.settings, self.db, self.classifier).run_once())

    def deliver(self, raw: bytes, flags: tuple[str, ...] = ()) -> int:
        return self.peer.append(raw, flags=flags)

    def add_customer(self, email: str, name: str = "Klant", customer_id: str = "1", **extra: Any) -> None:
        with self.db.transaction() as session:
            upsert(session, "default", [CustomerRecord(email=email, name=name, customer_id=customer_id, **extra)],
                   source="test", now=datetime.now(UTC))

    def sent_to(self, address: str) -> list[ReceivedMail]:
        return [m for m in self.sink.messages if address in m.rcpt_tos]


def agent_settings(tmp_path: Path, imap: ImapSettings, sink: SmtpSink, **extra: Any) -> Settings:
    # The tests seed their mail before the agent's first run, as if it had arrived after the start.
    imap_values = imap.model_dump() | ({} if "existing_mail" in imap.model_fields_set else {"existing_mail": "process"})
    values: dict[str, Any] = {
        "imap": imap_values,
        "smtp": {"host": sink.host, "port": sink.port, "security": "none", "from_address": "privacy@shop.example"},
        "database": {"url": f"sqlite:///{tmp_path / 'agent.sqlite'}"},
        "shop": FICTITIOUS_SHOP | {"officer_email": "officer@shop.example"},
        "policy": {"trusted_authserv_ids": [TRUSTED]},
        "secret_key": SECRET,
        "state_dir": str(tmp_path / "state"),
    }
    values.update(extra)
    return load_settings(None, **values)


@functools.cache
def _current_user_cache() -> Path:
    Classifier.load(REPO_ROOT / "classifiers")  # reads the user's cache, or fills it for the rules as they are now
    return user_cache_dir()


def warm_cache(state_dir: Path) -> None:
    """Give a new state folder the lemma tables and language model of the shipped rules.

    A program started on an empty ``state_dir/cache`` builds them first (about 15 s of CPU, 13 s
    more than reading them); only the tests of that build itself (test_package, test_lemma_cache)
    need it cold. Copied, not shared, so a test that corrupts its cache harms no other."""
    shutil.copytree(_current_user_cache(), state_dir / "cache", dirs_exist_ok=True)


def config_text(directory: Path, imap: ImapSettings, smtp_port: int, *, from_address: str = "privacy@shop.example",
                smtp_auth: tuple[str, str] | None = None, extra_policy: str = "", db_url: str | None = None) -> str:
    """A config file like the one an operator writes (compare demo._config_text); its state folder
    starts with a warm cache (``warm_cache``), as on a mail host after the first start."""
    warm_cache(directory / "state")
    password = imap.password.get_secret_value() if imap.password else ""
    auth = f'username = "{smtp_auth[0]}"\npassword = "{smtp_auth[1]}"\n' if smtp_auth else ""
    return f"""secret_key = "{SECRET}"
state_dir = "{directory / 'state'}"

[imap]
host = "{imap.host}"
port = {imap.port}
username = "{imap.username}"
password = "{password}"
security = "none"
timeout_seconds = 10
existing_mail = "process"  # the tests seed mail before the first run, as if it arrived after the start

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from_address = "{from_address}"
timeout_seconds = 10
{auth}
[database]
url = "{db_url or f'sqlite:///{directory / "agent.sqlite"}'}"

{shop_toml(officer_email="officer@shop.example")}
[policy]
trusted_authserv_ids = ["{TRUSTED}"]
{extra_policy}
"""


def approve_everything(settings: Settings, db: Database) -> None:
    """The officer approves every draft she can; a refusal (the disclosure guard) queues nothing."""
    from sqlalchemy import select

    from inbox_agent.db.tables import Case, Outbox
    from inbox_agent.desk.officer import approve
    from inbox_agent.officer_error import OfficerError
    from inbox_agent.runtime import officer_desk

    with db.transaction() as session:
        references = list(session.scalars(select(Case.reference).join(Outbox, Outbox.case_id == Case.id)
                                          .where(Outbox.status == "draft").distinct()))
    for reference in references:
        try:
            with db.transaction() as session:
                approve(session, officer_desk(settings, "default", "officer", datetime.now(UTC)), reference)
        except OfficerError:
            pass


def parsed(mail: ReceivedMail) -> EmailMessage:
    """A mail as the customer's mail program reads it."""
    import email
    from email.policy import default as default_policy

    msg = email.message_from_bytes(mail.raw, policy=default_policy)
    assert isinstance(msg, EmailMessage)
    return msg
