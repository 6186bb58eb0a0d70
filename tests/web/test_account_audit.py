"""Every change to an account leaves one AccountEvent, recorded by accounts.py itself with the actor passed in.

The callers (CLI, web page, demo) only say who acts; so a function here that forgot its row, or one that
recorded it twice (a reset going through ``set_password``), would leave the trail wrong for all of them.
A new public function of accounts.py must be listed as a change (and walked) or as no change.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from inbox_agent import accounts
from inbox_agent.actors import CLI_ACTOR
from inbox_agent.db.session import Database, upgrade
from inbox_agent.db.tables import AccountEvent

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PASSWORD, OWN = "a long enough password", "her own long password"
NO_CHANGE = {"reserved_names", "delay", "authenticate", "throttles_since", "open_session", "session_officer",
             "end_session", "end_all_sessions", "history", "list_officers", "language_of", "is_disabled",
             "active_officer", "is_admin", "is_active_admin"}
"""What only reads accounts or touches their logins (an authentication's rehash is no one's change)."""


def _trail(session: Session) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.target) for e in session.scalars(select(AccountEvent).order_by(AccountEvent.id))]


def test_each_account_change_leaves_exactly_one_row_by_the_actor_passed_in(tmp_path: Path) -> None:
    steps: list[tuple[Callable[..., object], tuple[object, ...], dict[str, object], tuple[str, str, str]]] = [
        (accounts.add_officer, ("marieke", PASSWORD), {"language": "nl", "now": NOW, "actor": CLI_ACTOR},
         (CLI_ACTOR, "added_admin", "marieke")),  # the first account
        (accounts.add_officer, (" jan ", PASSWORD), {"language": "nl", "now": NOW, "actor": "marieke"},
         ("marieke", "added", "jan")),
        (accounts.add_officer, ("anja", PASSWORD), {"language": "en", "now": NOW, "actor": "marieke", "admin": True},
         ("marieke", "added_admin", "anja")),
        (accounts.set_disabled, ("jan", True, NOW), {"actor": "anja"}, ("anja", "disabled", "jan")),
        (accounts.set_disabled, (" jan", False, NOW), {"actor": "anja"}, ("anja", "enabled", "jan")),
        (accounts.set_password, ("jan", OWN, NOW), {"actor": CLI_ACTOR}, (CLI_ACTOR, "password_reset", "jan")),
        (accounts.change_own_password, ("jan ", OWN, PASSWORD, NOW), {}, ("jan", "password_changed", "jan")),
        (accounts.reset_password, ("jan", NOW), {"actor": "anja"}, ("anja", "password_reset", "jan")),
        (accounts.set_language, ("jan", "en", NOW), {}, ("jan", "language_en", "jan")),
        (accounts.remove_officer, ("jan", NOW), {"actor": "marieke"}, ("marieke", "removed", "jan")),
    ]
    public = {name for name, f in inspect.getmembers(accounts, inspect.isfunction)
              if f.__module__ == accounts.__name__ and not name.startswith("_")}
    assert public - NO_CHANGE == {change.__name__ for change, _, _, _ in steps}
    db = Database(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    upgrade(db.engine)
    with db.transaction() as session:
        for change, args, kwargs, row in steps:
            before = len(_trail(session))
            change(session, *args, **kwargs)
            assert _trail(session)[before:] == [row], change.__name__
        accounts.set_language(session, "anja", "en", NOW)  # her language already: nothing changed, nothing recorded
        assert len(_trail(session)) == len(steps)
    db.dispose()
