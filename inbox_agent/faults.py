"""Refused IMAP operations: a NO to CREATE, MOVE, STORE or APPEND waits out a backoff of its own.

A refusal is not an outage. The connection works, so the daemon keeps reading, storing and
acknowledging new mail and stays in IDLE; only the refused operation waits, and its backoff
grows with every refusal (FIRST_DELAY, doubled, up to MAX_DELAY). It lives in the ``imap_fault``
table, so neither a reconnect nor a successful login nor a restart resets it, every instance
honours it, and ``health``, the metrics and the officer's digest read it from there. The first
refusal of a streak is a warning; the ones after it are info lines.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from .db.tables import ImapFault

log = logging.getLogger(__name__)

FIRST_DELAY = 30.0
"""Seconds before the first retry of a refused operation."""
MAX_DELAY = 15 * 60.0
"""The longest wait between two attempts: a fixed folder or freed keyword is noticed within 15 min."""


def due(session: Session, mailbox: str, operation: str, now: datetime) -> bool:
    """True when ``operation`` may be tried now: it is not refused, or its wait is over."""
    fault = session.get(ImapFault, (mailbox, operation))
    return fault is None or fault.retry_at <= now


def refused(session: Session, mailbox: str, operation: str, message: str, now: datetime) -> ImapFault:
    """Record a refusal and set the next attempt one (doubled) backoff step away."""
    fault = session.get(ImapFault, (mailbox, operation))
    if fault is None:
        fault = ImapFault(mailbox=mailbox, operation=operation, attempts=0, since=now)
        session.add(fault)
    fault.attempts += 1
    fault.message = message
    fault.last_attempt_at = now
    delay = min(FIRST_DELAY * 2 ** (fault.attempts - 1), MAX_DELAY)
    fault.retry_at = now + timedelta(seconds=delay)
    level = logging.WARNING if fault.attempts == 1 else logging.INFO
    log.log(level, "mailbox %s: %s; %s deferred, next attempt in %.0f s (refusal %d)", mailbox, message,
            operation.upper(), delay, fault.attempts)
    return fault


def succeeded(session: Session, mailbox: str, operation: str) -> None:
    """The operation worked: its fault, if any, is over."""
    result = session.execute(delete(ImapFault).where(ImapFault.mailbox == mailbox, ImapFault.operation == operation))
    if isinstance(result, CursorResult) and result.rowcount:
        log.info("mailbox %s: %s accepted again", mailbox, operation.upper())


def current(session: Session, mailbox: str | None = None) -> list[ImapFault]:
    """The refusals that last, oldest first (all mailboxes unless one is named)."""
    query = select(ImapFault).order_by(ImapFault.since, ImapFault.mailbox, ImapFault.operation)
    if mailbox is not None:
        query = query.where(ImapFault.mailbox == mailbox)
    return list(session.scalars(query))
