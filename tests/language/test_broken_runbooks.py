"""The corpus of deliberately broken runbooks: each error says exactly where and what.

Files are copied to a temporary folder and validated from there, so messages name the file
as the user typed its path; every expected line is `file:line:col: path: message`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from flows.language.catalog import PipelineCatalog, PipelineInfo
from flows.language.errors import RunbookValidationError
from flows.language.validator import validate_file

BROKEN = Path(__file__).parent.parent / "fixtures" / "runbooks" / "broken"
CATALOG = PipelineCatalog(
    {
        "aggregate_profit": PipelineInfo("aggregate_profit", True, "fiscal_month"),
        "unit_profit_experiments": PipelineInfo("unit_profit_experiments", False, "day"),
    },
    frozenset({"A", "B", "C", "D"}),
)

EXPECTED: dict[str, list[str]] = {
    "approvers_from_event.yaml": [
        "approvers_from_event.yaml:7:22: steps[0].with.approvers[1]: `approvers` decides who may open gate 'approve': it cannot be a template ('{{ event.payload.detail }}'), or the event that started the run could choose its own approvers; write it literally (names from governance.yaml, or no `approvers` for the on-call engineers and owners)",
        "approvers_from_event.yaml:8:13: steps[0].with.also: `also` decides who may open gate 'approve': it cannot be a template ('{{ event.payload.extra_approvers }}'), or the event that started the run could choose its own approvers; write it literally (names from governance.yaml, or no `approvers` for the on-call engineers and owners)",
        "approvers_from_event.yaml:9:22: steps[0].with.min_approvals: `min_approvals` decides who may open gate 'approve': it cannot be a template ('{{ event.payload.quorum }}'), or the event that started the run could choose its own approvers; write it literally (names from governance.yaml, or no `approvers` for the on-call engineers and owners)",
        "approvers_from_event.yaml:10:23: steps[0].with.reuse_approval: `reuse_approval` decides who may open gate 'approve': it cannot be a template ('{{ event.payload.reuse }}'), or the event that started the run could choose its own approvers; write it literally (names from governance.yaml, or no `approvers` for the on-call engineers and owners)",
    ],
    "approval_allow_failure.yaml": [
        "approval_allow_failure.yaml:6:5: steps[0].allow_failure: approval step 'approve' cannot be allowed to fail: a rejected or timed-out approval must stop the run; remove `allow_failure`",
    ],
    "approval_with_when.yaml": [
        "approval_with_when.yaml:9:5: steps[1].when: approval step 'approve' cannot have a `when` condition: a gate that can be skipped is no gate; remove `when`",
    ],
    "bad_duration.yaml": [
        "bad_duration.yaml:6:14: steps[0].timeout: invalid duration '2 hours': write a number with a unit s, m, h or d, e.g. 45s, 30m, 2h, 1d or 1h30m",
    ],
    "bad_param_type.yaml": [
        "bad_param_type.yaml:4:21: params.partition.type: must be one of 'string', 'integer', 'number', 'boolean', 'object' or 'array' (got 'strng')",
    ],
    "bad_runbook_name.yaml": [
        "bad_runbook_name.yaml:1:10: runbook: runbook name 'Aggregate Profit' must use only lowercase letters, digits and -; try 'aggregate-profit'",
    ],
    "bad_step_id.yaml": [
        "bad_step_id.yaml:4:9: steps[0].id: step id 'scan-logs' must use only letters, digits and _ (templates read it as steps.<id>); try 'scan_logs'",
    ],
    "cycle.yaml": [
        "cycle.yaml:6:12: steps[0].needs: cycle in needs: a -> c -> b -> a; remove one of these needs",
    ],
    "duplicate_id.yaml": [
        "duplicate_id.yaml:6:9: steps[1].id: duplicate step id 'scan' (also steps[0]); ids must be unique: rename one",
    ],
    "duplicate_key.yaml": [
        "duplicate_key.yaml:7:5: steps[0].uses: duplicate key 'uses' (first defined at line 5); YAML would silently keep only the last one: remove or rename one",
    ],
    "empty_file.yaml": [
        "empty_file.yaml:1:1: a runbook is a mapping (runbook:, pipeline:, steps: ...); found an empty file",
    ],
    "empty_steps.yaml": [
        "empty_steps.yaml:3:8: steps: needs at least 1 item, found 0",
    ],
    "handler_publishes.yaml": [
        "handler_publishes.yaml:8:11: on_failure[0].uses: failure handler 'push_anyway' publishes; a failed run must not publish anything: notify instead",
    ],
    "many_problems.yaml": [
        "many_problems.yaml:5:11: steps[0].uses: unknown step type 'test.ecko'; did you mean 'test.echo'? known step types:",
        "many_problems.yaml:8:13: steps[1].needs[0]: unknown step 'scna' in needs; did you mean 'scan'? steps in this runbook: scan, rerun",
        "many_problems.yaml:9:15: steps[1].with.a: wants a whole number, e.g. 3 (got 'x')",
        "many_problems.yaml:10:18: steps[1].retry_delay: invalid duration 'soon': write a number with a unit s, m, h or d, e.g. 45s, 30m, 2h, 1d or 1h30m",
    ],
    "missing_steps.yaml": [
        "missing_steps.yaml:1:1: missing required field 'steps'",
    ],
    "missing_with_param.yaml": [
        "missing_with_param.yaml:6:11: steps[0].with: test.add needs parameter 'a' in `with:`",
    ],
    "negative_retries.yaml": [
        "negative_retries.yaml:6:14: steps[0].retries: must be at least 0 (got -1)",
    ],
    "not_a_mapping.yaml": [
        "not_a_mapping.yaml:1:1: a runbook is a mapping (runbook:, pipeline:, steps: ...); found a list",
    ],
    "param_from_reads_steps.yaml": [
        "param_from_reads_steps.yaml:4:21: params.partition.from: template reads unknown name 'steps'; here templates can read: event, incident, runbook",
    ],
    "publish_no_gate_at_all.yaml": [
        "publish_no_gate_at_all.yaml:5:11: steps[0].uses: publish step 'publish' is not downstream of an approval step; pipeline 'aggregate_profit' reports to investors and publishes only after approval: add an approval step (e.g. `uses: approval.on_call`) and make this step need it",
    ],
    "publish_without_approval.yaml": [
        "publish_without_approval.yaml:10:11: steps[2].uses: publish step 'publish' is not downstream of an approval step; pipeline 'aggregate_profit' reports to investors and publishes only after approval: add `needs: [approve]`",
    ],
    "self_need.yaml": [
        "self_need.yaml:6:13: steps[0].needs[0]: step 'a' needs itself",
    ],
    "tab_indentation.yaml": [
        "tab_indentation.yaml:5:1: tab character in indentation: YAML indents with spaces only; replace tabs",
    ],
    "template_reads_downstream.yaml": [
        "template_reads_downstream.yaml:7:14: steps[0].with.value: step 'first' reads steps.second, which runs after it ('second' needs 'first'); adding 'second' to its needs would create a cycle: read it in a step that needs 'second' instead",
    ],
    "template_syntax_error.yaml": [
        "template_syntax_error.yaml:9:9: steps[0].with.value: template syntax error: expected name or number",
    ],
    "undeclared_param.yaml": [
        "undeclared_param.yaml:8:19: steps[0].with.value: template reads undeclared param 'fiscal_mnth'; declare it under `params:` (declared: fiscal_month)",
    ],
    "unknown_needs.yaml": [
        "unknown_needs.yaml:8:13: steps[1].needs[0]: unknown step 'scan_log' in needs; did you mean 'scan_logs'? steps in this runbook: scan_logs, rerun",
    ],
    "unknown_output_field.yaml": [
        "unknown_output_field.yaml:10:19: steps[1].with.value: steps.total.outputs has no field 'totl'; test.add returns: total",
    ],
    "unknown_param.yaml": [
        "unknown_param.yaml:7:7: steps[0].with.valeu: unknown parameter 'valeu' for test.echo; did you mean 'value'? its parameters: log, value",
    ],
    "unknown_pipeline.yaml": [
        "unknown_pipeline.yaml:2:11: pipeline: unknown pipeline 'aggregate_proft'; did you mean 'aggregate_profit'? pipelines in governance.yaml: aggregate_profit, unit_profit_experiments",
    ],
    "unknown_step_attribute.yaml": [
        "unknown_step_attribute.yaml:9:11: steps[1].when: steps.scan.result does not exist; a step offers outputs, state, message",
    ],
    "unknown_step_field.yaml": [
        "unknown_step_field.yaml:8:5: steps[1].need: unknown field 'need'; did you mean 'needs'? allowed here: id, uses, name, needs, with, when, trigger_rule, retries, retry_delay, timeout, allow_failure",
    ],
    "unknown_step_type.yaml": [
        "unknown_step_type.yaml:5:11: steps[0].uses: unknown step type 'test.ecko'; did you mean 'test.echo'? known step types:",
    ],
    "unknown_template_name.yaml": [
        "unknown_template_name.yaml:6:19: steps[0].with.value: template reads unknown name 'evnt'; here templates can read: event, params, steps, incident, runbook",
    ],
    "wrong_type.yaml": [
        "wrong_type.yaml:6:15: steps[0].with.a: wants a whole number, e.g. 3 (got 'three')",
    ],
    "yaml_syntax_error.yaml": [
        "yaml_syntax_error.yaml:6:24: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence); check indentation and quoting here",
    ],
    "cycle_in_long_chain.yaml": [
        "cycle_in_long_chain.yaml:6:12: steps[0].needs: cycle in needs: a -> c -> b -> a; remove one of these needs",
    ],
    "min_approvals_unreachable.yaml": [
        "min_approvals_unreachable.yaml:8:22: steps[0].with.min_approvals: min_approvals is 2 but only 1 person can ever approve (approvers: C); the gate could never pass: lower min_approvals or name more approvers",
    ],
    "no_approvers.yaml": [
        "no_approvers.yaml:6:23: steps[0].with.approvers: min_approvals is 1 but nobody can ever approve (approvers: none); the gate could never pass: name approvers, or remove `approvers:` for the on-call engineers and owners",
    ],
    "partition_of_two_grains.yaml": [
        "partition_of_two_grains.yaml:11:23: steps[1].with.partition: param 'partition' is a partition of pipeline 'unit_profit_experiments' (YYYY-MM-DD, a day, e.g. 2026-10-14) and of 'aggregate_profit' (YYYY-MM, a fiscal month, e.g. 2026-10); one key cannot be both: declare a param per pipeline",
    ],
    "publish_feed_of_another_report.yaml": [
        "publish_feed_of_another_report.yaml:19:29: steps[3].with.approved_feed_sha256: approved_feed_sha256 reads steps.draft but approved_sha256 reads steps.report: report and feed must come from the same report step",
    ],
    "publish_pinned_after_gate.yaml": [
        "publish_pinned_after_gate.yaml:19:24: steps[3].with.approved_sha256: approved_sha256 reads steps.rebuilt, which is not upstream of the approval gate 'approve': the approver never saw that report; make 'approve' need 'rebuilt' or pin to steps.report",
        "publish_pinned_after_gate.yaml:20:29: steps[3].with.approved_feed_sha256: approved_feed_sha256 reads steps.rebuilt, which is not upstream of the approval gate 'approve': the approver never saw that dashboard feed; make 'approve' need 'rebuilt' or pin to steps.report",
    ],
    "publish_pinned_to_param.yaml": [
        "publish_pinned_to_param.yaml:17:24: steps[2].with.approved_sha256: approved_sha256 must be the sha256 of the report the approver saw, read as `{{ steps.<report step>.outputs.sha256 }}`; found '{{ params.sha }}': use `approved_sha256: \"{{ steps.report.outputs.sha256 }}\"`",
    ],
    "publish_to_investor_pipeline.yaml": [
        "publish_to_investor_pipeline.yaml:8:11: steps[1].uses: publish step 'publish' is not downstream of an approval step; pipeline 'aggregate_profit' reports to investors and publishes only after approval: add an approval step (e.g. `uses: approval.on_call`) and make this step need it",
    ],
    "publish_to_templated_pipeline.yaml": [
        "publish_to_templated_pipeline.yaml:7:11: steps[0].uses: publish step 'publish' is not downstream of an approval step; its pipeline, chosen at run time, may report to investors and publishes only after approval: add an approval step (e.g. `uses: approval.on_call`) and make this step need it",
    ],
    "publish_without_feed.yaml": [
        "publish_without_feed.yaml:14:7: steps[2].with: publish step 'publish' does not pin the dashboard feed the approver saw: without `approved_feed_sha256` any feed would be published; add `approved_feed_sha256: \"{{ steps.report.outputs.feed_sha256 }}\"`",
        "publish_without_feed.yaml:16:13: steps[2].with.feed: publish step 'publish' leaves out the dashboard feed of an investor publication: investors read the report and its feed together, so the old feed would stand beside the new report, and the approver saw a feed that would not be published; remove `feed` (both are published, each pinned)",
    ],
    "model_and_policy_errors.yaml": [
        "model_and_policy_errors.yaml:6:14: steps[0].timeout: invalid duration '2 hours': write a number with a unit s, m, h or d, e.g. 45s, 30m, 2h, 1d or 1h30m",
        "model_and_policy_errors.yaml:11:18: steps[1].with.also: `also` decides who may open gate 'approve': it cannot be a template ('{{ event.payload.extra }}'), or the event that started the run could choose its own approvers; write it literally (names from governance.yaml, or no `approvers` for the on-call engineers and owners)",
        "model_and_policy_errors.yaml:13:11: steps[2].uses: publish step 'publish' is not downstream of an approval step; pipeline 'aggregate_profit' reports to investors and publishes only after approval: add `needs: [approve]`",
    ],
    "publish_other_pipeline_gate.yaml": [
        "publish_other_pipeline_gate.yaml:15:17: steps[2].with.pipeline: publish step 'publish' publishes pipeline 'aggregate_profit' but its gate 'approve' asks the on-call engineers and owners of 'unit_profit_experiments': name the pipeline at the gate (`pipeline: aggregate_profit` in the `with:` of 'approve') so that aggregate_profit's own approvers decide what is published",
    ],
    "publish_unpinned.yaml": [
        "publish_unpinned.yaml:13:11: steps[2].with: publish step 'publish' is not pinned to the report the approver saw: without `approved_sha256` any bytes would be published; add `approved_sha256: \"{{ steps.report.outputs.sha256 }}\"`",
        "publish_unpinned.yaml:13:11: steps[2].with: publish step 'publish' does not pin the dashboard feed the approver saw: without `approved_feed_sha256` any feed would be published; add `approved_feed_sha256: \"{{ steps.report.outputs.feed_sha256 }}\"`",
    ],
    "template_attribute_walk.yaml": [
        "template_attribute_walk.yaml:9:14: steps[0].with.value: template reads 'params.partition.__class__'; runbook templates read data only, never attributes starting with _",
    ],
    "template_jinja_globals.yaml": [
        "template_jinja_globals.yaml:7:14: steps[0].with.value: template uses Jinja's 'range', which runbook templates do not offer; here templates can read: event, params, steps, incident, runbook",
        "template_jinja_globals.yaml:8:12: steps[0].with.log: template uses Jinja's 'lipsum', which runbook templates do not offer; here templates can read: event, params, steps, incident, runbook",
        "template_jinja_globals.yaml:11:11: steps[1].when: template uses Jinja's 'cycler', which runbook templates do not offer; here templates can read: event, params, steps, incident, runbook",
        "template_jinja_globals.yaml:11:11: steps[1].when: template uses Jinja's 'dict', which runbook templates do not offer; here templates can read: event, params, steps, incident, runbook",
        "template_jinja_globals.yaml:11:11: steps[1].when: template uses Jinja's 'joiner', which runbook templates do not offer; here templates can read: event, params, steps, incident, runbook",
        "template_jinja_globals.yaml:11:11: steps[1].when: template uses Jinja's 'namespace', which runbook templates do not offer; here templates can read: event, params, steps, incident, runbook",
    ],
    "template_method_call.yaml": [
        "template_method_call.yaml:9:14: steps[0].with.value: template calls 'params.partition.upper(...)'; runbook templates cannot call functions or methods: use a filter instead (abs, capitalize, default, first, float, int, join, last, length, list, lower, max, min, replace, reverse, round, sort, string, sum, title, tojson, trim, truncate, unique, upper)",
    ],
    "template_unknown_filter.yaml": [
        "template_unknown_filter.yaml:9:14: steps[0].with.value: unknown filter 'attr'; filters allowed: abs, capitalize, default, first, float, int, join, last, length, list, lower, max, min, replace, reverse, round, sort, string, sum, title, tojson, trim, truncate, unique, upper",
    ],
    "trigger_other_pipeline.yaml": [
        "trigger_other_pipeline.yaml:5:34: on[0].match.prefect.resource.id: prefect.resource.id 'pipeline.aggregate_profit' matches events of pipeline 'aggregate_profit', but this runbook recovers 'unit_profit_experiments': that failure would start the wrong recovery; match 'pipeline.unit_profit_experiments'",
    ],
    "quote_closed_later.yaml": [
        "quote_closed_later.yaml:6:19: unclosed quote: the string opened here with \" is not closed on this line; YAML read on to line 12, where a later \" closed it, and then failed (did not find expected ',' or '}'); add the closing \" on line 6",
    ],
    "unclosed_quote.yaml": [
        'unclosed_quote.yaml:6:19: unclosed quote: the string opened here with " is never closed (YAML read on to line 13: found unexpected end of stream); add the closing "',
    ],
    "with_unknown_pipeline.yaml": [
        "with_unknown_pipeline.yaml:6:47: steps[0].with.pipeline: unknown pipeline 'unit_profit_experiment'; did you mean 'unit_profit_experiments'? pipelines in governance.yaml: aggregate_profit, unit_profit_experiments",
    ],
    "wrong_boolean.yaml": [
        "wrong_boolean.yaml:6:20: steps[0].allow_failure: wants true or false (got 'yes please')",
    ],
    "zero_timeout.yaml": [
        "zero_timeout.yaml:6:14: steps[0].timeout: timeout must be longer than 0s: a step with no time to run always fails; write e.g. 30m, or remove `timeout` for no limit",
    ],
}


def test_every_broken_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 50


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_runbook_reports_file_line_column_and_message(
    name: str, copied: Callable[[Path], str]
) -> None:
    with pytest.raises(RunbookValidationError) as raised:
        validate_file(copied(BROKEN / name), CATALOG)
    heads = [p.render().splitlines()[0] for p in raised.value.problems]
    assert len(heads) == len(EXPECTED[name])
    for head, expected in zip(heads, EXPECTED[name], strict=True):
        if expected.endswith("known step types:"):
            assert head.startswith(expected) and "test.echo" in head
        else:
            assert head == expected


def test_message_shows_the_source_line_and_a_caret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(BROKEN / "wrong_type.yaml", tmp_path / "wrong_type.yaml")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RunbookValidationError) as raised:
        validate_file("wrong_type.yaml", CATALOG)
    lines = str(raised.value).splitlines()
    assert lines[1] == "        with: {a: three, b: 2}"
    assert lines[2] == "    " + " " * 14 + "^"
    assert lines[-1] == "1 problem found."


def test_an_unclosed_quote_points_at_the_opening_quote_not_the_end_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(BROKEN / "unclosed_quote.yaml", tmp_path / "unclosed_quote.yaml")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RunbookValidationError) as raised:
        validate_file("unclosed_quote.yaml", CATALOG)
    lines = str(raised.value).splitlines()
    assert lines[1] == '        with: {value: "2026-10}'
    assert lines[2] == "    " + " " * 18 + "^"


def test_a_cycle_in_a_long_chain_is_one_problem_without_follow_on_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(BROKEN / "cycle_in_long_chain.yaml", tmp_path / "chain.yaml")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RunbookValidationError) as raised:
        validate_file("chain.yaml", CATALOG)
    assert len(raised.value.problems) == 1
    assert len(str(raised.value)) < 400
