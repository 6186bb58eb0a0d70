"""Sessions, CSRF and login throttling, checked over HTTP against the app's own route table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from httpx import Client
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.convertors import IntegerConvertor
from starlette.routing import Mount, Route
from workspace_harness import OFFICER, PASSWORD, serve

from inbox_agent.accounts import authenticate, set_password, throttles_since
from inbox_agent.actors import CLI_ACTOR
from inbox_agent.config import Settings
from inbox_agent.db.session import Database
from inbox_agent.db.tables import LoginFailure, Officer, OfficerSession
from inbox_agent.web import create_app
from inbox_agent.web.auth import SESSION_COOKIE

Site = tuple[Settings, Database]


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def log_in(client: Client, password: str = PASSWORD, next_path: str = "/") -> tuple[int, str]:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"csrf": token, "name": OFFICER, "password": password, "next": next_path},
                           follow_redirects=False)
    return response.status_code, response.headers.get("location") or response.text


@pytest.fixture
def app(site: Site) -> Starlette:
    return create_app(*site)


@pytest.fixture
def client(app: Starlette) -> Iterator[Client]:
    """A plain HTTP client (keeping cookies) against the app served by uvicorn."""
    with serve(app) as url, Client(base_url=url) as http:
        yield http


def test_every_route_but_login_and_static_needs_a_session(app: Starlette, client: Client) -> None:
    open_paths, guarded = set(), 0
    for route in app.routes:
        if isinstance(route, Mount):
            assert route.path == "/static"
            assert client.get("/static/style.css").status_code == 200
            continue
        assert isinstance(route, Route)
        path = route.path_format.format(**{
            name: "1" if isinstance(convertor, IntegerConvertor) else "KT-2026-000001"
            for name, convertor in route.param_convertors.items()
        })
        for method in sorted(route.methods or ()):
            response = client.request(method, path, follow_redirects=False)
            if method in ("GET", "HEAD"):
                refused = response.status_code == 303 and response.headers["location"].startswith("/login?next=")
            else:
                refused = response.status_code == 403 and "Meld je eerst aan." in response.text
            if refused:
                guarded += 1
            else:
                open_paths.add(path)
    assert open_paths == {"/login"}
    assert guarded >= 20


def test_login_sets_a_signed_httponly_samesite_cookie_and_returns_only_to_local_paths(client: Client) -> None:
    assert log_in(client, next_path="//evil.example/cases") == (303, "/")
    cookie = client.cookies[SESSION_COOKIE]
    login_page = client.get("/login", follow_redirects=False)
    assert login_page.status_code == 303  # logged in already
    client.post("/logout", data={"csrf": csrf_of(client.get("/").text)})
    assert client.get("/", follow_redirects=False).headers["location"] == "/login?next=/"

    fresh = Client(base_url=client.base_url)
    token = csrf_of(fresh.get("/login").text)
    response = fresh.post("/login", data={"csrf": token, "name": OFFICER, "password": PASSWORD, "next": "/register"},
                          follow_redirects=False)
    assert response.headers["location"] == "/register"
    set_cookie = response.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie
    fresh.cookies.set(SESSION_COOKIE, cookie[:-4] + "AAAA")
    assert fresh.get("/", follow_redirects=False).status_code == 303


def test_a_post_needs_the_sessions_csrf_token_and_the_language_choice_is_kept(site: Site,
                                                                             client: Client) -> None:
    log_in(client)
    token = csrf_of(client.get("/").text)
    assert client.post("/language", data={"language": "en"}).status_code == 403
    assert client.post("/language", data={"language": "en", "csrf": token[::-1]}).status_code == 403
    assert "For me" not in client.get("/").text
    response = client.post("/language", data={"language": "en", "csrf": token, "next": "/"}, follow_redirects=False)
    assert response.status_code == 303
    assert "For me" in client.get("/").text
    with site[1].transaction() as session:
        assert session.scalars(select(Officer.language).where(Officer.name == OFFICER)).one() == "en"


def test_five_wrong_passwords_make_that_client_wait_even_with_the_right_one(site: Site, client: Client) -> None:
    for _ in range(4):
        status, page = log_in(client, password="not the password")
        assert status == 401 and "verkeerd wachtwoord" in page
    status, page = log_in(client, password="not the password")
    assert status == 401 and "Probeer het opnieuw na" in page
    status, page = log_in(client)
    assert status == 401 and "Probeer het opnieuw na" in page
    with site[1].transaction() as session:
        failures = list(session.scalars(select(LoginFailure)))
        assert len(failures) == 5 and failures[-1].throttled and failures[-1].client == "127.0.0.1"


def test_a_stranger_guessing_never_locks_the_officer_out_at_her_own_address(site: Site) -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with site[1].transaction() as session:
        for n in range(60):  # a stranger keeps trying, once a delay has passed, for hours
            authenticate(session, OFFICER, "wrong", now + timedelta(minutes=20 * n), client="203.0.113.9")
        assert authenticate(session, OFFICER, PASSWORD, now, client="203.0.113.9").retry_at is not None
        verdict = authenticate(session, OFFICER, PASSWORD, now + timedelta(hours=20), client="198.51.100.4")
        assert verdict.name == OFFICER and verdict.retry_at is None


def test_delays_grow_per_client_and_a_success_resets_only_that_client(site: Site) -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    here, there = "198.51.100.4", "203.0.113.9"
    with site[1].transaction() as session:
        for _ in range(4):
            assert authenticate(session, OFFICER, "wrong", now, client=here).retry_at is None
            authenticate(session, OFFICER, "wrong", now, client=there)
        assert authenticate(session, OFFICER, "wrong", now, client=here).retry_at == now + timedelta(seconds=30)
        assert authenticate(session, OFFICER, PASSWORD, now + timedelta(seconds=29), client=here).name is None
        later = now + timedelta(seconds=30)
        assert authenticate(session, OFFICER, "wrong", later, client=here).retry_at == later + timedelta(seconds=60)
        assert authenticate(session, OFFICER, PASSWORD, later + timedelta(seconds=60), client=here).name == OFFICER
        assert authenticate(session, OFFICER, "wrong", later, client=here).retry_at is None  # count reset
        assert authenticate(session, OFFICER, "wrong", later, client=there).retry_at is not None  # not reset
        assert authenticate(session, "nobody", PASSWORD, now, client=here).name is None
        assert [(n, c) for n, c, _ in throttles_since(session, now - timedelta(days=1))] == [
            (OFFICER, here), (OFFICER, here), (OFFICER, there)]


def test_a_cookie_copied_before_logout_opens_nothing_afterwards(client: Client) -> None:
    log_in(client)
    copied = client.cookies[SESSION_COOKIE]
    assert client.get("/", follow_redirects=False).status_code == 200
    client.post("/logout", data={"csrf": csrf_of(client.get("/").text)})
    thief = Client(base_url=client.base_url)
    thief.cookies.set(SESSION_COOKIE, copied)
    response = thief.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_session_ends_after_idle_time_lifetime_and_password_change(site: Site, client: Client) -> None:
    def age(**change: timedelta) -> None:
        with site[1].transaction() as session:
            row = session.scalars(select(OfficerSession).where(OfficerSession.ended_at.is_(None))).one()
            for column, by in change.items():
                setattr(row, column, getattr(row, column) - by)

    def in_() -> bool:
        return client.get("/", follow_redirects=False).status_code == 200

    log_in(client)
    age(last_seen_at=timedelta(minutes=29))
    assert in_()
    age(last_seen_at=timedelta(minutes=31))
    assert not in_()
    log_in(client)
    age(created_at=timedelta(hours=12), last_seen_at=timedelta(seconds=0))
    assert not in_()
    log_in(client)
    assert in_()
    with site[1].transaction() as session:
        set_password(session, OFFICER, "another long password", datetime.now(UTC), actor=CLI_ACTOR)
    assert not in_()
