"""Command-line entry point; importing the command modules registers their commands."""

from . import classify_cmds  # noqa: F401
from .app import main

__all__ = ["main"]
