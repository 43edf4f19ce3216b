"""Templates in runbooks: Jinja2 in a sandbox, checked statically, rendered at run time.

Namespaces: `event`, `params`, `steps.<id>` (`outputs`, `state`, `message`), `incident`,
`runbook`. A value that is exactly one `{{ expr }}` keeps its native type (a number stays a
number, a list a list); anything else renders to a string. Rendered values are handed to
step params models and reach SQL only as bound parameters, never as SQL text.

The language is deliberately small: the namespaces above, a fixed set of filters and tests,
`{% if %}`, `{% for %}` and `{% set %}`; no Jinja globals (`range`, `dict`, `lipsum`, ...),
no method calls, no attribute starting with `_`. The validator refuses the rest
(`template_reads`), and the rendering environment does not even offer it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from flows.language.errors import RunbookError
from foundation.errors import TerminalError

NAMESPACES = ("event", "params", "steps", "incident", "runbook")
STEP_FIELDS = ("outputs", "state", "message")
ALLOWED_FILTERS = (
    "abs", "capitalize", "default", "first", "float", "int", "join", "last", "length",
    "list", "lower", "max", "min", "replace", "reverse", "round", "sort", "string", "sum",
    "title", "tojson", "trim", "truncate", "unique", "upper",
)  # fmt: skip
ALLOWED_TESTS = (
    "!=", "<", "<=", "==", ">", ">=", "boolean", "defined", "divisibleby", "eq", "even",
    "false", "float", "ge", "gt", "in", "integer", "le", "lower", "lt", "mapping", "ne",
    "none", "number", "odd", "sequence", "string", "true", "undefined", "upper",
)  # fmt: skip
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}).)*)\}\}\s*$", re.DOTALL)


def _environment() -> ImmutableSandboxedEnvironment:
    """The sandbox with only the allowed filters and tests and no globals at all."""
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in ALLOWED_FILTERS}
    env.tests = {name: env.tests[name] for name in ALLOWED_TESTS}
    return env


ENV = _environment()


class TemplateRenderError(RunbookError, TerminalError):
    """A template failed at run time (e.g. it read a value the event does not carry)."""


def is_template(value: Any) -> bool:
    """True for strings that contain Jinja markup."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def render_value(value: Any, namespace: Mapping[str, Any]) -> Any:
    """Render every template inside `value` (dicts and lists recursively)."""
    if isinstance(value, dict):
        return {k: render_value(v, namespace) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, namespace) for v in value]
    if not is_template(value):
        return value
    try:
        single = _SINGLE_EXPRESSION.match(value)
        if single and "{{" not in single.group("expr"):
            return _defined(_expression(single.group("expr").strip())(**namespace))
        return _template(value).render(**namespace)
    except Exception as exc:  # jinja raises many types; the caller needs one
        raise TemplateRenderError(f"template {value!r} failed: {exc}") from exc


def evaluate_condition(condition: str, namespace: Mapping[str, Any]) -> bool:
    """Evaluate a `when:` condition, written bare (`a > 1`) or as `{{ a > 1 }}`."""
    single = _SINGLE_EXPRESSION.match(condition)
    expr = single.group("expr") if single else condition
    try:
        return bool(_defined(_expression(expr.strip())(**namespace)))
    except Exception as exc:
        raise TemplateRenderError(f"condition {condition!r} failed: {exc}") from exc


def _defined(value: Any) -> Any:
    """Fail on a read of something that is not there, as rendering a whole template does."""
    if isinstance(value, Undefined):
        raise TemplateRenderError(value._undefined_message)
    return value


@lru_cache(maxsize=4096)
def _expression(expr: str) -> Any:
    return ENV.compile_expression(expr, undefined_to_none=False)


@lru_cache(maxsize=4096)
def _template(text: str) -> Any:
    return ENV.from_string(text)
