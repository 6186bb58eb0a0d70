"""Private mail servers for tests and ``inbox-agent demo``: Dovecot and Cyrus IMAP, an SMTP sink.

All listen on 127.0.0.1 on free high ports and keep everything in a temporary folder, so they
never touch the distro's own mail services or a real mailbox. They live in the package (not in
``tests/``) because the demo command runs the same servers the integration tests use.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import datetime
from mailbox import Maildir
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from imapclient import IMAPClient
from pydantic import SecretStr

from .config import ImapSettings

log = logging.getLogger(__name__)

LOCALHOST = "127.0.0.1"


class SandboxError(RuntimeError):
    """A sandbox server could not be found, started or used."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((LOCALHOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def find_dovecot() -> Path:
    """The dovecot binary; it lives in /usr/sbin, which is not on a normal user's PATH."""
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise SandboxError(
            "dovecot is not installed (looked on PATH and in /usr/sbin); on Debian/Ubuntu run "
            "`apt-get install dovecot-imapd` (or scripts/setup)"
        )
    return Path(found)


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate + key for 127.0.0.1 and localhost, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise SandboxError("openssl is not installed; on Debian/Ubuntu run `apt-get install openssl`")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    key.chmod(0o644)  # dovecot reads it as root, but the login processes run as another user
    return cert, key


def _service_account() -> tuple[str, str]:
    """User and group the mail processes run as: Dovecot refuses uid 0, so root hands over to nobody."""
    if os.geteuid() == 0:
        return "nobody", "nogroup"
    import grp
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name


# No chroot: only root may chroot, and CI runners are often not root.
_CONFIG = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:~/Maildir
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users/%u
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={dir}/home/%u
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
"""


class ImapSandbox:
    """What every sandbox IMAP server shares: a process group in a temporary folder, users, clients.

    ``personal_prefix`` is where the server keeps a user's own folders (its NAMESPACE): a folder
    the agent is told to call "Privacy" is created as ``personal_prefix + "Privacy"``.
    """

    host = LOCALHOST
    name = "imap"
    personal_prefix = ""

    def __init__(self) -> None:
        self.port = 0
        self.directory: Path | None = None
        self._passwords: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError

    def _add_login(self, name: str, password: str) -> None:
        """Make ``name`` able to log in with ``password`` (the caller holds the lock)."""
        raise NotImplementedError

    @property
    def _dir(self) -> Path:
        if self.directory is None:
            raise SandboxError(f"the {self.name} sandbox is not running")
        return self.directory

    def _make_directory(self, *subdirs: str) -> Path:
        # mkdtemp makes a 0700 folder; the mail processes run as the service account and must get in.
        self.directory = Path(tempfile.mkdtemp(prefix=f"inbox-agent-{self.name}-"))
        self.directory.chmod(0o755)
        for sub in subdirs:
            (self.directory / sub).mkdir(mode=0o755, parents=True)
        return self.directory

    def _spawn(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        stderr = (self._dir / "stderr.log").open("wb")
        started = time.monotonic()
        self._process = subprocess.Popen(argv, start_new_session=True, env=env,
                                         stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)
        stderr.close()
        self._wait_until_listening()
        log.info("%s sandbox on %s:%d up in %.0f ms", self.name, self.host, self.port,
                 (time.monotonic() - started) * 1000)

    def _ports(self) -> list[int]:
        return [self.port]

    def _logs(self) -> str:
        return (self._dir / "stderr.log").read_text(errors="replace")

    def _wait_until_listening(self, timeout: float = 10.0) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        ports = self._ports()
        while not all(_accepts(p) for p in ports):
            if self._process.poll() is not None or time.monotonic() > deadline:
                output = self._logs()
                self.stop()
                raise SandboxError(f"{self.name} did not start listening on {self.host}:{ports}:\n{output}")
            time.sleep(0.01)

    def stop(self) -> None:
        """Kill the server's process group and delete the folder.

        SIGKILL rather than SIGTERM: masters wait for their children on SIGTERM, and nothing
        here needs a clean shutdown since the folder is deleted anyway.
        """
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)  # its own session, see _spawn()
            self._process.wait()
            self._process = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        self._passwords.clear()  # their login data is gone with the folder

    def add_user(self, name: str, password: str) -> None:
        """Create a user, usable at once; a user's password cannot be changed here."""
        if not name or any(c in name for c in ":\n/.@") or any(c in password for c in ":\n"):
            raise ValueError("user names and passwords may not contain ':', newlines (or '/', '.', '@' "
                             "in names)")
        with self._lock:
            if name in self._passwords:
                raise ValueError(f"sandbox user {name!r} exists already")
            self._add_login(name, password)
            self._passwords[name] = password

    def settings(self, user: str, **overrides: Any) -> ImapSettings:
        """ImapSettings for ``user`` on the plain port (no TLS), ready for ``ImapMailbox``."""
        values: dict[str, Any] = {
            "host": self.host, "port": self.port, "username": user, "security": "none",
            "password": SecretStr(self._passwords[user]), "timeout_seconds": 10.0,
        }
        values.update(overrides)
        return ImapSettings(**values)

    def imap_client(self, user: str) -> IMAPClient:
        """A logged-in imapclient connection (plain text) for ``user``; the caller logs out."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        client.login(user, self._passwords[user])
        return client

    def account(self, user: str) -> SandboxAccount:
        """What a person's mail program can do on ``user``'s mailbox (seed mail, look at flags)."""
        if user not in self._passwords:
            raise KeyError(f"no sandbox user {user!r}")
        return SandboxAccount(self, user)


class DovecotServer(ImapSandbox):
    """A throw-away Dovecot on 127.0.0.1 with passwd-file users and Maildir storage.

    ``tls=True`` also opens an implicit-TLS port and offers STARTTLS, with a self-signed
    certificate that ``client_ssl_context()`` trusts. ``extra_config`` is appended verbatim
    (e.g. ``imap_capability = ...`` to hide an extension from clients).
    """

    name = "dovecot"

    def __init__(self, *, tls: bool = False, extra_config: str = "") -> None:
        super().__init__()
        self.tls = tls
        self.extra_config = extra_config
        self.tls_port: int | None = None
        self.cert_file: Path | None = None

    @property
    def log_file(self) -> Path:
        return self._dir / "dovecot.log"

    def start(self) -> None:
        binary = find_dovecot()
        user, group = _service_account()
        directory = self._make_directory("run", "state", "home", "users")
        shutil.chown(directory / "home", user, group)
        self.port = free_port()
        ssl_lines = "ssl = no\n"
        if self.tls:
            self.tls_port = free_port()
            self.cert_file, key = self_signed_cert(directory)
            ssl_lines = f"ssl = yes\nssl_cert = <{self.cert_file}\nssl_key = <{key}\n"
        config = directory / "dovecot.conf"
        config.write_text(
            _CONFIG.format(dir=directory, user=user, group=group, port=self.port,
                           tls_port=self.tls_port or 0) + ssl_lines + self.extra_config + "\n"
        )
        self._spawn([str(binary), "-F", "-c", str(config)])

    def _ports(self) -> list[int]:
        return [p for p in (self.port, self.tls_port) if p]

    def _logs(self) -> str:
        output = super()._logs()
        if self.log_file.exists():
            output += self.log_file.read_text(errors="replace")
        return output

    def stop(self) -> None:
        super().stop()
        self.tls_port = self.cert_file = None

    def _add_login(self, name: str, password: str) -> None:
        """One passwd-file per user, because Dovecot re-checks a changed passwd-file at most once a
        second, while a new user's own file is read on first use."""
        path = self._dir / "users" / name
        tmp = path.parent / f".{name}.new"
        tmp.write_text(f"{name}:{{PLAIN}}{password}::::::\n")
        tmp.chmod(0o644)
        tmp.replace(path)  # atomic: the auth process never reads half a file

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate."""
        if self.cert_file is None:
            raise SandboxError("this Dovecot sandbox was started without tls=True")
        return ssl.create_default_context(cafile=str(self.cert_file))


def find_cyrus() -> Path:
    """The root of a Cyrus IMAP installation: the private one in the venv (scripts/setup), or the system's.

    Debian's cyrus-imapd conflicts with dovecot-imapd, so scripts/setup unpacks it into
    ``<venv>/cyrus`` instead of installing it; a machine with the real package works too.
    """
    for root in (Path(sys.prefix) / "cyrus", Path("/")):
        if (root / "usr/lib/cyrus/bin/master").is_file():
            return root
    raise SandboxError(f"Cyrus IMAP is not available (looked in {Path(sys.prefix) / 'cyrus'} and "
                       "/usr/lib/cyrus/bin); run scripts/setup")


def find_saslpasswd2() -> Path:
    found = shutil.which("saslpasswd2") or shutil.which("saslpasswd2", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise SandboxError("saslpasswd2 is not installed; on Debian/Ubuntu run `apt-get install sasl2-bin` "
                           "(or scripts/setup)")
    return Path(found)


# Debian's defaults where they matter to clients (altnamespace: no, so personal folders live under
# "INBOX."), everything else in the sandbox folder; sasldb users; INBOX made at the first login.
# imapd makes its own IDLE socket in {configdirectory}/socket: without that folder it silently
# falls back to polling every imapidlepoll (1 s) instead of hearing from idled at once.
_CYRUS_IMAPD_CONF = """\
configdirectory: {dir}/config
defaultpartition: default
partition-default: {dir}/spool
proc_path: {dir}/run/proc
mboxname_lockpath: {dir}/run/lock
idlesocket: {dir}/config/socket/idle
notifysocket: {dir}/config/socket/notify
lmtpsocket: {dir}/config/socket/lmtp
cyrus_user: {user}
cyrus_group: {group}
altnamespace: no
unixhierarchysep: no
hashimapspool: true
autocreate_quota: 0
allowplaintext: yes
failedloginpause: 0
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {dir}/sasldb2
sasl_mech_list: PLAIN LOGIN
imapidlepoll: 1
syslog_prefix: inbox-agent-cyrus
"""

_CYRUS_CONF = """\
START {{
  recover cmd="{bin}/ctl_cyrusdb -C {conf} -r"
}}
SERVICES {{
  imap cmd="{bin}/imapd -C {conf}" listen="127.0.0.1:{port}" prefork=1
}}
DAEMON {{
  idled cmd="{bin}/idled -C {conf}"
}}
"""


class CyrusServer(ImapSandbox):
    """A throw-away Cyrus IMAP (``master`` with imapd and idled) on 127.0.0.1, users in a private sasldb.

    It keeps personal folders under ``INBOX.`` and refuses to create them elsewhere, and it
    allows at most 100 keywords per folder: the two behaviours the agent must cope with.
    """

    name = "cyrus"
    personal_prefix = "INBOX."

    def start(self) -> None:
        root = find_cyrus()
        self._saslpasswd2 = find_saslpasswd2()
        user, group = _service_account()
        directory = self._make_directory("config/socket", "spool", "run/proc", "run/lock")
        self.port = free_port()
        conf = directory / "imapd.conf"
        conf.write_text(_CYRUS_IMAPD_CONF.format(dir=directory, user=user, group=group))
        binaries = root / "usr/lib/cyrus/bin"
        (directory / "cyrus.conf").write_text(_CYRUS_CONF.format(bin=binaries, conf=conf, port=self.port))
        for path in directory.rglob("*"):
            shutil.chown(path, user, group)
        libraries = [str(p) for p in (root / "usr/lib").glob("*-linux-gnu")] + [str(root / "usr/lib")]
        env = dict(os.environ, LD_LIBRARY_PATH=":".join([*libraries, os.environ.get("LD_LIBRARY_PATH", "")]))
        self._spawn([str(binaries / "master"), "-D", "-C", str(conf), "-M", str(directory / "cyrus.conf"),
                     "-p", str(directory / "run/master.pid")], env=env)

    def _add_login(self, name: str, password: str) -> None:
        sasldb = self._dir / "sasldb2"
        subprocess.run([str(self._saslpasswd2), "-f", str(sasldb), "-p", "-c", name], input=password.encode(),
                       check=True, capture_output=True)
        sasldb.chmod(0o644)  # written as us, read by imapd as the service account


class SandboxAccount:
    """Another mail client on one sandbox account; every call uses its own short connection."""

    def __init__(self, server: ImapSandbox, user: str) -> None:
        self.server = server
        self.user = user

    def append(self, raw: bytes, *, folder: str = "INBOX", flags: tuple[str, ...] = (),
               internal_date: datetime | None = None) -> int:
        """Deliver ``raw`` into ``folder`` the way a mail client would; returns the new UID."""
        with self.server.imap_client(self.user) as client:
            response = client.append(folder, raw, flags=flags, msg_time=internal_date)
        # b"[APPENDUID <uidvalidity> <uid>] Append completed."
        return int(response.split(b"]", 1)[0].split()[2])

    def flags(self, uid: int, folder: str = "INBOX") -> set[str]:
        """Stored flags and keywords, read without changing them (EXAMINE). ``\\Recent`` is
        left out: it is per-session state, not stored."""
        with self.server.imap_client(self.user) as client:
            client.select_folder(folder, readonly=True)
            found = client.get_flags([uid])
        if uid not in found:
            raise KeyError(f"no UID {uid} in {folder}")
        return {f.decode() for f in found[uid]} - {"\\Recent"}

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.server.imap_client(self.user) as client:
            client.select_folder(folder, readonly=True)
            return sorted(int(uid) for uid in client.search("ALL"))

    def raw(self, uid: int, folder: str = "INBOX") -> bytes:
        with self.server.imap_client(self.user) as client:
            client.select_folder(folder, readonly=True)
            return bytes(client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"])

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.server.imap_client(self.user) as client:
            return int(client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])


@dataclass(frozen=True)
class ReceivedMail:
    """One SMTP transaction the sink accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self.sink._store(ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(raw)))
        return "250 OK"


class _Controller(Controller):
    def factory(self) -> Any:
        # aiosmtpd warns on every connection that AUTH without TLS is unsafe; here it is local.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return super().factory()  # type: ignore[no-untyped-call]  # unannotated upstream


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it receives.

    ``stop()`` and ``start()`` again reuse the same port, to simulate an outage of the mail
    server. With ``auth=(user, password)`` the sink demands AUTH; with ``starttls=True`` it
    offers STARTTLS with a self-signed certificate (trusted by ``client_ssl_context()``) and
    then allows AUTH only after it. With ``maildir`` every message is also written there.
    """

    host = LOCALHOST

    def __init__(self, *, port: int | None = None, auth: tuple[str, str] | None = None,
                 starttls: bool = False, maildir: Path | None = None) -> None:
        self.port = port or free_port()
        self.auth = auth
        self.maildir = Maildir(maildir, create=True) if maildir is not None else None
        self._tls: tuple[ssl.SSLContext, str] | None = None
        if starttls:
            with tempfile.TemporaryDirectory() as folder:
                cert, key = self_signed_cert(Path(folder))
                server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                server_context.load_cert_chain(cert, key)
                self._tls = (server_context, cert.read_text())
        self._received: list[ReceivedMail] = []
        self._arrived = threading.Condition()
        self._controller: Controller | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is not None:
            return
        kwargs: dict[str, Any] = {"auth_require_tls": self._tls is not None}
        if self._tls is not None:
            kwargs["tls_context"] = self._tls[0]
        if self.auth is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True)
        controller = _Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        assert self.auth is not None
        wanted = LoginPassword(self.auth[0].encode(), self.auth[1].encode())
        # handled=False: aiosmtpd then sends the 235/535 reply itself
        return AuthResult(success=auth_data == wanted, handled=False)

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this sink's self-signed certificate."""
        if self._tls is None:
            raise SandboxError("this SMTP sink was created without starttls=True")
        return ssl.create_default_context(cadata=self._tls[1])

    def _store(self, mail: ReceivedMail) -> None:
        if self.maildir is not None:
            self.maildir.add(mail.raw)
        with self._arrived:
            self._received.append(mail)
            self._arrived.notify_all()

    @property
    def messages(self) -> list[ReceivedMail]:
        """A copy of everything received so far, oldest first."""
        with self._arrived:
            return list(self._received)

    def clear(self) -> None:
        with self._arrived:
            self._received.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        """Block until at least ``count`` messages arrived; raise TimeoutError saying how many did."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._received) >= count, timeout):
                raise TimeoutError(
                    f"SMTP sink got {len(self._received)} of {count} expected messages in {timeout:g} s"
                )
            return list(self._received)
