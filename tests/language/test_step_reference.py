"""The step reference comes from the registry: what `runbook steps` shows is what the code takes."""

from __future__ import annotations

from typer.testing import CliRunner

from flows.language.step_reference import DOC_PATH, step_docs
from recovery_tasks.registry import all_step_types
from runbook_cli.main import app
from runbook_cli.steps import render_markdown

runner = CliRunner()


def test_committed_step_reference_is_up_to_date() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render_markdown(step_docs()), (
        "docs/step-types.md is stale: run `runbook steps --markdown --write` and commit it"
    )


def test_reference_lists_every_shipped_step_type_and_no_test_ones() -> None:
    shipped = sorted(t.name for t in all_step_types().values() if t.builtin)
    assert [d.name for d in step_docs()] == shipped
    result = runner.invoke(app, ["steps"])
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.output.splitlines()[: len(shipped)]] == shipped


def test_one_step_type_shows_params_with_defaults_outputs_and_role() -> None:
    result = runner.invoke(app, ["steps", "approval.on_call"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "approval.on_call"
    assert lines[1].startswith("  role: approval gate: the run pauses here")
    assert (
        "  min_approvals: integer (at least 1, at most 4) (default 1) - Distinct approvers needed"
        in lines
    )
    assert "  approvers: list of string" in lines


def test_a_report_step_documents_the_sha256_that_pins_a_publication() -> None:
    result = runner.invoke(app, ["steps", "reports.build"])
    assert "  sha256: string" in result.output.splitlines()
    assert "  partition: string (required) - " in result.output
    publish = runner.invoke(app, ["steps", "publish.investor_portal"]).output
    assert "approved_sha256: string or null (default null)" in publish
    assert "pinned to the approved report" in publish


def test_an_unknown_step_type_suggests_the_closest() -> None:
    result = runner.invoke(app, ["steps", "reports.buidl"])
    assert result.exit_code == 2
    assert "unknown step type 'reports.buidl'; did you mean 'reports.build'?" in result.output
