"""A throw-away PostgreSQL server for tests and benchmarks: a private cluster, never the distro's.

``initdb`` makes a cluster in a temporary folder and ``postgres`` serves it on 127.0.0.1 on a free
port with trust authentication and fsync off: fast, and gone with the folder. PostgreSQL refuses
to run as root, so under root the server runs as the ``postgres`` account (or ``nobody``).
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg import sql

from .sandbox import LOCALHOST, SandboxError, free_port

log = logging.getLogger(__name__)
SUPERUSER = "postgres"


def find_postgres_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` (Debian keeps the server off PATH)."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise SandboxError(
            "PostgreSQL server binaries not found (no initdb on PATH or in /usr/lib/postgresql/*/bin); "
            "on Debian/Ubuntu run `apt-get install postgresql` (or scripts/setup)"
        )
    return Path(found[-1]).parent


def _run_as() -> dict[str, Any]:
    """Popen arguments that drop root to an unprivileged account; nothing when not root."""
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    raise SandboxError("running as root, but there is neither a `postgres` nor a `nobody` account")


class PostgresServer:
    """One private cluster on 127.0.0.1:``port``; ``create_database()`` gives each test its own."""

    host = LOCALHOST

    def __init__(self) -> None:
        self.port = 0
        self.directory: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        bindir = find_postgres_bindir()
        account = _run_as()
        started = time.monotonic()
        self.directory = Path(tempfile.mkdtemp(prefix="inbox-agent-pg-"))
        self.directory.chmod(0o755)
        data, sockets = self.directory / "data", self.directory / "run"
        for sub in (data, sockets):
            sub.mkdir(mode=0o700)
            if account:
                os.chown(sub, account["user"], account["group"])
        log_file = self.directory / "postgres.log"
        initdb = subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "--no-sync",
             "--encoding=UTF8", "--locale=C.UTF-8"],
            capture_output=True, cwd=self.directory, **account,
        )
        if initdb.returncode != 0:
            self.stop()
            raise SandboxError(f"initdb failed:\n{initdb.stderr.decode(errors='replace')}")
        self.port = free_port()
        with log_file.open("wb") as out:
            self._process = subprocess.Popen(
                [str(bindir / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(sockets),
                 "-c", f"listen_addresses={self.host}", "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=200"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
                cwd=self.directory, **account,
            )
        self._wait_until_ready(log_file)
        log.info("postgres sandbox on %s:%d up in %.0f ms", self.host, self.port,
                 (time.monotonic() - started) * 1000)

    def _wait_until_ready(self, log_file: Path, timeout: float = 30.0) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self._dsn("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    output = log_file.read_text(errors="replace")
                    self.stop()
                    raise SandboxError(f"postgres did not accept connections on port {self.port}:\n{output}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Immediate shutdown (SIGQUIT: no checkpoint, the cluster is deleted anyway), then delete."""
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(signal.SIGQUIT)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
            self._process = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def _dsn(self, database: str) -> str:
        return f"host={self.host} port={self.port} user={SUPERUSER} dbname={database}"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL the agent's ``[database] url`` takes."""
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)
