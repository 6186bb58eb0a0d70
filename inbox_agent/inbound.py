"""Inbound store: fetched mail becomes a committed row before its IMAP keyword is set.

De-duplication is by sha256 of the raw bytes per mailbox (and Message-ID as a second
key), so a UIDVALIDITY reset, a re-run or a crash between commit and STORE never yields
a second row: the known message only gets its new UID recorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Update, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from .db.leases import free_dead_owners
from .db.tables import FolderState, StoredMessage
from .mailbox import FetchedMail

_MSGID_SCAN = 65536


@dataclass(frozen=True)
class StoreResult:
    new: int
    known: int


def folder_state(session: Session, mailbox: str, folder: str) -> FolderState:
    """The folder's row, locked until the transaction ends; created on the first visit."""
    state = session.get(FolderState, (mailbox, folder), with_for_update=True)
    if state is None:
        try:  # instances starting together may all create it: the losers use the winner's row
            with session.begin_nested():
                session.add(FolderState(mailbox=mailbox, folder=folder, uidvalidity=0, last_uid=0))
        except IntegrityError:
            pass
        state = session.get_one(FolderState, (mailbox, folder), with_for_update=True)
    return state


def release_dead_leases(session: Session, host: str, alive: Callable[[int], bool]) -> int:
    return free_dead_owners(session.scalars(select(FolderState).where(FolderState.lease_owner.like(f"{host}:%"))),
                      "lease_owner", "lease_until", alive)


def is_first_visit(state: FolderState) -> bool:
    return state.uidvalidity == 0


def start_here(state: FolderState, uidvalidity: int, existing: list[int], now: datetime, *, history: bool) -> None:
    """The first visit of a folder: "now" starts here, and the mail already there is history.

    Written in the same transaction as the UIDVALIDITY, so a crash halfway through the first
    poll leaves the old mail history on restart instead of making it new.
    """
    state.uidvalidity, state.last_uid, state.first_seen_at = uidvalidity, 0, now
    state.history_below_uid = max(existing, default=0) + 1 if history else 0


def reset_if_uidvalidity_changed(state: FolderState, uidvalidity: int) -> bool:
    """A new UIDVALIDITY means every UID is new: start over, de-duplication does the rest.

    Not a first start: mail the agent never stored is new mail, whatever its UID. Returns
    True only for a real change, not for the first visit of the folder.
    """
    if state.uidvalidity == uidvalidity:
        return False
    changed = state.uidvalidity != 0
    state.uidvalidity = uidvalidity
    state.last_uid = 0
    state.history_below_uid = 0
    return changed


def _message_id(raw: bytes) -> str | None:
    head = raw[:_MSGID_SCAN]
    end = head.find(b"\r\n\r\n")
    end = end if end >= 0 else head.find(b"\n\n")
    header = head[: end if end >= 0 else len(head)]
    lines = header.replace(b"\r\n", b"\n").split(b"\n")
    for i, line in enumerate(lines):
        if line[:11].lower() == b"message-id:":
            value = line[11:]
            if not value.strip() and i + 1 < len(lines):
                value = lines[i + 1]
            text = value.decode("ascii", "replace").strip()
            return text[:998] or None
    return None


def store(
    session: Session,
    mailbox: str,
    folder: str,
    state: FolderState,
    mails: list[FetchedMail],
    *,
    max_bytes: int,
    now: datetime,
) -> StoreResult:
    """Insert new mails, re-point known ones to their current UID, advance ``last_uid``.

    One query finds the known ones of the whole chunk; the new ones go in as one bulk insert of
    plain rows (no ORM object per mail, no id read back: nothing in this transaction uses them).
    """
    digests = [hashlib.sha256(mail.raw).hexdigest() for mail in mails]
    known_rows = {
        row.sha256: row
        for row in session.scalars(
            select(StoredMessage)
            .options(defer(StoredMessage.raw))
            .where(StoredMessage.mailbox == mailbox, StoredMessage.sha256.in_(set(digests)))
        )
    }
    new: dict[str, dict[str, Any]] = {}  # the same mail twice in one folder: one row, the later UID
    for mail, digest in zip(mails, digests, strict=True):
        state.last_uid = max(state.last_uid, mail.uid)
        existing = known_rows.get(digest)
        if existing is not None:
            existing.folder, existing.uid, existing.uidvalidity = folder, mail.uid, mail.uidvalidity
            existing.keyword_set = False
            continue
        if digest in new:
            new[digest].update(folder=folder, uid=mail.uid, uidvalidity=mail.uidvalidity)
            continue
        too_big = mail.truncated or mail.size > max_bytes
        row = dict(mailbox=mailbox, folder=folder, uidvalidity=mail.uidvalidity, uid=mail.uid,
                   message_id=_message_id(mail.raw), sha256=digest, size=mail.size, received_at=mail.internal_date,
                   keyword_set=False, moved=False, created_at=now, backfilled_at=None, outcome=None,
                   case_id=None, processed_at=None)  # classification stays SQL NULL: JSON would write null
        if mail.uid < state.history_below_uid and mail.uidvalidity == state.uidvalidity:
            new[digest] = row | _history(mail, now, keep_raw=not too_big)
            continue
        new[digest] = row | dict(
            raw=mail.raw,
            status="quarantined" if too_big else "pending",
            quarantine_reason=(
                f"message is {mail.size} bytes, over the limit of {max_bytes} bytes "
                "(policy.max_message_bytes); only its first part was stored"
                if too_big
                else None
            ),
        )
    if new:
        session.execute(insert(StoredMessage), list(new.values()))
    return StoreResult(new=len(new), known=len(mails) - len(new))


def _history(mail: FetchedMail, now: datetime, *, keep_raw: bool) -> dict[str, Any]:
    """A mail that was in the folder before the first start: kept for the report and a backfill, never
    routed. Its body is purged with the rest of the non-case mail after the retention period."""
    return dict(
        raw=mail.raw if keep_raw else None,
        quarantine_reason=None if keep_raw else f"message is {mail.size} bytes, over the limit "
        "(policy.max_message_bytes): kept without its text",
        status="history", outcome="history: in the folder before the agent's first start", processed_at=now,
    )


def in_folder(mailbox: str, folder: str, uids: list[int]) -> Update:
    """An UPDATE of the rows behind these UIDs (index ix_message_uid); the caller adds ``.values(...)``."""
    return update(StoredMessage).where(
        StoredMessage.mailbox == mailbox, StoredMessage.folder == folder, StoredMessage.uid.in_(uids)
    )


def unflagged(session: Session, mailbox: str, folder: str, uidvalidity: int) -> list[int]:
    """UIDs of stored rows whose keyword is not yet confirmed set on the server (after a crash, say).

    Only the UIDs: loading whole rows would hold every raw message of a large backlog in memory.
    """
    return list(
        session.scalars(
            select(StoredMessage.uid).where(
                StoredMessage.mailbox == mailbox,
                StoredMessage.folder == folder,
                StoredMessage.uidvalidity == uidvalidity,
                StoredMessage.keyword_set.is_(False),
                StoredMessage.status != "history",  # not ours (yet): a backfill makes it ours
            )
        )
    )
