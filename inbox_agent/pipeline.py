"""The runner: stored messages -> parse -> classify -> their cases, a batch per transaction.

Parsing and classifying run first, outside any transaction. Then a batch of messages is
claimed, routed and marked processed (or quarantined with a reason) in one transaction.
A crash at any point leaves every message either untouched (processed again later) or
fully done. Batches share the cost of a transaction: one per message was most of a
backlog's time. A batch is routed without savepoints first (a savepoint per case, with
its flushes, was a third of the routing), and opening a case does not flush, so the batch's
new cases, events and mails are written by one flush at its end. When a message fails, the
batch is rolled back and routed again with a savepoint per message that changes a case, so
the failure costs only that message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, defer

from .addresses import same_address
from .blocklist import forget, is_blocked
from .case_states import State, find_references, is_open, record
from .classify import Classifier
from .config import Settings
from .conversation import read_reply
from .db.session import Database
from .db.tables import Case, StoredMessage
from .desk.context import Desk
from .desk.customer_reply import continue_case
from .desk.intake import open_case
from .message_ids import reference_from_message_id
from .models import Classification, ParsedMessage, Proof
from .parse import ParseError, parse
from .reply_authority import authority
from .sender_proof import assess
from .withdrawal import load_cues

log = logging.getLogger(__name__)
REFERENCE_RETRIES = 3
BATCH = 50
"""Messages per transaction: enough to share its cost, few enough to hold the write lock briefly."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def thread_case(session: Session, desk: Desk, msg: ParsedMessage) -> tuple[Case | None, str | None]:
    """The case this mail is about, and a note when a reference was seen but not followed.

    Our own Message-IDs are signed, so In-Reply-To/References find the case without
    trusting anything the sender wrote. A reference in the subject counts only when the
    sender is the case's requester or verified customer. Finding the case proves nothing
    about the sender: ``reply_authority`` decides what the mail may change.
    """
    for mid in [msg.in_reply_to, *reversed(msg.references)]:
        reference = reference_from_message_id(desk.settings.secret, mid) if mid else None
        if reference:
            case = _joined(session, session.scalar(select(Case).where(Case.reference == reference,
                                                                      Case.shop == desk.shop)))
            if case is not None:
                return case, None
    sender = msg.from_.email if msg.from_ else ""
    for reference in find_references(msg.subject):
        case = session.scalar(select(Case).where(Case.reference == reference, Case.shop == desk.shop))
        if case is None:
            return None, f"unknown case reference {reference} in the subject; handled as a new mail"
        if any(a and same_address(a, sender) for a in (case.requester_email, case.verified_email)):
            return _joined(session, case), None
        return None, f"reference {reference} in the subject, but the sender is not its requester; handled as new"
    return None, None


def _joined(session: Session, case: Case | None) -> Case | None:
    """A merged request stands for the case it joined: a reply to it goes there, found either way."""
    if case is not None and case.state == State.MERGED and case.linked_case_id:
        return session.get(Case, case.linked_case_id)
    return case


@dataclass(frozen=True)
class Analysis:
    """What parse and classify made of one stored message: computed outside any transaction."""

    message_id: int
    msg: ParsedMessage | None = None
    cls: Classification | None = None
    problem: str | None = None
    """The quarantine reason when the message could not be parsed or classified."""


class Pipeline:
    def __init__(self, settings: Settings, db: Database, classifier: Classifier,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.db = db
        self.classifier = classifier
        self.clock = clock
        self.cues = load_cues(settings.classifiers_dir / "conversation.toml")

    def pending(self, limit: int = BATCH) -> list[tuple[int, bytes | None]]:
        """The next batch to analyse. On PostgreSQL it skips rows another instance is routing right now,
        so two instances analyse different batches instead of racing for the same one."""
        with self.db.transaction() as session:
            query = (select(StoredMessage.id, StoredMessage.raw).where(StoredMessage.status == "pending")
                     .order_by(StoredMessage.id).limit(limit).with_for_update(skip_locked=True))
            return [(i, raw) for i, raw in session.execute(query)]

    def process_pending(self, stop: Callable[[], bool] = lambda: False) -> int:
        """Process the backlog a batch (one transaction) at a time; ``stop()`` ends it between two messages.

        A pass that handled nothing means the rest is held by other instances: stop there.
        """
        done = 0
        while not stop() and (batch := self.pending()):
            handled = self.process([self.analyse(i, raw) for i, raw in batch], stop)
            done += handled
            if not handled:
                break
        return done

    def analyse(self, message_id: int, raw: bytes | None) -> Analysis:
        """Parse and classify: pure CPU work, done before the transaction so it never holds locks."""
        try:
            msg = parse(raw or b"")
        except ParseError as exc:
            return Analysis(message_id, problem=f"unparseable: {exc}")
        try:
            return Analysis(message_id, msg, self.classifier.classify(msg))
        except Exception as exc:  # a bug must cost one message, not the daemon
            return Analysis(message_id, problem=_internal_error(message_id, exc))

    def process(self, batch: list[Analysis], stop: Callable[[], bool] = lambda: False) -> int:
        """Route analysed messages in one transaction; return how many were ours.

        The rows are claimed with ``FOR UPDATE SKIP LOCKED``: on PostgreSQL another instance
        skips them; on SQLite ``BEGIN IMMEDIATE`` serialises anyway. A message that fails
        sends the batch round again with savepoints, where it costs only its own and is
        quarantined with the reason; a database error propagates and the whole batch stays
        pending (the daemon pauses). Two instances opening cases of one shop at once may pick
        the same reference number: the loser's savepoint rolls back and that message is simply
        routed again.
        """
        try:
            outcomes = self._route_batch(batch, stop, isolated=False)
        except _Isolate:  # a message failed: every message again, each case change in a savepoint of its own
            outcomes = self._route_batch(batch, stop, isolated=True)
        for message_id, outcome, ok in outcomes:  # logged once committed: the log never tells what did not happen
            if ok:
                log.info("message %s: %s", message_id, outcome)
            else:
                log.warning("message %s quarantined: %s", message_id, outcome)
        return len(outcomes)

    def _route_batch(self, batch: list[Analysis], stop: Callable[[], bool], *,
                     isolated: bool) -> list[tuple[int, str, bool]]:
        """One transaction: claim the batch's rows, route each; (message id, outcome, ok) per routed message.

        Not ``isolated``, any failure raises ``_Isolate`` and so rolls the whole batch back.
        """
        outcomes: list[tuple[int, str, bool]] = []
        with self.db.transaction() as session:
            rows = {row.id: row for row in session.scalars(
                select(StoredMessage)
                .options(defer(StoredMessage.raw))
                .where(StoredMessage.id.in_([a.message_id for a in batch]), StoredMessage.status == "pending")
                .with_for_update(skip_locked=True)
            )}
            for analysis in batch:
                row = rows.get(analysis.message_id)
                if row is None:
                    continue  # done, or being done by another instance
                if stop():
                    break
                forget(session)  # a block committed while the batch runs holds from this message on
                outcome, ok = (self._route_saved(session, row, analysis) if isolated
                               else self._route_unsaved(session, row, analysis))
                if not ok:
                    row.status, row.quarantine_reason, row.processed_at = "quarantined", outcome, self.clock()
                outcomes.append((row.id, outcome, ok))
            if not isolated:
                with _isolating():
                    session.flush()  # the batch's new cases, their events and mails: written here, at once
        return outcomes

    def _route_unsaved(self, session: Session, row: StoredMessage, analysis: Analysis) -> tuple[str, bool]:
        """Route one message without a savepoint; any failure but the database's raises ``_Isolate``."""
        if analysis.problem is not None:
            return analysis.problem, False
        assert analysis.msg is not None and analysis.cls is not None
        with _isolating():
            desk, case, note, outcome, cls = self._triage(session, row, analysis.msg, analysis.cls)
            if outcome is None:
                outcome, cls = self._act(session, desk, row, analysis.msg, analysis.cls, case, note), analysis.cls
            self._done(row, cls, outcome)
        return outcome, True

    def _triage(self, session: Session, row: StoredMessage, msg: ParsedMessage,
                cls: Classification) -> tuple[Desk, Case | None, str | None, str | None, Classification]:
        """The desk, the case the mail is about, a note, and why it changes nothing (None: it does)."""
        desk = Desk(settings=self.settings, box=self.settings.mailbox(row.mailbox), now=self.clock(), cues=self.cues)
        case, note = thread_case(session, desk, msg)
        outcome = self._ignored(msg, cls, case, note)
        if outcome is None and (blocked := self._blocked(session, desk, msg, cls, case)):
            outcome, cls = blocked
        return desk, case, note, outcome, cls

    def _route_saved(self, session: Session, row: StoredMessage, analysis: Analysis) -> tuple[str, bool]:
        """Route one message; (outcome, True) or (quarantine reason, False).

        Most mail is ignored after a few reads; only mail that changes a case gets a savepoint,
        so that a failure rolls back exactly that message's writes.
        """
        if analysis.problem is not None:
            return analysis.problem, False
        assert analysis.msg is not None and analysis.cls is not None
        try:
            desk, case, note, outcome, cls = self._triage(session, row, analysis.msg, analysis.cls)
        except DBAPIError:
            raise
        except Exception as exc:  # a bug must cost one message, not the daemon
            return _internal_error(row.id, exc), False
        if outcome is not None:
            self._done(row, cls, outcome)
            return outcome, True
        for attempt in range(REFERENCE_RETRIES):
            try:
                with session.begin_nested():
                    outcome = self._act(session, desk, row, analysis.msg, analysis.cls, case, note)
                    self._done(row, analysis.cls, outcome)
                    return outcome, True
            except IntegrityError:
                if attempt == REFERENCE_RETRIES - 1:
                    raise
                log.info("message %s: a concurrent instance took the same case reference; retrying", row.id)
            except DBAPIError:
                raise
            except Exception as exc:  # a bug must cost one message, not the daemon
                return _internal_error(row.id, exc), False
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _done(self, row: StoredMessage, cls: Classification, outcome: str) -> None:
        row.classification = cls.model_dump(mode="json", exclude={"new_text"})
        row.status, row.outcome, row.processed_at = "processed", outcome[:200], self.clock()

    def _ignored(self, msg: ParsedMessage, cls: Classification, case: Case | None, note: str | None) -> str | None:
        """Why this mail changes nothing, or None when it opens or continues a case."""
        suffix = f" ({note})" if note else ""
        if cls.automated:
            return None if case is not None else f"ignored: automated ({cls.automated_reason})"
        if msg.from_ is None:
            return "ignored: no usable From address" + suffix
        if same_address(msg.from_.email, self.settings.smtp.from_address):
            return "ignored: sent by this agent's own address"
        if case is not None and is_open(case):
            return None
        if not cls.is_privacy:
            return "ignored: not a privacy request" + suffix
        return None

    def _blocked(self, session: Session, desk: Desk, msg: ParsedMessage, cls: Classification,
                 case: Case | None) -> tuple[str, Classification] | None:
        """A blocked sender's new request opens no case; one whose sender is proven goes on the list to check.

        The block rests on a From nobody proved (a spam may have forged it): a mail the shop's own mail
        host proves to come from that address may be the real person's request, so the officer sees it.
        """
        if cls.automated or (case is not None and is_open(case)) or msg.from_ is None \
                or not is_blocked(session, desk.shop, msg.from_.email):
            return None
        if assess(msg, self.settings.policy.trusted_authserv_ids).level == Proof.PROVEN:
            return "to check: from a blocked sender, but the sender is proven", cls.model_copy(update={"review": True})
        return "ignored: the officer blocked this sender", cls

    def _act(self, session: Session, desk: Desk, row: StoredMessage, msg: ParsedMessage, cls: Classification,
             case: Case | None, note: str | None) -> str:
        """The case change a mail that ``_ignored`` let through makes."""
        if case is not None and cls.automated:
            record(case, "automated_reply", actor="agent", at=desk.now, reason=cls.automated_reason)
            row.case_id = case.id
            return f"ignored: automated ({cls.automated_reason})"
        assert msg.from_ is not None
        if case is not None and is_open(case):
            row.case_id = case.id
            reading = read_reply(cls.new_text or msg.text, cls, case.rights, self.cues, sender=msg.from_.email)
            proof = assess(msg, self.settings.policy.trusted_authserv_ids)
            may = authority([case.requester_email, case.verified_email], msg.from_.email, proof)
            return f"case {case.reference}: " + continue_case(session, desk, case, msg, reading, may)
        case = open_case(session, desk, row, msg, cls)
        suffix = f" ({note})" if note else ""
        return f"case {case.reference} opened ({_summary(cls)}; identity {case.identity_status})" + suffix


class _Isolate(Exception):
    """A message of a batch routed without savepoints failed: the batch goes again with them."""


@contextmanager
def _isolating() -> Iterator[None]:
    """Any failure but the database's becomes ``_Isolate``; a taken case reference is one of them."""
    try:
        yield
    except IntegrityError as exc:  # a concurrent instance took the same case reference
        raise _Isolate from exc
    except DBAPIError:
        raise
    except Exception as exc:
        raise _Isolate from exc

def _internal_error(message_id: int, exc: Exception) -> str:
    """Log a bug with its traceback; the quarantine reason it leaves on the message."""
    log.exception("message %s: internal error, quarantined", message_id)
    return f"internal error: {type(exc).__name__}: {exc}"[:500]


def _summary(cls: Classification) -> str:
    return ", ".join(cls.categories)
