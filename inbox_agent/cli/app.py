"""The ``inbox-agent`` command group; each command module attaches its commands to ``main``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..config import ConfigError, Settings, load_settings

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
    try:
        return load_settings(config_path)
    except ConfigError as exc:
        for line in exc.problems:
            click.echo(f"config error: {line}", err=True)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="inbox-agent")
def main() -> None:
    """inbox-agent: the privacy-request desk for a shop's shared mailbox."""
