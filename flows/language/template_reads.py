"""What a template reads and uses, found without running it.

Most runbook templates are dotted reads such as `{{ steps.report.outputs.sha256 }}` or
conditions such as `steps.counts.outputs.missing > 0`. Those are read with one regular
expression (microseconds); anything else is parsed by Jinja and its tree walked (a fraction
of a millisecond), which keeps a 10,000-step runbook's template pass well under a second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import TemplateSyntaxError, meta, nodes

from flows.language.templates import ENV, is_template

ALLOWED_STATEMENTS = (nodes.Output, nodes.If, nodes.For, nodes.Assign, nodes.AssignBlock)
STATEMENT_NAMES = "{% if %}, {% for %} and {% set %}"


@dataclass(frozen=True)
class Reference:
    """A dotted read such as `steps.counts.outputs.missing` (root plus attribute chain)."""

    root: str
    chain: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join((self.root, *self.chain))


@dataclass(frozen=True)
class TemplateInfo:
    """What a template reads and uses, or its syntax error (message, 1-based line in it)."""

    names: frozenset[str] = frozenset()
    references: tuple[Reference, ...] = ()
    filters: frozenset[str] = frozenset()
    tests: frozenset[str] = frozenset()
    calls: tuple[str, ...] = ()  # what is called, e.g. "params.partition.upper"
    private: tuple[str, ...] = ()  # reads of attributes starting with _, e.g. "x.__class__"
    statements: frozenset[str] = frozenset()  # tags outside if/for/set, e.g. "macro"
    syntax_error: tuple[str, int] | None = None


_NAME = r"[A-Za-z][A-Za-z0-9_]*"  # no leading _: those go to Jinja and are refused there
_PATH = rf"{_NAME}(?:\.{_NAME})*"
_FILTERS = rf"(?:\s*\|\s*{_NAME})*"
_LITERAL = r"-?\d+(?:\.\d+)?|'[^'\\{}]*'|\"[^\"\\{}]*\""
_OPERAND = rf"(?:{_PATH}{_FILTERS}|{_LITERAL})"
_COMPARE = r"==|!=|<=|>=|<|>|\bnot\s+in\b|\bin\b"
_SIMPLE = re.compile(rf"^\s*(?:not\s+)?{_OPERAND}(?:\s*(?:{_COMPARE})\s*{_OPERAND})?\s*$")
_TOKEN = re.compile(rf"'[^']*'|\"[^\"]*\"|\|\s*(?P<filter>{_NAME})|(?P<path>{_PATH})")
_BLOCK = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_ONE_PATH = re.compile(rf"^\{{\{{\s*({_PATH})\s*\}}\}}$")  # "{{ steps.a.outputs.b }}": most of them
_KEYWORDS = frozenset({"not", "in", "true", "false", "none", "True", "False", "None"})


@lru_cache(maxsize=8192)
def inspect_template(text: str, *, condition: bool = False) -> TemplateInfo:
    """What a template (or a bare `when:` condition) reads, uses and calls."""
    bare = condition and not is_template(text)
    quick = _quick(text, bare)
    if quick is not None:
        return quick
    source = "{{ " + text + " }}" if bare else text
    try:
        tree = ENV.parse(source)
    except TemplateSyntaxError as exc:
        return TemplateInfo(syntax_error=(exc.message or "syntax error", exc.lineno or 1))
    return _walk(tree, statements="{%" in source)


def _quick(text: str, bare: bool) -> TemplateInfo | None:
    """The regular-expression reading of simple templates; None when it is not one."""
    one = None if bare else _ONE_PATH.match(text)
    if one is not None and one[1].split(".", 1)[0] not in _KEYWORDS:
        reference = _dotted(one[1])
        return TemplateInfo(names=frozenset((reference.root,)), references=(reference,))
    if bare:
        expressions = [text]
    else:
        if "{%" in text or "{#" in text:
            return None
        expressions = _BLOCK.findall(text)
        if "{{" in _BLOCK.sub("", text):
            return None
    if not expressions or not all(_SIMPLE.match(e) for e in expressions):
        return None
    paths: set[str] = set()
    filters: set[str] = set()
    for expression in expressions:
        for token in _TOKEN.finditer(expression):
            if token["filter"]:
                filters.add(token["filter"])
            elif token["path"] and token["path"] not in _KEYWORDS:
                paths.add(token["path"])
    references = tuple(sorted({_dotted(p) for p in paths}, key=str))
    return TemplateInfo(
        names=frozenset(r.root for r in references),
        references=references,
        filters=frozenset(filters),
    )


def _dotted(path: str) -> Reference:
    root, *chain = path.split(".")
    return Reference(root, tuple(chain))


def _walk(tree: nodes.Template, *, statements: bool) -> TemplateInfo:
    """Read a parsed template: the free names (Jinja's scoping when there are statements)."""
    if statements:
        names = frozenset(meta.find_undeclared_variables(tree))
    else:
        names = frozenset(n.name for n in tree.find_all(nodes.Name) if n.ctx == "load")
    refs = {_reference(n) for n in tree.find_all((nodes.Getattr, nodes.Getitem))}
    refs |= {Reference(n.name, ()) for n in tree.find_all(nodes.Name) if n.ctx == "load"}
    private = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr | nodes.Getitem)  # what find_all was asked for
        attr = node.attr if isinstance(node, nodes.Getattr) else _constant_key(node)
        if attr is not None and attr.startswith("_"):
            private.append(f"{_text(node.node)}.{attr}")
    return TemplateInfo(
        names=names,
        references=tuple(sorted((r for r in refs if r is not None and r.root in names), key=str)),
        filters=frozenset(f.name for f in tree.find_all(nodes.Filter)),
        tests=frozenset(t.name for t in tree.find_all(nodes.Test)),
        calls=tuple(dict.fromkeys(_text(c.node) for c in tree.find_all(nodes.Call))),
        private=tuple(dict.fromkeys(private)),
        statements=frozenset(
            type(s).__name__.lower()
            for s in tree.find_all(nodes.Stmt)
            if not isinstance(s, ALLOWED_STATEMENTS)
        ),
    )


def _constant_key(node: nodes.Getitem) -> str | None:
    arg = node.arg
    return arg.value if isinstance(arg, nodes.Const) and isinstance(arg.value, str) else None


def _text(node: nodes.Node) -> str:
    """A dotted spelling of a name or attribute chain, for messages."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_text(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        key = _constant_key(node)
        return f"{_text(node.node)}[{key!r}]" if key is not None else f"{_text(node.node)}[...]"
    return "(...)"


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
