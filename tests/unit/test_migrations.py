"""Migrations that fill a new column from existing rows keep the old rows working."""

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from inbox_agent.db.session import Database, alembic_config, upgrade
from inbox_agent.desk.intake import _open_case_of
from inbox_agent.models import IdentityStatus, IdentityVerdict


def test_requester_key_is_filled_for_existing_cases_so_a_new_request_still_links(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite'}")
    command.upgrade(alembic_config(db.engine), "9d3ba86ba742")  # the schema before requester_key
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO \"case\" (shop, reference, state, rights, categories, language, requester_email,"
            " identity_status, thread_ids, received_at, deadline_raw, deadline_legal, deadline_target, created_at,"
            " anonymised) VALUES ('default', 'KT-2026-000001', 'awaiting_identity', '[]', '[]', 'nl',"
            " 'Anna@Example.ORG', 'unknown', '[]', '2026-03-02', '2026-04-02', '2026-04-02', '2026-04-01',"
            " '2026-03-02', 0)"))
    upgrade(db.engine)
    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT requester_key FROM \"case\"")).scalar_one() == "Anna@example.org"
    verdict = IdentityVerdict(status=IdentityStatus.UNKNOWN, reason="unknown sender")
    with db.transaction() as session:
        assert _open_case_of(session, "default", verdict, "Anna@EXAMPLE.org") is not None
        assert _open_case_of(session, "default", verdict, "anna@example.org") is None  # the local part is exact
    db.dispose()


def test_the_light_schema_check_agrees_with_alembic(tmp_path: Path) -> None:
    """Commands check the schema without importing Alembic; they must see what Alembic sees."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from inbox_agent.db.session import (
        MIGRATIONS,
        SchemaOutdated,
        current_revision,
        head_revision,
        require_current_schema,
    )

    assert head_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()
    db = Database(f"sqlite:///{tmp_path / 'check.sqlite'}")
    assert current_revision(db.engine) is None
    command.upgrade(alembic_config(db.engine), "9d3ba86ba742")
    assert current_revision(db.engine) == "9d3ba86ba742"
    with pytest.raises(SchemaOutdated, match=f"9d3ba86ba742.*{head_revision()}"):
        require_current_schema(db.engine)
    upgrade(db.engine)
    with db.engine.connect() as conn:
        assert current_revision(db.engine) == MigrationContext.configure(conn).get_current_revision()
    require_current_schema(db.engine)
    db.dispose()


def test_a_command_that_checks_the_schema_does_not_import_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'light.sqlite'}"
    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    code = (f"import sys\nfrom inbox_agent.db.session import Database, require_current_schema\n"
            f"require_current_schema(Database({url!r}).engine)\nprint('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_head_of_migrations_that_branched_and_merged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from inbox_agent.db import session as db_session

    versions = tmp_path / "versions"
    versions.mkdir()
    for name, parent in (("a1", "None"), ("b2", '"a1"'), ("c3", "'a1'")):
        (versions / f"{name}.py").write_text(f'revision: str = "{name}"\ndown_revision = {parent}\n')
    monkeypatch.setattr(db_session, "MIGRATIONS", tmp_path)
    with pytest.raises(RuntimeError, match="2 heads"):
        db_session.head_revision()
    (versions / "d4.py").write_text('revision = "d4"\ndown_revision: tuple[str, ...] = ("b2", "c3")\n')
    assert db_session.head_revision() == "d4"
