"""The sandbox servers themselves: the SMTP sink and the Dovecot wrapper behave as documented."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Callable
from mailbox import Maildir
from pathlib import Path

import pytest

from inbox_agent.sandbox import DovecotServer, SandboxError, SmtpSink

pytestmark = pytest.mark.integration


def send(sink: SmtpSink, raw: bytes, *, to: tuple[str, ...] = ("klant@example.org",),
         login: tuple[str, str] | None = None, starttls: bool = False) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as smtp:
        if starttls:
            smtp.starttls(context=sink.client_ssl_context())
        if login is not None:
            smtp.login(*login)
        smtp.sendmail("privacy@shop.example", list(to), raw)


def test_sink_keeps_envelope_and_bytes(tmp_path: Path, make_mail: Callable[..., bytes]) -> None:
    raw = make_mail(subject="Uw verzoek")
    with SmtpSink(maildir=tmp_path / "sent") as sink:
        send(sink, raw, to=("a@example.org", "b@example.org"))
        [mail] = sink.wait_for(1)
    assert mail.mail_from == "privacy@shop.example"
    assert mail.rcpt_tos == ("a@example.org", "b@example.org")
    assert mail.raw == raw
    [stored] = list(Maildir(tmp_path / "sent"))
    assert stored["Subject"] == "Uw verzoek"


def test_wait_for_blocks_until_the_count_is_reached(
    smtp_sink: SmtpSink, make_mail: Callable[..., bytes]
) -> None:
    threading.Timer(0.1, send, args=(smtp_sink, make_mail())).start()
    assert len(smtp_sink.wait_for(1, timeout=5)) == 1
    with pytest.raises(TimeoutError, match="got 1 of 2 expected messages"):
        smtp_sink.wait_for(2, timeout=0.2)


def test_sink_restarts_on_the_same_port_after_an_outage(
    smtp_sink: SmtpSink, make_mail: Callable[..., bytes]
) -> None:
    port = smtp_sink.port
    send(smtp_sink, make_mail())
    smtp_sink.stop()
    with pytest.raises(ConnectionRefusedError):
        send(smtp_sink, make_mail())
    smtp_sink.start()
    assert smtp_sink.port == port
    send(smtp_sink, make_mail())
    assert len(smtp_sink.wait_for(2)) == 2


def test_sink_with_auth_checks_the_password(make_mail: Callable[..., bytes]) -> None:
    with SmtpSink(auth=("shop", "right")) as sink:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            send(sink, make_mail(), login=("shop", "wrong"))
        with pytest.raises(smtplib.SMTPSenderRefused):
            send(sink, make_mail())
        send(sink, make_mail(), login=("shop", "right"))
        assert len(sink.wait_for(1)) == 1


def test_sink_with_starttls_allows_auth_only_after_it(make_mail: Callable[..., bytes]) -> None:
    with SmtpSink(auth=("shop", "right"), starttls=True) as sink:
        with pytest.raises(smtplib.SMTPNotSupportedError):  # no AUTH offered in plain text
            send(sink, make_mail(), login=("shop", "right"))
        send(sink, make_mail(), login=("shop", "right"), starttls=True)
        assert len(sink.wait_for(1)) == 1


def test_dovecot_accounts_are_separate(dovecot: DovecotServer, make_mail: Callable[..., bytes]) -> None:
    dovecot.add_user("alice-sandbox", "a")
    dovecot.add_user("bob-sandbox", "b")
    uid = dovecot.account("alice-sandbox").append(make_mail(), flags=("\\Flagged",))
    assert dovecot.account("alice-sandbox").flags(uid) == {"\\Flagged"}
    assert dovecot.account("bob-sandbox").uids() == []
    with pytest.raises(ValueError, match="exists already"):
        dovecot.add_user("bob-sandbox", "c")


def test_dovecot_that_cannot_start_says_why() -> None:
    with pytest.raises(SandboxError, match="no_such_setting"):
        DovecotServer(extra_config="no_such_setting = 1").start()
