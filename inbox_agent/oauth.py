"""OAuth2 mail logins: access tokens from a refresh token, sent as SASL XOAUTH2 or OAUTHBEARER.

Microsoft 365 has switched password logins off for IMAP and is retiring them for SMTP; Google
wants OAuth. For such a mailbox (``auth = "oauth2"``) ``mailbox.py`` and ``smtp.py`` call
``login_imap`` / ``login_smtp`` instead of sending a password.

* One ``TokenSource`` per set of credentials (IMAP and SMTP of one account share it) keeps the
  current access token and trades the refresh token for a new one shortly before it expires, or
  when a server rejects it (a token revoked early). A rotated refresh token is written back.
* A refused refresh token (revoked, expired, wrong client) pauses the logins: the same
  RefreshRefused is raised again without a request to the endpoint until the refresh-token file
  changes, which is what ``inbox-agent oauth login`` (``device_login``) does. The daemon logs a
  repeated fault once.
* Tokens, secrets and refresh tokens never go into a log line, an exception or a repr.
* The HTTP calls run in the mailbox thread or (SMTP) in a worker thread, never inside a
  database transaction.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import os
import secrets
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

if TYPE_CHECKING:
    import aiosmtplib

    from .config import ImapSettings, MailLogin, SmtpSettings

log = logging.getLogger(__name__)

REFRESH_MARGIN = 120.0
"""Seconds before its expiry that an access token is replaced: a login never starts with a dying token."""
HTTP_TIMEOUT = 20.0
_REFUSALS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope"})
"""Token endpoint errors (RFC 6749 §5.2) that no retry can fix: the operator must log in again."""


@dataclass(frozen=True)
class Provider:
    token_url: str
    device_code_url: str
    authorization_url: str
    scope: str
    flow: str
    """How ``oauth login`` signs in by default: "device" (RFC 8628) or "loopback" (RFC 8252)."""
    imap_host: str
    smtp_host: str


PROVIDERS: dict[str, Provider] = {
    "microsoft": Provider(
        token_url="https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
        device_code_url="https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode",
        authorization_url="https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize",
        flow="device",
        scope="offline_access https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send",
        imap_host="outlook.office365.com",
        smtp_host="smtp.office365.com",
    ),
    "google": Provider(
        token_url="https://oauth2.googleapis.com/token",
        device_code_url="https://oauth2.googleapis.com/device/code",
        authorization_url="https://accounts.google.com/o/oauth2/v2/auth",
        flow="loopback",  # Google's device-code flow refuses the mail scope
        scope="https://mail.google.com/",
        imap_host="imap.gmail.com",
        smtp_host="smtp.gmail.com",
    ),
}


class OAuthError(Exception):
    """One step of an OAuth2 login failed; the text names the step, never a token."""

    retryable: ClassVar[bool] = False


class TokenEndpointUnreachable(OAuthError):
    retryable = True


class RefreshRefused(OAuthError):
    """The token endpoint refused the refresh token: logins wait for a new one."""


class TokenRejected(OAuthError):
    """The mail server rejected a freshly issued access token."""


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise OAuthError(f"cannot read the OAuth {what} file {path}: {exc.strerror}") from None


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, readable by its owner only (0600) from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _refusal(body: dict[str, Any], status: int) -> str:
    """``invalid_grant: AADSTS70008 ...``: the endpoint's code and the first line of its description."""
    error = str(body.get("error") or f"HTTP {status}")
    detail = str(body.get("error_description") or "").splitlines()
    return f"{error}: {detail[0][:160]}" if detail and detail[0] else error


class TokenSource:
    """Access tokens for one client and refresh token; safe to share between threads."""

    def __init__(self, login: MailLogin, *, clock: Callable[[], float] = time.monotonic) -> None:
        provider = PROVIDERS.get(login.oauth_provider or "")
        self.token_url = login.oauth_token_url or (provider.token_url if provider else "")
        self.scope = login.oauth_scope or (provider.scope if provider else None)
        self.client_id = login.oauth_client_id or ""
        self.secret_file = login.oauth_client_secret_file
        assert login.oauth_refresh_token_file is not None  # MailLogin's validator
        self.refresh_file = login.oauth_refresh_token_file
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self._refused: tuple[tuple[int, int, int], str] | None = None
        """The refresh-token file's (inode, size, mtime) when the endpoint refused it, and why."""

    def __repr__(self) -> str:
        return f"TokenSource({self.token_url}, client {self.client_id}, {self.refresh_file})"

    def token(self) -> str:
        """A current access token: the cached one, or a new one from the endpoint."""
        with self._lock:
            if self._token is not None and self._clock() < self._expires - REFRESH_MARGIN:
                return self._token
            return self._refresh()

    def invalidate(self, token: str) -> None:
        """A server rejected ``token``: the next ``token()`` asks the endpoint for a new one."""
        with self._lock:
            if self._token == token:
                self._token = None

    def paused(self) -> str | None:
        """Why logins wait (a refused refresh token whose file has not changed since), or None."""
        refused = self._refused
        return refused[1] if refused is not None and refused[0] == self._file_state() else None

    def _file_state(self) -> tuple[int, int, int]:
        try:
            st = self.refresh_file.stat()
        except OSError:
            return (0, 0, 0)
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _refresh(self) -> str:
        if self._refused is not None:
            state, why = self._refused
            if state == self._file_state():
                raise RefreshRefused(why)  # paused: logged once already, no request until the file changes
            self._refused = None
        refresh_token = _read(self.refresh_file, "refresh token")
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self.client_id}
        if self.scope:
            form["scope"] = self.scope
        if self.secret_file is not None:
            form["client_secret"] = _read(self.secret_file, "client secret")
        started = self._clock()
        status, body = _post_token(self.token_url, form)
        token = body.get("access_token")
        if status == 200 and isinstance(token, str) and token:
            self._token, self._expires = token, started + float(body.get("expires_in") or 3600)
            self._keep_rotated(refresh_token, body.get("refresh_token"))
            log.info("OAuth: new access token from %s, valid %.0f s", self.token_url, self._expires - started)
            return token
        why = _refusal(body, status)
        if status in (400, 401) and body.get("error") in _REFUSALS:
            text = (
                f"OAuth token endpoint {self.token_url} refused the refresh token in {self.refresh_file} "
                f"({why}); sign in again with `inbox-agent oauth login` (logins wait for that file to change)"
            )
            self._refused = (self._file_state(), text)
            raise RefreshRefused(text)
        raise TokenEndpointUnreachable(f"OAuth token endpoint {self.token_url} failed ({why})")

    def _keep_rotated(self, old: str, new: object) -> None:
        """Store a rotated refresh token (Microsoft sends one with every refresh)."""
        if not isinstance(new, str) or not new or new == old:
            return
        try:
            write_private(self.refresh_file, new)
        except OSError as exc:  # the old one stays valid for a while; the operator must fix the permissions
            log.warning("OAuth: cannot store the rotated refresh token in %s: %s", self.refresh_file, exc.strerror)


_SOURCES: dict[tuple[str, str, str, str | None], TokenSource] = {}
_SOURCES_LOCK = threading.Lock()


def source_for(login: MailLogin) -> TokenSource:
    """The shared TokenSource of these credentials (IMAP and SMTP of one account use one)."""
    fresh = TokenSource(login)
    key = (fresh.token_url, fresh.client_id, str(fresh.refresh_file), fresh.scope)
    with _SOURCES_LOCK:
        return _SOURCES.setdefault(key, fresh)


def sasl_response(mechanism: str, user: str, token: str) -> bytes:
    """The client's first SASL message: XOAUTH2 (Google/Microsoft) or OAUTHBEARER (RFC 7628)."""
    if mechanism == "XOAUTH2":
        return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()
    authzid = user.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={authzid},\x01auth=Bearer {token}\x01\x01".encode()


def login_imap(client: Any, settings: ImapSettings) -> None:
    """Authenticate an imapclient connection; a rejected token is replaced once, then TokenRejected."""
    from imapclient.exceptions import LoginError

    source = source_for(settings)
    for attempt in (1, 2):
        token = source.token()
        try:
            if settings.oauth_mechanism == "XOAUTH2":
                client.oauth2_login(settings.username, token)
            else:
                client.oauthbearer_login(settings.username, token)
            return
        except LoginError as exc:
            source.invalidate(token)
            if attempt == 2:
                raise TokenRejected(f"the IMAP server rejected the OAuth access token ({exc})") from None
            log.info("IMAP %s: OAuth access token rejected; trying once more with a new one", settings.host)


async def login_smtp(client: aiosmtplib.SMTP, settings: SmtpSettings) -> None:
    """AUTH XOAUTH2/OAUTHBEARER on a connected aiosmtplib client; a rejected token is replaced once."""
    import aiosmtplib

    source = source_for(settings)
    user = settings.username or ""
    for attempt in (1, 2):
        token = await asyncio.to_thread(source.token)
        if client.is_ehlo_or_helo_needed:
            await client.ehlo()
        encoded = base64.b64encode(sasl_response(settings.oauth_mechanism, user, token))
        response = await client.execute_command(b"AUTH", settings.oauth_mechanism.encode(), encoded)
        if response.code == 334:  # the server's error details (RFC 7628 §3.2.3): an empty line ends the exchange
            response = await client.execute_command(b"")
        if response.code == 235:
            return
        source.invalidate(token)
        if attempt == 2:
            raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)
        log.info("SMTP %s: OAuth access token rejected; trying once more with a new one", settings.host)


_DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def device_login(
    *,
    device_code_url: str,
    token_url: str,
    client_id: str,
    scope: str,
    client_secret: str | None,
    refresh_file: Path,
    show: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """The device-code flow (RFC 8628): show the code, wait for the person to sign in, store the refresh token."""
    secret = {"client_secret": client_secret} if client_secret else {}
    try:
        response = httpx.post(
            device_code_url, data={"client_id": client_id, "scope": scope, **secret}, timeout=HTTP_TIMEOUT
        )
    except httpx.HTTPError as exc:
        raise TokenEndpointUnreachable(
            f"device-code endpoint {device_code_url} unreachable: {type(exc).__name__}"
        ) from None
    start = _answer(response)
    if response.status_code != 200 or not isinstance(start.get("device_code"), str):
        raise OAuthError(f"device-code endpoint {device_code_url} refused ({_refusal(start, response.status_code)})")
    where = start.get("verification_uri") or start.get("verification_url")  # Google says _url
    show(str(start.get("message") or f"Open {where} and enter the code {start.get('user_code')}"))
    interval = float(start.get("interval") or 5)
    deadline = time.monotonic() + float(start.get("expires_in") or 900)
    while time.monotonic() < deadline:
        sleep(interval)
        status, body = _post_token(token_url, {"grant_type": _DEVICE_GRANT, "device_code": start["device_code"],
                                               "client_id": client_id, **secret})
        if body.get("error") == "authorization_pending":
            continue
        if body.get("error") == "slow_down":
            interval += 5
            continue
        _store_or_refuse(status, body, token_url, refresh_file)
        return
    raise OAuthError("the code expired before anyone signed in; run the command again")


def _post_token(token_url: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """One request to the token endpoint: (status, answer); unreachable is its own error."""
    try:
        response = httpx.post(token_url, data=form, timeout=HTTP_TIMEOUT)
    except httpx.HTTPError as exc:
        raise TokenEndpointUnreachable(f"OAuth token endpoint {token_url} unreachable: {type(exc).__name__}") from None
    return response.status_code, _answer(response)


def _store_or_refuse(status: int, body: dict[str, Any], token_url: str, refresh_file: Path) -> None:
    """The end of a sign-in, whichever flow: store the refresh token (0600), or say why there is none."""
    refresh_token = body.get("refresh_token")
    if status == 200 and isinstance(refresh_token, str) and refresh_token:
        write_private(refresh_file, refresh_token)
        return
    if status == 200:
        raise OAuthError(f"token endpoint {token_url} issued no refresh token (is offline_access in the scope?)")
    raise OAuthError(f"sign-in failed at {token_url} ({_refusal(body, status)})")


def _exchange(token_url: str, form: dict[str, str], refresh_file: Path) -> None:
    """Trade an authorization code for tokens and store the refresh token (0600)."""
    _store_or_refuse(*_post_token(token_url, form), token_url, refresh_file)


def loopback_login(
    *,
    authorization_url: str,
    token_url: str,
    client_id: str,
    scope: str,
    client_secret: str | None,
    refresh_file: Path,
    show: Callable[[str], None],
    wait_seconds: float = 600.0,
) -> None:
    """The installed-app flow (RFC 8252 with PKCE, RFC 7636): the browser comes back to 127.0.0.1.

    Google allows its mail scope only here. The redirect is answered by a one-shot HTTP server on
    a free loopback port; a redirect whose ``state`` is not ours (another page, a forged link) is
    refused and the wait goes on.
    """
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    answer: dict[str, str] = {}

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            ours = query.get("state") == state and ("code" in query or "error" in query)
            if ours:
                answer.update(query)
            text = "Signed in: you can close this window." if ours and "code" in query else "Not signed in."
            data = text.encode()
            self.send_response(200 if ours else 400)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    with HTTPServer(("127.0.0.1", 0), Redirect) as server:
        redirect_uri = f"http://127.0.0.1:{server.server_port}/"
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "access_type": "offline",
            "prompt": "consent",
        }  # Google: a refresh token, every time
        joiner = "&" if "?" in authorization_url else "?"
        show(
            f"Open this address in a browser on this machine and sign in:\n{authorization_url}{joiner}"
            f"{urllib.parse.urlencode(params)}"
        )
        server.timeout = 1.0
        deadline = time.monotonic() + wait_seconds
        while not answer and time.monotonic() < deadline:
            server.handle_request()
    if not answer:
        raise OAuthError("nobody signed in in time; run the command again")
    if "code" not in answer:
        raise OAuthError(f"sign-in refused at {authorization_url} ({_refusal(answer, 400)})")
    secret = {"client_secret": client_secret} if client_secret else {}
    form = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "code_verifier": verifier,
        **secret,
    }
    _exchange(token_url, form, refresh_file)
