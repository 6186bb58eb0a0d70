"""The officer workspace: server-rendered pages over the same functions as ``inbox-agent cases``.

``create_app`` is imported on first use, so a command that only needs the officer's words
(``web.i18n``) does not load Starlette, the templates and every page with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import create_app


def __getattr__(name: str) -> object:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["create_app"]
