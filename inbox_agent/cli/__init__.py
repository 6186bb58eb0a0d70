"""Command-line entry point; importing the command modules registers their commands."""

from . import cases_cmds, classify_cmds, customers_cmds, oauth_cmds, ops_cmds, run_cmds, web_cmds  # noqa: F401
from .app import main
from .deadline_cmd import deadline  # noqa: F401

__all__ = ["main"]
