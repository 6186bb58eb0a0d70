"""Command-line entry point: each command's module is imported when that command is used.

A module registers its commands on ``main`` when imported; ``COMMANDS`` says which modules
define which top-level command (``cases`` has a subcommand in ``export_cmd`` too), and
tests/unit/test_cli_lazy.py checks it lists every command the modules define.
"""

from .app import main

COMMANDS: dict[str, tuple[str, ...]] = {
    "cases": ("cases_cmds", "export_cmd"),
    "classify": ("classify_cmds",),
    "eval": ("classify_cmds",),
    "customers": ("customers_cmds",),
    "suppression": ("customers_cmds",),
    "register": ("customers_cmds",),
    "deadline": ("deadline_cmd",),
    "oauth": ("oauth_cmds",),
    "health": ("ops_cmds",),
    "metrics": ("ops_cmds",),
    "review": ("review_cmds",),
    "run": ("run_cmds",),
    "check-config": ("run_cmds",),
    "db": ("run_cmds",),
    "demo": ("run_cmds",),
    "backfill": ("run_cmds",),
    "web": ("web_cmds",),
    "officer": ("web_cmds",),
}
main.lazy = COMMANDS

__all__ = ["COMMANDS", "main"]
