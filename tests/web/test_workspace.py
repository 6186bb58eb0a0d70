"""Issue 5 in a real headless Chromium: a case from a real mail through Dovecot, decided on the page."""

from __future__ import annotations

import email
import re
from email.message import EmailMessage
from email.policy import default as default_policy
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Dialog, Page, expect
from sqlalchemy import select
from workspace_harness import OFFICER, Workspace, run_agent

from inbox_agent.db.tables import Case, Outbox

from agent_harness import Agent, request_mail

pytestmark = pytest.mark.integration

ACCESS_REQUEST = "Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben."
CUSTOMER = "anna@example.org"


def open_case(agent: Agent, body: str, subject: str = "Mijn gegevens") -> str:
    """A known customer's mail delivered over IMAP and processed; the reference of its case."""
    agent.add_customer(CUSTOMER, "Anna de Vries")
    agent.deliver(request_mail(body, subject=subject, sender=CUSTOMER, name="Anna de Vries"))
    run_agent(agent)
    with agent.db.transaction() as session:
        return session.scalars(select(Case.reference)).one()


def plain_text(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_officer_follows_the_notice_link_edits_and_approves_the_result(
    agent: Agent, workspace: Workspace, page: Page
) -> None:
    reference = open_case(agent, ACCESS_REQUEST)
    links = [m.group(0) for n in agent.sent_to("officer@shop.example")
             for m in re.finditer(r"https?://\S+/cases/\S+", plain_text(n.raw))]
    assert links and all(urlsplit(link).path == f"/cases/{reference}" for link in links)

    workspace.login(page, urlsplit(links[0]).path)
    expect(page.locator("h1")).to_have_text(reference)
    expect(page.locator("section.original pre")).to_contain_text(ACCESS_REQUEST)
    expect(page.locator("section.original pre mark").first).to_contain_text("inzage")
    expect(page.locator(".identity")).to_have_text("geverifieerd")
    expect(page.locator("table.timeline")).to_contain_text("wacht op goedkeuring")

    page.click("header nav >> text=Voor mij")
    row = page.locator("table.cases tr", has_text=reference)
    expect(row).to_contain_text("wacht op goedkeuring")
    expect(row.locator(".days")).to_have_class(re.compile(r"\bok\b"))
    workspace.screenshot(page, "dashboard")

    row.locator("a").click()
    editor = page.locator("section.draft textarea[name=body]")
    drafted = editor.input_value()
    assert "Anna" in drafted
    edit = "Aanvulling van M. Derks: ook je retourzending van maart staat in het overzicht."
    editor.fill(drafted.replace("\n\n", f"\n\n{edit}\n\n", 1))
    editor.evaluate("textarea => { textarea.scrollTop = 0; }")
    workspace.screenshot(page, "case")
    page.click("text=Controleren en versturen")

    confirm = page.locator("section.confirm")
    expect(confirm.locator(".recipient")).to_have_text(CUSTOMER)
    expect(confirm.locator(".files li")).to_contain_text(re.compile(r"access\.zip \(\d+ kB\)"))
    href = confirm.locator(".files a").get_attribute("href")
    assert href
    package = page.request.get(workspace.url + href)
    assert package.status == 200 and package.body()[:2] == b"PK"  # the package opens before it is approved
    expect(confirm.locator("pre.mailtext")).to_contain_text(edit)
    with agent.db.transaction() as session:
        assert session.scalars(select(Outbox.status).where(Outbox.kind == "result_access")).one() == "draft"
    workspace.screenshot(page, "confirm")
    page.click("text=Ja, deze mail versturen")

    expect(page.locator(".flash.ok")).to_be_visible()
    expect(page.locator(".case-head .state")).to_have_text("afgerond")
    expect(page.locator("table.timeline")).to_contain_text("Concept bewerkt")
    with agent.db.transaction() as session:
        result = session.scalars(select(Outbox).where(Outbox.kind == "result_access")).one()
        assert (result.status, result.approved_by) == ("queued", OFFICER)

    before = len(agent.sink.messages)
    run_agent(agent)
    (sent,) = [m for m in agent.sink.messages[before:] if CUSTOMER in m.rcpt_tos]
    text = plain_text(sent.raw)
    assert edit in text
    assert text.replace("\r\n", "\n").strip() == drafted.replace(
        "\n\n", f"\n\n{edit}\n\n", 1).strip()

    page.click("header nav >> text=Register")
    expect(page.locator("table", has_text=reference)).to_contain_text("toegekend")
    export = page.request.get(workspace.url + "/register.csv")
    assert export.headers["content-type"].startswith("text/csv")
    assert export.text().splitlines()[1].startswith(f"{reference},default,access,")


def test_a_script_in_a_mail_is_shown_as_text_and_never_run(agent: Agent, workspace: Workspace, page: Page) -> None:
    script = "<script>alert(1)</script>"
    reference = open_case(agent, script, subject="Inzageverzoek persoonsgegevens")
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    workspace.login(page, f"/cases/{reference}")
    expect(page.locator("section.original pre")).to_have_text(re.compile(re.escape(script)))
    expect(page.locator("section.original pre")).to_be_visible()
    assert page.locator("main script").count() == 0
    page.reload()
    assert dialogs == []


def test_a_form_posted_without_its_csrf_token_is_refused(agent: Agent, workspace: Workspace, page: Page) -> None:
    reference = open_case(agent, ACCESS_REQUEST)
    workspace.login(page, f"/cases/{reference}")
    extend = page.locator("form[action$='/extend']")
    extend.locator("input[name=csrf]").evaluate("input => input.remove()")
    page.locator("summary", has_text="Termijn verlengen").click()
    extend.locator("textarea[name=reason]").fill("Veel verzoeken tegelijk")
    with page.expect_response(lambda r: r.url.endswith("/extend")) as response:
        extend.locator("button").click()
    assert response.value.status == 403
    with agent.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.deadline_extended is None
        assert not [e for e in case.events if e.kind == "extended"]


def test_reassigning_the_rights_redrafts_the_answers(agent: Agent, workspace: Workspace, page: Page) -> None:
    reference = open_case(agent, ACCESS_REQUEST)
    workspace.login(page, f"/cases/{reference}")
    page.locator("summary", has_text="Rechten aanpassen").click()
    page.get_by_role("checkbox", name="inzage").uncheck()
    page.get_by_role("checkbox", name="verwijdering").check()
    page.locator("form[action$='/rights'] button").click()

    expect(page.locator(".flash.ok")).to_be_visible()
    expect(page.locator("section.draft h2")).to_contain_text("antwoord: verwijdering")
    with agent.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.rights == ["erasure"]
        drafts = {m.kind: m.status for m in session.scalars(select(Outbox).where(Outbox.kind.like("result_%")))}
        assert drafts == {"result_access": "rejected", "result_erasure": "draft"}
        assert [(e.actor, e.data) for e in case.events if e.kind == "rights_changed"] == [
            (OFFICER, {"rights": ["erasure"]})
        ]


def test_an_english_customers_case_reaches_the_officer_in_her_own_language(
    agent: Agent, workspace: Workspace
) -> None:
    agent.add_customer("john@example.org", "John Smith")
    agent.deliver(request_mail("I would like a copy of all the personal data you hold about me.",
                               subject="My data", sender="john@example.org", name="John"))
    run_agent(agent)
    notices, mails = agent.sent_to("officer@shop.example"), agent.sent_to("john@example.org")
    assert notices and mails
    subjects = [str(email.message_from_bytes(m.raw, policy=default_policy)["Subject"]) for m in notices]
    assert any("Nieuw privacyverzoek" in s for s in subjects) and not any("New privacy" in s for s in subjects)
    assert all("Hallo" not in plain_text(m.raw) and "Hello" in plain_text(m.raw) for m in mails)  # she gets English


def test_new_case_notices_are_batched_first_at_once_then_one_digest_per_interval(agent: Agent) -> None:
    from datetime import UTC, datetime, timedelta

    from inbox_agent.db.tables import CaseEvent
    from inbox_agent.scheduler import tick
    from inbox_agent.withdrawal import load_cues

    for batch in ((0,), (1, 2)):  # the first case, then two more while its notice is fresh
        for number in batch:
            sender = f"klant{number}@example.org"
            agent.add_customer(sender, f"Klant {number}", customer_id=str(number))
            agent.deliver(request_mail(ACCESS_REQUEST, sender=sender, name="Klant"))
        run_agent(agent)

    def officer_mails() -> list[str]:
        with agent.db.transaction() as session:
            return list(session.scalars(select(Outbox.kind).where(Outbox.to_addr == "officer@shop.example")
                                        .order_by(Outbox.id)))

    before = officer_mails()
    assert before.count("officer_new_case") == 1
    with agent.db.transaction() as session:
        assert len(session.scalars(select(CaseEvent.id).where(CaseEvent.kind == "notice_deferred")).all()) == 2
    cues = load_cues(agent.settings.classifiers_dir / "conversation.toml")
    later = datetime.now(UTC) + timedelta(minutes=agent.settings.policy.officer_notice_minutes + 1)
    tick(agent.settings, agent.db, later, cues)
    assert officer_mails()[len(before):] == ["officer_digest"]
    tick(agent.settings, agent.db, later + timedelta(minutes=1), cues)
    assert officer_mails()[len(before):] == ["officer_digest"]
