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


async def send(settings: SmtpSettings, msg: EmailMessage, *, recipient: str) -> None:
    """Deliver one message; SendError.permanent tells the outbox whether to retry."""
    password = settings.password.get_secret_value() if settings.password else None
    try:
        await aiosmtplib.send(
            msg,
            hostname=settings.host,
            port=settings.port,
            username=settings.username,
            password=password,
            sender=settings.from_address,
            recipients=[recipient],
            timeout=settings.timeout_seconds,
            **_tls_kwargs(settings),  # type: ignore[arg-type]
        )
    except aiosmtplib.SMTPAuthenticationError as exc:
        where = f"{settings.host}:{settings.port}"
        raise SendError(f"SMTP login refused by {where} ({exc.code})", permanent=False) from None
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        raise SendError(f"recipient refused ({codes})", permanent=all(c >= 500 for c in codes)) from None
    except aiosmtplib.SMTPResponseException as exc:
        raise SendError(f"SMTP {exc.code}: {exc.message[:200]}", permanent=exc.code >= 500) from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        where = f"{settings.host}:{settings.port}"
        raise SendError(f"SMTP {where} unreachable: {type(exc).__name__}", permanent=False) from None


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
