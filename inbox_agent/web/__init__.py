"""The officer workspace: server-rendered pages over the same functions as ``inbox-agent cases``."""

from .app import create_app

__all__ = ["create_app"]
