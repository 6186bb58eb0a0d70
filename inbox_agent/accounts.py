"""Officer accounts: adding them, checking a password, and the logins (sessions) they hold.

Shared by the CLI (``inbox-agent officer add``) and the web login. Wrong passwords are
throttled per account name *and* client address, with growing delays: a stranger guessing
slows only the stranger down, and can never lock the officer out at her own address (a
hard account lock could be set off by anyone, once per lock period, for good). A failed
login is counted in the caller's transaction, so the caller must commit even when the
login fails: ``authenticate`` therefore returns a verdict instead of raising.

Roles: an ``admin`` may manage the accounts on the web page; the first account is one, and
the last active admin can be neither disabled nor removed (someone must always be able to).
Each change to an account leaves an ``AccountEvent``: who, what, whose, when. The functions here that
change an account record it themselves, in the same session, from the ``actor`` their caller names
(her own name for her own language and password): the CLI, the web page and the demo only say who
acts, so none of them can forget the row or write it twice.

A session lives on the server (``OfficerSession``): logout and a new password end it there,
so a copied cookie is worthless afterwards; it also ends after an idle time and an absolute
lifetime (``[web] idle_minutes``, ``session_hours``).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .actors import SYSTEM_ACTORS
from .db.tables import AccountEvent, LoginFailure, Officer, OfficerSession
from .messages import say

log = logging.getLogger(__name__)
LANGUAGES = ("nl", "en")
MIN_PASSWORD_LENGTH = 10
FREE_FAILURES = 5
"""Wrong passwords from one client for one name before the first delay."""
FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(minutes=15)
WINDOW = timedelta(hours=24)
"""Failures older than this no longer count."""
SEEN_EVERY = timedelta(minutes=1)
"""A session's last-seen time is written at most this often (not on every request)."""

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against for unknown names, so a wrong name costs as much time as a wrong password.

    Made on first use, not at import: every CLI command imports this module.
    """
    return _hasher.hash("not a password anyone has")


class AccountError(ValueError):
    """An account that cannot be created or changed, said plainly.

    Raised with a catalogue key (section ``account_error``) and its values, like OfficerError:
    the CLI prints the English sentence, the web page says it in the officer's language.
    """

    def __init__(self, key: str, **params: object) -> None:
        self.key, self.params = f"account_error.{key}", params
        super().__init__(say("en", self.key, **params))


@dataclass(frozen=True)
class Verdict:
    """The outcome of one login attempt."""

    name: str | None = None
    """The officer's name when the password was right and the client not held back."""
    language: str = "nl"
    admin: bool = False
    retry_at: datetime | None = None
    """Set when this client must wait before trying this name again (now or by this attempt)."""


def add_officer(session: Session, name: str, password: str, *, language: str, now: datetime, actor: str,
                admin: bool = False) -> Officer:
    """A new account; an admin when ``admin`` or when it is the first account of all (audited as ``added_admin``)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("name_length")
    if name.casefold() in reserved_names():
        raise AccountError("reserved", name=name)
    _check_language(language)
    _check_password(password)
    if session.scalar(select(Officer.id).where(Officer.name == name)) is not None:
        raise AccountError("exists", name=name)
    first = session.scalar(select(Officer.id).limit(1)) is None
    officer = Officer(name=name, password_hash=_hasher.hash(password), language=language, created_at=now,
                      role="admin" if admin or first else "officer")
    session.add(officer)
    _audit(session, actor=actor, action="added_admin" if is_admin(officer) else "added", target=name, now=now)
    return officer


@functools.cache
def reserved_names() -> frozenset[str]:
    """Names no account may have (case-folded): the actors that are no person, and their words in every
    language ("agent", "de planner", "command line" ...), or her actions would read as the system's."""
    words = {say(lang, key) for key in SYSTEM_ACTORS.values() for lang in LANGUAGES}
    return frozenset(n.casefold() for n in {*SYSTEM_ACTORS, *words})


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("short_password", length=MIN_PASSWORD_LENGTH)


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise AccountError("language", languages=", ".join(LANGUAGES))


def delay(failures: int) -> timedelta | None:
    """How long a client waits after ``failures`` wrong passwords for one name (None: not yet)."""
    if failures < FREE_FAILURES:
        return None
    return min(FIRST_DELAY * (1 << min(failures - FREE_FAILURES, 10)), LONGEST_DELAY)


def _failures(session: Session, name: str, client: str, now: datetime) -> tuple[int, datetime | None]:
    count, last = session.execute(
        select(func.count(), func.max(LoginFailure.at)).where(
            LoginFailure.name == name, LoginFailure.client == client, LoginFailure.at > now - WINDOW,
            LoginFailure.cleared.is_(False))
    ).one()
    return int(count), last


def authenticate(session: Session, name: str, password: str, now: datetime, *, client: str = "") -> Verdict:
    """Check a login; delay a client that keeps guessing one name.

    A client that must wait is refused without looking at the password, so guessing during the
    delay learns nothing. Success clears that client's count for that name, nobody else's.
    """
    name, client = name.strip()[:100], client[:100]
    count, last = _failures(session, name, client, now)
    wait = delay(count)
    if wait is not None and last is not None and last + wait > now:
        return Verdict(retry_at=last + wait)
    officer = session.scalar(select(Officer).where(Officer.name == name))
    if not _verify(officer.password_hash if officer else _dummy_hash(), password) or officer is None:
        wait = delay(count + 1)
        session.add(LoginFailure(name=name, client=client, at=now, throttled=wait is not None))
        if wait is not None:
            log.warning("login: %d wrong passwords for %r from %s; that client waits %s", count + 1, name,
                        client or "an unknown address", wait)
            return Verdict(retry_at=now + wait)
        return Verdict()
    session.execute(update(LoginFailure).where(LoginFailure.name == name, LoginFailure.client == client)
                    .values(cleared=True))
    if _hasher.check_needs_rehash(officer.password_hash):
        officer.password_hash = _hasher.hash(password)
    return Verdict(name=officer.name, language=officer.language, admin=is_admin(officer))


def throttles_since(session: Session, since: datetime) -> list[tuple[str, str, datetime]]:
    """(name, client, when) of every delay that started since ``since``: for the officer's digest."""
    rows = session.execute(select(LoginFailure.name, LoginFailure.client, LoginFailure.at)
                           .where(LoginFailure.throttled.is_(True), LoginFailure.at > since)
                           .order_by(LoginFailure.at))
    return [(n, c, a) for n, c, a in rows]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, name: str, now: datetime, *, client: str = "") -> str:
    """A new login for ``name``; the returned token goes into the signed cookie, its hash in the database."""
    token = secrets.token_urlsafe(32)
    session.add(OfficerSession(token_hash=_token_hash(token), officer=name, client=client[:100], created_at=now,
                               last_seen_at=now))
    return token


def session_officer(session: Session, token: str, now: datetime, *, idle: timedelta, lifetime: timedelta) -> str | None:
    """The officer a session token belongs to, or None when it was ended, idle too long or too old."""
    row = session.scalar(select(OfficerSession).where(OfficerSession.token_hash == _token_hash(token)))
    if row is None or row.ended_at is not None:
        return None
    if row.last_seen_at + idle <= now or row.created_at + lifetime <= now:
        row.ended_at = now
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        row.last_seen_at = now
    return row.officer


def end_session(session: Session, token: str, now: datetime) -> None:
    session.execute(update(OfficerSession).where(OfficerSession.token_hash == _token_hash(token),
                                                 OfficerSession.ended_at.is_(None)).values(ended_at=now))


def end_all_sessions(session: Session, name: str, now: datetime) -> int:
    """End every login of ``name`` (after a password change or when the account is disabled)."""
    result = session.execute(update(OfficerSession).where(OfficerSession.officer == name,
                                                          OfficerSession.ended_at.is_(None)).values(ended_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _new_password(session: Session, officer: Officer, password: str, now: datetime) -> int:
    """Every login the account holds ends; a disabled account stays disabled (a reset is not a way back in)."""
    officer.password_hash = (DISABLED if is_disabled(officer) else "") + _hasher.hash(password)
    return end_all_sessions(session, officer.name, now)


def set_password(session: Session, name: str, password: str, now: datetime, *, actor: str) -> int:
    """A new password for ``name`` given by ``actor`` (``password_reset``); returns how many logins ended."""
    _check_password(password)
    officer = _officer(session, name)
    ended = _new_password(session, officer, password, now)
    _audit(session, actor=actor, action="password_reset", target=officer.name, now=now)
    return ended


def set_language(session: Session, name: str, language: str, now: datetime) -> None:
    """The officer's own language; a change is audited as ``language_<code>`` by her."""
    _check_language(language)
    officer = _officer(session, name)
    if officer.language != language:
        officer.language = language
        _audit(session, actor=officer.name, action=f"language_{language}", target=officer.name, now=now)


def change_own_password(session: Session, name: str, current: str, new: str, now: datetime) -> None:
    """The officer's own new password, only with the current one; every login she holds ends (audited by her)."""
    officer = _officer(session, name)
    if not _verify(officer.password_hash, current):
        raise AccountError("wrong_password")
    _check_password(new)
    _new_password(session, officer, new, now)
    _audit(session, actor=officer.name, action="password_changed", target=officer.name, now=now)


ONE_TIME_LENGTH = 16
ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
"""No 0/o, 1/l/i or signs: the password is often read out over the phone (16 of 31 signs: ~79 bits)."""


def reset_password(session: Session, name: str, now: datetime, *, actor: str) -> str:
    """A random new password for ``name`` (shown once to ``actor``, who reset it); its logins end."""
    password = "".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(ONE_TIME_LENGTH))
    set_password(session, name, password, now, actor=actor)
    return password


DISABLED = "!"
"""Prefix of a disabled account's password hash (as in /etc/shadow): no password matches it,
and removing the prefix gives the old password back."""


def _audit(session: Session, *, actor: str, action: str, target: str, now: datetime) -> None:
    """Record a change to an account (``AccountEvent.action``); a password never goes in."""
    session.add(AccountEvent(actor=actor, action=action, target=target.strip(), at=now))


def history(session: Session, limit: int | None = None) -> list[AccountEvent]:
    """The account changes, newest first (the ``limit`` newest, or all)."""
    return list(session.scalars(select(AccountEvent).order_by(AccountEvent.at.desc(), AccountEvent.id.desc())
                                .limit(limit)))


def list_officers(session: Session) -> list[Officer]:
    return list(session.scalars(select(Officer).order_by(Officer.name)))


def language_of(session: Session, name: str) -> str:
    """The language of the account ``name``; the first language when no account has that name."""
    return session.scalar(select(Officer.language).where(Officer.name == name.strip())) or LANGUAGES[0]


def _officer(session: Session, name: str) -> Officer:
    officer = session.scalar(select(Officer).where(Officer.name == name.strip()))
    if officer is None:
        raise AccountError("unknown", name=name)
    return officer


def is_disabled(officer: Officer) -> bool:
    return officer.password_hash.startswith(DISABLED)


def active_officer(session: Session, name: str) -> Officer:
    """The account ``name`` acting now (a CLI decision's actor); AccountError if unknown or disabled."""
    officer = _officer(session, name)
    if is_disabled(officer):
        raise AccountError("disabled", name=officer.name)
    return officer


def is_admin(officer: Officer) -> bool:
    return officer.role == "admin"


def is_active_admin(session: Session, name: str) -> bool:
    """May ``name`` manage the accounts now (an admin account, not disabled)?"""
    officer = session.scalar(select(Officer).where(Officer.name == name.strip()))
    return officer is not None and is_admin(officer) and not is_disabled(officer)


def _keep_an_admin(session: Session, officer: Officer) -> None:
    """Refuse to disable or remove the last active admin: nobody could manage the accounts any more."""
    if not is_admin(officer) or is_disabled(officer):
        return
    others = session.scalars(select(Officer).where(Officer.role == "admin", Officer.id != officer.id))
    if not any(not is_disabled(o) for o in others):
        raise AccountError("last_admin", name=officer.name)


def set_disabled(session: Session, name: str, disabled: bool, now: datetime, *, actor: str) -> None:
    """Disable (no login, every session ended) or enable again with the old password; audited whenever asked,
    also when the account already was so."""
    officer = _officer(session, name)
    if disabled:
        _keep_an_admin(session, officer)
    if disabled and not is_disabled(officer):
        officer.password_hash = DISABLED + officer.password_hash
        end_all_sessions(session, officer.name, now)
    elif not disabled:
        officer.password_hash = officer.password_hash.removeprefix(DISABLED)
    _audit(session, actor=actor, action="disabled" if disabled else "enabled", target=officer.name, now=now)


def remove_officer(session: Session, name: str, now: datetime, *, actor: str) -> None:
    """Delete the account; its sessions end. The audit trail keeps the name on what she did."""
    officer = _officer(session, name)
    _keep_an_admin(session, officer)
    end_all_sessions(session, officer.name, now)
    session.delete(officer)
    _audit(session, actor=actor, action="removed", target=officer.name, now=now)
