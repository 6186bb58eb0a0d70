"""The case page says what a draft's package holds per source, as ``cases export REF`` prints it, and
closing it never leaves a held result behind (issue 14).

Before: the page linked the package but said nothing of it, so an access answer whose package held
only the registry (no webshop account, no orders) looked like any other until the officer unzipped it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy import select
from test_every_word import page_problems
from workspace_harness import Workspace, serve

from inbox_agent.config import REPO_ROOT, Settings
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case, Customer, Outbox, Task
from inbox_agent.desk import officer
from inbox_agent.desk.context import Desk
from inbox_agent.desk.drafting import draft_results
from inbox_agent.exports import ExportOptions, RegistryRecord, SubjectData, build_export
from inbox_agent.fictitious_shop import fictitious_shop
from inbox_agent.web import create_app
from inbox_agent.withdrawal import load_cues

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
EMAIL = "anna@example.org"
CUES = load_cues(REPO_ROOT / "classifiers" / "conversation.toml")


@pytest.fixture
def workspace(site: tuple[Settings, Database]) -> Iterator[Workspace]:
    with serve(create_app(*site)) as url:
        yield Workspace(url)


def access_draft(db: Database, reference: str, package: Path) -> None:
    with db.transaction() as session:
        case = Case(shop="default", reference=reference, state="awaiting_approval", rights=["access"],
                    identity_status="verified", verified_email=EMAIL, received_at=NOW, deadline_raw=NOW,
                    deadline_legal=NOW, deadline_target=NOW, created_at=NOW, thread_ids=[])
        session.add(case)
        session.flush()
        session.add(Outbox(case_id=case.id, shop="default", kind="result_access", to_addr=EMAIL, subject="Inzage",
                           body_text="Hallo Anna,", attachments=[str(package)], message_id=f"<{reference}@x>",
                           status="draft", created_at=NOW))


def package(tmp_path: Path, name: str, registry: RegistryRecord | None) -> Path:
    data = SubjectData(email=EMAIL, registry=registry)  # no webshop connected: no account, no orders
    return build_export(data, tmp_path / name, fictitious_shop(), ExportOptions(generated_at=NOW)).path


@pytest.mark.parametrize("width", [1280, 390])
def test_the_case_page_says_what_the_package_holds_per_source_and_flags_the_empty_parts(
    site: tuple[Settings, Database], workspace: Workspace, browser: Browser, tmp_path: Path, width: int
) -> None:
    registry = RegistryRecord(email=EMAIL, name="Anna Jansen", order_numbers=["1001", "1002"])
    access_draft(site[1], "KT-2026-000001", package(tmp_path, "KT-2026-000001-access.zip", registry))
    access_draft(site[1], "KT-2026-000002", package(tmp_path, "KT-2026-000002-access.zip", None))
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()

    workspace.login(page, "/cases/KT-2026-000001")
    summary = page.locator("table.package-summary")
    assert summary.locator("caption").inner_text() == "Wat het pakket bevat"
    rows = [r.inner_text().split("\t") for r in summary.locator("tr").all()]
    assert rows == [["Klantenregister", "1"], ["Webwinkelaccount", "0 (niets gevonden)"],
                    ["Bestellingen", "0 (niets gevonden)"], ["Beoordelingen", "0"], ["Privacyverzoeken", "0"]]
    assert summary.locator("tr.bad").count() == 2
    assert "Een deel van het pakket is leeg" in page.locator("section.draft [role=alert]").inner_text()
    assert page_problems(page) == {}
    workspace.screenshot(page, f"case-package-partial-nl-{width}")

    page.goto(workspace.url + "/cases/KT-2026-000002")
    assert "Het pakket bevat geen klantgegevens" in page.locator("section.draft [role=alert]").inner_text()
    context.close()


def held_erasure(settings: Settings, db: Database) -> str:
    """An approved erasure whose result is held: the webshop erasure and five notices still open."""
    with db.transaction() as session:
        customer = Customer(shop="default", email=EMAIL, email_key=EMAIL, name="Anna Jansen", created_at=NOW,
                            updated_at=NOW)
        session.add(customer)
        session.flush()
        case = Case(shop="default", reference="KT-2026-000003", state="in_progress", rights=["erasure"],
                    customer_id=customer.id, requester_email=EMAIL, verified_email=EMAIL,
                    identity_status="verified", received_at=NOW, deadline_raw=NOW, deadline_legal=NOW,
                    deadline_target=NOW + timedelta(days=30), created_at=NOW, thread_ids=[], events=[])
        session.add(case)
        session.flush()
        desk = Desk(settings=settings, box=settings.mailbox("default"), now=NOW, cues=CUES, actor="marieke")
        draft_results(session, desk, case)
        officer.approve(session, desk, case.reference)
        return case.reference


def test_closing_on_the_case_page_with_open_steps_needs_them_skipped_and_sends_the_true_result(
    site: tuple[Settings, Database], workspace: Workspace, browser: Browser
) -> None:
    """Before: "Afsluiten" completed the case and left its approved erasure result held, never sent."""
    reference = held_erasure(*site)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    workspace.login(page, f"/cases/{reference}")

    def close(skip: bool) -> None:
        page.locator("summary", has_text="Afsluiten").click()
        form = page.locator(f"form[action='/cases/{reference}/close']")
        form.get_by_label("Reden", exact=True).fill("Telefonisch afgehandeld")
        if skip:
            form.get_by_label("Open stappen overslaan").check()
        form.get_by_role("button", name="Afsluiten").click()

    close(skip=False)
    assert "heeft nog 6 open stap(pen) en 1 vastgehouden antwoord" in page.locator(".flash.error").inner_text()
    close(skip=True)
    assert "Verzoek afgesloten." in page.locator(".flash.ok").inner_text()
    workspace.screenshot(page, "case-closed-steps-skipped-nl-1280")
    context.close()
    with site[1].transaction() as session:
        (mail,) = session.scalars(select(Outbox).where(Outbox.kind == "result_erasure")).all()
        assert mail.status == "queued" and "hebben we niet gewist" in mail.body_text
        assert mail.subject == f"[{reference}] Je verzoek om je gegevens te wissen"  # not "zijn gewist"
        assert {t.status for t in session.scalars(select(Task))} == {"skipped"}
