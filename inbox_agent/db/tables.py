"""Tables. Every fact the desk relies on is a committed row before any side effect happens.

The message row is written before the IMAP keyword is set, the case row and its outbox
rows in one transaction with the message's status change, and an outbox row is marked
sent only after the SMTP server accepted it. A ``kill -9`` therefore never loses a mail
and never creates a second case; see README "Crash safety" for the one duplicate window.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.sql.elements import ColumnElement

from .types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class FolderState(Base):
    """Where the poller is in one IMAP folder; also the lease that lets one daemon own it."""

    __tablename__ = "folder_state"

    mailbox: Mapped[str] = mapped_column(String(100), primary_key=True)
    folder: Mapped[str] = mapped_column(String(200), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger, default=0)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    last_poll_at: Mapped[datetime | None]
    """End of the last complete poll by any instance: ``inbox-agent health`` measures its age."""
    history_below_uid: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """First start: UIDs below this (in ``uidvalidity``) were there before the agent; they are history."""
    first_seen_at: Mapped[datetime | None]
    """When the agent first looked at this folder: the start of "now" for it."""
    history_reported_at: Mapped[datetime | None]
    """When the first-start report (history counts, privacy-looking mails of the last 30 days) was made."""


class DaemonInstance(Base):
    """A running ``inbox-agent run`` and its heartbeat: the others count the live ones to know their share
    of the mailboxes (``fleet.py``)."""

    __tablename__ = "daemon"

    instance: Mapped[str] = mapped_column(String(200), primary_key=True)
    """"host:pid", as in ``folder_state.lease_owner``."""
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    """The last heartbeat; live while it is younger than half a lease."""


class SchedulerLease(Base):
    """Who runs the scheduler's rules (reminders, digests, purging): one row, held by one instance at a time."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))
    since: Mapped[datetime | None]
    """When the holder took it (renewals keep it): ``inbox-agent health`` shows it."""
    until: Mapped[datetime | None]


class StoredMessage(Base):
    """One inbound raw mail, stored before anything else happens to it."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("mailbox", "sha256", name="uq_message_mailbox_sha256"),
        Index("ix_message_status", "status", "id"),
        Index("ix_message_message_id", "mailbox", "message_id"),
        Index("ix_message_uid", "mailbox", "folder", "uid"),
        Index("ix_message_to_check", "to_check", "received_at", "case_id"),
        Index("ix_message_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(100))
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(998))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
    """IMAP INTERNALDATE: when the mail reached the shop's mailbox; the legal clock starts here."""
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    """Purged (NULL) after the retention period of a closed case."""
    status: Mapped[str] = mapped_column(String(20), default="pending")
    """pending -> processed | quarantined; history (there before the first start) -> pending by backfill."""
    backfilled_at: Mapped[datetime | None]
    """Brought in from history on purpose (``inbox-agent backfill``): its case names the original date."""
    outcome: Mapped[str | None] = mapped_column(String(200))
    """What the pipeline did, for the operator: "case KT-2026-000001 opened", "ignored: automated (...)"."""
    quarantine_reason: Mapped[str | None] = mapped_column(Text)
    keyword_set: Mapped[bool] = mapped_column(Boolean, default=False)
    moved: Mapped[bool] = mapped_column(Boolean, default=False)
    classification: Mapped[dict[str, Any] | None]
    to_check: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Human mail the classifier marked for review (``review.py``): set with the classification, cleared when
    the officer opens a case from it or dismisses it. Its own indexed column, so the chip on every dashboard
    counts an index, not the JSON of every stored mail (whose row also holds the raw mail)."""
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    case: Mapped[Case | None] = relationship()
    """Set instead of ``case_id`` for a case not yet written: the flush fills in its id (desk/intake.py, open_case)."""
    created_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]

    @validates("classification")
    def _marks_to_check(self, _key: str, value: dict[str, Any] | None) -> dict[str, Any] | None:
        self.to_check = bool(value and value.get("review") and not value.get("automated"))
        return value


class Customer(Base):
    """The customer registry: known addresses are the only ones personal data may go to."""

    __tablename__ = "customer"
    __table_args__ = (UniqueConstraint("shop", "email_key", name="uq_customer_shop_email_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320))
    """Local part as written + lower-cased domain (see addresses.address_key)."""
    name: Mapped[str] = mapped_column(String(300), default="")
    customer_ref: Mapped[str | None] = mapped_column(String(100))
    """The shop's own id (WooCommerce customer id, or from the CSV import)."""
    postcode: Mapped[str | None] = mapped_column(String(20))
    order_numbers: Mapped[list[str]] = mapped_column(default=list)
    source: Mapped[str] = mapped_column(String(50), default="csv")
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    """Art. 18: stored only; exports and mailings respect the flag."""
    marketing_objection: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Case(Base):
    __tablename__ = "case"
    __table_args__ = (
        Index("ix_case_open", "shop", "state"),
        Index("ix_case_requester", "shop", "requester_key"),
        Index("ix_case_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    state: Mapped[str] = mapped_column(String(30))
    rights: Mapped[list[str]] = mapped_column(default=list)
    categories: Mapped[list[str]] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(8), default="nl")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    requester_email: Mapped[str | None] = mapped_column(String(320))
    """The address the request came from (anonymised to NULL after an erasure closes)."""
    requester_key: Mapped[str | None] = mapped_column(String(320))
    """``address_key`` of requester_email: finds a customer's other open case by index (NULL with it)."""
    requester_name: Mapped[str | None] = mapped_column(String(300))
    verified_email: Mapped[str | None] = mapped_column(String(320))
    """The known customer address; results go here and nowhere else."""
    identity_status: Mapped[str] = mapped_column(String(30))
    identity_method: Mapped[str | None] = mapped_column(String(100))
    proof: Mapped[str | None] = mapped_column(String(20))
    """What the case rests on (``models.Proof``, or ``code``/``order``/``officer`` once verified that way):
    data-changing rights run only on a proof other than ``unproven``/``doubt``."""
    thread_ids: Mapped[list[str]] = mapped_column(default=list)
    """Message-IDs of this conversation (theirs and ours) for reply matching."""
    received_at: Mapped[datetime]
    deadline_raw: Mapped[datetime]
    deadline_legal: Mapped[datetime]
    deadline_target: Mapped[datetime]
    deadline_extended: Mapped[datetime | None]
    extension_reason: Mapped[str | None] = mapped_column(Text)
    linked_case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    decision: Mapped[str | None] = mapped_column(String(30))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    anonymised: Mapped[bool] = mapped_column(Boolean, default=False)
    last_reminder_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    events: Mapped[list[CaseEvent]] = relationship(order_by="CaseEvent.id", back_populates="case")

    # The deadlines that apply: the extended one replaces both once an extension is recorded.
    # Hybrids, so Python checks and SQL filters/orderings read the same rule.
    @hybrid_property
    def effective_target(self) -> datetime:
        return self.deadline_extended or self.deadline_target

    @effective_target.inplace.expression
    @classmethod
    def _effective_target_sql(cls) -> ColumnElement[datetime]:
        return func.coalesce(cls.deadline_extended, cls.deadline_target)

    @hybrid_property
    def effective_legal(self) -> datetime:
        return self.deadline_extended or self.deadline_legal

    @effective_legal.inplace.expression
    @classmethod
    def _effective_legal_sql(cls) -> ColumnElement[datetime]:
        return func.coalesce(cls.deadline_extended, cls.deadline_legal)


class CaseEvent(Base):
    """The audit trail: every transition and officer action, with who, when and why."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_kind", "kind", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    case: Mapped[Case] = relationship(back_populates="events")


class Outbox(Base):
    """A mail we send: drafts wait for the officer, queued rows for the sender."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_brake", "shop", "to_key", "created_at"),
        Index("ix_outbox_kind", "kind", "shop", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    case: Mapped[Case | None] = relationship()
    """Set instead of ``case_id`` for a case not yet written: the flush fills in its id (outbox.enqueue)."""
    shop: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    to_addr: Mapped[str] = mapped_column(String(320))
    to_key: Mapped[str] = mapped_column(String(320), default="", server_default="")
    """``addresses.address_key(to_addr)``: the loop brake counts per address through an index."""
    subject: Mapped[str] = mapped_column(String(998))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="nl")
    attachments: Mapped[list[str]] = mapped_column(default=list)
    """Paths of files to attach (export zips)."""
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[list[str]] = mapped_column(default=list)
    automatic: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20))
    """draft -> queued -> sent | failed; draft -> rejected; queued -> blocked (brake, no address);
    draft -> held -> queued: an approved erasure/restriction/rectification result waits for its steps."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class VerificationCode(Base):
    __tablename__ = "verification_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(128))
    sent_to: Mapped[str] = mapped_column(String(320))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class Task(Base):
    """Checklist work for the officer: Art. 19 notifications, manual steps the API cannot do."""

    __tablename__ = "task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    recipient: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="open")
    """open -> done | skipped (with reason)."""
    reason: Mapped[str | None] = mapped_column(Text)
    done_by: Mapped[str | None] = mapped_column(String(100))
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class WebshopJob(Base):
    """Webshop work a case waits for, done outside any transaction (``webshop_jobs.py``)."""

    __tablename__ = "webshop_job"
    __table_args__ = (Index("ix_webshop_job_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    shop: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(20), default="draft")
    """``draft`` (read the customer's data for the drafts), ``erase`` (an approved erasure) or
    ``rectify`` (a correction, its fields in ``payload``)."""
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    """queued -> done | dropped (the case closed or lost its verified address meanwhile)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class Suppression(Base):
    """Objection to direct marketing (Art. 21(3)): absolute and for good; exportable for the shop."""

    __tablename__ = "suppression"
    __table_args__ = (UniqueConstraint("shop", "email_key", name="uq_suppression_shop_email_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop: Mapped[str] = mapped_column(String(100))
    email_key: Mapped[str] = mapped_column(String(320))
    scope: Mapped[str] = mapped_column(String(40), default="direct_marketing")
    created_at: Mapped[datetime]


class Officer(Base):
    __tablename__ = "officer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="nl")
    role: Mapped[str] = mapped_column(String(10), default="officer", server_default="officer")
    """``admin`` (may manage the accounts on the web page) or ``officer``."""
    created_at: Mapped[datetime]


class OfficerSession(Base):
    """A login, held on the server so that logging out or a new password really ends it.

    The browser's signed cookie only carries the random token; its sha256 is stored here.
    """

    __tablename__ = "officer_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    officer: Mapped[str] = mapped_column(String(100), index=True)
    client: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    """Set by logout, a password change, an idle timeout or the absolute lifetime."""


class LoginFailure(Base):
    """A wrong password, per account name as typed and client address: the throttle counts these.

    Kept per pair so that a stranger's guesses slow the stranger down, never the officer at her own
    address; ``throttled`` marks a failure that started a delay (for the log and the digest).
    """

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_name_at", "name", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    client: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
    throttled: Mapped[bool] = mapped_column(Boolean, default=False)
    cleared: Mapped[bool] = mapped_column(Boolean, default=False)
    """A later right password from the same client: no longer counted (kept for the digest)."""


class ImapFault(Base):
    """An IMAP operation the server refuses (a NO to CREATE, MOVE, STORE or APPEND) and its backoff.

    One row per mailbox and operation while the refusal lasts, deleted when the operation
    succeeds again (``faults.py``); ``health``, the metrics and the officer's digest show it.
    """

    __tablename__ = "imap_fault"

    mailbox: Mapped[str] = mapped_column(String(100), primary_key=True)
    operation: Mapped[str] = mapped_column(String(20), primary_key=True)
    message: Mapped[str] = mapped_column(Text)
    """The refusal as logged: the server's words, never message content."""
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    since: Mapped[datetime]
    last_attempt_at: Mapped[datetime]
    retry_at: Mapped[datetime]
    """No attempt before this: the backoff doubles with every refusal, up to faults.MAX_DELAY."""


class BlockedSender(Base):
    """An address the officer blocked with "spam / block sender": its mail opens no case, nothing goes to it.

    Kept when the block is lifted (``lifted_at``), so the page shows who blocked and who lifted it.
    """

    __tablename__ = "blocked_sender"
    __table_args__ = (Index("ix_blocked_sender_shop_email_key", "shop", "email_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop: Mapped[str] = mapped_column(String(100))
    email_key: Mapped[str] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(Text)
    case_reference: Mapped[str | None] = mapped_column(String(40))
    blocked_by: Mapped[str] = mapped_column(String(100))
    blocked_at: Mapped[datetime]
    lifted_by: Mapped[str | None] = mapped_column(String(100))
    lifted_at: Mapped[datetime | None]


class ReviewDecision(Base):
    """What the officer did with a mail on the "to check" list: a case opened from it, or dismissed and why."""

    __tablename__ = "review_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), unique=True)
    action: Mapped[str] = mapped_column(String(20))
    """``opened`` or ``dismissed``."""
    reason: Mapped[str | None] = mapped_column(Text)
    case_reference: Mapped[str | None] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]


class AccountEvent(Base):
    """An admin's change to an officer account (added, disabled, enabled, removed, password reset): who, when.

    Never a password, not even a hash: the row says only that it was reset. Kept when the account is
    removed, so the trail of who could act on cases stays whole.
    """

    __tablename__ = "account_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    """``added``, ``added_admin``, ``disabled``, ``enabled``, ``removed`` or ``password_reset``."""
    target: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
