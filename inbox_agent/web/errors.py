"""Error pages in the officer's language instead of the plain-text refusals under them.

The router answers an unknown path with "Not Found", and the guards in auth.py refuse
with one English line (no CSRF token, not logged in, form too large). This middleware
sits between the session and those layers: a plain-text error response is replaced by
the error page, same status, in the language of the session, with a way back.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .i18n import translator
from .views import language, page

EXPLANATIONS = {
    "Not Found": "error.not_found_text",
    "Method Not Allowed": "error.not_allowed",
    "log in first": "error.login_first",
    "form too large": "error.too_large",
    "CSRF token missing or wrong; reload the page": "error.csrf",
}
"""The English line under the page -> what the officer reads."""
HEADINGS = {404: "error.not_found"}


class ErrorPages:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        body = b""

        async def intercept(message: Message) -> None:
            nonlocal held, body
            if message["type"] == "http.response.start" and _plain_error(message):
                held = message
                return
            if held is None:
                await send(message)
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                await self._page(scope, receive, send, held["status"], body.decode("utf-8", "replace").strip())

        await self.app(scope, receive, intercept)

    async def _page(self, scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
        request = Request(scope, receive)
        t = translator(language(request))
        response = page(
            request,
            "error.html",
            status=status,
            heading=t(HEADINGS.get(status, "error.title")),
            message=t(EXPLANATIONS.get(text, "error.other")),
        )
        await response(scope, receive, send)


def _plain_error(start: Message) -> bool:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start.get("headers", [])}
    return int(start["status"]) >= 400 and headers.get("content-type", "").startswith("text/plain")
