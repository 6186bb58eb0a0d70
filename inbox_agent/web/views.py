"""What every route needs: the settings and database, a transaction off the event loop, a page.

SQLAlchemy and argon2 are synchronous, so each request's database work runs as one
transaction in a worker thread; the page is rendered afterwards from plain models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from ..config import Settings
from ..db.session import Database
from ..messages import LANGUAGES
from . import present
from .auth import csrf_token, officer_name
from .i18n import translator

T = TypeVar("T")


@dataclass(frozen=True)
class Web:
    settings: Settings
    db: Database
    templates: Jinja2Templates

    async def run(self, work: Callable[[Session], T]) -> T:
        """``work`` in one transaction, in a worker thread."""

        def in_transaction() -> T:
            with self.db.transaction() as session:
                return work(session)

        return await run_in_threadpool(in_transaction)


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=PackageLoader("inbox_agent.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["urgency"] = present.urgency
    return Jinja2Templates(env=env)


def web(request: Request) -> Web:
    return cast(Web, request.app.state.web)


def language(request: Request) -> str:
    lang = request.session.get("language")
    return lang if lang in LANGUAGES else LANGUAGES[0]


def flash(request: Request, kind: str, text: str) -> None:
    """A message for the next page (the one after the redirect)."""
    request.session["flash"] = [*request.session.get("flash", []), [kind, text]]


def page(request: Request, name: str, *, status: int = 200, **context: Any) -> Response:
    lang = language(request)
    return web(request).templates.TemplateResponse(
        request,
        name,
        {
            "t": translator(lang),
            "lang": lang,
            "languages": LANGUAGES,
            "csrf": csrf_token(request.session),
            "officer": officer_name(request.session),
            "admin": request.session.get("admin") is True,
            "flashes": request.session.pop("flash", []),
            **context,
        },
        status_code=status,
    )
