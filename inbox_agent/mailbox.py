"""The IMAP source: connect, wait for new mail (IDLE or polling), fetch by UID, mark, move.

Synchronous on purpose (imapclient is). The daemon keeps one ``ImapMailbox`` per mailbox and
runs its commands in a small pool of worker threads; while a connection is in IDLE, the event
loop watches its socket (``idle_socket``), so an idle mailbox costs no thread. An instance is
not thread-safe: one command at a time.

The mailbox is shared with people, so this module is careful about their state: bodies are read
with ``BODY.PEEK[]`` (never ``BODY[]``/``RFC822``, which would mark mail as read), and the only
flag ever stored is the agent's own keyword. Message content is never logged, only counts.
"""

from __future__ import annotations

import contextlib
import functools
import imaplib
import logging
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, ClassVar, Self

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import LoginError
from imapclient.imap4 import IMAP4WithTimeout
from imapclient.tls import IMAP4_TLS
from pydantic import AwareDatetime, Field

from . import oauth
from .config import ImapSettings
from .models import Frozen

log = logging.getLogger(__name__)

FETCH_BATCH_MESSAGES = 100
FETCH_BATCH_BYTES = 32 * 1024 * 1024
"""A fetch batch stops at whichever limit comes first, so memory stays bounded."""

_NEW_MAIL = (b"EXISTS", b"RECENT")
_SLICE_SECONDS = 1.0
"""How often ``wait`` looks at its stop event while idling or sleeping."""


class MailboxError(Exception):
    """An IMAP problem, worded for the person who reads the log or runs ``check-config``."""

    retryable: ClassVar[bool] = False
    """True when trying again later may help (network trouble), False for configuration errors."""


class MailboxUnreachable(MailboxError):
    retryable = True


class MailboxTlsError(MailboxError):
    pass


class MailboxLoginError(MailboxError):
    pass


class MailboxFolderError(MailboxError):
    pass


class MailboxConnectionLost(MailboxError):
    retryable = True


class MailboxRefused(MailboxError):
    """The server said NO to one operation (CREATE, MOVE, STORE, APPEND) on a working connection.

    Not an outage: reading goes on, and only this operation waits out its own backoff
    (``faults.py``). ``operation`` names it, lower case.
    """

    def __init__(self, message: str, operation: str) -> None:
        super().__init__(message)
        self.operation = operation


class FetchedMail(Frozen):
    """One message as stored on the server, plus what is needed to find it again."""

    uid: int
    uidvalidity: int
    raw: bytes = Field(repr=False)
    internal_date: AwareDatetime
    flags: tuple[str, ...]
    size: int
    """RFC822.SIZE: the full size on the server, also when ``raw`` is truncated."""
    truncated: bool = False
    """True when the message is bigger than ``max_bytes`` and ``raw`` holds only its start."""


class FolderState(Frozen):
    """Where the caller left off in a folder; UIDs only mean something within one UIDVALIDITY."""

    uidvalidity: int
    last_uid: int


def _server_text(exc: BaseException) -> str:
    """The server's words from an imaplib error, without b'...' quoting, command name and timing; for a socket
    error its words, not its number ("connection reset by peer", where ``args[0]`` is 104)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    text = str(exc.args[0] if exc.args else exc)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    text = re.sub(r"^[a-z]+ failed: ", "", text)
    return re.sub(r" \(\d+\.\d+ \+ .*\)\.?$", "", text).strip()


_BAD_CREDENTIALS = re.compile(r"authenticat|password|credential|login failed|invalid login|\bbad login",
                              re.IGNORECASE)
"""What servers without RFC 5530 response codes say to a wrong password (Cyrus: "Login failed:
authentication failure")."""


def _login_reason(server_text: str) -> str:
    """The reason for a refused login, worded for the operator; the server's own words when unsure."""
    if "AUTHENTICATIONFAILED" in server_text:
        return "wrong username or password"
    if "PRIVACYREQUIRED" in server_text:
        return 'the server refuses passwords without TLS (use security = "tls" or "starttls")'
    if not server_text.startswith("[") and _BAD_CREDENTIALS.search(server_text):
        return f"wrong username or password (the server says: {server_text})"
    return server_text


class ImapMailbox:
    """One logged-in connection to the configured folder of one IMAP account.

    ``ssl_context`` overrides the system trust store (tests use a self-signed certificate).
    """

    def __init__(self, settings: ImapSettings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.where = f"{settings.host}:{settings.port}"
        self._ssl_context = ssl_context
        self._client: Any = None
        self._uidvalidity: int | None = None
        self._permanent_flags: tuple[bytes, ...] = ()
        self._keyword_warned = False
        self._folders: dict[str, str] = {}
        """Configured folder name -> the server's name for it, found once per connection."""
        self._idling = False

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connection -------------------------------------------------------------------------

    def connect(self) -> None:
        """Open the connection (TLS as configured) and log in."""
        self.close()
        s = self.settings
        try:
            self._client = self._open()
        except MailboxError:
            raise
        except ssl.SSLCertVerificationError as exc:
            raise MailboxTlsError(f"TLS certificate of {self.where} is not trusted: "
                                  f"{exc.verify_message}") from exc
        except ssl.SSLError as exc:
            raise MailboxTlsError(f"TLS handshake failed with {self.where} (server speaks plain text? "
                                  'try security = "starttls" or "none")') from exc
        except TimeoutError as exc:
            hint = ' (server expects TLS? try security = "tls")' if s.security != "tls" else ""
            raise MailboxUnreachable(f"cannot reach IMAP {self.where}: no answer within "
                                     f"{s.timeout_seconds:g} s{hint}") from exc
        except socket.gaierror as exc:
            raise MailboxUnreachable(f"cannot reach IMAP {self.where}: unknown host") from exc
        except ConnectionRefusedError as exc:
            raise MailboxUnreachable(f"cannot reach IMAP {self.where}: connection refused") from exc
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxUnreachable(f"cannot reach IMAP {self.where}: {_server_text(exc)}") from exc
        self._login()

    def _open(self) -> Any:
        s = self.settings
        context = self._ssl_context or (_system_trust() if s.security != "none" else None)
        client = _Client(s.host, s.port, ssl=s.security == "tls", ssl_context=context,
                         timeout=SocketTimeout(connect=s.timeout_seconds, read=s.timeout_seconds))
        client.normalise_times = False  # keep INTERNALDATE's zone: FetchedMail wants aware times
        if s.security == "starttls":
            try:
                if not client.has_capability("STARTTLS"):
                    raise MailboxTlsError(f"IMAP server {self.where} does not offer STARTTLS "
                                          '(try security = "tls" on port 993)')
                client.starttls(context)
            except BaseException:
                client.shutdown()
                raise
        return client

    def _login(self) -> None:
        s = self.settings
        prefix = f"IMAP login failed for user {s.username} at {self.where}"
        try:
            if s.auth == "oauth2":
                with self._translate("login"):
                    try:
                        oauth.login_imap(self._c, s)
                    except oauth.OAuthError as exc:
                        raise (MailboxUnreachable if exc.retryable else MailboxLoginError)(f"{prefix}: {exc}") from exc
                return
            if s.password is None:
                raise MailboxLoginError(f"{prefix}: no password configured (imap.password, "
                                        "imap.password_file or INBOX_AGENT_IMAP__PASSWORD)")
            with self._translate("login"):
                try:
                    self._c.login(s.username, s.password.get_secret_value())
                except LoginError as exc:
                    raise MailboxLoginError(f"{prefix}: {_login_reason(_server_text(exc))}") from exc
        except MailboxError:
            self.close()
            raise

    def close(self) -> None:
        """Log out; never raises, the connection may already be gone."""
        client, self._client, self._uidvalidity = self._client, None, None
        self._folders.clear()
        idling, self._idling = self._idling, False
        if client is None:
            return
        try:
            if idling:  # a LOGOUT inside IDLE gets no answer: the logout would wait out the read timeout
                client.idle_done()
            client.logout()
        except Exception:  # logging out of a dead connection is not news
            try:
                client.shutdown()
            except Exception:
                log.debug("IMAP %s: connection already closed", self.where)

    @property
    def _c(self) -> Any:
        if self._client is None:
            raise MailboxError(f"IMAP {self.where}: not connected (call connect() first)")
        return self._client

    @contextlib.contextmanager
    def _translate(self, action: str, refused: type[MailboxError] = MailboxError,
                   refused_text: str | None = None, operation: str | None = None) -> Iterator[None]:
        """Turn imaplib/socket exceptions into MailboxError; a broken connection is dropped.

        A server refusal (NO/BAD) raises ``refused`` with ``refused_text`` (default: the action),
        or MailboxRefused for ``operation`` when one is named.
        """
        try:
            yield
        except MailboxError:
            raise
        except (imaplib.IMAP4.abort, OSError) as exc:
            client, self._client = self._client, None  # unusable now; the caller reconnects
            with contextlib.suppress(Exception):
                client.shutdown()
            raise MailboxConnectionLost(f"IMAP connection to {self.where} lost during {action}: "
                                        f"{_server_text(exc) or type(exc).__name__}") from exc
        except imaplib.IMAP4.error as exc:
            prefix = refused_text or f"IMAP {action} failed at {self.where}"
            if operation is not None:
                raise MailboxRefused(f"{prefix}: {_server_text(exc)}", operation) from exc
            raise refused(f"{prefix}: {_server_text(exc)}") from exc

    # -- folder -----------------------------------------------------------------------------

    def select(self) -> int:
        """Select the configured folder read-write and return its UIDVALIDITY."""
        folder = self.settings.folder
        with self._translate("select", MailboxFolderError, f"cannot open IMAP folder {folder!r} for "
                             f"user {self.settings.username} at {self.where}"):
            info = self._c.select_folder(folder)
        self._forget_news()  # what SELECT reports is the current state, not news
        self._uidvalidity = int(info[b"UIDVALIDITY"])
        self._permanent_flags = tuple(info.get(b"PERMANENTFLAGS", ()))
        log.debug("IMAP %s: selected %s, %d messages", self.where, folder, info.get(b"EXISTS", 0))
        return self._uidvalidity

    def _namespaces(self) -> tuple[str, tuple[str, ...]]:
        """The prefix of the user's own folders and those of the other namespaces (RFC 2342).

        Cyrus answers "INBOX." for one's own folders (it refuses to create them anywhere else)
        and "user." for other users'; Dovecot usually has "" for one's own. ("", ()) without
        NAMESPACE.
        """
        c = self._c
        with self._translate("namespace"):
            if not c.has_capability("NAMESPACE"):
                return "", ()
            found = c.namespace()
        personal = str(found.personal[0][0] or "") if found.personal else ""
        others = tuple(str(ns[0]) for group in (found.other, found.shared) for ns in group or () if ns[0])
        return personal, others

    def resolve_folder(self, name: str) -> str:
        """The server's name for a configured folder: ``name`` itself when it exists (or is INBOX or
        already inside a namespace), else ``name`` inside the personal namespace.

        So "Privacy" means "Privacy" on Dovecot and "INBOX.Privacy" on Cyrus; "INBOX.Privacy"
        means that on both. Found once per connection.
        """
        if name in self._folders:
            return self._folders[name]
        with self._translate("list"):
            exists = self._c.folder_exists(name)
        resolved = name
        if not exists and name.upper() != "INBOX":
            personal, others = self._namespaces()
            if personal and not name.upper().startswith(tuple(p.upper() for p in (personal, *others))):
                resolved = personal + name
        self._folders[name] = resolved
        return resolved

    def ensure_folder(self, name: str) -> tuple[str, bool]:
        """Resolve ``name`` (see ``resolve_folder``) and create it when missing.

        Returns the server's name and whether it was created now; raises MailboxRefused
        ("create") when the server will not create it.
        """
        resolved = self.resolve_folder(name)
        c = self._c
        with self._translate("list"):
            if c.folder_exists(resolved):
                return resolved, False
        with self._translate("create", refused_text=f"IMAP server {self.where} refuses to create folder "
                             f"{resolved!r}", operation="create"):
            c.create_folder(resolved)
        with contextlib.suppress(MailboxRefused), self._translate("subscribe", operation="subscribe"):
            c.subscribe_folder(resolved)  # so mail programs show it; not worth failing over
        log.info("IMAP %s: created folder %s", self.where, resolved)
        return resolved, True

    @property
    def uidvalidity(self) -> int:
        if self._uidvalidity is None:
            raise MailboxError(f"IMAP {self.where}: no folder selected (call select() first)")
        return self._uidvalidity

    def new_uids(self, after_uid: int) -> list[int]:
        """UIDs above ``after_uid``, ascending.

        ``UID n:*`` always includes the highest UID even when it is below n, hence the filter.
        The NOOP first lets the server update this session's view: Dovecot answers a SEARCH from
        the view as it was before the command, so mail appended since would be missed.
        """
        with self._translate("search"):
            self._c.noop()
        return self._search_after(after_uid)

    def select_new(self, after_uid: int) -> tuple[int, list[int]]:
        """``select`` and then ``new_uids`` without its NOOP: right after SELECT the session's view is
        the folder as it is (a round trip less for each of a thousand mailboxes at a start; mail that
        arrives in between is announced to the NOOP of ``begin_idle``)."""
        uidvalidity = self.select()
        return uidvalidity, self._search_after(after_uid)

    def _search_after(self, after_uid: int) -> list[int]:
        with self._translate("search"):
            self._forget_news()  # the SEARCH below covers everything announced so far
            found = self._c.search(["UID", f"{after_uid + 1}:*"])
        return sorted(int(uid) for uid in found if int(uid) > after_uid)

    def _forget_news(self) -> None:
        untagged = self._c._imap.untagged_responses
        for kind in ("EXISTS", "RECENT"):
            untagged.pop(kind, None)

    def _news_since_search(self) -> bool:
        """True when a command after the last search (a FETCH, STORE or NOOP) announced new mail.

        The server tells a session about new mail only once; when that happens during a fetch,
        IDLE would not announce it again and the mail would wait for the next IDLE timeout.
        """
        untagged = self._c._imap.untagged_responses
        return any(untagged.get(kind) for kind in ("EXISTS", "RECENT"))

    # -- reading ----------------------------------------------------------------------------

    def fetch(self, uids: Sequence[int], max_bytes: int) -> list[FetchedMail]:
        """The messages with these UIDs (vanished ones are skipped), in UID order.

        Sizes are fetched first so that batches stay under FETCH_BATCH_BYTES; bodies are read
        with ``BODY.PEEK[]<0.max_bytes>``, which returns whole messages up to that size and
        only the first ``max_bytes`` of bigger ones (marked ``truncated``).
        """
        uidvalidity = self.uidvalidity
        if not uids:
            return []
        with self._translate("fetch"):
            self._c.noop()  # see new_uids: the session must know about mail that arrived since
            sizes = {int(uid): int(d[b"RFC822.SIZE"])
                     for uid, d in self._c.fetch(sorted(uids), ["RFC822.SIZE"]).items()}
        mails: list[FetchedMail] = []
        for batch in _batches(sizes, max_bytes):
            with self._translate("fetch"):
                data = self._c.fetch(batch, [f"BODY.PEEK[]<0.{max_bytes}>", "INTERNALDATE", "FLAGS",
                                             "RFC822.SIZE"])
            mails.extend(_to_mail(int(uid), uidvalidity, d, max_bytes) for uid, d in sorted(data.items())
                         if any(k.startswith(b"BODY[]") for k in d))  # not unsolicited FLAGS news
        log.info("IMAP %s: fetched %d of %d messages from %s (%d truncated)", self.where, len(mails),
                 len(uids), self.settings.folder, sum(m.truncated for m in mails))
        return mails

    # -- changing ---------------------------------------------------------------------------

    def add_keyword(self, uids: Sequence[int], keyword: str | None = None) -> bool:
        """Add our keyword (default: the configured one) and nothing else, to fetched UIDs.

        Returns False, with one warning, when the folder does not allow new keywords; the
        keyword is a courtesy for people reading the mailbox, the database is the real record.
        Raises MailboxRefused ("store") when the server refuses it anyway (Cyrus allows 100
        keywords per folder while PERMANENTFLAGS still says \\*).
        """
        word = keyword or self.settings.keyword
        if word.startswith("\\"):
            raise ValueError(f"{word!r} is a system flag; the agent only sets its own keyword")
        if not uids:
            return True
        allowed = {f.lower() for f in self._permanent_flags}
        if b"\\*" not in allowed and word.encode().lower() not in allowed:
            if not self._keyword_warned:
                log.warning("IMAP %s: folder %s does not allow keyword %s; messages are not marked",
                            self.where, self.settings.folder, word)
                self._keyword_warned = True
            return False
        with self._translate("store", refused_text=f"IMAP server {self.where} refuses keyword {word} in "
                             f"{self.settings.folder!r}", operation="store"):
            self._c.add_flags(list(uids), [word], silent=True)
        return True

    def move(self, uids: Sequence[int], folder: str) -> str:
        """Move fetched messages to ``folder`` (resolved and created if missing, see ``ensure_folder``);
        no other message is expunged. Returns the server's name of the folder.

        Raises MailboxRefused ("create" or "move") when the server says NO.
        """
        folder, _created = self.ensure_folder(folder)
        if not uids:
            return folder
        c = self._c
        with self._translate(f"move to {folder!r}", refused_text=f"IMAP server {self.where} refuses to move "
                             f"mail to {folder!r}", operation="move"):
            if c.has_capability("MOVE"):
                c.move(list(uids), folder)
            elif c.has_capability("UIDPLUS"):
                c.copy(list(uids), folder)
                c.add_flags(list(uids), ["\\Deleted"], silent=True)
                c.uid_expunge(list(uids))
            else:
                raise MailboxRefused(f"IMAP {self.where} supports neither MOVE nor UIDPLUS; moving would "
                                     "expunge other people's deleted mail too (unset imap.move_privacy_to)", "move")
        log.info("IMAP %s: moved %d messages from %s to %s", self.where, len(uids),
                 self.settings.folder, folder)
        return folder

    # -- waiting ----------------------------------------------------------------------------

    def has_idle(self) -> bool:
        """True when IDLE is enabled in the settings and offered by the server."""
        return self.settings.idle and bool(self._c.has_capability("IDLE"))

    def noop(self) -> None:
        """Keep the connection alive and notice when it has died."""
        with self._translate("noop"):
            self._c.noop()

    def check(self) -> bool:
        """A quiet re-check: NOOP and True when the server announced mail since the last search."""
        self.noop()
        return self._news_since_search()

    def begin_idle(self) -> bool:
        """Enter IDLE; True (and not idling) when new mail is known already, so a poll comes first.

        Dovecot reports in IDLE only what changes after IDLE began: mail delivered since our last
        command (while we stored and marked the previous batch) would wait out the whole IDLE. A
        NOOP just before IDLE closes that window to the round trip between the two. What came in
        with the server's "+ idling" is read at once: the socket will not signal it again.
        """
        if self._news_since_search() or self.check():
            return True
        with self._translate("idle"):
            self._c.idle()
            self._idling = True
            news = _announces_mail(self._c.idle_check(timeout=0))
        return news and self._announced()

    def idle_socket(self) -> int:
        """The connection's file descriptor, for an event loop to watch while in IDLE."""
        return int(self._c.socket().fileno())

    def idle_news(self) -> bool:
        """The socket is readable during IDLE: read without blocking; True (and IDLE ended) on new mail.

        A readable socket with nothing to read is a closed connection: leaving IDLE then raises
        MailboxConnectionLost.
        """
        with self._translate("idle"):
            responses = self._c.idle_check(timeout=0)
        if not responses:
            return self.end_idle()
        return _announces_mail(responses) and self._announced()

    def _announced(self) -> bool:
        """End IDLE because it announced new mail; always True."""
        self.end_idle()
        return True

    def end_idle(self) -> bool:
        """Leave IDLE; True when the server announced new mail on the way out."""
        self._idling = False
        with self._translate("idle"):
            _text, responses = self._c.idle_done()
        return _announces_mail(responses)

    def newest_arrival(self) -> datetime | None:
        """INTERNALDATE of the folder's last message (when it reached the mailbox), None when empty."""
        with self._translate("fetch"):
            last = [int(uid) for uid in self._c.search(["UID", "*"])]  # "UID *": the highest UID
            found = self._c.fetch(last, ["INTERNALDATE"]) if last else {}
        dates: list[datetime] = [d[b"INTERNALDATE"] for d in found.values() if b"INTERNALDATE" in d]
        return max(dates, default=None)

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Wait up to ``timeout`` seconds for new mail in this thread; True if some may have arrived.

        The blocking form of begin_idle/idle_news/end_idle, for one mailbox in one thread; the
        daemon watches all its connections from one event loop instead (``watch.py``). With
        IDLE, True means the server announced EXISTS/RECENT (Dovecot does so about half a second
        late). Without IDLE this sleeps and returns True, as only a search can tell. Setting
        ``stop`` ends the wait within a second (returns False), for a prompt shutdown.
        """
        deadline = time.monotonic() + timeout
        if not self.has_idle():
            while not (stop is not None and stop.is_set()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return True
                time.sleep(min(left, _SLICE_SECONDS))
            return False
        if self.begin_idle():
            return True
        poller = select.poll()
        poller.register(self.idle_socket(), select.POLLIN)
        while not (stop is not None and stop.is_set()):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if poller.poll(1000 * min(left, _SLICE_SECONDS)) and self.idle_news():
                return True
        return self.end_idle()


class _GreetingCapabilities(imaplib.IMAP4):
    """The capabilities from the server's greeting ("* OK [CAPABILITY ...]", RFC 3501 7.1), as Dovecot
    sends them: imaplib asks again with a CAPABILITY command, a round trip per login (a thousand at
    a daemon's start). Without them in the greeting (Cyrus), imaplib asks as before."""

    def _get_capabilities(self) -> None:
        said = self.untagged_responses.pop("CAPABILITY", None)  # as imaplib's own command consumes it
        if not said or not isinstance(said[-1], bytes):
            super()._get_capabilities()  # type: ignore[misc]
            return
        self.capabilities = tuple(said[-1].decode("ascii", "replace").upper().split())


class _Plain(_GreetingCapabilities, IMAP4WithTimeout):  # type: ignore[misc]
    pass


class _Tls(_GreetingCapabilities, IMAP4_TLS):  # type: ignore[misc]
    pass


class _Client(IMAPClient):  # type: ignore[misc]
    """``IMAPClient`` whose connection takes the capabilities from the greeting."""

    def _create_IMAP4(self) -> imaplib.IMAP4:
        timeout = getattr(self._timeout, "connect", None)
        if self.ssl:
            return _Tls(self.host, self.port, self.ssl_context, timeout)  # type: ignore[call-arg]
        return _Plain(self.host, self.port, timeout)


@functools.cache
def _system_trust() -> ssl.SSLContext:
    """One client context for every connection: loading the system's CA store costs ~1 MB and
    milliseconds of CPU, which a thousand mailboxes reconnecting would pay a thousand times (and
    without TLS none at all: the first logins of a start each loaded it, the cache being empty)."""
    return ssl.create_default_context()


def _announces_mail(responses: list[tuple[Any, ...]]) -> bool:
    return any(len(r) >= 2 and r[1] in _NEW_MAIL for r in responses)


def _batches(sizes: dict[int, int], max_bytes: int) -> Iterator[list[int]]:
    batch: list[int] = []
    total = 0
    for uid in sorted(sizes):
        size = min(sizes[uid], max_bytes)
        if batch and (len(batch) >= FETCH_BATCH_MESSAGES or total + size > FETCH_BATCH_BYTES):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


def _to_mail(uid: int, uidvalidity: int, data: dict[bytes, Any], max_bytes: int) -> FetchedMail:
    body = next(v for k, v in data.items() if k.startswith(b"BODY[]"))  # "BODY[]<0>" when partial
    size = int(data[b"RFC822.SIZE"])
    when: datetime = data[b"INTERNALDATE"]
    return FetchedMail(
        uid=uid,
        uidvalidity=uidvalidity,
        raw=bytes(body or b""),
        internal_date=when,
        flags=tuple(f.decode("utf-8", "replace") if isinstance(f, bytes) else str(f)
                    for f in data[b"FLAGS"]),
        size=size,
        truncated=size > max_bytes,
    )


class MailboxCheck(Frozen):
    """What ``check-config`` says about one mailbox: the problem, if any, and what it found."""

    problem: str | None = None
    notes: tuple[str, ...] = ()


def check_mailbox(settings: ImapSettings) -> MailboxCheck:
    """Log in, open the folder, and find or create ``move_privacy_to`` under the server's name for it."""
    try:
        with ImapMailbox(settings) as box:
            box.select()
            if not settings.move_privacy_to:
                return MailboxCheck()
            folder, created = box.ensure_folder(settings.move_privacy_to)
    except MailboxError as exc:
        return MailboxCheck(problem=str(exc))
    how = "created" if created else "found"
    return MailboxCheck(notes=(f"IMAP {settings.username} at {box.where}: move_privacy_to "
                               f"{settings.move_privacy_to!r} is folder {folder!r} ({how})",))
