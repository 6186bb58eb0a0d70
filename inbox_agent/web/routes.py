"""The officer pages: each handler reads a form, calls desk/officer.py, and redirects or renders.

Decisions go through ``decision``: one transaction, the same Desk the CLI builds, the
OfficerError sentence shown to the officer, and a redirect back to the case (so a reload
never repeats an action).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import accounts, figures, officer_error, request_register, workqueue
from ..case_states import CLOSED, State, TransitionError
from ..desk import case_views, merge, officer, spam
from ..desk.context import Desk
from ..messages import LANGUAGES
from ..models import RIGHTS
from ..runtime import officer_desk
from ..workqueue import CaseQuery
from . import present
from .auth import client_address, log_in, officer_name, session_token
from .i18n import translator
from .views import flash, language, page, web

Action = Callable[[Session, Desk, dict[str, Any], FormData], object]
Endpoint = Callable[[Request], Awaitable[Response]]


def _field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


def _local_path(value: str) -> str:
    """Where to go after login or a language switch: only a path on this site."""
    return value if value.startswith("/") and not value.startswith(("//", "/\\")) else "/"


PACKAGE_KINDS = frozenset({"result_access", "result_portability"})
"""Answers that must carry the customer's data package."""


def case_url(reference: str) -> str:
    return f"/cases/{quote(reference)}"


async def dashboard(request: Request) -> Response:
    """"Voor mij" (or all cases): the query is the page's address, so a view can be bookmarked."""
    params = {k: v for k, v in request.query_params.items() if v != ""}
    if params.get("all") == "1":
        params["view"] = "all"
    try:
        query = CaseQuery.model_validate(params)
    except ValidationError:
        query = CaseQuery()
    settings = web(request).settings
    soon = settings.policy.remind_days_before_target
    found = await web(request).run(lambda s: workqueue.find(s, datetime.now(UTC), query, soon_days=soon))
    return page(request, "dashboard.html", found=found, query=query, soon=soon, needs=workqueue.NEEDS,
                states=[str(s) for s in State], all_rights=[str(r) for r in RIGHTS],
                shops=[box.name for box in settings.all_mailboxes()],
                several_shops=len(settings.all_mailboxes()) > 1, link=_query_link(query))


def _query_link(query: CaseQuery) -> Callable[..., str]:
    """``link(page=2)``: the address of this view with some fields changed (defaults left out)."""
    defaults = CaseQuery().model_dump()

    def link(**changes: object) -> str:
        values = {**query.model_dump(), **changes}
        kept = {k: ("1" if v is True else v) for k, v in values.items() if v != defaults[k] and v is not False}
        return "/?" + urlencode(kept) if kept else "/"

    return link


async def case_page(request: Request) -> Response:
    reference = request.path_params["reference"]
    now = datetime.now(UTC)

    def load(session: Session) -> tuple[case_views.CaseDetail, list[present.OriginalMail]]:
        detail = case_views.case_detail(session, reference, now)
        originals = [present.original_mail(m, case_views.read_message(session, reference, m["id"]))
                     for m in detail.messages]
        return detail, originals

    try:
        detail, originals = await web(request).run(load)
    except officer_error.OfficerError as exc:
        t = translator(language(request))
        return page(request, "error.html", status=404, heading=t("error.not_found"), message=t.error(exc))
    settings = web(request).settings
    packages = {path: present.package_summary(path) for mail in detail.mails if mail.status == "draft"
                for path in mail.attachments}
    return page(request, "case.html", case=detail, originals=originals, all_rights=[str(r) for r in RIGHTS],
                packages=packages,
                soon=settings.policy.remind_days_before_target,
                closed=detail.state in CLOSED, confirm_methods=officer.CONFIRM_METHODS,
                deadline=present.deadline_steps(detail.received, bool(detail.extended)))


def decision(action: Action, done: str | None, then: Callable[[dict[str, Any]], str] | None = None) -> Endpoint:
    """An endpoint running ``action`` for the case in the path, as the logged-in officer.

    Afterwards the officer is sent to ``then`` (default: the case page) with the ``done``
    flash; when the action fails, back to the case page with the reason.
    """

    async def endpoint(request: Request) -> Response:
        params, form = request.path_params, await request.form()
        actor, now = officer_name(request.session) or "", datetime.now(UTC)
        settings = web(request).settings

        def run(session: Session) -> None:
            shop = case_views.get_case(session, params["reference"]).shop
            action(session, officer_desk(settings, shop, actor, now), params, form)

        t = translator(language(request))
        try:
            await web(request).run(run)
        except (officer_error.OfficerError, TransitionError) as exc:
            flash(request, "error", t.error(exc))
            return RedirectResponse(case_url(params["reference"]), status_code=303)
        if done:
            flash(request, "ok", t(done))
        return RedirectResponse(then(params) if then else case_url(params["reference"]), status_code=303)

    return endpoint


def _save_draft(session: Session, desk: Desk, p: dict[str, Any], form: FormData) -> None:
    """Save the editor's text; the timeline gets a "draft_edited" event only when it changed."""
    reference, mail_id = p["reference"], p["mail_id"]
    subject, body = _field(form, "subject"), _field(form, "body")
    current = {m.id: m for m in case_views.case_detail(session, reference, desk.now).mails}.get(mail_id)
    if current is None or (current.subject, current.body_text) != (subject, body):
        officer.edit_draft(session, desk, reference, mail_id, subject=subject, body=body)


def confirm_url(p: dict[str, Any]) -> str:
    return f"{case_url(p['reference'])}/mails/{p['mail_id']}/confirm"


def _approve_draft(session: Session, desk: Desk, p: dict[str, Any], form: FormData) -> None:
    """Approve the version the confirmation page showed; a draft changed since then is refused."""
    officer.approve(session, desk, p["reference"], p["mail_id"], version=_field(form, "version"))


async def confirm_page(request: Request) -> Response:
    """What will go out, before it does: recipient, subject, text, attachments with sizes."""
    reference, mail_id = request.path_params["reference"], request.path_params["mail_id"]
    t = translator(language(request))
    try:
        detail = await web(request).run(lambda s: case_views.case_detail(s, reference, datetime.now(UTC)))
    except officer_error.OfficerError as exc:
        return page(request, "error.html", status=404, heading=t("error.not_found"), message=t.error(exc))
    draft = next((m for m in detail.mails if m.id == mail_id and m.status == "draft"), None)
    if draft is None:
        flash(request, "error", t("officer_error.no_draft", case=detail.reference, mail=mail_id))
        return RedirectResponse(case_url(detail.reference), status_code=303)
    files = present.attachments(draft.attachments)
    return page(request, "confirm.html", case=detail, mail=draft, files=files,
                incomplete=any(f.size is None or f.size == 0 for f in files),
                no_package=draft.kind in PACKAGE_KINDS and not files)


def _discard_draft(session: Session, desk: Desk, p: dict[str, Any], form: FormData) -> None:
    officer.reject_draft(session, desk, p["reference"], p["mail_id"], reason=_field(form, "reason"))


def _refuse(session: Session, desk: Desk, p: dict[str, Any], form: FormData) -> None:
    officer.refuse(session, desk, p["reference"], reason=_field(form, "reason"))


def _confirm_identity(session: Session, desk: Desk, p: dict[str, Any], form: FormData) -> None:
    officer.confirm_identity(session, desk, p["reference"], method=_field(form, "method"),
                             reason=_field(form, "reason"))


def _extend(session: Session, desk: Desk, p: dict[str, Any], form: FormData) -> None:
    officer.extend(session, desk, p["reference"], reason=_field(form, "reason"))


def _close(session: Session, desk: Desk, p: dict[str, Any], form: FormData) -> None:
    officer.close(session, desk, p["reference"], reason=_field(form, "reason"), withdrawn="withdrawn" in form,
                  skip_open_steps="skip_open_steps" in form)


def _set_rights(session: Session, desk: Desk, p: dict[str, Any], form: FormData) -> None:
    officer.set_rights(session, desk, p["reference"], [str(r) for r in form.getlist("rights")])


def _merge(session: Session, desk: Desk, p: dict[str, Any], form: FormData) -> None:
    merge.merge(session, desk, p["reference"], _field(form, "into"))


def _keep_separate(session: Session, desk: Desk, p: dict[str, Any], form: FormData) -> None:
    merge.keep_separate(session, desk, p["reference"], _field(form, "other"))


def _spam(session: Session, desk: Desk, p: dict[str, Any], form: FormData) -> None:
    spam.close_as_spam(session, desk, p["reference"], reason=_field(form, "reason"), block="block" in form)


def _redraft(session: Session, desk: Desk, p: dict[str, Any], form: FormData) -> None:
    officer.redraft(session, desk, p["reference"])


def _finish_task(session: Session, desk: Desk, p: dict[str, Any], form: FormData) -> None:
    done = form.get("action") == "done"
    officer.finish_task(session, desk, p["task_id"], done=done, reason=_field(form, "reason") or None)


async def package_download(request: Request) -> Response:
    """A draft's attachment (the access/portability package), for the officer to open before approving it."""
    reference, mail_id, index = (request.path_params[k] for k in ("reference", "mail_id", "index"))

    def load(session: Session) -> str | None:
        case = case_views.get_case(session, reference)
        mail = next((m for m in case_views.case_detail(session, case.reference, datetime.now(UTC)).mails
                     if m.id == mail_id), None)
        return mail.attachments[index] if mail is not None and index < len(mail.attachments) else None

    try:
        path = await web(request).run(load)
    except officer_error.OfficerError:
        path = None
    if path is None or not Path(path).is_file():
        t = translator(language(request))
        return page(request, "error.html", status=404, heading=t("error.not_found"), message="")
    return FileResponse(path, media_type="application/zip", filename=Path(path).name)


async def register_page(request: Request) -> Response:
    return page(request, "register.html", rows=await web(request).run(request_register.entries))


async def register_csv(request: Request) -> Response:
    rows = await web(request).run(request_register.entries)
    filename = f"register-{datetime.now(UTC):%Y-%m-%d}.csv"
    return Response(request_register.to_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


async def statistics_page(request: Request) -> Response:
    found = await web(request).run(lambda s: figures.figures(s, datetime.now(UTC)))
    bars = present.month_bars(found)
    return page(request, "statistics.html", figures=found, bars=bars, colours=present.RIGHT_COLOURS,
                width=present.CHART_WIDTH, height=present.CHART_HEIGHT, axis=present.AXIS)


async def statistics_csv(request: Request) -> Response:
    found = await web(request).run(lambda s: figures.figures(s, datetime.now(UTC)))
    filename = f"requests-per-month-{datetime.now(UTC):%Y-%m-%d}.csv"
    return Response(figures.to_csv(found), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


async def recipients_page(request: Request) -> Response:
    settings = web(request).settings
    shops = [(box, present.templates_in_use(settings, box.shop)) for box in settings.all_mailboxes()]
    return page(request, "recipients.html", shops=shops)


async def login_form(request: Request) -> Response:
    if officer_name(request.session):
        return RedirectResponse("/", status_code=303)
    if request.query_params.get("lang") in LANGUAGES:
        request.session["language"] = request.query_params["lang"]
    return page(request, "login.html", next=_local_path(request.query_params.get("next", "/")), error=None)


async def login(request: Request) -> Response:
    form = await request.form()
    name, password, now = _field(form, "name"), _field(form, "password"), datetime.now(UTC)
    client = client_address(request.scope)

    def check(session: Session) -> tuple[accounts.Verdict, str | None]:
        verdict = accounts.authenticate(session, name, password, now, client=client)
        token = accounts.open_session(session, verdict.name, now, client=client) if verdict.name else None
        return verdict, token

    verdict, token = await web(request).run(check)
    if verdict.name is not None and token is not None:
        log_in(request.session, verdict.name, verdict.language, token, admin=verdict.admin)
        return RedirectResponse(_local_path(_field(form, "next")), status_code=303)
    t = translator(language(request))
    error = (t("login.locked", until=t.when(verdict.retry_at))
             if verdict.retry_at else t("login.wrong"))
    return page(request, "login.html", status=401, next=_local_path(_field(form, "next")), error=error)


async def logout(request: Request) -> Response:
    token, now = session_token(request.session), datetime.now(UTC)
    if token is not None:
        await web(request).run(lambda s: accounts.end_session(s, token, now))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def switch_language(request: Request) -> Response:
    form = await request.form()
    lang, name, now = _field(form, "language"), officer_name(request.session) or "", datetime.now(UTC)
    if lang in LANGUAGES:
        await web(request).run(lambda s: accounts.set_language(s, name, lang, now))
        request.session["language"] = lang
    return RedirectResponse(_local_path(_field(form, "next")), status_code=303)


ROUTES = [
    Route("/", dashboard),
    Route("/cases/{reference}", case_page, name="case"),
    Route("/cases/{reference}/mails/{mail_id:int}", decision(_save_draft, "done.saved"), methods=["POST"]),
    Route("/cases/{reference}/mails/{mail_id:int}/check", decision(_save_draft, None, then=confirm_url),
          methods=["POST"]),
    Route("/cases/{reference}/mails/{mail_id:int}/confirm", confirm_page),
    Route("/cases/{reference}/mails/{mail_id:int}/approve", decision(_approve_draft, "done.approved"),
          methods=["POST"]),
    Route("/cases/{reference}/mails/{mail_id:int}/package/{index:int}", package_download),
    Route("/cases/{reference}/mails/{mail_id:int}/discard", decision(_discard_draft, "done.discarded"),
          methods=["POST"]),
    Route("/cases/{reference}/refuse", decision(_refuse, "done.refused"), methods=["POST"]),
    Route("/cases/{reference}/extend", decision(_extend, "done.extended"), methods=["POST"]),
    Route("/cases/{reference}/identity", decision(_confirm_identity, "done.confirmed"), methods=["POST"]),
    Route("/cases/{reference}/close", decision(_close, "done.closed"), methods=["POST"]),
    Route("/cases/{reference}/rights", decision(_set_rights, "done.rights"), methods=["POST"]),
    Route("/cases/{reference}/redraft", decision(_redraft, "done.redrafted"), methods=["POST"]),
    Route("/cases/{reference}/merge", decision(_merge, "done.merged"), methods=["POST"]),
    Route("/cases/{reference}/keep-separate", decision(_keep_separate, "done.kept"), methods=["POST"]),
    Route("/cases/{reference}/spam", decision(_spam, "done.spam"), methods=["POST"]),
    Route("/cases/{reference}/tasks/{task_id:int}", decision(_finish_task, "done.task"), methods=["POST"]),
    Route("/register", register_page),
    Route("/register.csv", register_csv),
    Route("/recipients", recipients_page),
    Route("/statistics", statistics_page),
    Route("/statistics.csv", statistics_csv),
    Route("/login", login_form),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/language", switch_language, methods=["POST"]),
]
