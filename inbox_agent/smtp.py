"""The SMTP edge: an outbox row becomes a MIME message and goes out with aiosmtplib.

The Message-ID comes from the row, so a retry after a crash resends the very same
message and the customer's client shows it once. ``email.policy.SMTP`` refuses header
values with line breaks, a second fence against header injection after parse.py.
"""

from __future__ import annotations

import mimetypes
import ssl
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from pathlib import Path

import aiosmtplib

from .config import SmtpSettings
from .db.models import Outbox


class SendError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def build_message(row: Outbox, *, from_address: str, from_name: str) -> EmailMessage:
    msg = EmailMessage(policy=SMTP_POLICY)
    local, _, domain = from_address.rpartition("@")
    msg["From"] = HeaderAddress(display_name=from_name, username=local, domain=domain)
    msg["To"] = row.to_addr
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = row.message_id
    if row.in_reply_to:
        msg["In-Reply-To"] = row.in_reply_to
    refs = [r for r in row.references if r] or ([row.in_reply_to] if row.in_reply_to else [])
    if refs:
        msg["References"] = " ".join(refs[-20:])
    if row.automatic:
        msg["Auto-Submitted"] = "auto-replied" if not row.kind.startswith("officer_") else "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(row.body_text)
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html")
    for name in row.attachments:
        path = Path(name)
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    msg["Content-Language"] = row.language  # after the body: set_content() drops Content-* headers
    return msg


def _tls_kwargs(settings: SmtpSettings) -> dict[str, object]:
    if settings.security == "tls":
        return {"use_tls": True, "tls_context": ssl.create_default_context()}
    if settings.security == "starttls":
        return {"start_tls": True, "tls_context": ssl.create_default_context()}
    return {"use_tls": False, "start_tls": False}


_FAILURES = (aiosmtplib.SMTPException, OSError, TimeoutError)


def _send_error(settings: SmtpSettings, exc: BaseException) -> SendError:
    """The SendError for a failure from aiosmtplib or the network."""
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SendError(f"SMTP login refused by {where} ({exc.code})", permanent=False)
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

    async def send(self, msg: EmailMessage, *, recipient: str) -> None:
        s = self.settings
        client = self._client
        if client is not None and client.is_connected:
            try:
                await client.send_message(msg, sender=s.from_address, recipients=[recipient])
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
                hostname=s.host, port=s.port, username=s.username, password=password,
                timeout=s.timeout_seconds, **_tls_kwargs(s),  # type: ignore[arg-type]
            )
            await client.connect()
            await client.send_message(msg, sender=s.from_address, recipients=[recipient])
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
        if settings.username and password is not None:
            await client.login(settings.username, password)
    except aiosmtplib.SMTPAuthenticationError:
        return f"smtp: login failed for user {settings.username} at {where}: wrong username or password"
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
