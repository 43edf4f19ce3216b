"""Templates in runbooks: Jinja2 in a sandbox, checked statically, rendered at run time.

Namespaces: `event`, `params`, `steps.<id>` (`outputs`, `state`, `message`), `incident`,
`runbook`. A value that is exactly one `{{ expr }}` keeps its native type (a number stays a
number, a list a list); anything else renders to a string. Rendered values are handed to
step params models and reach SQL only as bound parameters, never as SQL text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from flows.language.errors import RunbookError
from foundation.errors import TerminalError

NAMESPACES = ("event", "params", "steps", "incident", "runbook")
STEP_FIELDS = ("outputs", "state", "message")
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}).)*)\}\}\s*$", re.DOTALL)

ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class TemplateRenderError(RunbookError, TerminalError):
    """A template failed at run time (e.g. it read a value the event does not carry)."""


def is_template(value: Any) -> bool:
    """True for strings that contain Jinja markup."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


@dataclass(frozen=True)
class Reference:
    """A dotted read such as `steps.counts.outputs.missing` (root plus attribute chain)."""

    root: str
    chain: tuple[str, ...]


@dataclass(frozen=True)
class TemplateInfo:
    """What a template reads, or its syntax error (message, 1-based line in the template)."""

    names: frozenset[str] = frozenset()
    references: tuple[Reference, ...] = ()
    syntax_error: tuple[str, int] | None = None


@lru_cache(maxsize=4096)
def inspect_template(text: str, *, condition: bool = False) -> TemplateInfo:
    """Parse a template (or a bare condition expression) and list what it reads."""
    source = text if not condition or is_template(text) else "{{ " + text + " }}"
    try:
        tree = ENV.parse(source)
    except TemplateSyntaxError as exc:
        return TemplateInfo(syntax_error=(exc.message or "syntax error", exc.lineno or 1))
    names = frozenset(meta.find_undeclared_variables(tree))
    refs = {_reference(n) for n in tree.find_all((nodes.Getattr, nodes.Getitem))}
    refs |= {Reference(n.name, ()) for n in tree.find_all(nodes.Name) if n.ctx == "load"}
    found = tuple(sorted((r for r in refs if r is not None and r.root in names), key=str))
    return TemplateInfo(names=names, references=found)


def _reference(node: nodes.Node) -> Reference | None:
    chain: list[str] = []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getattr):
            chain.append(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            chain.append(node.arg.value)
        else:
            chain.clear()  # a computed key: only what lies above it is known
        node = node.node
    if isinstance(node, nodes.Name):
        return Reference(node.name, tuple(reversed(chain)))
    return None


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
