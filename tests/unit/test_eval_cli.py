"""``inbox-agent classify --json`` and ``inbox-agent eval`` contracts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from inbox_agent.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures" / "classify"


def test_classify_json_lines() -> None:
    files = [str(FIXTURES / "nl_erasure_reply.eml"), str(FIXTURES / "garbage.eml"), str(FIXTURES / "missing.eml")]
    result = CliRunner().invoke(main, ["classify", *files, "--json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [r["file"] for r in records] == files
    assert records[0]["categories"] == ["erasure"] and records[0]["language"] == "nl"
    assert records[0]["automated"] is False and records[0]["evidence"]
    assert records[2]["categories"] == ["none"] and "error" in records[2]


def test_eval_reports_metrics_and_errors(tmp_path: Path) -> None:
    (tmp_path / "mail").mkdir()
    shutil.copy(FIXTURES / "nl_erasure_reply.eml", tmp_path / "mail" / "a.eml")
    shutil.copy(FIXTURES / "de_ooo.eml", tmp_path / "mail" / "b.eml")
    (tmp_path / "mail" / "c.eml").write_bytes(b"")
    labels = [
        {"file": "a.eml", "categories": ["erasure"], "language": "nl", "automated": False},
        {"file": "b.eml", "categories": ["none"], "language": "de", "automated": True},
        {"file": "c.eml", "categories": ["access"], "language": "en", "automated": False},
    ]
    (tmp_path / "labels.jsonl").write_text("\n".join(json.dumps(x) for x in labels))
    result = CliRunner().invoke(main, ["eval", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.splitlines()[-1])
    assert report["per_category"]["erasure"]["f1"] == 1.0
    assert report["per_category"]["access"]["recall"] == 0.0
    assert report["automated"] == {"precision": 1.0, "recall": 1.0}
    assert report["parse_errors"] == ["c.eml"]
    assert [w["file"] for w in report["misclassified"]] == ["c.eml"]
    assert {"macro_f1", "language_accuracy", "none_false_positive_rate", "messages_per_second"} <= set(report)
    table = CliRunner().invoke(main, ["eval", str(tmp_path)])
    assert "macro F1" in table.output and "c.eml" in table.output


def test_eval_counts_missed_requests_and_the_review_list(tmp_path: Path) -> None:
    (tmp_path / "mail").mkdir()
    raw = (
        "From: anna@voorbeeld.example\r\nTo: info@shop.example\r\nSubject: {subject}\r\n"
        "Message-ID: <{n}@voorbeeld.example>\r\n\r\n{body}\r\n"
    )
    bodies = {
        "a.eml": ("account", "Ik wil NIET dat mijn account verwijderd wordt."),
        "b.eml": ("vraag", "Kunnen jullie mij wat meer vertellen over de kinderwagen?"),
    }
    for n, (name, (subject, body)) in enumerate(bodies.items()):
        (tmp_path / "mail" / name).write_text(raw.format(subject=subject, n=n, body=body), encoding="utf-8")
    labels = [
        {"file": "a.eml", "categories": ["erasure"], "language": "nl", "automated": False},
        {"file": "b.eml", "categories": ["none"], "language": "nl", "automated": False},
    ]
    (tmp_path / "labels.jsonl").write_text("\n".join(json.dumps(x) for x in labels))
    result = CliRunner().invoke(main, ["eval", str(tmp_path), "--json"])
    report = json.loads(result.output.splitlines()[-1])
    assert report["missed_requests"] == ["a.eml"]
    assert report["review"] == 1 and report["review_none_rate"] == 0.0
