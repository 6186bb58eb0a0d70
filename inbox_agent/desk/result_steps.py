"""Results only when true (LEGAL.md, "Results tell the truth"): the steps of a data-changing right.

An approved erasure, restriction or rectification result is held while any step (a webshop
change, a manual task, an Art. 19 notice) is open, and then written from what was really done.
Apart from fulfil.py, which carries the rights out, because the officer's actions, the scheduler
(the interim notice), the webshop jobs and spam/merge checks ask only about the steps.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import replies, webshop_jobs
from ..case_states import State, record, transition
from ..db.tables import Case, CaseEvent, Outbox, Task
from ..models import Category
from ..replies import Done, Kept, ResultDetails, Step
from .case_mail import greeting_name, reply_context, send
from .context import Desk
from .fulfil import FISCAL_YEARS, FROZEN, MARKETING_STOP

HELD = "held"
"""Outbox status of an approved erasure, restriction or rectification result while steps are open."""
STEPPED = frozenset({Category.ERASURE, Category.RESTRICTION, Category.RECTIFICATION})
INTERIM_BEFORE = timedelta(days=2)
"""The interim notice goes out from the day before the target date (which ends 23:59), so it is there in time."""
_STEP_OF_JOB = {"erase": "webshop_erasure", "rectify": "webshop_rectification"}
_STEP_OF_TASK = {"manual_erasure": "webshop_erasure", "manual_restriction": "webshop_restriction",
                 "manual_rectification": "webshop_rectification", MARKETING_STOP: "marketing_stop",
                 "art19_notify": "notify", "export_too_large": "export"}


def _tasks(session: Session, case: Case) -> list[Task]:
    session.flush()  # tasks added in this transaction count too
    return list(session.scalars(select(Task).where(Task.case_id == case.id).order_by(Task.id)))


def progress(session: Session, case: Case) -> tuple[list[Step], list[Step]]:
    """The case's execution steps: (done, with their dates; still open). Skipped steps are neither."""
    tasks = _tasks(session, case)
    manual = {t.kind for t in tasks}
    done = [Step(what=f"webshop_{right}", on=event.at.date()) for event in case.events
            if (right := _made_through_api(event)) and f"manual_{right}" not in manual]
    pending = [Step(what=_STEP_OF_JOB[p]) for p in webshop_jobs.pending_changes(session, case)]
    for task in tasks:
        if task.kind not in _STEP_OF_TASK:
            continue  # the officer's own checks are no steps to report to the customer
        step = Step(what=_STEP_OF_TASK[task.kind], recipient=task.recipient)
        if task.status == "done":
            done.append(step.model_copy(update={"on": (task.done_at or task.created_at).date()}))
        elif task.status == "open":
            pending.append(step)
    return done, pending


def _made_through_api(event: CaseEvent) -> str | None:
    """The right whose webshop change this event records (made at once, through the API), if any.

    Where the change is a manual task instead, the task is the step (``progress`` checks).
    """
    if event.kind == "executed" and event.data.get("right") in STEPPED:
        return str(event.data["right"])
    return None


def final_details(session: Session, case: Case, right: str) -> ResultDetails:
    """What the result of a data-changing right says once every step is done: only what was done."""
    done, _ = progress(session, case)
    notices = [t for t in _tasks(session, case) if t.kind == "art19_notify" and t.recipient]
    informed = list(dict.fromkeys(t.recipient for t in notices if t.status == "done" and t.recipient))
    skipped = [n for n in dict.fromkeys(t.recipient for t in notices if t.status == "skipped" and t.recipient)
               if n not in informed]
    webshop = next((s.on for s in done if s.what == f"webshop_{right}" and s.on), None)
    details = ResultDetails(recipients_informed=informed, recipients_not_informed=skipped)
    if right == Category.ERASURE:
        until = date(case.received_at.year + FISCAL_YEARS, 12, 31)
        # What the law keeps is told only when the rest was erased: an account not erased was not "kept".
        kept = [Kept(what="invoices", why="fiscal", until=until)] if webshop else []
        return details.model_copy(update={"erased": [Done(what="account", on=webshop)] if webshop else [],
                                          "kept": kept})
    if right == Category.RESTRICTION:
        return details.model_copy(update={"frozen": list(FROZEN) if webshop else []})
    if not webshop:  # the webshop correction was skipped: the customer's data there is unchanged
        return details
    changes = [Done(what=f, on=e.at.date()) for e in case.events if e.kind == "rectified" for f in e.data["fields"]]
    return details.model_copy(update={"changes": changes or [Done(what="as_requested", on=webshop)]})


def hold_until_done(session: Session, desk: Desk, case: Case, draft: Outbox) -> None:
    """Right after approval: a data-changing result waits while any step is open, else gets its true text."""
    if draft.kind.removeprefix("result_") not in STEPPED:
        return
    if any(t.status == "open" for t in _tasks(session, case)):
        draft.status = HELD
        record(case, "result_held", actor=desk.actor, at=desk.now, reason="sent once every step is done",
               data={"mail": draft.id, "kind": draft.kind})
    else:
        _true_text(session, desk, case, draft)


def waiting_for_steps(session: Session, desk: Desk, case: Case) -> bool:
    """True while approved results are held; the case is then back in progress, on the officer's list."""
    if not _held(session, case):
        return False
    if case.state == State.AWAITING_APPROVAL:
        transition(case, State.IN_PROGRESS, actor=desk.actor, at=desk.now,
                   reason="approved; the result goes out once every step is done")
    return True


def release_held(session: Session, desk: Desk, case: Case) -> bool:
    """After a step is finished: once none is open, the held results get their true text and are queued."""
    held = _held(session, case)
    if not held or any(t.status == "open" for t in _tasks(session, case)) or webshop_jobs.pending_changes(session,
                                                                                                            case):
        return False
    _release(session, desk, case, held)
    return True


def _release(session: Session, desk: Desk, case: Case, held: list[Outbox]) -> None:
    """Queue each held result with the text of what was done; one the officer edited goes back to her.

    Her words were written before the steps were done and may claim one that was skipped, or a date
    that was not the real one; the agent cannot tell from free text. So an edited result is never
    sent as written after a hold: it returns as a draft, and her second approval (every step now
    final, nothing executed again) sends it as she then wrote it.
    """
    for row in held:
        if _edited(case, row):
            row.status = "draft"
            record(case, "result_review", actor=desk.actor, at=desk.now, reason="steps finished: check the edited "
                   "text states only what was done", data={"mail": row.id, "kind": row.kind})
            continue
        _true_text(session, desk, case, row)
        row.status, row.next_attempt_at = "queued", desk.now
        record(case, "result_released", actor=desk.actor, at=desk.now, data={"mail": row.id, "kind": row.kind})
    if case.state == State.IN_PROGRESS and any(row.status == "draft" for row in held):
        transition(case, State.AWAITING_APPROVAL, actor=desk.actor, at=desk.now, reason="result drafts ready")


def close_blocker(session: Session, case: Case, *, skip: bool, withdrawn: bool) -> tuple[str, dict[str, str]] | None:
    """Why the officer may not close this case now (an ``officer_error`` key and its values), or None.

    Open steps or a held result need ``skip`` (``settle_for_close``); a queued webshop change runs on
    its own and cannot be skipped; a result she edited waits for her to check it against the steps.
    An objection's stop of direct marketing is absolute (Art. 21(3)): its removal task is never skipped
    in bulk; she does it, or skips that one task with its own reason, before the case closes.
    """
    if any(t.status == "open" and t.kind == MARKETING_STOP for t in _tasks(session, case)):
        return "objection_open", {"case": case.reference}
    held = _held(session, case)
    _, pending = progress(session, case)
    if not held and not pending:
        return None
    if webshop_jobs.pending_changes(session, case):
        return "webshop_queued", {"case": case.reference}
    if not skip:
        return "open_steps", {"case": case.reference, "steps": str(len(pending)), "results": str(len(held))}
    if not withdrawn and any(_edited(case, row) for row in held):
        return "edited_held", {"case": case.reference}
    return None


def under_way(session: Session, case: Case) -> bool:
    """Something was approved, is held or has steps open: closing as spam or merging would strand it."""
    return (any(e.kind == "approved" for e in case.events) or bool(_held(session, case))
            or bool(progress(session, case)[1]))


def erasure_executed(case: Case) -> bool:
    """An approved erasure was carried out: a case closed after it keeps only non-identifying facts."""
    return any(e.kind == "approved" and e.data.get("kind") == f"result_{Category.ERASURE}" for e in case.events)


def settle_for_close(session: Session, desk: Desk, case: Case, *, reason: str, withdrawn: bool) -> None:
    """The officer closes a case with steps open (``cases close --skip-open-steps``): nothing stays held silently.

    Each open step task is skipped with her reason, in the audit trail. A held result is then written
    from what was really done (the skipped steps are not claimed) and sent, since the customer is owed
    an answer on what was done (Art. 12(3)); when the customer withdrew the request it is discarded.
    A queued webshop change is not a step she can skip: it runs on its own (``officer.close`` refuses).
    """
    for task in _tasks(session, case):
        if task.status == "open" and task.kind in _STEP_OF_TASK and task.kind != MARKETING_STOP:
            task.status, task.reason, task.done_by, task.done_at = "skipped", reason, desk.actor, desk.now
            record(case, "task_skipped", actor=desk.actor, at=desk.now, reason=reason, data={"task": task.id})
    held = _held(session, case)
    if withdrawn:
        for row in held:
            row.status, row.last_error = "rejected", f"case closed: {reason}"
        return
    _release(session, desk, case, held)


def interim_notice(session: Session, desk: Desk, case: Case) -> None:
    """The target date comes before the last step: tell the customer what is done and what is pending."""
    if desk.now < case.effective_target - INTERIM_BEFORE or not case.verified_email or not _held(session, case):
        return
    if any(e.kind == "interim_notice" for e in case.events):
        return
    done, pending = progress(session, case)
    if not pending:
        return
    send(session, desk, case, "interim", to=case.verified_email, details=ResultDetails(done=done, pending=pending))
    record(case, "interim_notice", actor=desk.actor, at=desk.now, data={"pending": len(pending)})


def _held(session: Session, case: Case) -> list[Outbox]:
    return list(session.scalars(select(Outbox).where(Outbox.case_id == case.id, Outbox.status == HELD)
                                .order_by(Outbox.id)))


def _edited(case: Case, row: Outbox) -> bool:
    return any(e.kind == "draft_edited" and e.data.get("mail") == row.id for e in case.events)


def _true_text(session: Session, desk: Desk, case: Case, row: Outbox) -> None:
    """Render the result again from what was done; an officer's own edit of the text is kept as approved."""
    if _edited(case, row):
        return
    details = final_details(session, case, row.kind.removeprefix("result_"))
    context = reply_context(desk, case, greeting_name(session, case, row.to_addr), details=details)
    mail = replies.render(row.kind, context, to=row.to_addr,
                          in_reply_to=row.in_reply_to, references=row.references,
                          templates_dir=desk.settings.templates_dir)
    row.subject, row.body_text, row.body_html, row.language = mail.subject, mail.body_text, mail.body_html, \
        mail.language
