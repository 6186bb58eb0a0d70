"""The classifier imports spaCy without spaCy's command line (a third of ``import spacy``), and the command line still
works when something asks for it. Each case runs in a fresh interpreter: this one has imported spaCy already."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> list[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()


def test_the_classifier_imports_spacy_without_its_command_line() -> None:
    code = ("import sys, inbox_agent.classify\n"
            "print(*sorted(m for m in sys.modules if m.startswith(('spacy.cli', 'weasel', 'typer', 'requests'))))")
    assert _run(code) == ["spacy.cli", "spacy.cli.info"]  # the two stand-ins, nothing imported behind them


def test_spacy_cli_is_imported_at_its_first_use() -> None:
    code = ("import sys, inbox_agent.classify, spacy\n"
            "from spacy.cli import download\n"
            "import spacy.cli.init_config\n"
            "real = sys.modules['spacy.cli']\n"
            "print(download.__module__, type(real).__name__, spacy.cli is real)\n"
            "print('spacy_version' in spacy.info())")
    assert _run(code) == ["spacy.cli.download", "module", "True", "True"]
