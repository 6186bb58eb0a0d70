"""The runner: a stored message -> parse -> classify -> its case, in one transaction.

A message is claimed, routed and marked processed (or quarantined with a reason) in a
single transaction together with every case change and outbox row it causes, so a crash
at any point leaves it either untouched (and processed again later) or fully done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from .cases import find_references, is_open, record
from .classify import Classifier
from .config import Settings
from .conversation import load_cues, read_reply
from .db.models import Case, StoredMessage
from .db.session import Database
from .desk import Desk, continue_case, open_case
from .identify import same_address
from .models import Classification, ParsedMessage
from .outbox import reference_from_message_id
from .parse import ParseError, parse

log = logging.getLogger(__name__)
REFERENCE_RETRIES = 3


def utcnow() -> datetime:
    return datetime.now(UTC)


class Quarantine(Exception):
    """The message cannot be processed; the reason is stored with it."""


def thread_case(session: Session, desk: Desk, msg: ParsedMessage) -> tuple[Case | None, str | None]:
    """The case this mail continues, and a note when a reference was seen but not trusted.

    Our own Message-IDs are signed, so In-Reply-To/References find the case without
    trusting anything the sender wrote. A reference in the subject counts only when the
    sender is the case's requester or verified customer.
    """
    for mid in [msg.in_reply_to, *reversed(msg.references)]:
        reference = reference_from_message_id(desk.settings.secret, mid) if mid else None
        if reference:
            case = session.scalar(select(Case).where(Case.reference == reference, Case.shop == desk.shop))
            if case is not None:
                return case, None
    sender = msg.from_.email if msg.from_ else ""
    for reference in find_references(msg.subject):
        case = session.scalar(select(Case).where(Case.reference == reference, Case.shop == desk.shop))
        if case is None:
            return None, f"unknown case reference {reference} in the subject; handled as a new mail"
        if any(a and same_address(a, sender) for a in (case.requester_email, case.verified_email)):
            return case, None
        return None, f"reference {reference} in the subject, but the sender is not its requester; handled as new"
    return None, None


class Pipeline:
    def __init__(self, settings: Settings, db: Database, classifier: Classifier,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.db = db
        self.classifier = classifier
        self.clock = clock
        self.cues = load_cues(settings.classifiers_dir / "conversation.toml")

    def pending_ids(self, limit: int = 1000) -> list[int]:
        with self.db.transaction() as session:
            query = select(StoredMessage.id).where(StoredMessage.status == "pending")
            return list(session.scalars(query.order_by(StoredMessage.id).limit(limit)))

    def process_pending(self, stop: Callable[[], bool] = lambda: False) -> int:
        """Process the backlog one message (one transaction) at a time; ``stop()`` ends it between two.

        A pass that handled nothing means the rest is held by other instances: stop there.
        """
        done = 0
        while not stop() and (ids := self.pending_ids()):
            handled = 0
            for message_id in ids:
                if stop():
                    break
                handled += self.process(message_id)
            done += handled
            if not handled:
                break
        return done

    def process(self, message_id: int) -> bool:
        """Route one message; database errors propagate (the daemon pauses), all else quarantines.

        The row is claimed with ``FOR UPDATE SKIP LOCKED``: on PostgreSQL another instance
        skips it and works on the next one; on SQLite ``BEGIN IMMEDIATE`` serialises anyway.
        Two instances opening cases of one shop at once may pick the same reference number;
        the loser's transaction rolls back whole and is simply run again. Returns False when
        the message was not this worker's to handle.
        """
        for attempt in range(REFERENCE_RETRIES):
            try:
                return self._process_once(message_id)
            except IntegrityError:
                if attempt == REFERENCE_RETRIES - 1:
                    raise
                log.info("message %s: a concurrent instance took the same case reference; retrying", message_id)
            except DBAPIError:
                raise
            except Quarantine as exc:
                self._quarantine(message_id, str(exc))
                return True
            except Exception as exc:  # a bug must cost one message, not the daemon
                log.exception("message %s: internal error, quarantined", message_id)
                self._quarantine(message_id, f"internal error: {type(exc).__name__}: {exc}"[:500])
                return True
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _process_once(self, message_id: int) -> bool:
        with self.db.transaction() as session:
            row = session.scalar(
                select(StoredMessage)
                .where(StoredMessage.id == message_id, StoredMessage.status == "pending")
                .with_for_update(skip_locked=True)
            )
            if row is None:
                return False  # done, or being done by another instance
            outcome = self._route(session, row)
            row.status, row.outcome, row.processed_at = "processed", outcome[:200], self.clock()
        log.info("message %s: %s", message_id, outcome)
        return True

    def _quarantine(self, message_id: int, reason: str) -> None:
        with self.db.transaction() as session:
            row = session.get_one(StoredMessage, message_id)
            row.status, row.quarantine_reason, row.processed_at = "quarantined", reason, self.clock()
        log.warning("message %s quarantined: %s", message_id, reason)

    def _route(self, session: Session, row: StoredMessage) -> str:
        box = self.settings.mailbox(row.mailbox)
        desk = Desk(settings=self.settings, box=box, now=self.clock(), cues=self.cues)
        try:
            msg = parse(row.raw or b"")
        except ParseError as exc:
            raise Quarantine(f"unparseable: {exc}") from None
        cls = self.classifier.classify(msg)
        row.classification = cls.model_dump(mode="json", exclude={"new_text"})
        case, note = thread_case(session, desk, msg)
        suffix = f" ({note})" if note else ""
        if cls.automated:
            if case is not None:
                record(case, "automated_reply", actor="agent", at=desk.now, reason=cls.automated_reason)
                row.case_id = case.id
            return f"ignored: automated ({cls.automated_reason})"
        if msg.from_ is None:
            return "ignored: no usable From address" + suffix
        if same_address(msg.from_.email, self.settings.smtp.from_address):
            return "ignored: sent by this agent's own address"
        if case is not None and is_open(case):
            row.case_id = case.id
            reading = read_reply(cls.new_text or msg.text, cls, case.rights, self.cues, sender=msg.from_.email)
            return f"case {case.reference}: " + continue_case(session, desk, case, msg, reading)
        if not cls.is_privacy:
            return "ignored: not a privacy request" + suffix
        case = open_case(session, desk, row, msg, cls)
        return f"case {case.reference} opened ({_summary(cls)}; identity {case.identity_status})" + suffix


def _summary(cls: Classification) -> str:
    return ", ".join(cls.categories)
