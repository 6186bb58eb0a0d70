"""The officer opens the package a draft will attach, before approving it (issue 14, part 5)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from httpx import Client
from test_auth import log_in
from workspace_harness import serve

from inbox_agent.config import Settings
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case, Outbox
from inbox_agent.web import create_app

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def client(site: tuple[Settings, Database]) -> Iterator[Client]:
    with serve(create_app(*site)) as url, Client(base_url=url) as http:
        yield http


def _draft(db: Database, reference: str, attachments: list[str]) -> int:
    with db.transaction() as session:
        case = Case(shop="default", reference=reference, state="awaiting_approval", rights=["access"],
                    identity_status="verified", verified_email="anna@example.org", received_at=NOW, deadline_raw=NOW,
                    deadline_legal=NOW, deadline_target=NOW, created_at=NOW, thread_ids=[])
        session.add(case)
        session.flush()
        mail = Outbox(case_id=case.id, shop="default", kind="result_access", to_addr="anna@example.org",
                      subject="x", body_text="x", attachments=attachments, message_id=f"<{reference}@x>",
                      status="draft", created_at=NOW)
        session.add(mail)
        session.flush()
        return mail.id


def test_the_package_of_a_draft_opens_before_approval(site: tuple[Settings, Database], client: Client,
                                                      tmp_path: Path) -> None:
    package = tmp_path / "KT-2026-000001-access.zip"
    package.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    mine = _draft(site[1], "KT-2026-000001", [str(package)])
    other = _draft(site[1], "KT-2026-000002", [])
    log_in(client)
    page = client.get("/cases/KT-2026-000001").text
    assert f'href="/cases/KT-2026-000001/mails/{mine}/package/0"' in page
    response = client.get(f"/cases/KT-2026-000001/mails/{mine}/package/0")
    assert response.status_code == 200 and response.content == package.read_bytes()
    assert 'filename="KT-2026-000001-access.zip"' in response.headers["content-disposition"]
    assert client.get(f"/cases/KT-2026-000001/mails/{mine}/package/1").status_code == 404
    assert client.get(f"/cases/KT-2026-000002/mails/{mine}/package/0").status_code == 404  # not that case's mail
    assert client.get(f"/cases/KT-2026-000002/mails/{other}/package/0").status_code == 404
