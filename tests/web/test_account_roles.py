"""Officer roles: the first account is an admin, and there is always an active admin left.

The migration makes the oldest existing account the admin, so an install from before roles
keeps someone who may manage accounts on the web page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text

from inbox_agent import accounts
from inbox_agent.actors import CLI_ACTOR
from inbox_agent.db.session import Database, alembic_config, upgrade
from inbox_agent.db.tables import Officer

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PASSWORD = "a long enough password"


def test_the_oldest_account_becomes_the_admin_when_roles_arrive(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite'}")
    command.upgrade(alembic_config(db.engine), "e4a7c91b2d3f")  # the schema before roles
    with db.engine.begin() as conn:
        for name in ("marieke", "jan"):
            conn.execute(text("INSERT INTO officer (name, password_hash, language, created_at) "
                              "VALUES (:n, 'x', 'nl', '2026-01-01')"), {"n": name})
    upgrade(db.engine)
    with db.transaction() as session:
        assert [(o.name, o.role) for o in session.scalars(select(Officer).order_by(Officer.id))] == [
            ("marieke", "admin"), ("jan", "officer")]
    db.dispose()


def test_the_last_active_admin_can_be_neither_disabled_nor_removed(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'roles.sqlite'}")
    upgrade(db.engine)
    with db.transaction() as session:
        first = accounts.add_officer(session, "marieke", PASSWORD, language="nl", now=NOW, actor=CLI_ACTOR)
        second = accounts.add_officer(session, "jan", PASSWORD, language="nl", now=NOW, actor=CLI_ACTOR)
        assert (first.role, second.role) == ("admin", "officer")
        with pytest.raises(accounts.AccountError, match="last active admin"):
            accounts.set_disabled(session, "marieke", True, NOW, actor="marieke")
        with pytest.raises(accounts.AccountError, match="last active admin"):
            accounts.remove_officer(session, "marieke", NOW, actor="marieke")
        accounts.set_disabled(session, "jan", True, NOW, actor="marieke")  # an officer may go
        accounts.add_officer(session, "anja", PASSWORD, language="en", now=NOW, actor="marieke", admin=True)
        accounts.set_disabled(session, "anja", True, NOW, actor="marieke")
        with pytest.raises(accounts.AccountError, match="last active admin"):  # a disabled admin does not count
            accounts.set_disabled(session, "marieke", True, NOW, actor="marieke")
        accounts.set_disabled(session, "anja", False, NOW, actor="marieke")
        accounts.remove_officer(session, "marieke", NOW, actor="marieke")
        assert accounts.is_active_admin(session, "anja") and not accounts.is_active_admin(session, "jan")
        with pytest.raises(accounts.AccountError, match="current password is wrong"):
            accounts.change_own_password(session, "anja", "not it", "another long password", NOW)
        password = accounts.reset_password(session, "jan", NOW, actor="marieke")
        assert len(password) == 16 and set(password) <= set(accounts.ONE_TIME_ALPHABET)
    with db.transaction() as session:
        assert accounts.authenticate(session, "jan", password, NOW).name is None  # a reset does not enable
        accounts.set_disabled(session, "jan", False, NOW, actor="marieke")
    with db.transaction() as session:
        assert accounts.authenticate(session, "jan", password, NOW).name == "jan"
    db.dispose()
