"""Issue 16 item 10 (and 2 in the terminal): `cases show/approve/task` as the officer types them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from page_checks import foreign_words
from sqlalchemy import select
from workspace_harness import OFFICER, run_agent

from inbox_agent.accounts import add_officer
from inbox_agent.actors import CLI_ACTOR
from inbox_agent.cli import main
from inbox_agent.db.tables import Case, Outbox, Task

from agent_harness import Agent, config_text, request_mail

pytestmark = pytest.mark.integration

ACCESS_AND_PORTABILITY = (
    "Ik wil inzage in al mijn persoonsgegevens. Stuur ze ook in een machineleesbaar bestand "
    "zodat ik ze kan overzetten naar een andere aanbieder."
)


def cli(config: Path, *args: str, answer: str = "", actor: str | None = OFFICER) -> tuple[int, str]:
    env = {"INBOX_AGENT_OFFICER": actor} if actor else {"INBOX_AGENT_OFFICER": ""}
    result = CliRunner().invoke(main, [*args, "--config", str(config)], input=answer, env=env)
    return result.exit_code, result.output


@pytest.fixture
def config(agent: Agent, tmp_path: Path) -> Path:
    from workspace_harness import add_test_officer

    add_test_officer(agent.db)
    path = tmp_path / "config.toml"
    imap = agent.settings.imap
    assert imap is not None
    path.write_text(config_text(tmp_path, imap, agent.settings.smtp.port, db_url=agent.settings.database.url))
    return path


def case_of(agent: Agent, sender: str, body: str) -> str:
    agent.add_customer(sender, "Eva Jansen", customer_id=sender)
    agent.deliver(request_mail(body, subject="Mijn gegevens", sender=sender, name="Eva"))
    run_agent(agent)
    with agent.db.transaction() as session:
        return session.scalars(select(Case.reference).where(Case.requester_email == sender)).one()


def test_drafts_are_shown_and_approved_one_by_one_after_a_yes(agent: Agent, config: Path) -> None:
    reference = case_of(agent, "eva@example.org", ACCESS_AND_PORTABILITY)
    with agent.db.transaction() as session:
        drafts = {
            kind: id_ for kind, id_ in session.execute(select(Outbox.kind, Outbox.id).where(Outbox.status == "draft"))
        }
    assert set(drafts) == {"result_access", "result_portability"}

    code, output = cli(config, "cases", "show", reference)  # in the officer's language: Dutch
    assert code == 0
    assert "Ik wil inzage in al mijn persoonsgegevens" in output  # the customer's own text
    assert f"--- concept #{drafts['result_access']} (antwoord: inzage) aan eva@example.org" in output
    assert "Hallo Eva" in output and "access.zip (" in output and "\nTijdlijn:\n" in output
    assert "Rechten:" in output and "inzage, overdraagbaarheid" in output and "Bewijs afzender:" in output
    words = output.replace("-portability.zip", "")  # a file's name is no word
    assert foreign_words(words, "nl") == [] and "result_access" not in words and "awaiting" not in words
    with agent.db.transaction() as session:
        add_officer(session, "eve", "a long enough password", language="en", now=datetime.now(UTC), actor=CLI_ACTOR)
    code, output = cli(config, "cases", "show", reference, actor="eve")  # and in hers: English
    assert code == 0 and f"--- draft #{drafts['result_access']} (answer: access) to eva@example.org" in output
    assert "\nTimeline:\n" in output and "access, portability" in output
    code, listed = cli(config, "cases", "list")
    assert code == 0 and listed.split("\n")[0].split() == ["Kenmerk", "Status", "Dagen", "over", "Streefdatum",
                                                            "Wettelijke", "termijn", "Rechten"]
    assert reference in listed and "inzage, overdraagbaarheid" in listed
    code, listed = cli(config, "cases", "list", actor="eve")
    assert code == 0 and listed.startswith("Reference") and "access, portability" in listed
    code, output = cli(config, "cases", "list", "--json")
    assert [c["rights"] for c in json.loads(output)] == [["access", "portability"]]  # the codes, as they were

    code, output = cli(config, "cases", "approve", reference)
    assert code == 1 and "heeft 2 concepten; keur er een goed met --mail N" in output
    assert f"--mail {drafts['result_portability']}  antwoord: overdraagbaarheid aan eva@example.org" in output

    access = str(drafts["result_access"])
    code, output = cli(config, "cases", "approve", reference, "--mail", access, answer="n\n")
    assert code == 0 and f"concept #{access} niet goedgekeurd" in output
    code, output = cli(config, "cases", "approve", reference, "--mail", access, answer="y\n")
    assert code == 0 and f"mail {access} goedgekeurd;" in output
    with agent.db.transaction() as session:
        statuses = {
            kind: status
            for kind, status in session.execute(
                select(Outbox.kind, Outbox.status).where(Outbox.kind.in_(["result_access", "result_portability"]))
            )
        }
        assert statuses == {"result_access": "queued", "result_portability": "draft"}
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        assert [e.actor for e in case.events if e.kind == "approved"] == [OFFICER]


def test_a_decision_needs_an_officer_account_and_tasks_take_done_or_skip(agent: Agent, config: Path) -> None:
    reference = case_of(agent, "bob@example.org", "Verwijder al mijn gegevens en mijn account, alstublieft.")
    code, output = cli(config, "cases", "approve", reference, "--yes", actor="nobody")
    assert code == 1 and "geen account met de naam 'nobody'" in output and "--as NAAM" in output
    assert cli(config, "cases", "approve", reference, "--yes")[0] == 0
    with agent.db.transaction() as session:
        first, second, *_ = session.scalars(select(Task.id).order_by(Task.id))
    assert cli(config, "cases", "task", str(first), "--done") == (0, f"taak {first}: gedaan\n")
    assert cli(config, "cases", "task", str(second), "--skip", "nooit gegevens gedeeld") == (
        0,
        f"taak {second}: overgeslagen\n",
    )
    code, output = cli(config, "cases", "task", str(second))
    assert code == 2 and "--done or --skip REASON" in output
    with agent.db.transaction() as session:
        done = {t.id: (t.status, t.reason, t.done_by) for t in session.scalars(select(Task))}
    assert done[first] == ("done", None, OFFICER)
    assert done[second] == ("skipped", "nooit gegevens gedeeld", OFFICER)


def test_the_cli_offers_the_same_ways_to_confirm_an_identity_as_the_desk() -> None:
    from inbox_agent.cli.cases_cmds import confirm_identity
    from inbox_agent.desk.officer import CONFIRM_METHODS

    (method,) = [p for p in confirm_identity.params if p.name == "method"]
    assert tuple(method.type.choices) == CONFIRM_METHODS  # type: ignore[attr-defined]
