"""Shared pieces of the reliability tests: daemon processes, config files, bulk delivery, mail mixes.

Everything here drives the real programs: ``inbox-agent run --config`` as a child process, the
sandbox Dovecot (restartable on the same port and Maildir) and the SMTP sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import hashlib
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from child_process import ends_with_the_tests

from inbox_agent import inbound
from inbox_agent.daemon import Daemon
from inbox_agent.db.session import Database, upgrade
from inbox_agent.mailbox import FetchedMail
from inbox_agent.sandbox import DovecotServer, ReceivedMail, SmtpSink, find_dovecot

from agent_harness import request_mail

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
HOST = socket.gethostname()
REQUESTS = [
    "Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben.",
    "Please delete my account and all my personal data.",
    "Bitte löschen Sie mein Konto und alle meine Daten.",
]
ORDER_QUESTION = "Wanneer wordt bestelling {n} geleverd?"
SMTP_PASSWORD = "smtp-Pw-7f3a9c0e51d2"
WEB_SECRET = "web-secret-b81c4e9d027f"


def corpus_dir(*parts: str) -> Path | None:
    path = CORPUS.joinpath(*parts)
    return path if path.is_dir() else None


# -- config files and databases ------------------------------------------------------------------


def migrated(url: str) -> None:
    db = Database(url)
    upgrade(db.engine)
    db.dispose()


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


@contextlib.contextmanager
def peek(db_file: Path) -> Iterator[sqlite3.Connection]:
    """A plain reader on the daemon's SQLite file: no BEGIN IMMEDIATE, so it never blocks the daemon."""
    conn = sqlite3.connect(db_file, timeout=30)
    try:
        yield conn
    finally:
        conn.close()


def scalar(db_file: Path, sql: str, *args: object) -> object:
    with peek(db_file) as conn:
        row = conn.execute(sql, args).fetchone()
    return row[0] if row else None


# -- the daemon as a process ------------------------------------------------------------------------


class DaemonProcess:
    """``inbox-agent run --config X`` as systemd would run it; stderr appended to one log file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def instance(self) -> str:
        assert self.proc is not None
        return f"{HOST}:{self.proc.pid}"

    def start(self, *args: str) -> None:
        binary = Path(sys.executable).parent / "inbox-agent"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([str(binary), "run", "--config", str(self.config), *args],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
                                         preexec_fn=ends_with_the_tests)
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        code = self.proc.wait(10)
        self.proc = None
        return code

    def terminate(self, timeout: float = 30.0) -> tuple[int | None, float]:
        """SIGTERM; the exit code (None: still running after ``timeout``, then killed) and seconds taken."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code: int | None = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            code = None
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        return code, time.monotonic() - started

    def stop_quietly(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> float:
    """Poll until ``condition`` holds; return the seconds it took, fail the test with ``what`` otherwise."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:g} s waiting for: {what}")
        time.sleep(interval)
    return time.monotonic() - started


# -- Dovecot ------------------------------------------------------------------------------------------


class RestartableDovecot(DovecotServer):
    """A DovecotServer that can be stopped and started again on the same port and Maildir."""

    def crash(self) -> None:
        """SIGKILL the whole Dovecot (master and imap processes); keep the folder."""
        assert self._process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        self._process = None

    def start_again(self) -> None:
        stderr = (self._dir / "stderr.log").open("ab")
        self._process = subprocess.Popen([str(find_dovecot()), "-F", "-c", str(self._dir / "dovecot.conf")],
                                         start_new_session=True,
                                         stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)
        stderr.close()
        self._wait_until_listening()


def bulk_append(server: DovecotServer, user: str, raws: Iterable[bytes], *, pause: Callable[[], float] | None = None,
                refused: list[int] | None = None) -> list[int]:
    """APPEND many mails on one connection (a mail host delivering a burst); returns the UIDs.

    ``refused`` collects the indexes of mails the server would not take (Dovecot rejects e.g. NUL bytes).
    """
    import imaplib

    uids = []
    with server.imap_client(user) as client:
        for index, raw in enumerate(raws):
            try:
                response = client.append("INBOX", raw)
            except imaplib.IMAP4.error:
                if refused is None:
                    raise
                refused.append(index)
                continue
            uids.append(int(response.split(b"]", 1)[0].split()[2]))
            if pause is not None:
                time.sleep(pause())
    return uids


# -- mail mixes -----------------------------------------------------------------------------------------


@dataclass
class Burst:
    """A mixed burst of mail: privacy requests, order questions and robots, each with its Message-ID."""

    raws: list[bytes] = field(default_factory=list)
    kind: dict[str, str] = field(default_factory=dict)
    """Message-ID -> privacy | ordinary | robot."""
    sender: dict[str, str] = field(default_factory=dict)
    known: list[str] = field(default_factory=list)
    """Privacy senders that are registered customers."""

    def ids(self, kind: str) -> list[str]:
        return [mid for mid, k in self.kind.items() if k == kind]


def make_burst(count: int, rng: random.Random, *, tag: str = "b") -> Burst:
    burst = Burst()
    for n in range(count):
        roll = rng.random()
        if roll < 0.4:
            kind, sender = "privacy", f"{tag}klant{n:04d}@example.org"
            raw = request_mail(rng.choice(REQUESTS), sender=sender, subject=rng.choice(["Privacy", "Verzoek", "AVG"]))
            if rng.random() < 0.4:
                burst.known.append(sender)
        elif roll < 0.8:
            kind, sender = "ordinary", f"{tag}koper{n:04d}@example.org"
            raw = request_mail(ORDER_QUESTION.format(n=1000 + n), sender=sender, subject="Bestelling")
        else:
            kind, sender = "robot", f"{tag}robot{n:04d}@example.org"
            body = rng.choice(REQUESTS) + "\nIk ben afwezig tot maandag."
            raw = request_mail(body, sender=sender, subject="Automatisch antwoord: Privacy",
                               headers={"Auto-Submitted": "auto-replied"})
        mid = BytesHeaderParser().parsebytes(raw)["Message-ID"]
        burst.raws.append(raw)
        burst.kind[mid], burst.sender[mid] = kind, sender
    return burst


def message_ids(mails: Iterable[ReceivedMail]) -> Counter[str]:
    parser = BytesHeaderParser()
    return Counter("".join(str(parser.parsebytes(m.raw)["Message-ID"]).split()) for m in mails)


# -- the daemon in this process ---------------------------------------------------------------------------


class FakeClock:
    """A settable clock for the daemon (backoff of 30 s, 1 min, ... without waiting for it)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += timedelta(seconds=seconds)


def run_forever_during(daemon: Daemon, scenario: Callable[[], None], timeout: float = 90.0) -> float:
    """``Daemon.run_forever`` on this (the main) thread while ``scenario`` runs in another; then stop it.

    The stop is what SIGTERM does (the handler sets the same flag); returns how long stopping took.
    """
    failure: list[BaseException] = []
    stop_requested: list[float] = []

    def drive() -> None:
        try:
            scenario()
        except BaseException as exc:
            failure.append(exc)
        finally:
            stop_requested.append(time.monotonic())
            daemon.stop.set()

    def watchdog() -> None:
        if not daemon.stop.wait(timeout):
            failure.append(AssertionError(f"scenario did not finish in {timeout:g} s"))
            daemon.stop.set()

    threading.Thread(target=watchdog, daemon=True).start()
    driver = threading.Thread(target=drive)
    driver.start()
    asyncio.run(daemon.run_forever())
    stopped = time.monotonic()
    driver.join()
    if failure:
        raise failure[0]
    return stopped - stop_requested[0]


class HookedSink(SmtpSink):
    """An SMTP sink that runs ``hook(mail)`` after storing a mail and before answering 250."""

    def __init__(self, hook: Callable[[ReceivedMail], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hook = hook

    def _store(self, mail: ReceivedMail) -> None:
        super()._store(mail)
        self.hook(mail)


# -- the pipeline without IMAP (fuzzing) and the checks of what goes out -------------------------------------


def push(daemon: Daemon, raws: Sequence[bytes], *, first_uid: int) -> list[str]:
    """Store raw mails as the poller would after a FETCH (truncated at the size limit), process, send.

    Returns the sha256 of each stored mail, to find its row.
    """
    box = daemon.settings.all_mailboxes()[0]
    limit = daemon.settings.policy.max_message_bytes
    now = datetime.now(UTC)
    mails = [FetchedMail(uid=first_uid + i, uidvalidity=1, raw=raw[:limit], internal_date=now, flags=(),
                         size=len(raw), truncated=len(raw) > limit) for i, raw in enumerate(raws)]
    with daemon.db.transaction() as session:
        state = inbound.folder_state(session, box.name, box.imap.folder)
        inbound.store(session, box.name, box.imap.folder, state, mails, max_bytes=limit, now=now)
    daemon.process_pending()

    async def drain() -> None:
        while await daemon.send_due():
            pass

    asyncio.run(drain())
    return [hashlib.sha256(m.raw).hexdigest() for m in mails]


OUR_HEADERS = {"from", "to", "subject", "date", "message-id", "in-reply-to", "references", "auto-submitted",
               "x-auto-response-suppress", "content-type", "content-transfer-encoding", "mime-version",
               "content-language"}
_FIELD_NAME = re.compile(rb"[!-9;-~]+")


def header_problems(mail: ReceivedMail) -> list[str]:
    """What is wrong with the header section of a mail we sent: injected lines, unknown or repeated fields."""
    head = mail.raw.split(b"\r\n\r\n", 1)[0]
    problems = []
    names: list[str] = []
    for line in head.split(b"\r\n"):
        if b"\r" in line or b"\n" in line or b"\0" in line:
            problems.append(f"bare CR/LF/NUL in header line {line[:80]!r}")
        if line[:1] in (b" ", b"\t"):
            continue
        name = line.split(b":", 1)[0]
        if b":" not in line or not _FIELD_NAME.fullmatch(name):
            problems.append(f"not a header line: {line[:80]!r}")
            continue
        names.append(name.decode().lower())
    for name, count in Counter(names).items():
        if name not in OUR_HEADERS:
            problems.append(f"unexpected header {name}")
        if count > 1:
            problems.append(f"header {name} appears {count} times")
    msg = email.message_from_bytes(mail.raw, policy=email.policy.default)
    # Raw 8-bit bytes (a UTF-8 address) come back surrogate-escaped: turn them into text again.
    to = [a.addr_spec.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
          for a in msg["To"].addresses] if msg["To"] is not None else []
    if list(mail.rcpt_tos) != to or len(to) != 1:
        problems.append(f"RCPT TO {mail.rcpt_tos} vs To {to}")
    return problems


class CountingStop(threading.Event):
    """The daemon's stop flag, recording each backoff wait instead of sleeping it; set after ``attempts``."""

    def __init__(self, attempts: int) -> None:
        super().__init__()
        self.attempts = attempts
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is not None:
            self.waits.append(timeout)
        if len(self.waits) >= self.attempts:
            self.set()
        return self.is_set()

    async def nap(self, seconds: float) -> None:
        """The mailbox runner's backoff pause (``Daemon.watch(..., pause=)``), recorded the same way."""
        self.wait(seconds)
