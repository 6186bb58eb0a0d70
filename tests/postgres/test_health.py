"""``inbox-agent health`` and the metrics textfile against PostgreSQL, after a real daemon run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from inbox_agent.classify import Classifier
from inbox_agent.cli import main
from inbox_agent.config import load_settings
from inbox_agent.daemon import Daemon
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case
from inbox_agent.sandbox import DovecotServer, SmtpSink, free_port
from inbox_agent.sandbox_pg import PostgresServer

from agent_harness import request_mail

pytestmark = pytest.mark.integration
SHOP = ("toppers", "KT", "Kleine Toppers")
OTHER_SHOP = ("zeilen", "ZW", "Zeilwinkel Noord")


def _health(config: Path, *options: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["health", "--config", str(config), *options])
    return result.exit_code, json.loads(result.stdout)


def _run_once(config: Path, dovecot: DovecotServer, classifier: Classifier) -> list[Case]:
    """Deliver one access request to the first mailbox, run the daemon once, return the cases."""
    settings = load_settings(config)
    box = settings.all_mailboxes()[0]
    dovecot.account(box.imap.username).append(request_mail(
        "Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben.", sender="anna@example.org"))
    db = Database(settings.database.url)
    asyncio.run(Daemon(settings, db, classifier).run_once())
    with db.transaction() as session:
        cases = list(session.scalars(select(Case)))
    db.dispose()
    return cases


def _samples(text: str) -> dict[str, float]:
    """Sample -> value; also checks the format's rule that a metric's lines form one group."""
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    names = [line.split("{")[0].split(" ")[0] for line in lines]
    runs = [name for i, name in enumerate(names) if i == 0 or names[i - 1] != name]
    assert len(runs) == len(set(runs)), f"metric lines not grouped: {runs}"
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in lines}


def test_health_and_metrics_after_a_run(shop_config: Callable[..., Path], dovecot: DovecotServer,
                                        classifier: Classifier, tmp_path: Path) -> None:
    textfile = tmp_path / "inbox_agent.prom"
    config = shop_config(SHOP, OTHER_SHOP, metrics={"textfile": textfile})
    [case] = _run_once(config, dovecot, classifier)

    code, report = _health(config)
    assert code == 0, report["problems"]
    assert report["healthy"] is True
    assert report["database"]["reachable"] and report["database"]["current"]
    box, other = report["mailboxes"]
    assert (box["name"], box["shop"], other["name"], other["shop"]) == ("toppers", "Kleine Toppers",
                                                                        "zeilen", "Zeilwinkel Noord")
    assert 0 <= box["last_poll_age_seconds"] < 60 and 0 <= other["last_poll_age_seconds"] < 60
    assert box["lease_owner"] is None  # run_once gave its lease back when it was done
    assert (box["messages"], other["messages"]) == ({"processed": 1}, {})
    assert report["outbox"]["queued"] == 0 and report["outbox"]["oldest_queued_age_seconds"] is None
    assert report["cases"]["open_per_state"] == {"toppers": {case.state: 1}}
    assert report["cases"]["oldest_deadline"].startswith(case.deadline_legal.isoformat()[:19])
    assert report["cases"]["overdue"] == 0

    samples = _samples(textfile.read_text())
    assert samples["inbox_agent_healthy"] == 1
    assert samples[f'inbox_agent_cases_open{{shop="toppers",state="{case.state}"}}'] == 1
    assert samples['inbox_agent_messages{mailbox="toppers",status="processed"}'] == 1
    assert samples["inbox_agent_outbox_queued"] == 0
    assert samples["inbox_agent_oldest_deadline_timestamp_seconds"] == case.deadline_legal.timestamp()
    assert samples['inbox_agent_mailbox_lease_held{mailbox="zeilen"}'] == 0  # released before the last write
    printed = CliRunner().invoke(main, ["metrics", "--config", str(config)])
    assert _samples(printed.stdout).keys() == samples.keys()


def test_health_exits_1_and_names_the_problem(shop_config: Callable[..., Path], dovecot: DovecotServer,
                                              classifier: Classifier, smtp_sink: SmtpSink,
                                              postgres: PostgresServer) -> None:
    code, report = _health(shop_config(SHOP))  # configured, but no daemon ever ran
    assert code == 1 and report["problems"] == ["mailbox toppers: never polled"]

    code, report = _health(shop_config(SHOP, database={"url": postgres.url("nothing_here")}))
    assert code == 1 and report["database"]["reachable"] is False
    assert report["problems"][0].startswith("database unreachable: OperationalError")
    code, report = _health(shop_config(SHOP, database={
        "url": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/agent"}))
    assert code == 1 and report["database"]["reachable"] is False

    empty = postgres.create_database("not_migrated")
    code, report = _health(shop_config(SHOP, database={"url": empty}))
    assert code == 1 and report["database"] == {"reachable": True, "revision": None, "current": False,
                                                "head": report["database"]["head"], "error": None}

    smtp_sink.stop()  # the mail server is down: the acknowledgement stays queued
    config = shop_config(SHOP)
    _run_once(config, dovecot, classifier)
    assert _health(config)[0] == 0  # a retry or two is normal ...
    code, report = _health(config, "--max-queue-age", "0")  # ... a queue older than the limit is not
    assert code == 1 and report["outbox"]["queued"] >= 1
    assert report["problems"] == [report["problems"][0]] and report["problems"][0].startswith("outbox: oldest")
