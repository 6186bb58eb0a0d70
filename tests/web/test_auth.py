"""Sessions, CSRF and lock-out, checked over HTTP against the app's own route table."""

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

from inbox_agent.accounts import authenticate
from inbox_agent.config import Settings
from inbox_agent.db.models import Officer
from inbox_agent.db.session import Database
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
                refused = response.status_code == 403 and response.text == "log in first"
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
    assert "Open requests" not in client.get("/").text
    response = client.post("/language", data={"language": "en", "csrf": token, "next": "/"}, follow_redirects=False)
    assert response.status_code == 303
    assert "Open requests" in client.get("/").text
    with site[1].transaction() as session:
        assert session.scalars(select(Officer.language).where(Officer.name == OFFICER)).one() == "en"


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(site: Site, client: Client) -> None:
    for _ in range(4):
        status, page = log_in(client, password="not the password")
        assert status == 401 and "verkeerd wachtwoord" in page
    status, page = log_in(client, password="not the password")
    assert status == 401 and "Probeer het opnieuw na" in page
    status, page = log_in(client)
    assert status == 401 and "Probeer het opnieuw na" in page
    with site[1].transaction() as session:
        officer = session.scalars(select(Officer)).one()
        assert officer.failed_logins == 5
        assert officer.locked_until is not None and officer.locked_until > datetime.now(UTC)


def test_each_failure_after_a_lock_doubles_it_and_a_success_resets(site: Site) -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with site[1].transaction() as session:
        for _ in range(4):
            assert authenticate(session, OFFICER, "wrong", now).locked_until is None
        assert authenticate(session, OFFICER, "wrong", now).locked_until == now + timedelta(minutes=1)
        assert authenticate(session, OFFICER, PASSWORD, now + timedelta(seconds=59)).name is None
        later = now + timedelta(minutes=1)
        assert authenticate(session, OFFICER, "wrong", later).locked_until == later + timedelta(minutes=2)
        assert authenticate(session, OFFICER, PASSWORD, later + timedelta(minutes=2)).name == OFFICER
        officer = session.scalars(select(Officer)).one()
        assert (officer.failed_logins, officer.locked_until) == (0, None)
        assert authenticate(session, "nobody", PASSWORD, now).name is None
