"""The CLI loads a command's module only when the command is used; the table must name every command."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from inbox_agent import cli
from inbox_agent.db.session import Database, upgrade
from inbox_agent.fictitious_shop import shop_toml


def test_the_table_lists_exactly_the_commands_the_modules_define_with_their_summaries() -> None:
    for module in {m for modules, _ in cli.COMMANDS.values() for m in modules}:
        importlib.import_module(f"inbox_agent.cli.{module}")
    assert set(cli.main.commands) == set(cli.COMMANDS)
    assert "export" in cli.main.commands["cases"].commands  # type: ignore[attr-defined]
    summaries = {name: command.get_short_help_str(10**6) for name, command in cli.main.commands.items()}
    assert summaries == {name: summary for name, (_, summary) in cli.COMMANDS.items()}


def test_help_lists_every_command_without_importing_one() -> None:
    code = ("import sys\nfrom inbox_agent.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n"
            "    print(sorted(m for m in sys.modules if m.startswith('inbox_agent.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert all(f"  {name} " in out for name in cli.COMMANDS)
    assert out.strip().splitlines()[-1] == "['inbox_agent.cli.app']"


def test_starting_the_cli_imports_neither_the_classifier_nor_the_daemon() -> None:
    code = "import sys, inbox_agent.cli; print(sorted(m for m in sys.modules if m.startswith(('spacy', 'inbox_'))))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "spacy" not in loaded and "inbox_agent.daemon" not in loaded and "inbox_agent.desk" not in loaded


def test_cases_list_imports_neither_the_desk_nor_alembic_nor_spacy(tmp_path: Path) -> None:
    """The officer's most used command reads the queue: it needs the database and the queue, no more."""
    config = tmp_path / "config.toml"
    config.write_text(f'secret_key = "0123456789abcdef0123"\nstate_dir = "{tmp_path}"\n'
                      '[imap]\nusername = "u"\n[smtp]\nfrom_address = "privacy@shop.example"\n'
                      f'[database]\nurl = "sqlite:///{tmp_path / "agent.sqlite"}"\n{shop_toml()}', encoding="utf-8")
    db = Database(f"sqlite:///{tmp_path / 'agent.sqlite'}")
    upgrade(db.engine)
    db.dispose()
    code = ("import sys\nfrom inbox_agent.cli import main\ntry:\n    main(['cases', 'list', '--config', sys.argv[1]])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('spacy', 'alembic', 'jinja2') or m.startswith('inbox_agent.desk')))")
    out = subprocess.run([sys.executable, "-c", code, str(config)], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["geen open verzoeken", "[]"]  # no account of that name: Dutch


def test_the_page_words_load_neither_the_accounts_nor_password_hashing() -> None:
    """The CLI says things in the officer's language with web/i18n.py: naming the actors needs no argon2."""
    code = ("import sys, inbox_agent.web.i18n\n"
            "print(sorted(m for m in sys.modules if m in ('argon2', 'inbox_agent.accounts')))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
