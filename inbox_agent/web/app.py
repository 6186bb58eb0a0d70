"""``create_app``: the officer workspace as one Starlette application.

Middleware order matters: the session is decoded first, then the error pages (which need
the session's language), then the login guard, then the CSRF check, so an anonymous POST
is refused as anonymous before its body is read.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from ..config import Settings
from ..db.session import Database
from . import account_pages, triage
from .auth import CsrfGuard, RequireLogin, SecurityHeaders, session_middleware
from .errors import ErrorPages
from .routes import ROUTES
from .views import Web, make_templates

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings, db: Database) -> Starlette:
    app = Starlette(
        routes=[*ROUTES, *triage.ROUTES, *account_pages.ROUTES,
                Mount("/static", StaticFiles(directory=STATIC_DIR), name="static")],
        middleware=[
            Middleware(SecurityHeaders),
            session_middleware(settings),
            Middleware(ErrorPages),
            Middleware(RequireLogin),
            Middleware(CsrfGuard),
        ],
    )
    app.state.web = Web(settings=settings, db=db, templates=make_templates())
    return app
