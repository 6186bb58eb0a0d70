"""Real servers for OAuth2 tests: a token endpoint, Dovecot with its oauth2 passdb, an aiosmtpd that checks tokens.

``TokenServer`` is a local HTTP server playing the identity provider: it issues access tokens
for refresh tokens (RFC 6749 §6), runs the device-code flow (RFC 8628), expires and revokes on
request, and answers Dovecot's token introspection (RFC 7662, ``introspection_mode = post``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from inbox_agent.sandbox import LOCALHOST, DovecotServer, free_port


@dataclass
class TokenServer:
    """An identity provider on 127.0.0.1; ``lifetime`` is the expires_in of new access tokens."""

    client_id: str = "inbox-agent-test"
    client_secret: str = "client-secret-1"
    lifetime: float = 3600.0
    rotate: bool = False
    """Issue a new refresh token with every refresh (as Microsoft does)."""
    device_polls: int = 2
    """How many polls answer authorization_pending before the device-code sign-in completes."""
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    access_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    refresh_requests: list[dict[str, str]] = field(default_factory=list)
    introspections: int = 0
    down: bool = False
    deny: bool = False
    """The person declines at the consent page (the loopback flow)."""
    _devices: dict[str, int] = field(default_factory=dict)
    _codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Authorization code -> (PKCE challenge, redirect_uri)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{LOCALHOST}:{self._server.server_port}"

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                split = urllib.parse.urlsplit(self.path)
                location = outer.authorize(split.path, dict(urllib.parse.parse_qsl(split.query)))
                self.send_response(302 if location else 400)
                self.send_header("Location", location or "")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode()).items()}
                if outer.down:
                    self.send_error(503)
                    return
                status, body = outer.handle(self.path, form)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((LOCALHOST, 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- the provider's state ------------------------------------------------------------------

    def issue_refresh_token(self, user: str) -> str:
        token = f"rt-{secrets.token_urlsafe(16)}"
        with self._lock:
            self.refresh_tokens[token] = user
        return token

    def revoke(self, refresh_token: str) -> None:
        with self._lock:
            self.refresh_tokens.pop(refresh_token, None)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working now (early revocation, or its time is up)."""
        with self._lock:
            self.access_tokens = {t: (user, 0.0) for t, (user, _) in self.access_tokens.items()}

    def user_of(self, access_token: str) -> str | None:
        with self._lock:
            user, until = self.access_tokens.get(access_token, ("", 0.0))
        return user if user and time.time() < until else None

    def authorize(self, path: str, query: dict[str, str]) -> str | None:
        """The sign-in page (RFC 6749 §4.1 with PKCE): where it sends the browser back to, or None (a 400)."""
        redirect = query.get("redirect_uri", "")
        if (
            path != "/authorize"
            or query.get("client_id") != self.client_id
            or query.get("response_type") != "code"
            or query.get("code_challenge_method") != "S256"
            or not redirect.startswith(f"http://{LOCALHOST}:")
        ):
            return None
        if self.deny:
            answer = {"error": "access_denied", "error_description": "The user declined", "state": query["state"]}
        else:
            code = f"ac-{secrets.token_urlsafe(12)}"
            with self._lock:
                self._codes[code] = (query.get("code_challenge", ""), redirect)
            answer = {"code": code, "state": query.get("state", "")}
        return f"{redirect}?{urllib.parse.urlencode(answer)}"

    def _code_grant(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            challenge, redirect = self._codes.pop(form.get("code", ""), ("", ""))
        verifier = form.get("code_verifier", "").encode()
        expected = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
        if not challenge or challenge != expected or form.get("redirect_uri") != redirect:
            return 400, {"error": "invalid_grant", "error_description": "code, verifier or redirect_uri wrong"}
        return 200, {
            "access_token": self._access("info"),
            "expires_in": self.lifetime,
            "refresh_token": self.issue_refresh_token("info"),
            "token_type": "Bearer",
        }

    def handle(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if path == "/introspect":
            with self._lock:
                self.introspections += 1
            user = self.user_of(form.get("token", ""))
            return 200, ({"active": True, "username": user} if user else {"active": False})
        if form.get("client_id") != self.client_id:
            return 401, {"error": "invalid_client", "error_description": "unknown client"}
        if path == "/devicecode" and "mail.google.com" in form.get("scope", ""):
            return 400, {"error": "invalid_scope", "error_description": "Invalid device flow scope"}  # as Google says
        if path == "/devicecode":
            code = f"dc-{secrets.token_urlsafe(8)}"
            with self._lock:
                self._devices[code] = self.device_polls
            return 200, {
                "device_code": code,
                "user_code": "ABCD-EFGH",
                "verification_uri": f"{self.url}/device",
                "expires_in": 60,
                "interval": 0.05,
            }
        if path != "/token":
            return 404, {"error": "not_found"}
        if form.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client", "error_description": "bad client secret"}
        if form.get("grant_type") == "urn:ietf:params:oauth:grant-type:device_code":
            with self._lock:
                left = self._devices.get(form.get("device_code", ""))
                if left is None:
                    return 400, {"error": "expired_token"}
                self._devices[form["device_code"]] = left - 1
            if left > 0:
                return 400, {"error": "authorization_pending"}
            return 200, {
                "access_token": self._access("info"),
                "expires_in": self.lifetime,
                "refresh_token": self.issue_refresh_token("info"),
                "token_type": "Bearer",
            }
        if form.get("grant_type") == "authorization_code":
            return self._code_grant(form)
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            self.refresh_requests.append(form)
            user = self.refresh_tokens.get(form.get("refresh_token", ""))
        if user is None:
            return 400, {
                "error": "invalid_grant",
                "error_description": "AADSTS70008: The refresh token has expired or been revoked.\r\nTrace",
            }
        body: dict[str, Any] = {"access_token": self._access(user), "expires_in": self.lifetime, "token_type": "Bearer"}
        if self.rotate:
            self.revoke(form["refresh_token"])
            body["refresh_token"] = self.issue_refresh_token(user)
        return 200, body

    def _access(self, user: str) -> str:
        token = f"at-{secrets.token_urlsafe(16)}"
        with self._lock:
            self.access_tokens[token] = (user, time.time() + self.lifetime)
        return token


@contextmanager
def token_server(**kwargs: Any) -> Iterator[TokenServer]:
    server = TokenServer(**kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def oauth_dovecot(tokens: TokenServer) -> Iterator[DovecotServer]:
    """A Dovecot of its own whose XOAUTH2/OAUTHBEARER logins ``tokens`` checks by introspection.

    Of its own because Dovecot punishes every refused login with an auth penalty on later logins.
    """
    with tempfile.TemporaryDirectory(prefix="inbox-agent-oauth2-") as folder:
        conf = Path(folder) / "dovecot-oauth2.conf.ext"
        conf.write_text(
            f"introspection_mode = post\nintrospection_url = {tokens.url}/introspect\n"
            "force_introspection = yes\nusername_attribute = username\n"
            "active_attribute = active\nactive_value = true\n"
        )
        for path in (Path(folder), conf):  # the auth process runs as the service account
            path.chmod(0o755)
        passdb = f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {conf}\n}}\n"
        with DovecotServer(extra_config=f"auth_mechanisms = plain login xoauth2 oauthbearer\n{passdb}") as server:
            yield server


def _bearer(mechanism: str, blob: bytes) -> tuple[str, str]:
    """(user, token) from an XOAUTH2 or OAUTHBEARER client response."""
    parts = blob.decode().split("\x01")
    token = next((p[len("auth=Bearer ") :] for p in parts if p.startswith("auth=Bearer ")), "")
    if mechanism == "XOAUTH2":
        user = next((p[len("user=") :] for p in parts if p.startswith("user=")), "")
    else:
        user = next((a[2:] for a in parts[0].split(",") if a.startswith("a=")), "")
    return user, token


class _OAuthHandler:
    def __init__(self, tokens: TokenServer) -> None:
        self.tokens = tokens
        self.received: list[bytes] = []
        self.logins: list[tuple[str, str]] = []
        self.rejected = 0

    async def _check(self, server: Any, mechanism: str, args: list[str]) -> AuthResult:
        blob = base64.b64decode(args[1]) if len(args) > 1 else await server.challenge_auth("")
        user, token = _bearer(mechanism, blob)
        if user and await asyncio.to_thread(self.tokens.user_of, token) == user:
            self.logins.append((mechanism, user))
            return AuthResult(success=True, handled=False)
        self.rejected += 1
        # RFC 7628 §3.2.2: the error as a 334 challenge; the client answers with an empty line.
        await server.challenge_auth(json.dumps({"status": "invalid_token", "schemes": "bearer"}))
        return AuthResult(success=False, handled=False)

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        return await self._check(server, "XOAUTH2", args)

    async def auth_OAUTHBEARER(self, server: Any, args: list[str]) -> AuthResult:
        return await self._check(server, "OAUTHBEARER", args)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(bytes(envelope.original_content or envelope.content))
        return "250 OK"


@contextmanager
def oauth_smtp(tokens: TokenServer) -> Iterator[tuple[int, _OAuthHandler]]:
    """An aiosmtpd on 127.0.0.1 that accepts mail only after AUTH with a live bearer token: (port, handler)."""
    handler = _OAuthHandler(tokens)
    port = free_port()
    controller = Controller(
        handler,
        hostname=LOCALHOST,
        port=port,
        auth_required=True,
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN", "PLAIN"],
    )
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()
