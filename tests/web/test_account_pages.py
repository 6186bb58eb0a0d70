"""Issue 16 item 9 on the web page, in a real Chromium: the admin's accounts page and every officer's own.

The first account is the admin: she adds an officer, gives her a one-time password (shown once),
disables and enables her (which ends her login) and removes her, and cannot disable herself as
the last admin; each change is listed on her page and in the history (who, what, whose, when in
Amsterdam time). The officer cannot open the admin page, changes her own password (the current
one first) and her language.
"""

from __future__ import annotations

from page_checks import foreign_words, page_problems, page_text
from playwright.sync_api import Browser, Page
from sqlalchemy import select
from workspace_harness import OFFICER, Workspace, serve

from inbox_agent.actors import CLI_ACTOR
from inbox_agent.config import Settings
from inbox_agent.db.session import Database
from inbox_agent.db.tables import AccountEvent
from inbox_agent.deadlines import AMSTERDAM
from inbox_agent.web import create_app

NEW, NEW_PASSWORD = "jan", "zijn eigen lange wachtwoord"


def log_in(page: Page, url: str, name: str, password: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button")


def look(workspace: Workspace, page: Page, name: str, language: str = "nl") -> None:
    assert page_problems(page) == {}, name
    assert foreign_words(page_text(page), language) == [], name
    workspace.screenshot(page, name)


def test_the_admin_manages_accounts_and_an_officer_her_own(site: tuple[Settings, Database], browser: Browser) -> None:
    with serve(create_app(*site)) as url:
        workspace = Workspace(url)
        admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        workspace.login(admin, "/accounts")
        assert "beheerder" in admin.locator("table.accounts").inner_text()
        add = admin.locator("section.add-officer")
        add.get_by_label("Naam").fill(NEW)
        add.get_by_label("Wachtwoord (minstens 10 tekens)").fill("kort")
        add.get_by_role("button", name="Account toevoegen").click()  # the browser refuses a short one itself
        assert admin.locator("table.accounts tbody tr").count() == 1
        add.get_by_label("Wachtwoord (minstens 10 tekens)").fill("een tijdelijk wachtwoord")
        add.get_by_label("Taal").select_option("en")
        add.get_by_role("button", name="Account toevoegen").click()
        assert f"Account {NEW} toegevoegd" in admin.locator(".flash.ok").inner_text()
        row = admin.locator("table.accounts tbody tr", has_text=NEW)
        assert "functionaris" in row.inner_text() and "Engels" in row.inner_text()

        row.get_by_role("button", name=f"Nieuw wachtwoord: {NEW}").click()
        one_time = admin.locator("section.one-time code.password").inner_text()
        assert len(one_time) >= 10
        look(workspace, admin, "accounts-one-time-nl-1280")
        admin.goto(url + "/accounts")
        assert admin.locator("section.one-time").count() == 0  # shown once

        officer = browser.new_context(viewport={"width": 390, "height": 900}).new_page()
        log_in(officer, url, NEW, one_time)
        assert officer.locator("header nav a", has_text="Accounts").count() == 0
        assert officer.goto(url + "/accounts").status == 403  # type: ignore[union-attr]
        assert "Only an admin can manage accounts." in officer.locator("main").inner_text()
        assert officer.goto(url + "/accounts/history").status == 403  # type: ignore[union-attr]
        post = officer.request.post(url + f"/accounts/{OFFICER}/disable", form={"action": "disable"})
        assert post.status == 403  # no CSRF token; and with one she would still not be an admin
        officer.click("header a.name")
        look(workspace, officer, "account-of-an-officer-en-390", "en")
        form = officer.locator("section.own-password")
        form.get_by_label("Current password").fill("not my password")
        form.get_by_label("New password (at least 10 characters)").fill(NEW_PASSWORD)
        form.get_by_label("New password again").fill(NEW_PASSWORD)
        form.get_by_role("button", name="Change password").click()
        assert "the current password is wrong" in officer.locator(".flash.error").inner_text()
        form.get_by_label("Current password").fill(one_time)
        form.get_by_label("New password (at least 10 characters)").fill(NEW_PASSWORD)
        form.get_by_label("New password again").fill(NEW_PASSWORD + "!")
        form.get_by_role("button", name="Change password").click()
        assert "the two new passwords differ" in officer.locator(".flash.error").inner_text()
        form.get_by_label("Current password").fill(one_time)
        form.get_by_label("New password (at least 10 characters)").fill(NEW_PASSWORD)
        form.get_by_label("New password again").fill(NEW_PASSWORD)
        form.get_by_role("button", name="Change password").click()
        assert "Password changed" in officer.locator(".flash.ok").inner_text()  # and still logged in
        officer.locator("section.own-language").get_by_label("Language").select_option("nl")
        officer.get_by_role("button", name="Save language").click()
        assert officer.locator("h1").inner_text().startswith("Mijn account")

        admin.goto(url + "/accounts")
        row = admin.locator("table.accounts tbody tr", has_text=NEW)
        row.get_by_role("button", name=f"Uitschakelen: {NEW}").click()
        assert "uitgeschakeld" in row.inner_text()
        officer.goto(url + "/")
        assert "/login" in officer.url  # her login ended with the account
        row.get_by_role("button", name=f"Inschakelen: {NEW}").click()
        log_in(officer, url, NEW, NEW_PASSWORD)
        assert officer.locator("h1").inner_text() == "Voor mij"

        admin.locator("table.accounts tbody tr", has_text=OFFICER).get_by_role(
            "button", name=f"Uitschakelen: {OFFICER}").click()
        assert "laatste actieve beheerder" in admin.locator(".flash.error").inner_text()
        row = admin.locator("table.accounts tbody tr", has_text=NEW)
        row.locator("summary", has_text="Verwijderen").click()
        row.get_by_role("button", name=f"Ja, {NEW} verwijderen").click()
        assert f"Account {NEW} verwijderd" in admin.locator(".flash.ok").inner_text()
        assert admin.locator("table.accounts tbody tr").count() == 1
        log_in(officer, url, NEW, NEW_PASSWORD)
        assert "Onbekende naam" in officer.locator("main").inner_text()

        with site[1].transaction() as session:
            removed_at = session.scalars(select(AccountEvent.at).where(AccountEvent.action == "removed")).one()
        latest = admin.locator("section.changes table.account-changes tbody tr")
        assert [latest.nth(i).locator("td").nth(2).inner_text() for i in range(latest.count())] == [
            "verwijderd", "ingeschakeld", "uitgeschakeld", "taal: Nederlands", "eigen wachtwoord veranderd",
            "nieuw wachtwoord gegeven", "toegevoegd", "toegevoegd als beheerder"]
        newest = latest.first.inner_text()
        assert OFFICER in newest and NEW in newest and f"{removed_at.astimezone(AMSTERDAM):%H:%M}" in newest
        assert admin.locator("a", has_text="Alle wijzigingen van accounts").count() == 0  # all eight shown here
        admin.goto(url + "/accounts/history")
        assert admin.locator("table.account-changes tbody tr").count() == 8
        assert one_time not in admin.locator("main").inner_text()
        look(workspace, admin, "account-history-nl-1280")
        admin.set_viewport_size({"width": 390, "height": 900})
        admin.locator("header button.lang", has_text="EN").click()
        assert admin.locator("table.account-changes tbody tr").first.locator("td").nth(2).inner_text() == (
            "language: English")  # her own switch, by her
        look(workspace, admin, "account-history-en-390", "en")
    with site[1].transaction() as session:  # each change by whom, of whom; refused ones and passwords not at all
        trail = [(e.actor, e.action, e.target) for e in session.scalars(select(AccountEvent).order_by(AccountEvent.id))]
        stored = " ".join(f"{e.actor} {e.action} {e.target}" for e in session.scalars(select(AccountEvent)))
    assert trail == [(CLI_ACTOR, "added_admin", OFFICER), (OFFICER, "added", NEW), (OFFICER, "password_reset", NEW),
                     (NEW, "password_changed", NEW), (NEW, "language_nl", NEW), (OFFICER, "disabled", NEW),
                     (OFFICER, "enabled", NEW), (OFFICER, "removed", NEW), (OFFICER, "language_en", OFFICER)]
    assert NEW_PASSWORD not in stored
    assert one_time not in stored
