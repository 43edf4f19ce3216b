"""`runbook portal ...` end to end: a served portal process and the commands that use it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from faults.portal_plan import DropFault, StatusFault, parse_fault
from foundation.settings import reload_settings
from runbook_cli.main import app

TOKEN = "cli-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`runbook portal serve` in its own process, two workers, one fault set at start."""
    port = _free_port()
    env = {**os.environ, "RUNBOOK_DATA_DIR": str(tmp_path), "RUNBOOK_PORTAL_TOKEN": TOKEN}
    command = [sys.executable, "-c", "from runbook_cli.main import app; app()"]
    args = ["portal", "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"]
    args += ["--fault", "mode=status,status=503,count=1"]
    process = subprocess.Popen(command + args, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # two workers import the app; slow on a busy machine
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "portal did not start"
            time.sleep(0.1)
        monkeypatch.setenv("RUNBOOK_PORTAL_TOKEN", TOKEN)
        reload_settings()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        reload_settings()
    assert (tmp_path / "portal.db").exists()


def test_serve_publish_list_and_faults_from_the_command_line(served: str, tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["portal", "faults", "show", "--url", served])
    assert '"status":503' in shown.output and "1 left" in shown.output

    report = tmp_path / "report.csv"
    report.write_text("product,profit\nwidget,40.0\n")
    publish = ["portal", "publish", "aggregate_profit", "2024-03", str(report), "--key", "k1"]
    published = runner.invoke(app, [*publish, "--url", served])
    assert published.exit_code == 0, published.output
    assert '"version": 1' in published.output

    listed = runner.invoke(app, ["portal", "list", "--url", served])
    assert "aggregate_profit" in listed.output and "v1" in listed.output
    content = runner.invoke(app, ["portal", "show", "aggregate_profit", "2024-03", "--url", served])
    assert content.output == report.read_text()

    consumed = runner.invoke(app, ["portal", "faults", "show", "--url", served])
    assert "fired 1, 0 left" in consumed.output  # the publish rode out the injected 503
    assert runner.invoke(app, ["portal", "faults", "clear", "--url", served]).exit_code == 0
    assert "no faults" in runner.invoke(app, ["portal", "faults", "show", "--url", served]).output


def test_fault_rules_parse_from_json_or_shorthand() -> None:
    assert parse_fault('{"mode": "drop", "count": 3}') == DropFault(mode="drop", count=3)
    assert parse_fault("mode=status,status=500,count=forever") == StatusFault(
        mode="status", status=500, count=None
    )
    with pytest.raises(ValueError, match="mode"):
        parse_fault("mode=explode")


def test_a_report_and_its_feed_published_by_hand_land_as_one_release_or_not_at_all(
    served: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["portal", "faults", "clear", "--url", served]).exit_code == 0
    report = tmp_path / "2026-03.csv"
    report.write_text("month,mau\n2026-03,431\n")
    broken = tmp_path / "broken.feed.json"
    broken.write_text('{"mau": 431,\n "dau": }\n')
    release = ["portal", "publish", "aggregate_engagement", "2026-03", str(report)]

    refused = runner.invoke(app, [*release, "--feed", str(broken), "--key", "r1", "--url", served])
    assert refused.exit_code == 1
    assert f"{broken}:2:9: not JSON" in refused.output
    for kind in ("report", "feed"):
        shown = runner.invoke(
            app,
            ["portal", "show", "aggregate_engagement", "2026-03", "--kind", kind, "--url", served],
        )
        assert shown.exit_code == 1, f"a {kind} was stored although the release was refused"

    feed = tmp_path / "2026-03.feed.json"
    feed.write_text('{"pipeline": "aggregate_engagement", "partition": "2026-03", "mau": 431}')
    published = runner.invoke(app, [*release, "--feed", str(feed), "--key", "r2", "--url", served])
    assert published.exit_code == 0, published.output
    assert '"report": {' in published.output and '"feed": {' in published.output
    shown = runner.invoke(
        app,
        ["portal", "show", "aggregate_engagement", "2026-03", "--kind", "feed", "--url", served],
    )
    assert json.loads(shown.output) == json.loads(feed.read_text())

    wrong = runner.invoke(app, [*release, "--kind", "feed", "--feed", str(feed), "--key", "r3"])
    assert wrong.exit_code == 1 and "--feed goes with a report" in wrong.output
