"""Command-line entry point; importing the command modules registers their commands."""

from . import (  # noqa: F401
    cases_cmds,
    classify_cmds,
    customers_cmds,
    export_cmd,
    oauth_cmds,
    ops_cmds,
    review_cmds,
    run_cmds,
    web_cmds,
)
from .app import main
from .deadline_cmd import deadline  # noqa: F401

__all__ = ["main"]
