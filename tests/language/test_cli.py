"""The authoring commands as a runbook author uses them."""

from __future__ import annotations

import json
import shutil
import xml.dom.minidom
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runbook_cli.main import app

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "fixtures" / "runbooks" / "broken"
runner = CliRunner()


def test_validate_reports_ok_for_every_shipped_runbook() -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "5 valid, 0 invalid" in result.output
    assert "OK   runbooks/aggregate-profit.yaml  (aggregate-profit: 13 steps)" in result.output


def test_validate_fails_with_positions_and_checks_every_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("cycle.yaml", "duplicate_key.yaml"):
        shutil.copy(BROKEN / name, tmp_path / name)
    shutil.copy(ROOT / "runbooks" / "aggregate-profit.yaml", tmp_path / "good.yaml")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate", "."])
    assert result.exit_code == 1
    assert "cycle.yaml:6:12: steps[0].needs: cycle in needs: a -> c -> b -> a" in result.output
    assert "duplicate_key.yaml:7:5: steps[0].uses: duplicate key 'uses'" in result.output
    assert "OK   good.yaml" in result.output
    assert "1 valid, 2 invalid" in result.output


def test_validate_rejects_two_files_declaring_the_same_runbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for copy in ("a.yaml", "b.yaml"):
        shutil.copy(ROOT / "runbooks" / "aggregate-profit.yaml", tmp_path / copy)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate", "."])
    assert result.exit_code == 1
    assert "b.yaml:2:10: runbook: runbook name 'aggregate-profit' is already used by a.yaml" in (
        result.output
    )


GROWTH_EVENT = {
    "event": "pipeline.failed",
    "resource": {"prefect.resource.id": "pipeline.aggregate_growth"},
    "payload": {"partition": "2026-W43"},
}


def test_plan_shows_the_order_steps_run_in_the_gate_and_the_failure_handlers(
    tmp_path: Path,
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(GROWTH_EVENT))
    result = runner.invoke(app, ["plan", "aggregate-growth", "--event", str(event)])
    assert result.exit_code == 0, result.output
    lines = [line.split(" - ")[0] for line in result.output.splitlines()]
    assert lines[1] == 'params: {"partition": "2026-W43"}'
    assert not [line for line in lines if line.startswith("warning")]
    stages = [line for line in lines if line[:5].strip().rstrip(".").isdigit()]
    assert stages == [
        "   1. at the same time: scan_logs, health",
        "   2. at the same time: tell_people, tell_owners",
        "   3. wait_for_source: sources.wait",
        "   4. contract: schema.contract",
        "   5. missing: data.find_missing",
        "   6. backfill: backfill.activity_logs",
        "   7. wait_for_data: sources.wait",
        "   8. clean: partitions.clean_half_written",
        "   9. rerun: transforms.rerun",
        "  10. at the same time: counts, quality",
        "  11. report: reports.build",
        "  12. ⏸ approve: approval.on_call [the run pauses for approval, at most 3h]",
        "  13. publish: publish.investor_portal",
    ]
    assert '          approved_sha256 = "{{ steps.report.outputs.sha256 }}  (at run time)"' in lines
    full = result.output.splitlines()
    handlers = full[full.index("on failure (in order, once the run has failed):") + 1 :]
    assert handlers[0].startswith("      - tell_everyone: notify.engineers - Notify")


def test_plan_warns_when_the_event_would_not_start_the_runbook(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    other = {**GROWTH_EVENT, "resource": {"prefect.resource.id": "pipeline.aggregate_profit"}}
    event.write_text(json.dumps(other))
    result = runner.invoke(app, ["plan", "aggregate-growth", "--event", str(event)])
    assert result.exit_code == 0, result.output
    assert (
        "warning: the event (pipeline.failed for prefect.resource.id=pipeline.aggregate_profit) "
        "matches none of this runbook's triggers (pipeline.failed for "
        "prefect.resource.id=pipeline.aggregate_growth): it would not start this runbook"
    ) in result.output.splitlines()


@pytest.mark.parametrize(
    ("runbook", "partition", "expected"),
    [
        ("aggregate-growth", "2026-10-14", "YYYY-Www, an ISO week, e.g. 2026-W43"),
        ("aggregate-profit", "2026-W43", "YYYY-MM, a fiscal month, e.g. 2026-10"),
        ("daily-growth-experiments", "2026-10", "YYYY-MM-DD, a day, e.g. 2026-10-14"),
    ],
)
def test_plan_refuses_a_partition_of_the_wrong_grain_saying_the_expected_form(
    runbook: str, partition: str, expected: str
) -> None:
    result = runner.invoke(app, ["plan", runbook, "--param", f"partition={partition}"])
    assert result.exit_code == 1
    pipeline = runbook.replace("-", "_")
    assert (
        f"error: param 'partition': '{partition}' is not a partition of pipeline '{pipeline}'; "
        f"expected {expected}"
    ) in result.output


def test_plan_says_which_param_the_event_lacks(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"event": "pipeline.failed", "payload": {}}))
    result = runner.invoke(app, ["plan", "aggregate-growth", "--event", str(event)])
    assert result.exit_code == 1
    assert "param 'partition'" in result.output


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("mermaid", '    approve{"approve<br/><small>approval.on_call</small>"}'),
        ("dot", '    "report" -> "approve";'),
        ("text", "  9. ⏸ approve (approval.on_call): the run pauses for approval"),
        ("mermaid", "        run-failed -.-> tell_everyone"),
        ("dot", '        "run-failed" -> "tell_everyone" [style=dashed];'),
        ("text", "  ✗ tell_everyone (notify.engineers)"),
    ],
)
def test_graph_formats(fmt: str, expected: str) -> None:
    result = runner.invoke(app, ["graph", "aggregate-profit", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert expected in result.output.splitlines()


def test_validate_reads_a_file_named_twice_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(
        app, ["validate", "runbooks", "runbooks/aggregate-profit.yaml", "./runbooks/"]
    )
    assert result.exit_code == 0, result.output
    assert "5 valid, 0 invalid" in result.output


def test_validate_refuses_two_runbooks_answering_the_same_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = (ROOT / "runbooks" / "aggregate-profit.yaml").read_text()
    (tmp_path / "a.yaml").write_text(original)
    (tmp_path / "b.yaml").write_text(
        original.replace("runbook: aggregate-profit", "runbook: other")
    )
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate", "."])
    assert result.exit_code == 1
    assert (
        "b.yaml:13:5: on[0]: runbook 'aggregate-profit' (a.yaml, on[0]) already answers this event "
        "(pipeline.failed for prefect.resource.id=pipeline.aggregate_profit): one failure would "
        "start two recoveries; remove one of the triggers or narrow its match"
    ) in result.output
    assert "1 valid, 1 invalid" in result.output


def test_unknown_runbook_lists_the_known_ones() -> None:
    result = runner.invoke(app, ["plan", "aggregate-prof"])
    assert result.exit_code == 1
    assert "no valid runbook named 'aggregate-prof'; runbooks: aggregate-engagement" in (
        result.output
    )


def test_graph_as_svg_draws_one_row_per_stage_with_the_gate_as_a_hexagon() -> None:
    result = runner.invoke(app, ["graph", "aggregate-profit", "--format", "svg"])
    assert result.exit_code == 0, result.output
    svg = xml.dom.minidom.parseString(result.stdout).documentElement
    row_of = {
        t.firstChild.data: float(t.getAttribute("y"))
        for t in svg.getElementsByTagName("text")
        if t.firstChild and t.getAttribute("class") != "uses"
    }
    assert row_of["scan_logs"] == row_of["health"]  # one stage: they run at the same time
    assert row_of["counts"] == row_of["quality"]
    order = ["scan_logs", "tell_people", "rerun", "counts", "report", "approve", "publish"]
    assert [row_of[s] for s in order] == sorted(row_of[s] for s in order)
    assert len(svg.getElementsByTagName("polygon")) == 1  # the one gate
    assert row_of["on failure"] > row_of["publish"] and "tell_everyone" in row_of
    edges = [p for p in svg.getElementsByTagName("path") if p.getAttribute("class") == "edge"]
    assert len(edges) == 15  # 14 needs plus the failure chain's one arrow


def test_an_svg_arrow_past_a_row_runs_beside_its_steps_not_through_them() -> None:
    result = runner.invoke(app, ["graph", "aggregate-engagement", "--format", "svg"])
    svg = xml.dom.minidom.parseString(result.stdout).documentElement
    nodes = []  # (left, right, top, bottom) of every step and gate
    for rect in svg.getElementsByTagName("rect"):
        if rect.getAttribute("class") in ("step", "gate"):
            x, y = float(rect.getAttribute("x")), float(rect.getAttribute("y"))
            nodes.append((x, x + float(rect.getAttribute("width")), y, y + 38))
    for polygon in svg.getElementsByTagName("polygon"):
        points = [tuple(map(float, p.split(","))) for p in polygon.getAttribute("points").split()]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        nodes.append((min(xs), max(xs), min(ys), max(ys)))
    detours = [
        p.getAttribute("d") for p in svg.getElementsByTagName("path") if " L" in p.getAttribute("d")
    ]
    assert detours  # counts -> report passes the annotation gate's row
    for d in detours:
        before, after = d.split(" L")[0], d.split(" L")[1].split()[0]
        x, bottom = map(float, after.split(","))
        top = float(before.split()[-1].split(",")[1])
        crossed = [n for n in nodes if n[2] < bottom and n[3] > top and n[0] <= x <= n[1]]
        assert crossed == [], (d, crossed)
