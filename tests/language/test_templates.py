"""Templates: the quick reading agrees with Jinja's, and the sandbox offers only the language."""

from __future__ import annotations

import pytest

from flows.language.template_reads import _quick, _walk, inspect_template
from flows.language.templates import ENV, TemplateRenderError, render_value

SIMPLE = [
    "{{ steps.report.outputs.sha256 }}",
    "{{ params.partition }}",
    "part-{{ params.partition }}-{{ runbook.name }}",
    "{{ steps.counts.outputs.warehouse | int }}",
    "{{ event.payload.partition | default | string }}",
    "{{ incident.id }} stays open",
    "{{ 'literal' }}",
    "{{ 3 }}",
]
CONDITIONS = [
    "steps.counts.outputs.missing > 0",
    "not steps.scan.outputs.errors",
    "steps.scan.state == 'failed'",
    "'timeout' in steps.scan.message",
    'params.partition != "2026-10"',
    "steps.a.outputs.rows >= steps.b.outputs.rows",
]


def _longest(refs: tuple) -> set[str]:
    """References without those that are a prefix of another (Jinja lists every prefix)."""
    names = {str(r) for r in refs}
    return {n for n in names if not any(o.startswith(n + ".") for o in names)}


@pytest.mark.parametrize("text", SIMPLE)
def test_quick_reading_of_a_template_agrees_with_jinja(text: str) -> None:
    quick = _quick(text, bare=False)
    slow = _walk(ENV.parse(text), statements=False)
    assert quick is not None
    assert quick.names == slow.names
    assert _longest(quick.references) == _longest(slow.references)
    assert quick.filters == slow.filters


@pytest.mark.parametrize("condition", CONDITIONS)
def test_quick_reading_of_a_condition_agrees_with_jinja(condition: str) -> None:
    quick = _quick(condition, bare=True)
    slow = _walk(ENV.parse("{{ " + condition + " }}"), statements=False)
    assert quick is not None
    assert quick.names == slow.names
    assert _longest(quick.references) == _longest(slow.references)


@pytest.mark.parametrize(
    "text",
    [
        "{{ params.x.__class__ }}",
        "{{ range(3) }}",
        "{{ a and b }}",
        "{% if x %}y{% endif %}",
        "{{ x.upper() }}",
        "{{- x }}",
        '{{ "}}" }}',
        "{{ x['k'] }}",
    ],
)
def test_anything_else_goes_to_jinja(text: str) -> None:
    assert _quick(text, bare=False) is None


def test_statements_keep_their_own_names_out_of_the_reads() -> None:
    info = inspect_template("{% for d in steps.b.outputs.days %}{{ d }},{% endfor %}")
    assert info.names == frozenset({"steps"})
    assert not info.statements
    assert inspect_template("{% macro m() %}x{% endmacro %}").statements == {"macro"}


@pytest.mark.parametrize(
    "template",
    ["{{ range(3) | list }}", "{{ lipsum(1) }}", "{{ cycler('a') }}", "{{ 'x' | pprint }}"],
)
def test_the_sandbox_does_not_offer_globals_or_other_filters_at_run_time_either(
    template: str,
) -> None:
    with pytest.raises(TemplateRenderError):
        render_value(template, {})


def test_allowed_filters_render() -> None:
    assert render_value("{{ x | int + 1 }}", {"x": "41"}) == 42
    assert render_value("{{ xs | join(',') | upper }}", {"xs": ["a", "b"]}) == "A,B"
