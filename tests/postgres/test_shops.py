"""Issue 9: two shops in one config, on PostgreSQL, through Dovecot, aiosmtpd and the CLI."""

from __future__ import annotations

import asyncio
import email
import re
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from inbox_agent.classify import Classifier
from inbox_agent.cli import main
from inbox_agent.config import load_settings
from inbox_agent.daemon import Daemon
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case
from inbox_agent.sandbox import DovecotServer, SmtpSink

from agent_harness import request_mail

pytestmark = pytest.mark.integration

SHOPS = {
    "toppers": ("KT", "Kleine Toppers", "anna@example.org",
                "Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben."),
    "zeilen": ("ZW", "Zeilwinkel Noord", "bob@example.net", "Please delete my account and all my personal data."),
}


def _ack(sink: SmtpSink, to: str) -> EmailMessage:
    """The acknowledgement among the mails to ``to`` (our signed Message-IDs name the mail's kind)."""
    mails = [email.message_from_bytes(m.raw, policy=default_policy) for m in sink.messages if to in m.rcpt_tos]
    [ack] = [m for m in mails if ".ack." in m["Message-ID"]]
    assert isinstance(ack, EmailMessage)
    return ack


def test_each_shop_gets_its_own_references_signature_and_register(
    shop_config: Callable[..., Path], dovecot: DovecotServer, smtp_sink: SmtpSink, classifier: Classifier
) -> None:
    config = shop_config(*((name, prefix, shop) for name, (prefix, shop, _, _) in SHOPS.items()))
    settings = load_settings(config)
    for box in settings.all_mailboxes():
        _, _, sender, text = SHOPS[box.name]
        dovecot.account(box.imap.username).append(request_mail(text, sender=sender, subject="privacy"))

    db = Database(settings.database.url)
    asyncio.run(Daemon(settings, db, classifier).run_once())
    with db.transaction() as session:
        references = {case.shop: case.reference for case in session.scalars(select(Case))}
    db.dispose()

    assert set(references) == set(SHOPS)
    for name, (prefix, shop_name, sender, _) in SHOPS.items():
        assert re.fullmatch(rf"{prefix}-\d{{4}}-000001", references[name])
        ack = _ack(smtp_sink, sender)
        assert ack["From"].addresses[0].display_name == shop_name
        assert references[name] in ack["Subject"]
        body = ack.get_body(("plain",))
        assert body is not None
        assert shop_name in body.get_content()
        other = next(s for n, (_, s, _, _) in SHOPS.items() if n != name)
        assert other not in body.get_content()

    cli = CliRunner()
    assert cli.invoke(main, ["officer", "add", "jan", "--config", str(config)],
                      input="a long enough password\n").exit_code == 0
    for reference in references.values():
        closed = cli.invoke(main, ["cases", "close", reference, "--withdrawn", "--reason", "by phone",
                                   "--config", str(config), "--as", "jan"])
        assert closed.exit_code == 0, closed.output
    for name in SHOPS:
        exported = cli.invoke(main, ["register", "export", "--shop", name, "--config", str(config)])
        assert exported.exit_code == 0, exported.output
        assert references[name] in exported.output
        assert next(r for n, r in references.items() if n != name) not in exported.output
