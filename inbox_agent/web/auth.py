"""Who may use the officer pages: the session, the login guard, the CSRF check, the headers.

The guards are middleware around the whole router, so a route added later is protected
without anyone remembering to protect it: only the login page and the static files are
open, and every POST, PUT, PATCH or DELETE must carry the session's CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import accounts
from ..config import Settings

SESSION_COOKIE = "inbox_agent_session"
OPEN_PATHS = frozenset({"/login"})
OPEN_PREFIX = "/static/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf"
MAX_FORM_BYTES = 2 * 1024 * 1024
SECURITY_HEADERS = {
    # No page needs a script: if escaping ever failed, the browser would still not run one.
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


def session_secret(settings: Settings) -> str:
    """The web secret, or one derived from the agent's secret so a fresh install needs no extra key."""
    if settings.web.secret_key is not None:
        return settings.web.secret_key.get_secret_value()
    return hmac.new(settings.secret.encode(), b"inbox-agent web session", hashlib.sha256).hexdigest()


def session_middleware(settings: Settings) -> Middleware:
    """Signed cookie, HttpOnly (Starlette always sets it), SameSite=Lax, Secure behind https.

    The cookie is only a carrier: it holds a random token whose login lives on the server
    (``accounts.OfficerSession``), so a copied cookie dies with logout, idle time or a new password.

    Lax rather than Strict so the links in the officer's notification mails open the case
    directly; cross-site POSTs are still refused by the CSRF check.
    """
    return Middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.web.session_hours * 3600),
        same_site="lax",
        https_only=settings.web.base_url.startswith("https://"),
    )


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIX)


def officer_name(session: dict[str, Any]) -> str | None:
    name = session.get("officer")
    return name if isinstance(name, str) else None


def csrf_token(session: dict[str, Any]) -> str:
    """The session's token, made on first use (the login form needs one before anyone logs in)."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def log_in(session: dict[str, Any], name: str, language: str, token: str, *, admin: bool) -> None:
    """A new session for the officer: nothing from before the login survives, the tokens are new.

    ``admin`` only decides whether the header links to the accounts page; the page itself
    asks the database (a role taken away counts at once).
    """
    session.clear()
    session.update(officer=name, language=language, token=token, admin=admin)
    csrf_token(session)


def session_token(session: dict[str, Any]) -> str | None:
    token = session.get("token")
    return token if isinstance(token, str) else None


def client_address(scope: Scope) -> str:
    """The client's address as the server saw it (behind a proxy: uvicorn's --forwarded-allow-ips)."""
    client = scope.get("client")
    return str(client[0]) if client else ""


class RequireLogin:
    """Every path but the login page and static files needs a live login on the server.

    The signed cookie names the officer, but only a session row that was not ended (logout, a new
    password), not idle past ``[web] idle_minutes`` and younger than ``session_hours`` lets a request in.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        if officer_name(scope["session"]):
            if await self._live(scope):
                await self.app(scope, receive, send)
                return
            scope["session"].clear()
        response: Response
        if scope["method"] in SAFE_METHODS:
            query = scope["query_string"].decode("latin-1")
            target = scope["path"] + (f"?{query}" if query else "")
            response = RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
        else:
            response = PlainTextResponse("log in first", status_code=403)
        await response(scope, receive, send)


    @staticmethod
    async def _live(scope: Scope) -> bool:
        token = session_token(scope["session"])
        if token is None:
            return False
        web = scope["app"].state.web
        idle = timedelta(minutes=web.settings.web.idle_minutes)
        lifetime = timedelta(hours=web.settings.web.session_hours)
        name = await web.run(lambda s: accounts.session_officer(s, token, datetime.now(UTC), idle=idle,
                                                                  lifetime=lifetime))
        return bool(name is not None and name == officer_name(scope["session"]))


class CsrfGuard:
    """Unsafe methods need the session's token in the form field ``csrf``.

    The body is read here (urlencoded forms only, at most MAX_FORM_BYTES) and handed on
    unchanged, so route handlers read their form as usual.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            await PlainTextResponse("form too large", status_code=413)(scope, receive, send)
            return
        sent = parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD, [""])[0]
        expected = scope["session"].get(CSRF_FIELD)
        if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
            await PlainTextResponse("CSRF token missing or wrong; reload the page", status_code=403)(
                scope, receive, send
            )
            return
        await self.app(scope, _replay(body, receive), send)


async def _read_body(receive: Receive) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b""
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class SecurityHeaders:
    """The same protective headers on every response, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(SECURITY_HEADERS)
            await send(message)

        await self.app(scope, receive, with_headers)
