"""The wheel, installed outside the checkout, runs on its own: rules, templates, migrations, demo data.

Built the release way (sdist, then the wheel from the sdist, with `python -m build`) and installed
into a fresh virtualenv with no network: the wheel goes in with ``--no-index --no-deps``, and the
already installed dependencies of this test's own environment are put on the new environment's
path by a ``.pth`` file (a path line in a ``.pth`` file adds that folder only, so the checkout's
editable install, itself a ``.pth`` there, stays invisible). The installed package is made
read-only before any command runs, as under ``ProtectSystem=strict``.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox_agent.config import REPO_ROOT
from inbox_agent.fictitious_shop import shop_toml
from inbox_agent.sandbox import DovecotServer, SmtpSink

pytestmark = pytest.mark.integration

ERASURE = (
    b"From: Anna de Vries <anna@example.nl>\r\nTo: info@luminet.nl\r\nSubject: verwijderen\r\n"
    b"Message-ID: <pkg-1@example.nl>\r\nDate: Mon, 30 Nov 2026 10:00:00 +0100\r\n\r\n"
    b"Verwijder alstublieft mijn account en al mijn gegevens.\r\n"
)


class Installed:
    def __init__(self, venv: Path, home: Path, workdir: Path) -> None:
        self.venv, self.home, self.workdir = venv, home, workdir

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INBOX_AGENT_", "PYTHON"))}
        env.update(HOME=str(self.home), XDG_CACHE_HOME=str(self.home / ".cache"))
        done = subprocess.run(
            [str(self.venv / "bin" / args[0]), *args[1:]],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and done.returncode != 0:
            pytest.fail(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done


def _read_only(folder: Path, writable: bool) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    root = tmp_path_factory.mktemp("package")
    dist = root / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(REPO_ROOT)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    wheel = next(dist.glob("inbox_agent-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "-q",
            "--no-index",
            "--no-deps",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    target = Path(
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (target / "zz_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    package = target / "inbox_agent"
    _read_only(package, writable=False)
    workdir, home = root / "elsewhere", root / "home"
    workdir.mkdir()
    home.mkdir()
    try:
        yield Installed(venv, home, workdir)
    finally:
        _read_only(package, writable=True)


def test_the_wheel_and_sdist_hold_the_shipped_rules_and_texts(installed: Installed) -> None:
    sdist = next((installed.venv.parent / "dist").glob("inbox_agent-*.tar.gz"))
    listing = subprocess.run(["tar", "tzf", str(sdist)], check=True, capture_output=True, text=True).stdout
    assert "/classifiers/nl/rules.toml" in listing and "/templates/nl/ack.txt" in listing
    where = installed.run(
        "python",
        "-c",
        "import inbox_agent, inbox_agent.resources as r; "
        "print(inbox_agent.__file__); print(r.shipped('classifiers')); print(r.shipped('templates'))",
    )
    module, classifiers, templates = where.stdout.split()
    assert module.startswith(str(installed.venv)), "the test must run the installed copy, not the checkout"
    assert classifiers == str(Path(module).parent / "classifiers")
    assert (Path(templates) / "nl" / "ack.txt").is_file()
    assert (Path(templates) / "exports").is_dir()


def test_version(installed: Installed) -> None:
    assert installed.run("inbox-agent", "--version").stdout.split()[-1] == "0.1.0"


def test_classify_from_another_folder_builds_the_lemma_cache_outside_the_package(installed: Installed) -> None:
    mail = installed.workdir / "m.eml"
    mail.write_bytes(ERASURE)
    record = json.loads(installed.run("inbox-agent", "classify", "m.eml", "--json").stdout)
    assert record["categories"] == ["erasure"] and record["language"] == "nl"
    assert sorted(p.name.split("-")[1] for p in (installed.home / ".cache" / "inbox-agent").glob("lemmas-*.json")) == [
        "de",
        "en",
        "fr",
        "nl",
    ]


def test_demo_from_another_folder(installed: Installed) -> None:
    out = installed.run("inbox-agent", "demo", "--dir", "demo").stdout
    assert "stored 8, processed 8" in out
    assert (installed.workdir / "demo" / "cache").is_dir(), "the lemma cache goes to state_dir"


def test_check_config_and_db_upgrade_against_real_servers(installed: Installed) -> None:
    with DovecotServer() as dovecot, SmtpSink() as sink:
        dovecot.add_user("info", "pw-info-1")
        (installed.workdir / "imap.secret").write_text("pw-info-1\n")
        config = installed.workdir / "config.toml"
        config.write_text(f"""
secret_key = "{"k" * 32}"
state_dir = "state"
[imap]
host = "127.0.0.1"
port = {dovecot.port}
username = "info"
password_file = "{installed.workdir / "imap.secret"}"
security = "none"
[smtp]
host = "127.0.0.1"
port = {sink.port}
security = "none"
from_address = "info@luminet.nl"
{shop_toml()}[database]
url = "sqlite:///{installed.workdir / "agent.sqlite"}"
[policy]
trusted_authserv_ids = ["mx.example.nl"]
""")
        assert "database at revision" in installed.run("inbox-agent", "db", "upgrade", "--config", "config.toml").stdout
        done = installed.run("inbox-agent", "check-config", "--config", "config.toml")
        assert done.stdout.startswith("ok:"), done.stdout + done.stderr
