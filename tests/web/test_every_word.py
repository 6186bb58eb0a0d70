"""Issue 16 items 3 and 4 in a real Chromium: every page in Dutch and in English, on a desk and a phone.

One agent run makes cases in most states a shop sees (verified, code sent, unknown sender,
answered, extended, refused, withdrawn, with Art. 19 tasks), and every kind of account change
is made; then every page is walked in both languages at 1280 and 390 px. A page fails on a
word of the other language, a stored code shown raw, sideways scroll, a header item outside
the bar, text under 4.5:1 contrast, or a field without a label. Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from page_checks import foreign_words, page_problems, page_text, raw_codes
from playwright.sync_api import Browser, Page
from sqlalchemy import select
from workspace_harness import OFFICER, Workspace, run_agent

from inbox_agent import accounts, officer_error, review
from inbox_agent.actors import CLI_ACTOR
from inbox_agent.db.tables import AccountEvent, Case, CaseEvent, Outbox, Task
from inbox_agent.desk import officer, spam
from inbox_agent.messages import LANGUAGES, read
from inbox_agent.runtime import officer_desk

from agent_harness import Agent, request_mail

pytestmark = pytest.mark.integration

ACCESS_AND_PORTABILITY = (
    "Ik wil inzage in al mijn persoonsgegevens. Stuur ze ook in een machineleesbaar bestand "
    "zodat ik ze kan overzetten naar een andere aanbieder."
)

MAILS = [  # sender, known customer?, dmarc, body
    ("anna@example.org", True, "pass", "Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben."),
    ("bob@example.org", True, "pass", "Verwijder al mijn gegevens en mijn account, alstublieft."),
    ("carla@example.net", False, "pass", "I object to direct marketing, stop sending me newsletters."),
    ("dirk@example.org", True, "fail", "Graag een kopie van al mijn gegevens (inzage)."),
    (
        "eva@example.org",
        True,
        "pass",
        ACCESS_AND_PORTABILITY,
    ),
    ("frank@example.org", True, "pass", "Ik wil graag inzage in mijn persoonsgegevens."),
    ("henk@example.net", False, "pass", "Verwijder mijn gegevens!!! Koop nu pillen op pillen.example"),
    ("greet@example.org", True, "pass", "Ik wil NIET dat mijn account verwijderd wordt, ik bestel binnenkort weer."),
]
"""Henk's request is closed as spam and his address blocked; Greet's mail lands on the list to check."""


def build_cases(agent: Agent) -> dict[str, str]:
    """The cases of MAILS, then the officer's decisions on some of them; sender -> reference."""
    for number, (sender, known, _, _) in enumerate(MAILS, start=1):
        if known:
            agent.add_customer(sender, sender.split("@")[0].title() + " Jansen", customer_id=str(number))
    for sender, _, dmarc, body in MAILS:
        agent.deliver(
            request_mail(body, subject="Mijn gegevens", sender=sender, name=sender.split("@")[0], dmarc=dmarc)
        )
    run_agent(agent)
    now = datetime.now(UTC)
    with agent.db.transaction() as session:
        refs = {c.requester_email or "": c.reference for c in session.scalars(select(Case))}
        desk = officer_desk(agent.settings, "default", OFFICER, now)
        officer.approve(session, desk, refs["bob@example.org"])
        tasks = list(session.scalars(select(Task).order_by(Task.id)))
        officer.finish_task(session, desk, tasks[0].id, done=True, reason=None)
        officer.finish_task(session, desk, tasks[1].id, done=False, reason="Deze partij kreeg nooit gegevens")
        officer.extend(session, desk, refs["eva@example.org"], reason="Veel verzoeken tegelijk")
        officer.refuse(session, desk, refs["frank@example.org"], reason="Kennelijk ongegrond: vijfde verzoek")
        officer.close(session, desk, refs["carla@example.net"], reason="Belde op: wil niets meer", withdrawn=True)
        spam.close_as_spam(session, desk, refs["henk@example.net"], reason="Reclame voor pillen", block=True)
    run_agent(agent)
    return refs


def change_accounts(agent: Agent) -> None:
    """An account added by the command line, then changed by the officer: every kind of account change."""
    now = datetime.now(UTC)
    with agent.db.transaction() as session:
        accounts.add_officer(session, "jan", "een lang wachtwoord", language="en", now=now, actor=CLI_ACTOR)
        accounts.add_officer(session, "anja", "een lang wachtwoord", language="nl", now=now, actor=OFFICER, admin=True)
        for disabled in (True, False):
            accounts.set_disabled(session, "jan", disabled, now, actor=OFFICER)
        accounts.reset_password(session, "jan", now, actor=OFFICER)
        accounts.remove_officer(session, "anja", now, actor=OFFICER)  # jan stays, for his row on the accounts page


def stored_codes(agent: Agent) -> set[str]:
    """Every code the database holds that a page could show."""
    with agent.db.transaction() as session:
        codes: set[str] = set()
        for case in session.scalars(select(Case)):
            codes |= {case.state, case.identity_status, *case.rights, *case.categories}
            codes |= {c for c in (case.decision, case.identity_method) if c}
        for event in session.scalars(select(CaseEvent)):
            codes |= {event.kind, *(v for v in event.data.values() if isinstance(v, str) and "_" in v)}
        for mail in session.scalars(select(Outbox)):
            codes |= {mail.kind, mail.status}
        for task in session.scalars(select(Task)):
            codes |= {task.kind, task.status}
        codes |= set(session.scalars(select(AccountEvent.action)))
    return codes


def unknown_sentences(agent: Agent) -> list[str]:
    """What the agent itself wrote in English (reasons, task titles) that the catalogue cannot say."""
    unknown = []
    with agent.db.transaction() as session:
        for event in session.scalars(select(CaseEvent).where(CaseEvent.actor.in_(("agent", "scheduler")))):
            unknown += [p for p in (event.reason or "").split("; ") if p and read("reason", p) is None]
        unknown += [t.title for t in session.scalars(select(Task)) if read("task", t.title) is None]
    return unknown


def pages(workspace: Workspace, agent: Agent, refs: dict[str, str]) -> list[tuple[str, str]]:
    """(name, path) of every page: lists, each case, each draft's check step, register, recipients, errors."""
    found = [
        ("dashboard", "/"),
        ("dashboard-all", "/?all=1"),
        ("queue-approve", "/?need=approve"),
        ("queue-search", "/?q=anna"),
        ("queue-filters", "/?view=all&state=completed&right=erasure&tasks=1&sort=received&desc=1"),
        ("queue-empty", "/?q=nobody-at-all&overdue=1"),
        ("register", "/register"),
        ("recipients", "/recipients"),
        ("statistics", "/statistics"),
        ("not-found", "/nowhere"),
        ("review", "/review"),
        ("blocked", "/blocked"),
        ("accounts", "/accounts"),
        ("account-history", "/accounts/history"),
        ("account", "/account"),
        ("no-case", "/cases/KT-2000-000999"),
    ]
    for sender, reference in sorted(refs.items()):
        found.append((f"case-{sender.split('@')[0]}", f"/cases/{reference}"))
    with agent.db.transaction() as session:
        listed = review.to_check(session, datetime.now(UTC) - timedelta(days=1))
        found += [("review-open", f"/review/{item.message}") for item in listed]
        for mail in session.scalars(select(Outbox).where(Outbox.status == "draft").order_by(Outbox.id)):
            case = session.get_one(Case, mail.case_id)
            found.append((f"confirm-{mail.kind}", f"/cases/{case.reference}/mails/{mail.id}/confirm"))
    return found


def check(page: Page, language: str, codes: set[str]) -> dict[str, Any]:
    text = page_text(page)
    problems: dict[str, Any] = page_problems(page)
    if foreign := foreign_words(text, language):
        problems["foreign_words"] = foreign
    if raw := raw_codes(text, codes, language):
        problems["raw_codes"] = raw
    return problems


def test_every_page_speaks_her_language_and_fits_a_phone(agent: Agent, workspace: Workspace, browser: Browser) -> None:
    refs = build_cases(agent)
    change_accounts(agent)
    assert unknown_sentences(agent) == []
    codes = stored_codes(agent)
    all_pages = pages(workspace, agent, refs)
    failures: dict[str, Any] = {}
    for language in LANGUAGES:
        for width in (1280, 390):
            context = browser.new_context(viewport={"width": width, "height": 900}, locale="nl-NL")
            page = context.new_page()
            page.goto(f"{workspace.url}/login?lang={language}")
            failures.update({f"login {language} {width}": p for p in [check(page, language, codes)] if p})
            workspace.screenshot(page, f"login-{language}-{width}")
            workspace.login(page)
            if language != "nl":
                page.locator("header button.lang", has_text=language.upper()).click()
            for name, path in all_pages:
                response = page.goto(workspace.url + path)
                assert response is not None and response.status in (200, 404), (path, response and response.status)
                if problems := check(page, language, codes):
                    failures[f"{name} {language} {width}"] = problems
                workspace.screenshot(page, f"{name}-{language}-{width}")
            csrf = page.request.post(workspace.url + f"/cases/{refs['anna@example.org']}/extend", form={"reason": "x"})
            assert csrf.status == 403
            page.set_content(csrf.text())
            text = page.locator("main").inner_text()
            assert ("formulier was verlopen" if language == "nl" else "form had expired") in text
            context.close()
    assert not failures, json.dumps(failures, indent=1, ensure_ascii=False)


def test_decisions_come_before_the_timeline_on_a_phone(agent: Agent, workspace: Workspace, browser: Browser) -> None:
    refs = build_cases(agent)
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    workspace.login(page, f"/cases/{refs['anna@example.org']}")
    draft = page.locator("section.draft").bounding_box()
    actions = page.locator("section.actions").bounding_box()
    timeline = page.locator("table.timeline").bounding_box()
    assert draft and actions and timeline
    assert draft["y"] < timeline["y"] and actions["y"] < timeline["y"]
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip"
    context.close()


def test_a_second_request_for_the_same_right_shows_the_first_as_a_possible_duplicate(
    agent: Agent, workspace: Workspace, browser: Browser
) -> None:
    refs = build_cases(agent)
    agent.deliver(request_mail("Nogmaals: ik wil inzage in mijn persoonsgegevens.", subject="Inzage",
                               sender="anna@example.org", name="anna"))
    run_agent(agent)
    with agent.db.transaction() as session:
        second = session.scalars(select(Case.reference).where(Case.requester_email == "anna@example.org")
                                 .order_by(Case.id.desc())).first()
    assert second and second != refs["anna@example.org"]
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    workspace.login(page, f"/cases/{second}")
    related = page.locator("section.related")
    assert refs["anna@example.org"] in related.inner_text() and "dubbel?" in related.inner_text()
    assert page_problems(page) == {}
    workspace.screenshot(page, "case-duplicate-nl-390")
    related.locator("a", has_text="Alle verzoeken van dit adres").click()
    assert page.locator("table.cases tbody tr").count() == 2
    context.close()


def test_the_officer_confirms_an_identity_by_hand_with_method_and_reason(
    agent: Agent, workspace: Workspace, browser: Browser
) -> None:
    refs = build_cases(agent)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    workspace.login(page, f"/cases/{refs['dirk@example.org']}")
    page.locator("summary", has_text="Identiteit met de hand bevestigen").click()
    page.get_by_label("Hoe").select_option("phone")
    page.get_by_label("Wat is gecontroleerd").fill("Teruggebeld op het nummer uit de webwinkel; adres klopte")
    page.get_by_role("button", name="Identiteit bevestigen").click()
    assert "Identiteit bevestigd" in page.locator(".flash.ok").inner_text()
    assert "telefonisch bevestigd door de functionaris" in page.locator(".facts-card").inner_text()
    assert "Teruggebeld op het nummer" in page.locator("table.timeline").inner_text()
    workspace.screenshot(page, "case-identity-confirmed-nl-1280")
    with agent.db.transaction() as session:
        case = session.scalars(select(Case).where(Case.reference == refs["dirk@example.org"])).one()
        assert (case.identity_method, case.proof, case.verified_email) == ("officer (phone)", "officer",
                                                                          "dirk@example.org")
        assert [(e.actor, e.data) for e in case.events if e.reason and e.reason.startswith("Teruggebeld")] == [
            (OFFICER, {"method": "officer (phone)"})]
        assert session.scalars(select(Outbox.kind).where(Outbox.case_id == case.id, Outbox.status == "draft")).all()
    page.goto(f"{workspace.url}/cases/{refs['frank@example.org']}")
    assert page.locator("summary", has_text="Identiteit met de hand bevestigen").count() == 0
    context.close()
    with agent.db.transaction() as session:
        desk = officer_desk(agent.settings, "default", OFFICER, datetime.now(UTC))
        with pytest.raises(officer_error.OfficerError, match="no identity check to confirm"):
            officer.confirm_identity(session, desk, refs["frank@example.org"], method="phone", reason="x")
