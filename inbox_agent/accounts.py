"""Officer accounts: adding them and checking a password, with lock-out after repeated failures.

Shared by the CLI (``inbox-agent officer add``) and the web login. A failed login is
counted in the caller's transaction, so the caller must commit even when the login fails:
``authenticate`` therefore returns a verdict instead of raising.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db.models import Officer

LANGUAGES = ("nl", "en")
MIN_PASSWORD_LENGTH = 10
FREE_FAILURES = 5
"""Failed logins allowed before the account locks; every further failure doubles the lock."""
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(hours=1)

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against for unknown names, so a wrong name costs as much time as a wrong password.

    Made on first use, not at import: every CLI command imports this module.
    """
    return _hasher.hash("not a password anyone has")


class AccountError(ValueError):
    """An account that cannot be created or changed, said plainly."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of one login attempt."""

    name: str | None = None
    """The officer's name when the password was right and the account not locked."""
    language: str = "nl"
    locked_until: datetime | None = None
    """Set when the account is locked (now or by this attempt)."""


def add_officer(session: Session, name: str, password: str, *, language: str, now: datetime) -> Officer:
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("an officer name has 1 to 100 characters")
    if language not in LANGUAGES:
        raise AccountError(f"language must be one of {', '.join(LANGUAGES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(Officer.id).where(Officer.name == name)) is not None:
        raise AccountError(f"an officer named {name!r} exists already")
    officer = Officer(name=name, password_hash=_hasher.hash(password), language=language, failed_logins=0,
                      created_at=now)
    session.add(officer)
    return officer


def lock_time(failures: int) -> timedelta | None:
    """How long the account locks after ``failures`` consecutive failures (None: not yet)."""
    if failures < FREE_FAILURES:
        return None
    return min(FIRST_LOCK * (1 << min(failures - FREE_FAILURES, 10)), LONGEST_LOCK)


def authenticate(session: Session, name: str, password: str, now: datetime) -> Verdict:
    """Check a login; count failures and lock the account while it is being guessed at.

    A locked account is refused without looking at the password, so guessing during the
    lock learns nothing and does not lengthen it.
    """
    officer = session.scalar(select(Officer).where(Officer.name == name.strip()))
    if officer is None:
        _verify(_dummy_hash(), password)
        return Verdict()
    if officer.locked_until is not None and officer.locked_until > now:
        return Verdict(locked_until=officer.locked_until)
    if not _verify(officer.password_hash, password):
        officer.failed_logins += 1
        lock = lock_time(officer.failed_logins)
        officer.locked_until = now + lock if lock else None
        return Verdict(locked_until=officer.locked_until)
    officer.failed_logins, officer.locked_until = 0, None
    if _hasher.check_needs_rehash(officer.password_hash):
        officer.password_hash = _hasher.hash(password)
    return Verdict(name=officer.name, language=officer.language)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def set_language(session: Session, name: str, language: str) -> None:
    if language not in LANGUAGES:
        raise AccountError(f"language must be one of {', '.join(LANGUAGES)}")
    officer = session.scalar(select(Officer).where(Officer.name == name))
    if officer is None:
        raise AccountError(f"no officer named {name!r}")
    officer.language = language
