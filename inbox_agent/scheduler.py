"""Time-driven work, run every minute: reminders, overdue alerts, identity timeouts, purging.

Each rule is idempotent and leaves a trace (an event or a timestamp), so running the
tick twice, or after a crash, never sends a reminder twice.

One daemon runs the tick for all its shops (a thousand, on a shared host): it reads fleet-wide,
so a quiet minute costs a fixed number of statements in two transactions whatever the number of
shops, and only what needs attention costs more: the due cases of a shop in a transaction of
that shop (with that shop's ``Desk``), and a digest per shop that needs one, found by one grouped
read (``_digests_due``). It once asked a few queries per shop in three transactions each: 3,000
transactions a minute for 1,000 shops, in the way of the acknowledgements.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, Select, exists, func, literal_column, or_, select, union_all
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from . import accounts, faults, replies
from .case_states import CLOSED, State, record, transition
from .config import Settings
from .db.session import Database
from .db.tables import Case, CaseEvent, ImapFault, LoginFailure, Outbox, StoredMessage
from .deadlines import AMSTERDAM
from .desk import case_views, result_steps
from .desk.case_mail import NOTICE_KINDS, notify_officer, officer_language, send
from .desk.context import Desk
from .messages import LANGUAGES, catalogue
from .outbox import enqueue
from .withdrawal import Cues

log = logging.getLogger(__name__)
DIGEST_HOUR = 8
DIGEST_CASES = 50
"""The digest lists the most urgent cases and counts the rest: a mail of thousands of lines helps nobody."""
ERASED = "(erased)"
IDENTITY_GRACE = timedelta(days=5)
"""How long before the legal date an unresolved identity check gets its reasoned answer drafted."""


def tick(settings: Settings, db: Database, now: datetime, cues: Cues) -> None:
    desks = {box.name: Desk(settings=settings, box=box, now=now, cues=cues, actor="scheduler")
             for box in settings.all_mailboxes()}
    shops, remind_days = list(desks), settings.policy.remind_days_before_target
    with db.transaction() as session:
        removed = purge_exports(session, settings.state_dir / "exports")
        due = set(session.scalars(due_soon(shops, now, remind_days).with_only_columns(Case.shop)))
    if removed:
        log.info("removed %d export package(s) whose mail was sent or dropped", removed)
    for shop in sorted(due):  # a shop's due cases in a transaction of their own, as the rules ran per shop
        with _one_shop(shop), db.transaction() as session:
            for case in session.scalars(due_soon([shop], now, remind_days)).all():
                _remind(session, desks[shop], case)
                _identity_timeout(session, desks[shop], case)
                result_steps.interim_notice(session, desks[shop], case)
    with db.transaction() as session:
        digests = _digests_due(session, list(desks.values()))
        scrub_erased(session, shops)
        purged = purge_bodies(session, shops, now - timedelta(days=settings.policy.body_retention_days))
    for desk in digests:
        with _one_shop(desk.shop), db.transaction() as session:
            digest(session, desk)
    for shop, count in sorted(purged.items()):
        log.info("purged %d message bodies past retention for %s", count, shop)


@contextmanager
def _one_shop(shop: str) -> Iterator[None]:
    """One shop's failing rule (a template its officer broke, say) costs that shop's step, rolled back and tried
    again next minute, not the other shops' reminders and digests nor the daemon. The database's own errors still
    go up: the daemon pauses the scheduler for them."""
    try:
        yield
    except SQLAlchemyError:
        raise
    except Exception:
        log.exception("scheduler: a rule failed for %s; the other shops go on, this one is tried again next minute",
                      shop)


@dataclass
class _ShopFacts:
    """What decides whether a shop's digest may go, read for all shops at once (``_digests_due``)."""

    notice: datetime | None = None
    """The last new-case notice or digest (as ``case_mail.last_notice``)."""
    digest: datetime | None = None
    deferred: datetime | None = None
    """The last new-case notice held back (``case_mail.notify_officer``)."""
    open: bool = False
    fault: bool = False


def _shop_facts(session: Session, shops: Collection[str]) -> tuple[dict[str, _ShopFacts], datetime | None]:
    """Per shop of ``shops`` the facts that decide its digest, and the last login throttle (of any shop): one
    statement."""
    def named(name: str) -> ColumnElement[str]:
        return literal_column(f"'{name}'").label("fact")

    notices = Outbox.kind.in_(NOTICE_KINDS)
    parts = union_all(
        select(Outbox.shop, named("notice"), func.max(Outbox.created_at)).where(notices).group_by(Outbox.shop),
        select(Outbox.shop, named("digest"), func.max(Outbox.created_at))
        .where(Outbox.kind == "officer_digest").group_by(Outbox.shop),
        select(Case.shop, named("deferred"), func.max(CaseEvent.at)).join(Case, CaseEvent.case_id == Case.id)
        .where(CaseEvent.kind == "notice_deferred").group_by(Case.shop),
        select(Case.shop, named("open"), func.max(Case.received_at))
        .where(Case.state.not_in([s.value for s in CLOSED])).group_by(Case.shop),
        select(ImapFault.mailbox, named("fault"), func.max(ImapFault.since)).group_by(ImapFault.mailbox),
        select(named(""), named("throttle"), func.max(LoginFailure.at)).where(LoginFailure.throttled.is_(True)),
    ).subquery()
    facts: dict[str, _ShopFacts] = {}
    throttle = None
    for shop, fact, at in session.execute(select(parts).where(or_(parts.c.shop.in_(shops),
                                                                   parts.c.fact == "throttle"))):
        if fact == "throttle":
            throttle = at
            continue
        found = facts.setdefault(shop, _ShopFacts())
        if fact in ("open", "fault"):
            setattr(found, fact, True)
        else:
            setattr(found, fact, at)
    return facts, throttle


def _digests_due(session: Session, desks: list[Desk]) -> list[Desk]:
    """The desks whose ``digest`` may send now (``_may_go``), found for all shops by one read."""
    desks = [d for d in desks if d.box.shop.officer_email]
    if not desks:
        return []
    facts, throttle = _shop_facts(session, [d.shop for d in desks])
    return [d for d in desks if _may_go(d, facts.get(d.shop, _ShopFacts()), throttle)]


def _may_go(desk: Desk, shop: _ShopFacts, throttle: datetime | None) -> bool:
    """A digest may go when a held-back notice's interval is over or no digest went out today after 08:00
    Amsterdam time, and there is something to tell (an open case, a refusal, a login throttle)."""
    interval = timedelta(minutes=desk.settings.policy.officer_notice_minutes)
    deferred = (shop.notice is not None and shop.notice <= desk.now - interval
                and shop.deferred is not None and shop.deferred > shop.notice)
    local = desk.now.astimezone(AMSTERDAM)
    start_of_day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    daily = local.hour >= DIGEST_HOUR and (shop.digest is None or shop.digest < start_of_day)
    throttled = throttle is not None and throttle > (shop.digest or desk.now - timedelta(days=1))
    return (deferred or daily) and (shop.open or shop.fault or throttled)


def _held_back(desk: Desk, since: datetime) -> Select[Case]:
    """The cases whose new-case notice was held back (desk.notify_officer) since ``since``."""
    return select(Case).where(Case.shop == desk.shop, Case.id.in_(
        select(CaseEvent.case_id).where(CaseEvent.kind == "notice_deferred", CaseEvent.at > since)))


def _local(at: datetime) -> str:
    """A moment as the digest names it: Amsterdam time, e.g. ``01-12-2026 21:15``."""
    return f"{at.astimezone(AMSTERDAM):%d-%m-%Y %H:%M}"


def _first_held_back(session: Session, desk: Desk, since: datetime) -> tuple[list[Case], int]:
    """The first ``DIGEST_CASES`` held-back cases, in the order they came in, and how many there are
    in all (a backfill can hold back thousands)."""
    held = _held_back(desk, since)
    count = session.scalar(select(func.count()).select_from(held.subquery())) or 0
    return list(session.scalars(held.order_by(Case.received_at, Case.id).limit(DIGEST_CASES))), count


def _new_case(case: Case, words: dict[str, str], base: str) -> replies.NewCase:
    rights = ", ".join(words[f"right.{r}"] for r in case.rights) or words["right.privacy_other"]
    return replies.NewCase(reference=case.reference, received=_local(case.received_at), rights=rights,
                           url=f"{base}/cases/{case.reference}")


def digest(session: Session, desk: Desk) -> None:
    """Once a day from 08:00 Amsterdam time, and when held-back new-case notices are due: what came in
    since the previous notice, then the open cases, most urgent first, to the officer, in her language."""
    officer = desk.box.shop.officer_email
    if not officer:
        return
    facts, throttle = _shop_facts(session, [desk.shop])  # again, in the transaction that writes the digest
    shop = facts.get(desk.shop, _ShopFacts())
    if not _may_go(desk, shop, throttle):
        return
    since = shop.notice
    base = desk.settings.web.base_url.rstrip("/")
    cases = case_views.list_cases(session, desk.now, shop=desk.shop, limit=DIGEST_CASES)
    throttles = accounts.throttles_since(session, shop.digest or desk.now - timedelta(days=1))
    refusals = [f"{f.operation.upper()} {_local(f.since)}: {f.message}"
                for f in faults.current(session, desk.shop)]
    if not cases and not throttles and not refusals:
        return
    held, held_count = _first_held_back(session, desk, since) if since else ([], 0)
    language = officer_language(session, desk)
    words = catalogue(language if language in LANGUAGES else LANGUAGES[0])  # as the template falls back
    ctx = replies.ReplyContext(
        shop=desk.box.shop,
        language=language,
        case_url=f"{base}/",
        new_cases=[_new_case(c, words, base) for c in held],
        new_case_count=held_count,
        new_since=_local(since) if since else None,
        open_cases=[
            replies.OpenCase(reference=c.reference, state=words[f"state.{c.state}"],
                             target=(c.extended or c.target).date(),
                             legal=c.legal.date(), days_left=c.days_left, url=f"{base}/cases/{c.reference}")
            for c in cases
        ],
        open_case_count=case_views.count_cases(session, shop=desk.shop),
        login_throttles=[
            replies.LoginThrottle(name=n, client=c or "?", when=_local(a))
            for n, c, a in throttles
        ],
        imap_refusals=refusals,
    )
    mail = replies.render("officer_digest", ctx, to=officer, templates_dir=desk.settings.templates_dir)
    enqueue(session, mail, shop=desk.shop, case=None, secret=desk.settings.secret, domain=desk.domain, now=desk.now,
            brake=desk.settings.policy.auto_mails_per_sender_per_day)


def due_soon(shops: Collection[str], now: datetime, remind_days: int) -> Select[Case]:
    """Open cases of ``shops`` a reminder, an overdue alert or an identity timeout may be due for; the rules
    decide.

    SQL narrows, so a tick costs what needs attention, not what is open: a backlog can leave thousands open.
    """
    return select(Case).where(
        Case.shop.in_(shops),
        Case.state.not_in([s.value for s in CLOSED]),
        or_(Case.effective_target <= now + timedelta(days=remind_days), Case.effective_legal <= now + IDENTITY_GRACE),
    ).order_by(Case.id)


def _remind(session: Session, desk: Desk, case: Case) -> None:
    target = case.effective_target
    remind_from = target - timedelta(days=desk.settings.policy.remind_days_before_target)
    last = case.last_reminder_at
    if desk.now > target:
        if last is None or last < desk.now - timedelta(days=1):
            notify_officer(session, desk, case, "officer_overdue")
            record(case, "overdue_alert", actor=desk.actor, at=desk.now)
            case.last_reminder_at = desk.now
    elif desk.now >= remind_from and (last is None or last < remind_from):
        notify_officer(session, desk, case, "officer_reminder")
        record(case, "reminder", actor=desk.actor, at=desk.now)
        case.last_reminder_at = desk.now


def _identity_timeout(session: Session, desk: Desk, case: Case) -> None:
    """LEGAL.md: waiting for identity does not stop the clock; draft a reasoned answer in time."""
    if case.state not in (State.AWAITING_IDENTITY, State.AWAITING_CLARIFICATION):
        return
    legal = case.effective_legal
    if desk.now < legal - IDENTITY_GRACE or case.requester_email is None:
        return
    send(session, desk, case, "not_verified", to=case.requester_email)
    transition(case, State.AWAITING_APPROVAL, actor=desk.actor, at=desk.now,
               reason="identity or clarification still open close to the legal date; reasoned answer drafted")
    notify_officer(session, desk, case, "officer_new_case")


def scrub_erased(session: Session, shops: Collection[str]) -> int:
    """After an erasure case's last mail has gone out, our own copies go too.

    The register entry was anonymised at completion; the raw mail and the texts and
    addresses of what we sent are kept only until nothing is left to send. Only cases with
    a copy left are read: the erasures of years are not loaded every minute.
    """
    left = or_(exists().where(Outbox.case_id == Case.id, Outbox.to_addr != ERASED),
               exists().where(StoredMessage.case_id == Case.id, StoredMessage.raw.is_not(None)))
    scrubbed = 0
    for case in session.scalars(select(Case).where(Case.shop.in_(shops), Case.anonymised.is_(True), left)):
        mails = session.scalars(select(Outbox).where(Outbox.case_id == case.id)).all()
        if any(m.status in ("queued", "draft") for m in mails):
            continue
        for mail in mails:
            if mail.to_addr != ERASED:
                mail.to_addr, mail.body_text, mail.body_html, mail.attachments = ERASED, "", None, []
                scrubbed += 1
        for message in session.scalars(select(StoredMessage).where(StoredMessage.case_id == case.id,
                                                                   StoredMessage.raw.is_not(None))):
            message.raw, message.classification = None, None
            scrubbed += 1
    return scrubbed


def purge_exports(session: Session, folder: Path) -> int:
    """Export packages are personal data on disk: keep each only while its mail may still go out."""
    if not folder.is_dir():
        return 0
    pending = {
        path
        for attachments in session.scalars(select(Outbox.attachments).where(Outbox.status.in_(("draft", "queued"))))
        for path in attachments
    }
    removed = 0
    for path in folder.glob("*.zip"):
        if str(path) not in pending:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def purge_bodies(session: Session, shops: Collection[str], closed_before: datetime) -> Counter[str]:
    """Drop raw mail of cases closed before the cutoff, and of mail that never became a case; how many per shop.

    The register keeps only facts; other people's mail in the shared inbox is still there
    on the IMAP server, so our copy is not needed once it was triaged.
    """
    of_cases = session.scalars(
        select(StoredMessage)
        .join(Case, StoredMessage.case_id == Case.id)
        .where(StoredMessage.mailbox.in_(shops), StoredMessage.raw.is_not(None), Case.closed_at < closed_before)
    )
    without_case = session.scalars(
        select(StoredMessage).where(
            StoredMessage.mailbox.in_(shops),
            StoredMessage.raw.is_not(None),
            StoredMessage.case_id.is_(None),
            StoredMessage.status != "pending",
            StoredMessage.processed_at < closed_before,
        )
    )
    count: Counter[str] = Counter()
    for row in [*of_cases, *without_case]:
        row.raw = None
        row.classification = None
        count[row.mailbox] += 1
    return count
