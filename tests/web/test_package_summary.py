"""The case page says what a draft's package holds per source, as ``cases export REF`` prints it (issue 14).

Before: the page linked the package but said nothing of it, so an access answer whose package held
only the registry (no webshop account, no orders) looked like any other until the officer unzipped it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from test_every_word import page_problems
from workspace_harness import Workspace, serve

from inbox_agent.config import Settings
from inbox_agent.db.models import Case, Outbox
from inbox_agent.db.session import Database
from inbox_agent.exports import ExportOptions, RegistryRecord, SubjectData, build_export
from inbox_agent.fictitious_shop import fictitious_shop
from inbox_agent.web import create_app

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
EMAIL = "anna@example.org"


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
