"""Reminders, overdue alerts, identity timeouts, the digest and purging, with a controlled clock."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from inbox_agent.config import REPO_ROOT, Settings, load_settings
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case, Outbox, StoredMessage
from inbox_agent.deadlines import compute, due_at
from inbox_agent.fictitious_shop import FICTITIOUS_SHOP
from inbox_agent.scheduler import purge_bodies, tick
from inbox_agent.withdrawal import load_cues

RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # target 2026-04-01, legal 2026-04-02
CUES = load_cues(REPO_ROOT / "classifiers" / "conversation.toml")


def add_case(database: Database, state: str = "in_progress", **kw: object) -> None:
    dl = compute(RECEIVED)
    values: dict[str, object] = dict(
        shop="default", reference="KT-2026-000001", state=state, rights=["access"],
        requester_email="anna@example.org", identity_status="verified", received_at=RECEIVED,
        deadline_raw=due_at(dl.raw), deadline_legal=due_at(dl.legal), deadline_target=due_at(dl.target),
        created_at=RECEIVED, thread_ids=[])
    values.update(kw)
    with database.transaction() as session:
        session.add(Case(**values))


def kinds(database: Database, *, digests: bool = True) -> list[str]:
    with database.transaction() as session:
        found = [r.kind for r in session.scalars(select(Outbox).order_by(Outbox.id))]
    return found if digests else [k for k in found if k != "officer_digest"]


def run(settings: Settings, database: Database, at: datetime) -> None:
    tick(settings, database, at, CUES)


def test_one_reminder_before_target_then_daily_overdue_alerts(settings: Settings, database: Database) -> None:
    add_case(database)
    run(settings, database, datetime(2026, 3, 20, 6, 0, tzinfo=UTC))  # 12 days before target: quiet
    assert kinds(database, digests=False) == []
    run(settings, database, datetime(2026, 3, 26, 6, 0, tzinfo=UTC))
    run(settings, database, datetime(2026, 3, 27, 6, 0, tzinfo=UTC))
    assert kinds(database, digests=False) == ["officer_reminder"]
    run(settings, database, datetime(2026, 4, 2, 6, 0, tzinfo=UTC))
    run(settings, database, datetime(2026, 4, 2, 7, 0, tzinfo=UTC))
    run(settings, database, datetime(2026, 4, 3, 7, 0, tzinfo=UTC))
    assert kinds(database, digests=False) == ["officer_reminder", "officer_overdue", "officer_overdue"]


def test_unresolved_identity_gets_a_reasoned_answer_drafted_before_the_legal_date(settings: Settings,
                                                                                 database: Database) -> None:
    add_case(database, state="awaiting_identity", identity_status="unknown")
    run(settings, database, datetime(2026, 3, 27, 6, 0, tzinfo=UTC))  # six days before the legal date: waits
    assert "not_verified" not in kinds(database)
    run(settings, database, datetime(2026, 3, 29, 6, 0, tzinfo=UTC))
    with database.transaction() as session:
        case = session.scalars(select(Case)).one()
        draft = session.scalars(select(Outbox).where(Outbox.kind == "not_verified")).one()
        assert case.state == "awaiting_approval"
        assert draft.status == "draft" and draft.to_addr == "anna@example.org"


def test_digest_once_a_day_after_eight_amsterdam_time(settings: Settings, database: Database) -> None:
    add_case(database)
    run(settings, database, datetime(2026, 3, 3, 6, 30, tzinfo=UTC))  # 07:30 in Amsterdam
    assert "officer_digest" not in kinds(database)
    run(settings, database, datetime(2026, 3, 3, 7, 5, tzinfo=UTC))
    run(settings, database, datetime(2026, 3, 3, 15, 0, tzinfo=UTC))
    assert kinds(database).count("officer_digest") == 1
    run(settings, database, datetime(2026, 3, 4, 7, 5, tzinfo=UTC))
    assert kinds(database).count("officer_digest") == 2
    with database.transaction() as session:
        digest = session.scalars(select(Outbox).where(Outbox.kind == "officer_digest")).first()
        assert digest is not None and "KT-2026-000001" in digest.body_text


def test_digest_lists_the_most_urgent_cases_and_counts_the_rest(settings: Settings, database: Database) -> None:
    for n in range(1, 56):  # the later the number, the later the mail came in and its target date
        add_case(database, reference=f"KT-2026-{n:06d}", received_at=RECEIVED + timedelta(days=n),
                 deadline_target=due_at(compute(RECEIVED + timedelta(days=n)).target))
    run(settings, database, datetime(2026, 3, 3, 7, 5, tzinfo=UTC))
    with database.transaction() as session:
        body = session.scalars(select(Outbox.body_text).where(Outbox.kind == "officer_digest")).one()
    assert "Open privacy requests: 55" in body or "Open privacyverzoeken: 55" in body
    assert "KT-2026-000001" in body and "KT-2026-000050" in body and "KT-2026-000051" not in body
    assert "5 more" in body or "nog 5 verzoek" in body


def test_bodies_are_purged_after_retention_of_closed_cases_and_untriaged_mail(database: Database) -> None:
    add_case(database, state="completed", closed_at=RECEIVED)
    with database.transaction() as session:
        case_id = session.scalars(select(Case.id)).one()
        for i, cid in enumerate([case_id, None, None]):
            session.add(StoredMessage(mailbox="default", folder="INBOX", uidvalidity=1, uid=i + 1, sha256=str(i),
                                      size=3, received_at=RECEIVED, raw=b"raw", created_at=RECEIVED,
                                      status="pending" if i == 2 else "processed", processed_at=RECEIVED,
                                      case_id=cid))
    with database.transaction() as session:
        assert purge_bodies(session, ["default"], RECEIVED - timedelta(days=1)) == {}
        assert purge_bodies(session, ["default"], RECEIVED + timedelta(days=1)) == {"default": 2}
    with database.transaction() as session:
        raws = [m.raw for m in session.scalars(select(StoredMessage).order_by(StoredMessage.uid))]
    assert raws == [None, None, b"raw"]  # a pending message is never purged


def test_erasure_case_copies_are_scrubbed_once_nothing_is_left_to_send(database: Database) -> None:
    from inbox_agent.scheduler import ERASED, scrub_erased

    add_case(database, state="completed", anonymised=True, requester_email=None)
    with database.transaction() as session:
        case_id = session.scalars(select(Case.id)).one()
        session.add(StoredMessage(mailbox="default", folder="INBOX", uidvalidity=1, uid=1, sha256="s", size=3,
                                  received_at=RECEIVED, raw=b"Verwijder mij", created_at=RECEIVED, status="processed",
                                  case_id=case_id))
        mail = Outbox(case_id=case_id, shop="default", kind="result_erasure", to_addr="anna@example.org",
                      subject="[KT-2026-000001] x", body_text="Beste Anna", message_id="<m@x>", status="queued",
                      created_at=RECEIVED)
        session.add(mail)
    with database.transaction() as session:
        assert scrub_erased(session, ["default"]) == 0  # the result is still to be sent
        session.scalars(select(Outbox)).one().status = "sent"
    with database.transaction() as session:
        assert scrub_erased(session, ["default"]) == 2
        sent = session.scalars(select(Outbox)).one()
        assert (sent.to_addr, sent.body_text) == (ERASED, "")
        assert session.scalars(select(StoredMessage)).one().raw is None


def test_export_packages_stay_only_while_their_mail_may_go_out(database: Database, tmp_path: Path) -> None:
    from inbox_agent.scheduler import purge_exports

    folder = tmp_path / "exports"
    folder.mkdir()
    waiting, sent = folder / "KT-2026-000001-access.zip", folder / "KT-2026-000002-access.zip"
    waiting.write_bytes(b"zip")
    sent.write_bytes(b"zip")
    with database.transaction() as session:
        for i, (path, status) in enumerate([(waiting, "draft"), (sent, "sent")]):
            session.add(Outbox(shop="default", kind="result_access", to_addr="a@example.org", subject="s",
                               body_text="b", message_id=f"<{i}@x>", status=status, created_at=RECEIVED,
                               attachments=[str(path)]))
    with database.transaction() as session:
        assert purge_exports(session, folder) == 1
    assert waiting.exists() and not sent.exists()


def test_a_login_throttle_and_its_source_reach_the_next_digest(settings: Settings, database: Database) -> None:
    from inbox_agent.accounts import add_officer, authenticate
    from inbox_agent.actors import CLI_ACTOR

    at = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
    with database.transaction() as session:
        add_officer(session, "marieke", "a long enough password", language="nl", now=at, actor=CLI_ACTOR)
        for _ in range(5):
            authenticate(session, "marieke", "wrong", at, client="203.0.113.9")
    run(settings, database, datetime(2026, 3, 3, 7, 5, tzinfo=UTC))  # no open case: the digest goes for the throttle
    run(settings, database, datetime(2026, 3, 4, 7, 5, tzinfo=UTC))
    with database.transaction() as session:
        bodies = list(session.scalars(select(Outbox.body_text).where(Outbox.kind == "officer_digest")))
    assert len(bodies) == 1
    assert "203.0.113.9" in bodies[0] and "marieke" in bodies[0] and "03-03-2026 07:00" in bodies[0]


def _three_requests_then_the_digest(settings: Settings, database: Database) -> Outbox:
    """Three new cases ten minutes apart at most: the first notice goes at once, two are held back."""
    from inbox_agent.desk.case_mail import notify_officer
    from inbox_agent.desk.context import Desk

    first = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam
    for n, (rights, minutes) in enumerate(((["access"], 0), (["erasure", "objection"], 5), ([], 9)), start=1):
        at = first + timedelta(minutes=minutes)
        add_case(database, reference=f"KT-2026-{n:06d}", rights=rights, received_at=at)
        desk = Desk(settings=settings, box=settings.mailbox("default"), now=at, cues=CUES, actor="agent")
        with database.transaction() as session:
            notify_officer(session, desk, session.scalars(select(Case).where(Case.reference == f"KT-2026-{n:06d}"))
                           .one(), "officer_new_case")
    assert kinds(database) == ["officer_new_case"]  # the second and third were held back
    run(settings, database, first + timedelta(minutes=settings.policy.officer_notice_minutes + 1))
    with database.transaction() as session:
        return session.scalars(select(Outbox).where(Outbox.kind == "officer_digest")).one()


def test_the_batched_digest_lists_what_came_in_since_the_previous_notice_in_her_words(settings: Settings,
                                                                                      database: Database) -> None:
    digest = _three_requests_then_the_digest(settings, database)
    assert digest.subject.startswith("2 nieuw")
    new, _, rest = digest.body_text.partition("Open privacyverzoeken")
    assert "sinds de vorige melding (03-03-2026 10:00)" in new
    assert "KT-2026-000002, ontvangen 03-03-2026 10:05: verwijdering, bezwaar" in new
    assert "KT-2026-000003, ontvangen 03-03-2026 10:09: andere privacyvraag" in new
    assert "KT-2026-000001" not in new and "KT-2026-000001 (in behandeling)" in rest  # no raw state codes


def test_the_batched_digest_names_the_first_new_cases_and_counts_the_rest(settings: Settings, database: Database,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from inbox_agent import scheduler

    monkeypatch.setattr(scheduler, "DIGEST_CASES", 1)
    new = _three_requests_then_the_digest(settings, database).body_text.partition("Open privacyverzoeken")[0]
    assert "KT-2026-000002" in new and "KT-2026-000003" not in new and "en nog 1 nieuw(e) verzoek(en)" in new


def fleet(database: Database, shops: int) -> Settings:
    """``shops`` mailboxes on one database, each shop with an officer of its own."""
    return load_settings(None, smtp={"from_address": "privacy@shop.example"},
                         database={"url": str(database.engine.url)}, secret_key="0123456789abcdef0123",
                         mailboxes=[{"name": f"shop{n}", "imap": {"username": f"u{n}"},
                                     "shop": FICTITIOUS_SHOP | {"officer_email": f"officer@shop{n}.example"}}
                                    for n in range(shops)])


def test_a_quiet_tick_costs_the_same_statements_for_3_or_30_shops(database: Database) -> None:
    """One scheduler for many shops reads fleet-wide: it once asked ~15 statements per shop every minute."""
    at = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam; the day's digests went out at 09:05

    def statements(shops: int) -> int:
        settings = fleet(database, shops)
        for n in range(shops):
            add_case(database, shop=f"shop{n}", reference=f"KT-{shops}-{n:06d}")  # open, weeks before its target
            add_case(database, shop=f"shop{n}", reference=f"KT-{shops}-{n:06d}-e", state="completed",
                     anonymised=True, closed_at=RECEIVED, requester_email=None)  # an erasure, nothing left
        tick(settings, database, at - timedelta(minutes=55), CUES)
        executed: list[str] = []

        def count(*args: object) -> None:
            executed.append(str(args[2]))

        event.listen(database.engine, "before_cursor_execute", count)
        tick(settings, database, at, CUES)
        event.remove(database.engine, "before_cursor_execute", count)
        return len(executed)

    assert statements(3) == statements(30)
    assert kinds(database).count("officer_digest") == 30  # each shop's digest went once, at 09:05


def test_each_shop_of_a_fleet_gets_its_reminder_and_its_digest_once(database: Database) -> None:
    settings = fleet(database, 3)
    for n in range(3):
        add_case(database, shop=f"shop{n}", reference=f"KT-2026-{n:06d}")
    for at in (datetime(2026, 3, 26, 7, 5, tzinfo=UTC), datetime(2026, 3, 26, 7, 6, tzinfo=UTC),
               datetime(2026, 3, 26, 15, 0, tzinfo=UTC)):
        tick(settings, database, at, CUES)
    with database.transaction() as session:
        sent = sorted((m.shop, m.kind, m.to_addr) for m in session.scalars(select(Outbox)))
    assert sent == sorted((f"shop{n}", kind, f"officer@shop{n}.example") for n in range(3)
                          for kind in ("officer_digest", "officer_reminder"))
    with database.transaction() as session:
        for digest in session.scalars(select(Outbox).where(Outbox.kind == "officer_digest")):
            assert f"KT-2026-{int(digest.shop[-1]):06d}" in digest.body_text  # its own case, no other shop's
            assert sum(f"KT-2026-{n:06d}" in digest.body_text for n in range(3)) == 1


def test_a_shop_whose_rule_fails_costs_only_its_own_step(database: Database, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """A reminder that cannot be written for shop0 (a template its officer broke) once ended the tick, so shop1
    and shop2 got no reminder and no shop its digest, and the exception ended the daemon."""
    import inbox_agent.scheduler as scheduler

    settings = fleet(database, 3)
    for n in range(3):
        add_case(database, shop=f"shop{n}", reference=f"KT-2026-{n:06d}")
    remind = scheduler._remind

    def broken_for_shop0(session: object, desk: object, case: Case) -> None:
        if case.shop == "shop0":
            raise ValueError("template officer_reminder.txt: unexpected '}'")
        remind(session, desk, case)  # type: ignore[arg-type]

    monkeypatch.setattr(scheduler, "_remind", broken_for_shop0)
    tick(settings, database, datetime(2026, 3, 26, 7, 5, tzinfo=UTC), CUES)
    with database.transaction() as session:
        sent = sorted((m.shop, m.kind) for m in session.scalars(select(Outbox)))
    assert sent == [("shop0", "officer_digest"), ("shop1", "officer_digest"), ("shop1", "officer_reminder"),
                    ("shop2", "officer_digest"), ("shop2", "officer_reminder")]
    assert any("a rule failed for shop0" in r.getMessage() for r in caplog.records)
