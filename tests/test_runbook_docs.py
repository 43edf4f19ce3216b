"""docs/runbooks/ (the wiki pages) is what `runbook docs` generates from the runbooks today."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from runbook_cli.docs import DOCS_DIR, render_pages, stale_files
from runbook_cli.main import app


def test_the_committed_runbook_pages_are_current() -> None:
    stale = stale_files(DOCS_DIR, render_pages())
    assert stale == [], (
        f"docs/runbooks is stale ({', '.join(stale)}): run `runbook docs --out docs/runbooks` "
        "and commit it"
    )


def test_a_page_tells_owners_sla_triggers_graph_steps_checks_gate_and_failure_handling() -> None:
    page = (DOCS_DIR / "aggregate-profit.md").read_text(encoding="utf-8")
    for expected in (
        "| **owners** | B (primary), A (secondary, the backup) |",
        "| **SLA** | 4h from the failure to the republished output;",
        "| `pipeline.failed` | `prefect.resource.id` = `pipeline.aggregate_profit` | - |",
        '```mermaid\nflowchart TD\n    scan_logs["scan_logs<br/>',
        '    approve{"approve<br/><small>approval.on_call</small>"}',
        "### 6. `rerun`: transforms.rerun",
        "- runs unless a need failed (a join after a branch)",
        "- only when `incident.kind != 'report_publishing'`",
        "| `partition` | `{{ params.partition }}` |",
        "| `margin_thresholds` | data_quality | yes |",
        "the owners B and A; whoever started the run by hand may not",
        "- **escalation**: unanswered after 30m",
        "### ✗1. `tell_everyone`: notify.engineers",
    ):
        assert expected in page, expected
    index = (DOCS_DIR / "README.md").read_text(encoding="utf-8")
    assert (
        "| [aggregate-profit](aggregate-profit.md) | `aggregate_profit` | yes | B, A | 4h |"
        in index
    )


def test_check_mode_names_stale_missing_and_leftover_pages(tmp_path: Path) -> None:
    out = tmp_path / "wiki"
    assert CliRunner().invoke(app, ["docs", "--out", str(out)]).exit_code == 0
    assert CliRunner().invoke(app, ["docs", "--out", str(out), "--check"]).exit_code == 0
    (out / "aggregate-growth.md").write_text("edited by hand\n", encoding="utf-8")
    (out / "old-runbook.md").write_text("# Runbook\n\n> Generated from x by `runbook docs`\n")
    (out / "unit-profit-experiments.md").unlink()
    (out / "notes.md").write_text("# our own notes\n", encoding="utf-8")  # not generated: kept
    checked = CliRunner().invoke(app, ["docs", "--out", str(out), "--check"])
    assert checked.exit_code == 1
    assert "aggregate-growth.md, unit-profit-experiments.md, old-runbook.md" in checked.output
    assert CliRunner().invoke(app, ["docs", "--out", str(out)]).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "aggregate-engagement.md", "aggregate-growth.md", "aggregate-profit.md",
        "daily-growth-experiments.md", "notes.md", "unit-profit-experiments.md",
    ]  # fmt: skip
