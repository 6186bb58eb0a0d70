"""The SMTP edge: an outbox row becomes a MIME message and goes out with aiosmtplib.

The Message-ID comes from the row, so a retry after a crash resends the very same
message and the customer's client shows it once. Header values with line breaks are
refused, a second fence against header injection after parse.py.
"""

from __future__ import annotations

import binascii
import mimetypes
import ssl
from email import encoders
from email.charset import QP, Charset
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr
from pathlib import Path

import aiosmtplib

from . import oauth
from .config import SmtpSettings
from .db.tables import Outbox


class SendError(Exception):
    def __init__(self, message: str, *, permanent: bool, paused: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.paused = paused
        """The OAuth login waits for a new refresh token: the mail waits too, without an attempt."""


CRLF = "\r\n"
_SMTP = compat32.clone(linesep=CRLF)
_UTF8_QP = Charset("utf-8")
_UTF8_QP.header_encoding = QP  # readable in the raw mail, unlike base64


def _text(body: str, subtype: str) -> MIMENonMultipart:
    """A text part: 7bit when ASCII, else UTF-8 quoted-printable (binascii's C encoder: the pure-Python one
    in email.quoprimime costs more than the rest of the message)."""
    if body.isascii():
        return MIMEText(body, subtype, "us-ascii")
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(binascii.b2a_qp(body.encode("utf-8")).decode("ascii"))
    return part


def _header_line(name: str, value: str) -> str:
    """``Name: value`` and CRLF: folded at spaces when long, RFC 2047-encoded when not ASCII.

    A line break in the value is refused (header injection). ASCII is never encoded: an
    encoded-word would break a Message-ID list such as References.
    """
    if "\r" in value or "\n" in value:
        raise ValueError(f"the {name} header value contains a line break")
    if not value.isascii():
        return f"{name}: {Header(value, _UTF8_QP, header_name=name).encode(linesep=CRLF)}{CRLF}"
    lines, bare = [f"{name}:"], True  # bare: the line holds nothing to break after yet
    for word in value.split(" "):
        if not bare and len(lines[-1]) + 1 + len(word) > 76:
            lines.append(word)
        else:
            lines[-1], bare = f"{lines[-1]} {word}", False
    return f"{CRLF} ".join(lines) + CRLF


def build_message(row: Outbox, *, from_address: str, from_name: str) -> bytes:
    """The mail as bytes, ready for DATA.

    Built with the stdlib's compat32 MIME classes: for the thousands of acknowledgements a
    backlog produces they are several times cheaper than ``EmailMessage``'s header objects.
    """
    msg: MIMEBase = _text(row.body_text, "plain")
    if row.body_html:
        msg = MIMEMultipart("alternative", _subparts=[msg, _text(row.body_html, "html")])
    if row.attachments:
        parts: list[MIMEBase] = [msg]
        for name in row.attachments:
            path = Path(name)
            maintype, subtype = (mimetypes.guess_type(path.name)[0] or "application/octet-stream").split("/", 1)
            part = MIMEBase(maintype, subtype)
            part.set_payload(path.read_bytes())
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=path.name)
            parts.append(part)
        msg = MIMEMultipart("mixed", _subparts=parts)
    refs = [r for r in row.references if r] or ([row.in_reply_to] if row.in_reply_to else [])
    headers = {
        "From": formataddr((from_name, from_address), charset="utf-8"),
        "To": row.to_addr,
        "Subject": row.subject,
        "Date": format_datetime(row.created_at),
        "Message-ID": row.message_id,
        "In-Reply-To": row.in_reply_to,
        "References": " ".join(refs[-20:]) if refs else None,
        "Auto-Submitted": (("auto-replied" if not row.kind.startswith("officer_") else "auto-generated")
                           if row.automatic else None),
        "X-Auto-Response-Suppress": "All",
        "Content-Language": row.language,
    }
    # Written out here, not set on msg: the generator would re-parse and re-fold every one of them.
    head = "".join(_header_line(name, value) for name, value in headers.items() if value)
    return head.encode("ascii") + msg.as_bytes(policy=_SMTP)


def _tls_kwargs(settings: SmtpSettings) -> dict[str, object]:
    if settings.security == "tls":
        return {"use_tls": True, "tls_context": ssl.create_default_context()}
    if settings.security == "starttls":
        return {"start_tls": True, "tls_context": ssl.create_default_context()}
    return {"use_tls": False, "start_tls": False}


_FAILURES = (aiosmtplib.SMTPException, OSError, TimeoutError, oauth.OAuthError)


def _send_error(settings: SmtpSettings, exc: BaseException) -> SendError:
    """The SendError for a failure from aiosmtplib or the network."""
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SendError(f"SMTP login refused by {where} ({exc.code})", permanent=False)
    if isinstance(exc, oauth.OAuthError):
        return SendError(f"SMTP login at {where}: {exc}", permanent=False,
                         paused=isinstance(exc, oauth.RefreshRefused))
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return SendError(f"recipient refused ({codes})", permanent=all(c >= 500 for c in codes))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return SendError(f"SMTP {exc.code}: {exc.message[:200]}", permanent=exc.code >= 500)
    return SendError(f"SMTP {where} unreachable: {type(exc).__name__}", permanent=False)


class SmtpSession:
    """Several messages over one SMTP connection (one batch of the sender) instead of one each.

    ``send`` returns only once the server accepted that message. After any
    failure the connection is dropped and the next message opens a new one, so an error costs
    that message only. When the server hangs up on a reused connection (idle or per-connection
    limits), the message is tried once more on a fresh connection before it counts as failed.
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._client: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> SmtpSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def send(self, msg: bytes, *, recipient: str) -> None:
        s = self.settings
        client = self._client
        if client is not None and client.is_connected:
            try:
                await client.sendmail(s.from_address, [recipient], msg)
                return
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                await self.close()  # hung up on the reused connection: once more on a fresh one
            except aiosmtplib.SMTPResponseException as exc:
                await self.close()
                if exc.code != 421:  # 421 = the server closes the channel: same as a hang-up
                    raise _send_error(s, exc) from None
            except _FAILURES as exc:
                await self.close()
                raise _send_error(s, exc) from None
        password = s.password.get_secret_value() if s.password else None
        try:
            client = self._client = aiosmtplib.SMTP(
                hostname=s.host, port=s.port, username=s.username if password else None, password=password,
                timeout=s.timeout_seconds, **_tls_kwargs(s),  # type: ignore[arg-type]
            )
            await client.connect()
            if s.auth == "oauth2":
                await oauth.login_smtp(client, s)
            await client.sendmail(s.from_address, [recipient], msg)
        except _FAILURES as exc:
            await self.close()
            raise _send_error(s, exc) from None

    async def close(self) -> None:
        """QUIT politely; never raises, the connection may already be gone."""
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except _FAILURES:
            client.close()


async def check_login(settings: SmtpSettings) -> str | None:
    """One line describing what is wrong with the SMTP settings, or None when login works."""
    password = settings.password.get_secret_value() if settings.password else None
    client = aiosmtplib.SMTP(
        hostname=settings.host, port=settings.port, timeout=settings.timeout_seconds, **_tls_kwargs(settings)  # type: ignore[arg-type]
    )
    where = f"{settings.host}:{settings.port}"
    try:
        await client.connect()
        if settings.auth == "oauth2":
            await oauth.login_smtp(client, settings)
        elif settings.username and password is not None:
            await client.login(settings.username, password)
    except oauth.OAuthError as exc:
        return f"smtp: login failed for user {settings.username} at {where}: {exc}"
    except aiosmtplib.SMTPAuthenticationError:
        reason = ("the server rejected the OAuth access token" if settings.auth == "oauth2"
                  else "wrong username or password")
        return f"smtp: login failed for user {settings.username} at {where}: {reason}"
    except aiosmtplib.SMTPConnectError as exc:
        return f"smtp: cannot reach {where}: {exc.message or 'connection refused'}"
    except (ssl.SSLError, aiosmtplib.SMTPServerDisconnected):
        return f"smtp: TLS handshake failed with {where} (plain-text server? try security = \"starttls\" or \"none\")"
    except aiosmtplib.SMTPException as exc:
        return f"smtp: {where}: {exc}"
    except (OSError, TimeoutError) as exc:
        return f"smtp: cannot reach {where}: {exc}"
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except aiosmtplib.SMTPException:
                client.close()
    return None
