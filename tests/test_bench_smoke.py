"""The benchmark's 100-mail smoke run (issue #8): it must keep working. No timing assertions here.

Runs ``python -m bench.run --smoke`` exactly as CI would, then checks what the agent and the floor
(bench/floor.py, issue #19) did with the synthetic mail: one acknowledgement per privacy request,
none to robots, the floor sending the same mails, and the JSON's shape.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from inbox_agent.config import REPO_ROOT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    if shutil.which("mbsync") is None:
        pytest.skip("mbsync is not installed (Debian package isync)")
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    done = subprocess.run([sys.executable, "-m", "bench.run", "--smoke", "--out", str(out)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "targets:" in done.stdout  # the table was printed
    result: dict = json.loads(out.read_text())  # type: ignore[type-arg]
    return result


def test_every_privacy_request_gets_exactly_one_ack_and_no_robot_gets_mail(smoke: dict) -> None:  # type: ignore[type-arg]
    [run] = smoke["backlog"]
    checks = run["checks"]
    assert run["size"] == 100
    assert run["database"]["messages"] == {"processed": 100}
    assert checks["privacy_mails"] > 0 and checks["robot_mails"] > 0
    assert checks["privacy_with_several_acks"] == []
    assert checks["privacy_without_ack"] == [], "synthetic privacy requests the classifier no longer recognises"
    assert checks["privacy_with_one_ack"] == checks["privacy_mails"]
    assert checks["robots_answered"] == 0
    assert checks["sink_by_kind"]["ack"] == checks["privacy_mails"]


def test_the_floor_does_the_same_work_without_a_database(smoke: dict) -> None:  # type: ignore[type-arg]
    [run] = smoke["backlog"]
    floor = run["floor"]
    assert floor["fetched"] == floor["parsed"] == 100
    assert floor["requests"] == run["checks"]["privacy_mails"]
    assert floor["sent"] == sum(run["checks"]["sink_by_kind"].values())  # the same mails, kind by kind
    assert floor["checks"]["sink_by_kind"] == run["checks"]["sink_by_kind"]
    assert floor["checks"]["privacy_with_one_ack"] == floor["checks"]["privacy_mails"]
    assert floor["checks"]["robots_answered"] == 0
    assert {"startup_s", "fetch_s", "parse_s", "classify_s", "render_s", "send_s"} <= floor["phases"].keys()
    assert run["floor_s"] > 0 and run["agent_over_floor"] > 0


def test_the_json_has_every_figure(smoke: dict) -> None:  # type: ignore[type-arg]
    assert smoke["smoke"] is True
    assert {"nproc", "cpu", "ram_mb", "mbsync"} <= smoke["machine"].keys()
    [run] = smoke["backlog"]
    assert {"size", "agent_s", "agent_cpu_s", "mbsync_s", "ratio", "peak_rss_mb", "phases", "checks"} <= run.keys()
    assert run["peak_rss_mb"] > 0 and run["mbsync_s"] > 0 and run["agent_s"] > 0
    latency = smoke["latency"]
    assert {"requests", "p50_s", "p95_s", "max_s", "sigterm_exit_s"} <= latency.keys()
    assert latency["requests"] == len(latency["samples_s"]) > 0
    assert {"load_s", "mails_per_s", "source", "tokenizer_mails_per_s", "classifier_over_tokenizer"} <= smoke[
        "classifier"
    ].keys()
    assert smoke["verdict"] and all(isinstance(v, bool) for v in smoke["verdict"].values())
