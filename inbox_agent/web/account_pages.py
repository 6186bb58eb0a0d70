"""Accounts on the web page: every officer's own page (password; the language posts to /language), and the admin's page
to add, disable or enable, remove and reset the password of officers, with the latest account changes (who, what,
whose, when; the whole trail on /accounts/history).

Whether someone is an admin is asked of the database on every request to the admin page (the
session's flag only decides whether the header shows the link). The rules themselves (the last
active admin stays, a new password ends the account's logins, each change's audit row by the admin
named here) live in accounts.py, shared with the CLI; a reset password is shown once, in the answer
to the reset, and never stored in a form.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .. import accounts
from ..messages import LANGUAGES
from .auth import client_address, log_in, officer_name
from .i18n import translator
from .views import flash, language, page, web

AdminAction = Callable[[Session, str, FormData, datetime, str], None]
"""Does the change to the named account for the acting admin (the last argument), whom accounts.py records."""


class Account(BaseModel):
    """One row of the accounts page."""

    name: str
    language: str
    role: str
    created_at: datetime
    disabled: bool


class AccountChange(BaseModel):
    """One row of the account changes (an AccountEvent): never a password, there is none to show."""

    actor: str
    action: str
    target: str
    at: datetime


LATEST = 10
"""Account changes the accounts page shows; the history page has them all."""


def _field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _rows(session: Session) -> list[Account]:
    return [Account(name=o.name, language=o.language, role=o.role, created_at=o.created_at,
                            disabled=accounts.is_disabled(o)) for o in accounts.list_officers(session)]


def _changes(session: Session, limit: int | None = None) -> list[AccountChange]:
    return [AccountChange.model_validate(e, from_attributes=True) for e in accounts.history(session, limit)]


async def _admin_page(request: Request, *, status: int = 200, one_time: tuple[str, str] | None = None) -> Response:
    rows, changes = await web(request).run(lambda s: (_rows(s), _changes(s, LATEST + 1)))
    return page(request, "accounts.html", status=status, rows=rows, languages_all=LANGUAGES, one_time=one_time,
                min_length=accounts.MIN_PASSWORD_LENGTH, changes=changes[:LATEST], more=len(changes) > LATEST)


def _refused(request: Request) -> Response:
    t = translator(language(request))
    return page(request, "error.html", status=403, heading=t("error.title"), message=t("account_error.not_admin"))


def admin_only(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint, for an active admin only (anyone else gets the refusal page)."""

    async def guarded(request: Request) -> Response:
        name = officer_name(request.session) or ""
        if not await web(request).run(lambda s: accounts.is_active_admin(s, name)):
            return _refused(request)
        return await endpoint(request)

    return guarded


@admin_only
async def accounts_page(request: Request) -> Response:
    return await _admin_page(request)


@admin_only
async def history_page(request: Request) -> Response:
    """Every account change, newest first."""
    changes = await web(request).run(_changes)
    return page(request, "account_history.html", changes=changes)


def admin_action(action: AdminAction, done: str) -> Callable[[Request], Awaitable[Response]]:
    """A POST on the accounts page: run ``action`` for the named account, say so, back to the page."""

    @admin_only
    async def endpoint(request: Request) -> Response:
        form, now = await request.form(), datetime.now(UTC)
        name = request.path_params.get("name") or _field(form, "name")
        actor = officer_name(request.session) or ""
        t = translator(language(request))
        try:
            await web(request).run(lambda s: action(s, name, form, now, actor))
        except accounts.AccountError as exc:
            flash(request, "error", t.error(exc))
        else:
            flash(request, "ok", t(done, name=name.strip()))
        return RedirectResponse("/accounts", status_code=303)

    return endpoint


def _add(session: Session, name: str, form: FormData, now: datetime, actor: str) -> None:
    accounts.add_officer(session, name, _field(form, "password"), language=_field(form, "language"), now=now,
                         actor=actor, admin="admin" in form)


def _disable(session: Session, name: str, form: FormData, now: datetime, actor: str) -> None:
    accounts.set_disabled(session, name, _field(form, "action") != "enable", now, actor=actor)


def _remove(session: Session, name: str, form: FormData, now: datetime, actor: str) -> None:
    accounts.remove_officer(session, name, now, actor=actor)


@admin_only
async def reset_password(request: Request) -> Response:
    """A new random password for the account, shown on this answer only; its logins end."""
    name, now = request.path_params["name"], datetime.now(UTC)
    actor = officer_name(request.session) or ""
    t = translator(language(request))
    try:
        password = await web(request).run(lambda s: accounts.reset_password(s, name, now, actor=actor))
    except accounts.AccountError as exc:
        flash(request, "error", t.error(exc))
        return RedirectResponse("/accounts", status_code=303)
    return await _admin_page(request, one_time=(name, password))


async def own_page(request: Request) -> Response:
    return page(request, "account.html", min_length=accounts.MIN_PASSWORD_LENGTH)


async def own_password(request: Request) -> Response:
    """Her own new password (the current one first). Every login ends, this one starts again."""
    form, now = await request.form(), datetime.now(UTC)
    name, lang = officer_name(request.session) or "", language(request)
    client, admin = client_address(request.scope), request.session.get("admin") is True
    t = translator(lang)
    new = _field(form, "new")
    if new != _field(form, "repeat"):
        flash(request, "error", t("account_error.mismatch"))
        return RedirectResponse("/account", status_code=303)

    def change(session: Session) -> str:
        accounts.change_own_password(session, name, _field(form, "current"), new, now)
        return accounts.open_session(session, name, now, client=client)

    try:
        token = await web(request).run(change)
    except accounts.AccountError as exc:
        flash(request, "error", t.error(exc))
        return RedirectResponse("/account", status_code=303)
    log_in(request.session, name, lang, token, admin=admin)
    flash(request, "ok", t("done.password_changed"))
    return RedirectResponse("/account", status_code=303)


ROUTES = [
    Route("/accounts", accounts_page),
    Route("/accounts/history", history_page),
    Route("/accounts", admin_action(_add, "done.officer_added"), methods=["POST"]),
    Route("/accounts/{name}/disable", admin_action(_disable, "done.officer_changed"), methods=["POST"]),
    Route("/accounts/{name}/remove", admin_action(_remove, "done.officer_removed"), methods=["POST"]),
    Route("/accounts/{name}/reset-password", reset_password, methods=["POST"]),
    Route("/account", own_page),
    Route("/account/password", own_password, methods=["POST"]),
]
