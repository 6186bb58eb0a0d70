"""Results tell the truth (issue 14, part 2): an erasure result leaves only when every step is done.

Before: approving the erasure queued "Dit hebben we gewist ... We hebben dit ook doorgegeven aan
Meer dan Online, Mollie, PostNL, ..." at once, with the manual webshop erasure and five Art. 19
notices still open, and the case left the open list as completed.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from inbox_agent.config import REPO_ROOT, Settings
from inbox_agent.conversation import ReplyReading
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case, Customer, Outbox, Task
from inbox_agent.deadlines import compute, due_at
from inbox_agent.desk import merge, officer, spam
from inbox_agent.desk.context import Desk
from inbox_agent.desk.customer_reply import continue_case
from inbox_agent.desk.drafting import draft_results
from inbox_agent.models import Address, ParsedMessage
from inbox_agent.officer_error import OfficerError
from inbox_agent.reply_authority import Authority
from inbox_agent.scheduler import tick
from inbox_agent.withdrawal import load_cues

RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # target 2026-04-01, legal 2026-04-02
APPROVED = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
CUES = load_cues(REPO_ROOT / "classifiers" / "conversation.toml")


def desk(settings: Settings, at: datetime, actor: str = "officer") -> Desk:
    return Desk(settings=settings, box=settings.mailbox("default"), now=at, cues=CUES, actor=actor)


def erasure_case(settings: Settings, database: Database, language: str = "nl") -> str:
    dl = compute(RECEIVED)
    with database.transaction() as session:
        customer = Customer(shop="default", email="anna@example.org", email_key="anna@example.org", name="Anna Jansen",
                            created_at=RECEIVED, updated_at=RECEIVED)
        session.add(customer)
        session.flush()
        case = Case(shop="default", reference="KT-2026-000001", state="in_progress", rights=["erasure"],
                    language=language, customer_id=customer.id, requester_email="anna@example.org",
                    verified_email="anna@example.org", identity_status="verified", received_at=RECEIVED,
                    deadline_raw=due_at(dl.raw), deadline_legal=due_at(dl.legal), deadline_target=due_at(dl.target),
                    created_at=RECEIVED, thread_ids=[], events=[])
        session.add(case)
        session.flush()
        draft_results(session, desk(settings, RECEIVED, "agent"), case)
        return case.reference


def result(database: Database) -> Outbox:
    with database.transaction() as session:
        row = session.scalars(select(Outbox).where(Outbox.kind == "result_erasure")).one()
        session.expunge(row)
        return row


def open_tasks(database: Database) -> list[tuple[int, str, str | None]]:
    with database.transaction() as session:
        return [(t.id, t.kind, t.recipient) for t in session.scalars(select(Task).where(Task.status == "open"))]


def test_the_erasure_result_waits_for_every_step_and_then_says_only_what_was_done(
    settings: Settings, database: Database
) -> None:
    reference = erasure_case(settings, database)
    with database.transaction() as session:
        officer.approve(session, desk(settings, APPROVED), reference)
    tasks = open_tasks(database)
    assert [k for _, k, _ in tasks] == ["manual_erasure"] + ["art19_notify"] * 5  # no webshop API: by hand
    assert result(database).status == "held"  # not queued: nothing past-tense leaves while a step is open
    with database.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.state == "in_progress"  # still on the officer's open list
        assert case.requester_email == "anna@example.org"  # not anonymised yet

    *first, last = tasks
    for number, (task_id, _, _) in enumerate(first):
        with database.transaction() as session:
            officer.finish_task(session, desk(settings, APPROVED + timedelta(days=1 + number)), task_id, done=True,
                                reason=None)
        assert result(database).status == "held"
    with database.transaction() as session:
        officer.finish_task(session, desk(settings, APPROVED + timedelta(days=9)), last[0], done=False,
                            reason="Google Analytics krijgt geen klantgegevens van ons")

    sent = result(database)
    assert sent.status == "queued"
    assert "(op 11 maart 2026)" in sent.body_text  # the day the webshop erasure was really done
    assert "Meer dan Online, Mollie, PostNL, WooCommerce." in sent.body_text  # the notices done
    assert "Niet doorgegeven aan: Google Analytics" in sent.body_text  # skipped, not claimed as informed
    assert "krijgt geen klantgegevens" not in sent.body_text  # the officer's internal reason stays internal
    with database.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.state == "completed" and case.anonymised


def test_the_target_date_before_the_last_step_brings_an_interim_notice(settings: Settings, database: Database) -> None:
    reference = erasure_case(settings, database, language="en")
    with database.transaction() as session:
        officer.approve(session, desk(settings, APPROVED), reference)
    erase, *notices = open_tasks(database)
    with database.transaction() as session:
        officer.finish_task(session, desk(settings, APPROVED), erase[0], done=True, reason=None)
        officer.finish_task(session, desk(settings, APPROVED), notices[0][0], done=True, reason=None)
    tick(settings, database, datetime(2026, 3, 25, 7, 0, tzinfo=UTC), CUES)  # a week before the target: quiet
    with database.transaction() as session:
        assert session.scalars(select(Outbox).where(Outbox.kind == "interim")).all() == []
    for hour in (7, 8):  # the day before the target, twice: one notice
        tick(settings, database, datetime(2026, 3, 31, hour, 0, tzinfo=UTC), CUES)
    with database.transaction() as session:
        (interim,) = session.scalars(select(Outbox).where(Outbox.kind == "interim")).all()
    assert interim.status == "queued" and interim.to_addr == "anna@example.org"
    assert "We have erased your data in our web shop (on 10 March 2026)." in interim.body_text
    assert "We have informed Meer dan Online (on 10 March 2026)." in interim.body_text
    assert "We will inform Mollie." in interim.body_text and "We will inform Google Analytics." in interim.body_text
    assert "by 2 April 2026 at the latest" in interim.body_text
    assert result(database).status == "held"


def approved_erasure(settings: Settings, database: Database) -> str:
    reference = erasure_case(settings, database)
    with database.transaction() as session:
        officer.approve(session, desk(settings, APPROVED), reference)
    return reference


def finish(settings: Settings, database: Database, task_id: int) -> None:
    with database.transaction() as session:
        officer.finish_task(session, desk(settings, APPROVED), task_id, done=True, reason=None)


def all_tasks(database: Database) -> list[tuple[str, str]]:
    with database.transaction() as session:
        return [(t.kind, t.status) for t in session.scalars(select(Task).order_by(Task.id))]


def test_the_result_after_an_erasure_greets_by_the_name_kept_with_the_case(settings: Settings,
                                                                            database: Database) -> None:
    """Before: the registry row was deleted at approval, so the result written at release said only "Hallo,"."""
    approved_erasure(settings, database)
    for task_id, _, _ in open_tasks(database):
        finish(settings, database, task_id)
    sent = result(database)
    assert sent.status == "queued" and sent.body_text.startswith("Hallo Anna Jansen,")
    with database.transaction() as session:  # the kept name goes with the anonymisation
        case = session.scalars(select(Case)).one()
        assert case.anonymised and not any("Anna" in str(e.data) for e in case.events)


def test_closing_with_open_steps_is_refused_unless_they_are_skipped_and_then_the_result_is_true(
    settings: Settings, database: Database
) -> None:
    """Before: `cases close` completed the case and left the approved result held for ever, unsent."""
    reference = approved_erasure(settings, database)
    _, first, *_ = open_tasks(database)
    finish(settings, database, first[0])
    with database.transaction() as session, pytest.raises(OfficerError) as refused:
        officer.close(session, desk(settings, APPROVED), reference, reason="telefonisch afgehandeld")
    assert "still has 5 open step(s) and 1 held result(s)" in str(refused.value)
    assert result(database).status == "held"

    with database.transaction() as session:
        officer.close(session, desk(settings, APPROVED + timedelta(days=1)), reference,
                      reason="telefonisch afgehandeld", skip_open_steps=True)
    assert all_tasks(database) == [("manual_erasure", "skipped"), ("art19_notify", "done")] + \
        [("art19_notify", "skipped")] * 4
    sent = result(database)
    assert sent.status == "queued"
    assert "van ons hebben gekregen: Meer dan Online.\n" in sent.body_text  # only the notice done
    assert "Niet doorgegeven aan: Mollie, PostNL, WooCommerce, Google Analytics" in sent.body_text
    assert "Je gegevens in onze webwinkel hebben we niet gewist." in sent.body_text  # skipped, so not claimed
    assert "Dit hebben we gewist" not in sent.body_text and "(op " not in sent.body_text
    with database.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.state == "completed" and case.anonymised


def test_a_withdrawn_case_drops_its_held_result(settings: Settings, database: Database) -> None:
    reference = approved_erasure(settings, database)
    with database.transaction() as session:
        officer.close(session, desk(settings, APPROVED), reference, reason="klant trekt in", withdrawn=True,
                      skip_open_steps=True)
    assert result(database).status == "rejected"
    assert {status for _, status in all_tasks(database)} == {"skipped"}


def edited_and_approved(settings: Settings, database: Database, addition: str) -> str:
    """The erasure case with ``addition`` written under its result by the officer, then approved."""
    reference = erasure_case(settings, database)
    with database.transaction() as session:
        mail = session.scalars(select(Outbox).where(Outbox.kind == "result_erasure")).one()
        officer.edit_draft(session, desk(settings, APPROVED), reference, mail.id, subject=mail.subject,
                           body=mail.body_text + addition)
        officer.approve(session, desk(settings, APPROVED), reference)
    return reference


def test_an_edited_result_comes_back_for_review_once_its_steps_are_done(settings: Settings,
                                                                        database: Database) -> None:
    """Before: the officer's edited text ("... doorgegeven aan Google Analytics") went out as written at
    release, although she skipped that notice. Now it returns to her; her second approval sends it and
    carries out nothing twice."""
    reference = edited_and_approved(settings, database, "\nMet vriendelijke groet, ook namens Google Analytics.")
    *first, last = open_tasks(database)
    for task_id, _, _ in first:
        finish(settings, database, task_id)
    with database.transaction() as session:
        officer.finish_task(session, desk(settings, APPROVED), last[0], done=False, reason="geen klantdata")
    assert result(database).status == "draft"  # not sent as written
    with database.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.state == "awaiting_approval" and [e.kind for e in case.events][-2] == "result_review"
    tasks = all_tasks(database)

    with database.transaction() as session:
        officer.approve(session, desk(settings, APPROVED + timedelta(days=1)), reference)
    sent = result(database)
    assert sent.status == "queued" and "ook namens Google Analytics" in sent.body_text  # as she approved it now
    assert all_tasks(database) == tasks  # no second erasure task, no second round of notices
    with database.transaction() as session:
        assert session.scalars(select(Case)).one().state == "completed"


SKIPPED_ALL = {  # language: (subjects, words the result must not hold once every step was skipped)
    "nl": (("Je verzoek om je gegevens te wissen", "Je verzoek om je gegevens te verbeteren"),
           ("gewist:", "kunnen er niet meer bij", "niets van je gegevens bewaard", "niet nodig", "aangepast:")),
    "en": (("Your request to erase your data", "Your request to correct your data"),
           ("we erased:", "can no longer see it", "kept none", "not needed", "we changed:")),
    "de": (("Ihre Anfrage, Ihre Daten zu löschen", "Ihre Anfrage, Ihre Daten zu berichtigen"),
           ("gelöscht:", "nicht mehr einsehen", "keine Ihrer Daten aufbewahrt", "nicht nötig", "geändert:")),
    "fr": (("Votre demande d'effacement de vos données", "Votre demande de rectification de vos données"),
           ("effacé :", "n'y a plus accès", "aucune de vos données", "pas nécessaire", "modifié :")),
}


def approved_with(settings: Settings, database: Database, rights: list[str], language: str = "nl") -> str:
    """The erasure case asking for ``rights``, its results drafted and approved."""
    reference = erasure_case(settings, database, language=language)
    with database.transaction() as session:
        case = session.scalars(select(Case)).one()
        case.rights = rights
        session.flush()
        draft_results(session, desk(settings, RECEIVED, "agent"), case)
        officer.approve(session, desk(settings, APPROVED), reference)
    return reference


@pytest.mark.parametrize("language", sorted(SKIPPED_ALL))
def test_a_result_after_skipping_every_step_claims_none_of_them(settings: Settings, database: Database,
                                                                 language: str) -> None:
    """Before: "onze medewerkers kunnen er niet meer bij" about invoices of an account not erased, "we recorded
    why that was not needed" about notices skipped for another reason, and a correction listed as made."""
    reference = approved_with(settings, database, ["erasure", "rectification"], language)
    with database.transaction() as session:
        officer.rectify(session, desk(settings, APPROVED), reference, {"billing.postcode": "7741AB"})
        officer.close(session, desk(settings, APPROVED), reference, reason="klant belde", skip_open_steps=True)
    subjects, untrue = SKIPPED_ALL[language]
    with database.transaction() as session:
        sent = session.scalars(select(Outbox).where(Outbox.kind.in_(("result_erasure", "result_rectification")),
                                                    Outbox.status == "queued").order_by(Outbox.kind)).all()
        assert tuple(mail.subject.removeprefix(f"[{reference}] ") for mail in sent) == subjects
        for mail in sent:
            assert not [words for words in untrue if words in mail.body_text], mail.body_text
            assert "Google Analytics" in mail.body_text  # the skipped notices are named, not explained away


def test_a_withdrawal_by_mail_after_an_approved_erasure_goes_to_the_officer(settings: Settings,
                                                                              database: Database) -> None:
    """Before: the case became withdrawn with its result held and its tasks open for ever, never anonymised,
    and Anna was told "we handelen het verder niet af" although her registry row was already deleted."""
    reference = approved_erasure(settings, database)
    msg = ParsedMessage(message_id="<w@example.org>", subject="Re: wissen", text="Laat maar, ik trek het in.",
                        from_=Address(email="anna@example.org"))
    with database.transaction() as session:
        case = session.scalars(select(Case)).one()
        outcome = continue_case(session, desk(settings, APPROVED, "agent"), case, msg, ReplyReading(withdraw=True),
                                Authority.FULL)
        assert outcome.startswith("a note for the officer: the customer withdrew the request by e-mail after the "
                                  "erasure was approved")
        assert case.state == "in_progress"  # on the officer's list, not closed with its steps left behind
        kinds = session.scalars(select(Outbox.kind).where(Outbox.case_id == case.id)).all()
        assert "withdrawn" not in kinds and "officer_new_case" in kinds
    assert result(database).status == "held"
    with database.transaction() as session:  # she closes it as withdrawn: nothing held, nothing kept
        officer.close(session, desk(settings, APPROVED), reference, reason="klant trekt in", withdrawn=True,
                      skip_open_steps=True)
        case = session.scalars(select(Case)).one()
        assert case.state == "withdrawn" and case.anonymised and not any("Anna" in str(e.data) for e in case.events)
    assert result(database).status == "rejected"


def test_a_case_being_carried_out_is_neither_closed_as_spam_nor_merged(settings: Settings,
                                                                        database: Database) -> None:
    """Before: either closed the approved erasure with its result held and its steps unfinishable."""
    reference = approved_erasure(settings, database)
    with database.transaction() as session:
        case = session.scalars(select(Case)).one()
        case.requester_key = "anna@example.org"
        session.add(Case(shop="default", reference="KT-2026-000000", state="in_progress", rights=["erasure"],
                         language="nl", requester_email="anna@example.org", requester_key="anna@example.org",
                         identity_status="unverified", received_at=RECEIVED - timedelta(days=1),
                         deadline_raw=case.deadline_raw, deadline_legal=case.deadline_legal,
                         deadline_target=case.deadline_target, created_at=RECEIVED, thread_ids=[], events=[]))
    for what in ("spam", "merge"):
        with database.transaction() as session, pytest.raises(OfficerError) as refused:
            if what == "spam":
                spam.close_as_spam(session, desk(settings, APPROVED), reference, reason="spam", block=False)
            else:
                merge.merge(session, desk(settings, APPROVED), reference, "KT-2026-000000")
        assert refused.value.key == "officer_error.under_way"
    with database.transaction() as session:
        assert session.scalars(select(Case).where(Case.reference == reference)).one().state == "in_progress"
    assert result(database).status == "held"


def test_a_redraft_after_rejecting_the_edited_result_executes_nothing_again(settings: Settings,
                                                                             database: Database) -> None:
    """Before: 'nothing twice' held only for the same draft: a new draft's approval erased again (a second
    manual task and five new notices)."""
    reference = edited_and_approved(settings, database, "\nGroet.")
    for task_id, _, _ in open_tasks(database):
        finish(settings, database, task_id)
    tasks = all_tasks(database)
    with database.transaction() as session:
        edited = session.scalars(select(Outbox).where(Outbox.status == "draft")).one()
        officer.reject_draft(session, desk(settings, APPROVED), reference, edited.id, reason="opnieuw")
        officer.redraft(session, desk(settings, APPROVED), reference)
        officer.approve(session, desk(settings, APPROVED), reference)
    assert all_tasks(database) == tasks  # no second erasure task, no second round of notices
    with database.transaction() as session:
        (sent,) = session.scalars(select(Outbox).where(Outbox.status == "queued",
                                                       Outbox.kind == "result_erasure")).all()
        assert "Meer dan Online, Mollie, PostNL, WooCommerce, Google Analytics." in sent.body_text  # each told once
        assert session.scalars(select(Case)).one().state == "completed"


def test_closing_with_skipped_steps_never_skips_an_objections_marketing_stop(settings: Settings,
                                                                             database: Database) -> None:
    """Before: --skip-open-steps skipped the newsletter/analytics removal too, though an objection's stop is
    absolute (Art. 21(3))."""
    reference = approved_with(settings, database, ["erasure", "objection"])
    with database.transaction() as session, pytest.raises(OfficerError) as refused:
        officer.close(session, desk(settings, APPROVED), reference, reason="klant belde", skip_open_steps=True)
    assert refused.value.key == "officer_error.objection_open"
    (stop,) = [task_id for task_id, kind, _ in open_tasks(database) if kind == "manual_objection"]
    finish(settings, database, stop)
    with database.transaction() as session:
        officer.close(session, desk(settings, APPROVED), reference, reason="klant belde", skip_open_steps=True)
    assert ("manual_objection", "done") in all_tasks(database)
    assert ("manual_objection", "skipped") not in all_tasks(database)
