"""The ``inbox-agent`` command group; each command module attaches its commands to ``main``.

Every command ends with one line and an exit code, never a traceback: the group catches what
a command did not, and words operational faults (an unreachable or refusing server, a missing
file, a locked database) for the operator, with a code per kind that scripts can test.
"""

from __future__ import annotations

import errno
import importlib
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..config import Settings

log = logging.getLogger(__name__)

EXIT_DECLINED = 1
"""The officer's action cannot be done (an OfficerError or AccountError: unknown case, refused by a rule)."""
EXIT_CONFIG = 2
"""A configuration or usage error (click's own usage errors exit 2 too)."""
EXIT_UNREACHABLE = 3
"""A mail server or the database cannot be reached (or the connection broke): try again later."""
EXIT_REFUSED = 4
"""A mail server refuses: a login, TLS, a folder, or an operation (CREATE, MOVE, STORE)."""
EXIT_DATABASE = 5
"""The database is locked, full, read-only or otherwise unusable."""
EXIT_FILE = 6
"""A file or folder is missing or cannot be read or written (or the disk is full, a port taken)."""
EXIT_BUG = 70
"""Anything else: a bug (EX_SOFTWARE); the traceback goes to the log when logging is set up."""

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="INBOX_AGENT_CONFIG",
    default=None,
    help="TOML config file (default: $INBOX_AGENT_CONFIG).",
)


def settings_or_exit(config_path: Path | None) -> Settings:
    """Load settings, or print one line per problem and exit 2."""
    from ..config import ConfigError, load_settings

    try:
        return load_settings(config_path)
    except ConfigError as exc:
        for line in exc.problems:
            click.echo(f"config error: {line}", err=True)
        sys.exit(EXIT_CONFIG)


def fault(exc: Exception) -> tuple[int, str]:
    """The exit code and the one line for an exception no command handled."""
    # Imported here, not at start-up: every command pays for the top of this module.
    import sqlite3

    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    from ..db.session import SchemaOutdated
    from ..mailbox import MailboxError
    from ..smtp import SendError

    if isinstance(exc, MailboxError):
        return (EXIT_UNREACHABLE if exc.retryable else EXIT_REFUSED), str(exc)
    if isinstance(exc, SchemaOutdated):
        return EXIT_CONFIG, str(exc)
    if isinstance(exc, (DBAPIError, sqlite3.Error)):  # the driver's error, as SQLAlchemy wraps it or not (case_list)
        orig = exc.orig if isinstance(exc, DBAPIError) else exc
        text = str(orig).strip().splitlines()[0][:200] if str(orig).strip() else ""
        unreachable = any(t in text.lower() for t in ("could not connect", "connection refused", "timeout"))
        return (EXIT_UNREACHABLE if unreachable else EXIT_DATABASE), (
            f"database: {type(orig).__name__}: {text}" if text else f"database: {type(orig).__name__}")
    if isinstance(exc, SQLAlchemyError):
        return EXIT_DATABASE, f"database: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}"
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return EXIT_UNREACHABLE, f"cannot reach a server: {exc.strerror or exc}"
    if isinstance(exc, SendError):
        return (EXIT_REFUSED if exc.permanent else EXIT_UNREACHABLE), f"SMTP: {exc}"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOENT, errno.EACCES, errno.EPERM, errno.EISDIR,
                                                  errno.ENOTDIR, errno.EROFS, errno.ENOSPC, errno.EADDRINUSE):
        where = f": {exc.filename}" if exc.filename else ""
        return EXIT_FILE, f"{exc.strerror or type(exc).__name__}{where}"
    return EXIT_BUG, f"internal error (a bug, please report it): {type(exc).__name__}: {exc}"


class _Commands(click.Group):
    """The group that turns an escaping exception into one ``error:`` line and its exit code.

    Its commands are loaded on first use (``lazy``: command name -> the modules defining it and
    its one-line summary), so ``cases list`` does not import the classifier or the daemon just
    to exist, and ``--help`` lists the summaries without importing any command.
    """

    lazy: dict[str, tuple[tuple[str, ...], str]]
    """Set once by the package (``inbox_agent.cli.COMMANDS``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *getattr(self, "lazy", {})})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        # Every module of the command, even when one is loaded already: another command's module may
        # have imported the first of them (cases_cmds) and with it the group, but not its other commands.
        modules, _ = getattr(self, "lazy", {}).get(cmd_name, ((), ""))
        for module in modules:
            importlib.import_module(f"{__package__}.{module}")
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(name) for name in self.list_commands(ctx))
        # A bare Command stands in for each unloaded one: click shortens its summary as its own.
        rows = [(name, click.Command(name, help=self.lazy[name][1]).get_short_help_str(limit))
                for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            code, line = fault(exc)
            if code == EXIT_BUG and logging.getLogger().handlers:
                log.error("internal error", exc_info=exc)
            click.echo(f"error: {line}", err=True)
            ctx.exit(code)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="inbox-agent")
def main() -> None:
    """inbox-agent: the privacy-request desk for a shop's shared mailbox."""
