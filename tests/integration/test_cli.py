"""The operator's and officer's commands as a person types them, against real servers."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from inbox_agent.accounts import authenticate, history
from inbox_agent.cli import main
from inbox_agent.config import ImapSettings
from inbox_agent.db.session import Database
from inbox_agent.sandbox import DovecotServer, SmtpSink

from agent_harness import config_text, request_mail

pytestmark = pytest.mark.integration


def write_config(tmp_path: Path, imap: ImapSettings, smtp: SmtpSink, password: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(config_text(tmp_path, imap.model_copy(update={"password": SecretStr(password)}), smtp.port))
    return config


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_check_config_names_a_wrong_password(tmp_path: Path, fresh_dovecot: DovecotServer, smtp_sink: SmtpSink) -> None:
    fresh_dovecot.add_user("info", "right-password")
    config = write_config(tmp_path, fresh_dovecot.settings("info"), smtp_sink, "wrong-password")
    assert invoke("db", "upgrade", "--config", str(config))[0] == 0
    code, output = invoke("check-config", "--config", str(config))
    assert code == 1
    assert "IMAP login failed for user info" in output and "wrong username or password" in output


def test_check_config_names_unreachable_smtp_and_outdated_schema(tmp_path: Path, dovecot: DovecotServer,
                                                                  make_imap_settings: object) -> None:
    imap = make_imap_settings()  # type: ignore[operator]
    sink = SmtpSink()  # never started: its port refuses connections
    config = write_config(tmp_path, imap, sink, imap.password.get_secret_value())
    code, output = invoke("check-config", "--config", str(config))
    assert code == 1
    assert f"smtp: cannot reach 127.0.0.1:{sink.port}" in output
    assert "run `inbox-agent db upgrade`" in output
    code, output = invoke("run", "--once", "--config", str(config))
    assert code == 2 and "schema" in output


def test_officer_walks_a_case_from_the_terminal(tmp_path: Path, dovecot: DovecotServer, imap_account: ImapSettings,
                                                smtp_sink: SmtpSink) -> None:
    assert imap_account.password is not None
    config = write_config(tmp_path, imap_account, smtp_sink, imap_account.password.get_secret_value())
    customers = tmp_path / "customers.csv"
    customers.write_text("email,name,customer_id\nanna@example.org,Anna Jansen,17\n")
    assert invoke("db", "upgrade", "--config", str(config))[0] == 0
    assert invoke("customers", "import", str(customers), "--config", str(config)) == (
        0, "imported 1 customer(s) into default\n")
    dovecot.account(imap_account.username).append(
        request_mail("Graag wil ik een kopie van al mijn persoonsgegevens ontvangen.", sender="anna@example.org"))
    code, output = invoke("run", "--once", "--config", str(config))
    assert code == 0 and "stored 1 new message(s), processed 1" in output

    code, output = invoke("cases", "list", "--json", "--config", str(config))
    (case,) = json.loads(output)
    assert case["state"] == "awaiting_approval" and case["rights"] == ["access"]
    reference = case["reference"]
    code, output = invoke("cases", "show", reference, "--json", "--config", str(config))
    detail = json.loads(output)
    (draft,) = [m for m in detail["mails"] if m["status"] == "draft"]
    new_body = tmp_path / "body.txt"
    new_body.write_text("Beste Anna,\n\nIn de bijlage vind je al je gegevens.\n")
    assert CliRunner().invoke(main, ["officer", "add", "m.derks", "--config", str(config)],
                              input="a long enough password\n").exit_code == 0
    assert invoke("cases", "edit", reference, "--mail", str(draft["id"]), "--body-file", str(new_body),
                  "--config", str(config), "--as", "m.derks") == (0, f"{reference}: concept {draft['id']} bijgewerkt\n")
    code, output = invoke("cases", "approve", reference, "--config", str(config), "--as", "m.derks", "--yes")
    assert code == 0, output
    assert invoke("run", "--once", "--config", str(config))[0] == 0
    result = [m for m in smtp_sink.messages if b"In de bijlage vind je al je gegevens." in m.raw]
    assert [m.rcpt_tos for m in result] == [("anna@example.org",)]

    code, output = invoke("cases", "approve", reference, "--config", str(config), "--as", "m.derks")
    assert code == 1 and output.startswith("fout: verzoek") and "geen concepten" in output  # in m.derks' Dutch
    code, output = invoke("cases", "show", "KT-2099-999999", "--config", str(config))
    assert code == 1 and "geen verzoek met kenmerk 'KT-2099-999999'" in output
    code, output = invoke("register", "export", "--csv", "--config", str(config))
    header, row = output.strip().splitlines()
    assert header.startswith("reference,shop,rights,received,answered")
    assert row.startswith(f"{reference},default,access,") and "anna" not in row


def test_bad_customer_file_imports_nothing(tmp_path: Path, dovecot: DovecotServer, imap_account: ImapSettings,
                                           smtp_sink: SmtpSink) -> None:
    config = write_config(tmp_path, imap_account, smtp_sink, "x")
    invoke("db", "upgrade", "--config", str(config))
    bad = tmp_path / "bad.csv"
    bad.write_text("email,name,customer_id\nok@example.org,Ok,1\nbroken,No,2\n")
    code, output = invoke("customers", "import", str(bad), "--config", str(config))
    assert code == 1 and "line 3: email: not an e-mail address: 'broken'" in output and "nothing imported" in output
    assert invoke("customers", "lookup", "ok@example.org", "--config", str(config))[0] == 1


def test_demo_runs_the_seeded_sandbox_and_a_second_run_starts_afresh(tmp_path: Path) -> None:
    for _ in range(2):  # the README's first command, typed twice
        code, out = invoke("demo", "--dir", str(tmp_path / "demo"))
        assert code == 0, out
        assert "one pass of the daemon: stored 8, processed 8" in out
        assert "01-access-known.eml        case KT-2026-000001 opened (access; identity verified)" in out
        assert "05-out-of-office.eml       ignored: automated" in out
        assert "08-broken.eml              quarantined: unparseable" in out
        login = re.search(r"log in as 'demo' with password (\S+)", out)
        assert login and "inbox-agent web --config" in out and "export INBOX_AGENT_OFFICER=demo" in out
        demo_db = Database(f"sqlite:///{tmp_path / 'demo' / 'inbox-agent.sqlite'}")
        with demo_db.transaction() as session:
            assert authenticate(session, "demo", login.group(1), datetime.now(UTC)).name == "demo"
            assert [(e.actor, e.action, e.target) for e in history(session)] == [
                ("command line", "added_admin", "demo")]  # the account the demo made is in the account history
        demo_db.dispose()
        sink_lines = out.split("mails that reached the SMTP sink:")[1].split("sandbox folder:")[0].strip().splitlines()
        assert len(sink_lines) >= 5, out  # acknowledgements and identity steps reached the sink
        assert not any("out-of-office" in line or "order" in line.lower() for line in sink_lines)
