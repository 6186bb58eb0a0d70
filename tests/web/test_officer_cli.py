"""``inbox-agent officer add``: the account the web login then accepts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from workspace_harness import OFFICER, PASSWORD, cli_config

from inbox_agent.accounts import AccountError, add_officer, authenticate
from inbox_agent.actors import CLI_ACTOR
from inbox_agent.cli import main
from inbox_agent.config import Settings
from inbox_agent.db.session import Database, upgrade
from inbox_agent.db.tables import AccountEvent
from inbox_agent.deadlines import AMSTERDAM
from inbox_agent.web.i18n import translator


def test_officer_add_reads_the_password_from_stdin_and_refuses_duplicates(
    site: tuple[Settings, Database], tmp_path: Path
) -> None:
    settings, db = site
    config = cli_config(tmp_path, settings.database.url)

    def add(name: str, password: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["officer", "add", name, "--config", str(config), "--language", "en"],
                                    input=password + "\n")
        return result.exit_code, result.output

    assert add("jan", "a long enough password") == (0, "account jan toegevoegd; log in op http://127.0.0.1:8025\n")
    with db.transaction() as session:
        verdict = authenticate(session, "jan", "a long enough password", datetime.now(UTC))
    assert (verdict.name, verdict.language) == ("jan", "en")

    code, output = add(OFFICER, "another long password")
    assert code == 1 and "er is al een account met de naam" in output
    code, output = add("piet", "short")
    assert code == 1 and "minstens 10 tekens" in output
    result = CliRunner().invoke(main, ["officer", "add", "piet", "--config", str(config), "--as", "jan"],
                                input="short\n")
    assert (result.exit_code, result.output) == (1, "error: a password has at least 10 characters\n")  # jan's


def test_officer_list_disable_enable_reset_and_remove(site: tuple[Settings, Database], tmp_path: Path) -> None:
    settings, db = site
    config = cli_config(tmp_path, settings.database.url)

    def run(*args: str, password: str = "") -> tuple[int, str]:
        result = CliRunner().invoke(main, ["officer", *args, "--config", str(config)], input=password + "\n")
        return result.exit_code, result.output

    def login(password: str) -> str | None:
        with db.transaction() as session:
            return authenticate(session, OFFICER, password, datetime.now(UTC), client="test").name

    code, output = run("list")  # no account of the login name: Dutch
    header, row = output.splitlines()
    assert code == 0 and header.split() == ["Naam", "Taal", "Rol", "Sinds", "Staat"]
    assert row.split()[:3] == [OFFICER, "Nederlands", "beheerder"] and row.endswith("  actief")
    assert run("disable", OFFICER) == (1, f"fout: '{OFFICER}' is de laatste actieve beheerder; maak eerst een "
                                          "andere beheerder (inbox-agent officer add --admin)\n")
    assert run("add", "anja", "--admin", password="another long password")[0] == 0
    assert run("disable", OFFICER) == (0, f"account {OFFICER} uitgeschakeld; de sessies ervan zijn beëindigd\n")
    assert "uitgeschakeld" in run("list")[1]
    assert login(PASSWORD) is None
    assert run("disable", OFFICER, "--enable")[0] == 0
    assert login(PASSWORD) == OFFICER
    code, output = run("reset-password", OFFICER, password="a brand new password")
    assert code == 0 and "nieuw wachtwoord gezet" in output
    assert login(PASSWORD) is None and login("a brand new password") == OFFICER
    assert run("remove", OFFICER) == (0, f"account {OFFICER} verwijderd\n")
    assert run("remove", OFFICER) == (1, f"fout: geen account met de naam '{OFFICER}'\n")
    assert run("remove", "anja")[0] == 1  # the last active admin stays
    assert run("list")[1].splitlines()[1].startswith("anja ")
    with db.transaction() as session:  # each change that was made, by the command line; never a password
        trail = [(e.actor, e.action, e.target) for e in session.scalars(select(AccountEvent).order_by(AccountEvent.id))]
    assert trail == [("command line", "added_admin", OFFICER), ("command line", "added_admin", "anja"),
                     ("command line", "disabled", OFFICER), ("command line", "enabled", OFFICER),
                     ("command line", "password_reset", OFFICER), ("command line", "removed", OFFICER)]


def test_the_first_account_is_audited_as_an_admin_and_the_history_is_said_in_her_language(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    upgrade(db.engine)
    config = cli_config(tmp_path, f"sqlite:///{tmp_path / 'fresh.sqlite'}")

    def run(*args: str, password: str = "", actor: str = "") -> tuple[int, str]:
        result = CliRunner().invoke(main, ["officer", *args, "--config", str(config)], input=password + "\n",
                                    env={"INBOX_AGENT_OFFICER": actor})
        return result.exit_code, result.output

    assert run("history", actor="nobody") == (0, "Nog geen wijzigingen van accounts.\n")  # no account: Dutch
    assert run("add", "marieke", password="a long enough password")[0] == 0  # the first: an admin
    assert run("add", "jan", "--language", "en", password="another long password")[0] == 0
    assert run("disable", "jan")[0] == 0
    with db.transaction() as session:
        trail = [(e.action, e.target, e.at) for e in session.scalars(select(AccountEvent).order_by(AccountEvent.id))]
    assert [(action, target) for action, target, _ in trail] == [
        ("added_admin", "marieke"), ("added", "jan"), ("disabled", "jan")]
    code, output = run("history", actor="marieke")
    lines = output.splitlines()
    assert code == 0 and lines[0].split() == ["Wanneer", "Wie", "Wat", "Account"]
    assert lines[1].split()[-3:] == ["opdrachtregel", "uitgeschakeld", "jan"]  # newest first
    added_at = trail[0][2]
    assert lines[3] == f"{translator('nl').when(added_at)}  de opdrachtregel  toegevoegd als beheerder  marieke"
    assert f" {added_at.astimezone(AMSTERDAM):%H:%M} " in lines[3]  # Amsterdam time, not UTC
    code, output = run("history", actor="jan")
    assert code == 0 and output.splitlines()[0].split() == ["When", "Who", "What", "Account"]
    assert output.splitlines()[3].endswith("the command line  added as admin  marieke")
    db.dispose()


def test_an_account_cannot_be_named_like_the_system(site: tuple[Settings, Database], tmp_path: Path) -> None:
    """Her actions would read as the agent's, the scheduler's or the command line's in every timeline."""
    settings, db = site
    config = cli_config(tmp_path, settings.database.url)
    for name in ("agent", " Scheduler ", "COMMAND LINE", "de opdrachtregel", "De Planner"):
        result = CliRunner().invoke(main, ["officer", "add", name, "--config", str(config)],
                                    input="a long enough password\n")
        assert (result.exit_code, result.output) == (
            1, f"fout: '{name.strip()}' is een naam van het systeem (de agent, de planner, de opdrachtregel); "
               "kies een andere naam\n"), name
    with db.transaction() as session:
        assert [e.target for e in session.scalars(select(AccountEvent))] == [OFFICER]  # the test site's own
        with pytest.raises(AccountError) as refused:
            add_officer(session, "Agent", "a long enough password", language="nl", now=datetime.now(UTC),
                        actor=CLI_ACTOR)
    assert translator("nl").error(refused.value) == (
        "'Agent' is een naam van het systeem (de agent, de planner, de opdrachtregel); kies een andere naam")


def test_at_a_terminal_the_password_is_asked_twice_in_the_readers_language(
    site: tuple[Settings, Database], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prompts and the mismatch are the catalogue's, in the language of the account typing (``--as``)."""
    settings, db = site
    config = cli_config(tmp_path, settings.database.url)
    with db.transaction() as session:
        add_officer(session, "anna", "a long enough password", language="en", now=datetime.now(UTC), actor=CLI_ACTOR)
    asked: list[str] = []
    answers = iter(["first long password", "second long password"])

    def getpass(prompt: str) -> str:
        asked.append(prompt)
        return next(answers)

    monkeypatch.setattr("click.testing._NamedTextIOWrapper.isatty", lambda _: True)
    monkeypatch.setattr("getpass.getpass", getpass)
    result = CliRunner().invoke(main, ["officer", "add", "piet", "--config", str(config), "--as", "anna"])
    assert (result.exit_code, result.output, asked) == (1, "error: the two passwords differ\n",
                                                         ["Password: ", "Password again: "])
    asked.clear()
    answers = iter(["same long password", "same long password"])
    result = CliRunner().invoke(main, ["officer", "add", "piet", "--config", str(config), "--as", OFFICER])
    assert result.exit_code == 0 and asked == ["Wachtwoord: ", "Wachtwoord nog een keer: "]
    with db.transaction() as session:
        assert authenticate(session, "piet", "same long password", datetime.now(UTC)).name == "piet"
