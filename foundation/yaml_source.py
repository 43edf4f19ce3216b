"""YAML read safely, keeping the line and column of every key and value.

PyYAML's C parser composes the node tree (fast); we construct plain Python values from it
ourselves so that duplicate keys are errors (PyYAML keeps the last one silently), dates and
times stay strings (no timestamp resolver) and every node's position is recorded under its
path, e.g. ("steps", 2, "with", "partition"). The governance file is read the same way, with
its own `YamlDialect` (PyYAML's pure-Python parser and shorter messages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from foundation.problems import Position, Problem
from foundation.yaml_quotes import explain_closed_later, quote_closed_later

try:  # the C composer is ~10x faster; the pure-Python one gives the same nodes
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path_ = tuple[str | int, ...]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_SCALARS = yaml.constructor.SafeConstructor()
_SCALAR_CONSTRUCTORS = yaml.constructor.SafeConstructor.yaml_constructors


def _unknown_tag(_: object, node: yaml.Node) -> object:
    # PyYAML's own words; load_yaml reports it, like a syntax error, at the tag
    raise yaml.constructor.ConstructorError(
        None, None, f"could not determine a constructor for the tag {node.tag!r}", node.start_mark
    )


@dataclass(frozen=True)
class YamlDialect:
    """Which parser reads a kind of file and how its load problems are worded.

    The default is the runbook language's: libyaml's parser (fast) and its messages.
    """

    loader: type = _Loader
    syntax_hint: str = "; check indentation and quoting here"
    duplicate_key: str = (
        "duplicate key '{key}' (first defined at line {first}); "
        "YAML would silently keep only the last one: remove or rename one"
    )


RUNBOOK_YAML = YamlDialect()


@dataclass
class YamlSource:
    """A parsed YAML document with positions of its values (and of mapping keys)."""

    file: str
    text: str
    data: Any = None
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # (line, column)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    scalar_styles: dict[Path_, str | None] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    _lines: list[str] | None = field(default=None, repr=False)

    def line(self, number: int) -> str:
        """The source line with this 1-based number (empty when out of range)."""
        if self._lines is None:
            self._lines = self.text.splitlines()
        lines = self._lines
        return lines[number - 1].rstrip("\n") if 0 < number <= len(lines) else ""

    def position(self, path: Path_, *, key: bool = False) -> Position:
        """Where `path` is written; its key when asked, else its value, else its nearest parent.

        Positions are kept as plain (line, column) tuples while parsing (there is one per
        node, hundreds of thousands in a large file) and become a `Position` when asked for.
        """
        while True:
            if key and path in self.keys:
                return Position(*self.keys[path])
            if path in self.values:
                return Position(*self.values[path])
            if not path:
                return Position(1, 1)
            path = path[:-1]
            key = False

    def problem(self, path: Path_, message: str, *, key: bool | None = False) -> Problem:
        """A problem anchored at `path` in this file: at its key when `key` is true, at its
        value when false, and at its key only when it names a mapping when `key` is None."""
        if key is None:
            key = isinstance(self.value_at(path), dict)
        pos = self.position(path, key=key)
        return Problem(self.file, pos, format_path(path), message, self.line(pos.line).rstrip())

    def value_at(self, path: Path_) -> Any:
        """The data at `path`, or None when there is nothing there."""
        value = self.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return None
        return value


def format_path(path: Path_) -> str:
    """("steps", 2, "with", "x") -> "steps[2].with.x"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class YamlSyntaxError(Exception):
    """The text is not YAML we accept; carries a positioned problem."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.render())


def load_yaml(text: str, file: str, dialect: YamlDialect = RUNBOOK_YAML) -> YamlSource:
    """Parse one YAML document, raising YamlSyntaxError with file:line:col on bad input."""
    source = YamlSource(file=file, text=text)
    try:
        node = yaml.compose(text, Loader=dialect.loader)
        if node is not None:
            source.data = _construct(node, (), source, dialect)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if _unclosed_quote(exc):  # the scanner ran on to the end: point at the opening quote
            mark = exc.context_mark
        opened = None if _unclosed_quote(exc) else quote_closed_later(exc, text, dialect.loader)
        mark = opened or mark
        pos = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        message = _explain(exc, text, pos, dialect)
        if opened is not None and exc.problem_mark is not None:
            quote = source.line(pos.line)[pos.column - 1 : pos.column]
            end = exc.problem_mark.line + 1
            message = explain_closed_later(quote, pos.line, end, exc.problem or "invalid YAML")
        raise YamlSyntaxError(Problem(file, pos, "", message, source.line(pos.line))) from None
    return source


def load_mapping(
    text: str, file: str, expected: str, dialect: YamlDialect = RUNBOOK_YAML
) -> tuple[YamlSource | None, list[Problem]]:
    """Parse a document that must be a mapping: the source (None when it is not one) and the
    problems found so far. `expected` starts the message for anything else, e.g. "expected a
    mapping (engineers:, ...)", which ends "; found an empty file" (or "a list", ...)."""
    try:
        source = load_yaml(text, file, dialect)
    except YamlSyntaxError as exc:
        return None, [exc.problem]
    problems = list(source.problems)
    if not isinstance(source.data, dict):
        found = "an empty file" if source.data is None else f"a {type(source.data).__name__}"
        problems.append(source.problem((), f"{expected}; found {found}"))
        return None, problems
    return source, problems


def _unclosed_quote(exc: yaml.MarkedYAMLError) -> bool:
    return bool(exc.context_mark) and "while scanning a quoted scalar" in (exc.context or "")


def _explain(exc: yaml.MarkedYAMLError, text: str, pos: Position, dialect: YamlDialect) -> str:
    if _unclosed_quote(exc):
        end = exc.problem_mark.line + 1 if exc.problem_mark else pos.line
        quote = text.splitlines()[pos.line - 1][pos.column - 1 : pos.column] or "quote"
        return (
            f"unclosed quote: the string opened here with {quote} is never closed (YAML read "
            f"on to line {end}: {exc.problem}); add the closing {quote}"
        )
    line = text.splitlines()[pos.line - 1] if pos.line <= len(text.splitlines()) else ""
    if "\t" in line[: max(pos.column, 1)] or "'\\t'" in str(exc.problem):
        return "tab character in indentation: YAML indents with spaces only; replace tabs"
    problem = exc.problem or "invalid YAML"
    context = f" ({exc.context})" if exc.context else ""
    return f"YAML syntax error: {problem}{context}{dialect.syntax_hint}"


def _construct(node: yaml.Node, path: Path_, source: YamlSource, dialect: YamlDialect) -> Any:
    mark = node.start_mark
    source.values[path] = (mark.line + 1, mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        return _construct_mapping(node, path, source, dialect)
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(child, (*path, i), source, dialect) for i, child in enumerate(node.value)
        ]
    assert isinstance(node, yaml.ScalarNode)  # the composer makes only these three kinds
    if node.style:
        source.scalar_styles[path] = node.style
    tag = node.tag
    if tag in (_STR_TAG, _TIMESTAMP_TAG):  # dates and times stay strings
        return node.value
    return _SCALAR_CONSTRUCTORS.get(tag, _unknown_tag)(_SCALARS, node)


def _construct_mapping(
    node: yaml.MappingNode, path: Path_, source: YamlSource, dialect: YamlDialect
) -> dict[Any, Any]:
    result: dict[Any, Any] = {}
    keys = source.keys
    for key_node, value_node in node.value:
        mark = key_node.start_mark
        key_pos = (mark.line + 1, mark.column + 1)
        if key_node.tag == _MERGE_TAG or key_node.id != "scalar":
            what = "merge keys (<<) are not supported; write the keys out"
            if key_node.tag != _MERGE_TAG:
                what = "mapping keys must be plain scalars"
            source.problems.append(
                Problem(
                    source.file,
                    Position(*key_pos),
                    format_path(path),
                    what,
                    source.line(key_pos[0]),
                )
            )
            continue
        key = key_node.value  # raw text: `on:` stays "on", not YAML 1.1's True
        child = (*path, key)
        if key in result:
            source.problems.append(
                Problem(
                    source.file,
                    Position(*key_pos),
                    format_path(child),
                    dialect.duplicate_key.format(key=key, first=keys[child][0]),
                    source.line(key_pos[0]),
                )
            )
            continue
        keys[child] = key_pos
        result[key] = _construct(value_node, child, source, dialect)
    return result
