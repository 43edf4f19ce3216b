"""YAML read safely, keeping the line and column of every key and value.

PyYAML's C parser composes the node tree (fast); we construct plain Python values from it
ourselves so that duplicate keys are errors (PyYAML keeps the last one silently), dates and
times stay strings (no timestamp resolver) and every node's position is recorded under its
path, e.g. ("steps", 2, "with", "partition").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from flows.language.errors import Position, Problem

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
    raise yaml.constructor.ConstructorError(
        None, None, f"tag {node.tag} is not allowed in a runbook", node.start_mark
    )


@dataclass
class YamlSource:
    """A parsed YAML document with positions of its values (and of mapping keys)."""

    file: str
    text: str
    data: Any = None
    values: dict[Path_, Position] = field(default_factory=dict)
    keys: dict[Path_, Position] = field(default_factory=dict)
    scalar_styles: dict[Path_, str | None] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, number: int) -> str:
        """The source line with this 1-based number (empty when out of range)."""
        lines = self.text.splitlines()
        return lines[number - 1].rstrip("\n") if 0 < number <= len(lines) else ""

    def position(self, path: Path_, *, key: bool = False) -> Position:
        """Where `path` is written; its key when asked, else its value, else its nearest parent."""
        while True:
            if key and path in self.keys:
                return self.keys[path]
            if path in self.values:
                return self.values[path]
            if not path:
                return Position(1, 1)
            path = path[:-1]
            key = False

    def problem(self, path: Path_, message: str, *, key: bool = False) -> Problem:
        """A problem anchored at `path` in this file."""
        pos = self.position(path, key=key)
        return Problem(self.file, pos, format_path(path), message, self.line(pos.line).rstrip())


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


def load_yaml(text: str, file: str) -> YamlSource:
    """Parse one YAML document, raising YamlSyntaxError with file:line:col on bad input."""
    source = YamlSource(file=file, text=text)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        raise YamlSyntaxError(
            Problem(file, pos, "", _explain(exc, text, pos), source.line(pos.line))
        ) from None
    if node is not None:
        source.data = _construct(node, (), source)
    return source


def _explain(exc: yaml.MarkedYAMLError, text: str, pos: Position) -> str:
    line = text.splitlines()[pos.line - 1] if pos.line <= len(text.splitlines()) else ""
    if "\t" in line[: max(pos.column, 1)] or "'\\t'" in str(exc.problem):
        return "tab character in indentation: YAML indents with spaces only; replace tabs"
    problem = exc.problem or "invalid YAML"
    context = f" ({exc.context})" if exc.context else ""
    return f"YAML syntax error: {problem}{context}; check indentation and quoting here"


def _construct(node: yaml.Node, path: Path_, source: YamlSource) -> Any:
    mark = node.start_mark
    source.values[path] = Position(mark.line + 1, mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        return _construct_mapping(node, path, source)
    if isinstance(node, yaml.SequenceNode):
        return [_construct(child, (*path, i), source) for i, child in enumerate(node.value)]
    if node.style:
        source.scalar_styles[path] = node.style
    tag = node.tag
    if tag in (_STR_TAG, _TIMESTAMP_TAG):  # dates and times stay strings
        return node.value
    return _SCALAR_CONSTRUCTORS.get(tag, _unknown_tag)(_SCALARS, node)


def _construct_mapping(node: yaml.MappingNode, path: Path_, source: YamlSource) -> dict:
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key_pos = Position(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
            what = "merge keys (<<) are not supported; write the keys out"
            if key_node.tag != _MERGE_TAG:
                what = "mapping keys must be plain scalars"
            source.problems.append(
                Problem(source.file, key_pos, format_path(path), what, source.line(key_pos.line))
            )
            continue
        key = key_node.value  # raw text: `on:` stays "on", not YAML 1.1's True
        child = (*path, key)
        if key in result:
            first = source.keys[child]
            source.problems.append(
                Problem(
                    source.file,
                    key_pos,
                    format_path(child),
                    f"duplicate key '{key}' (first defined at line {first.line}); "
                    "YAML would silently keep only the last one: remove or rename one",
                    source.line(key_pos.line),
                )
            )
            continue
        source.keys[child] = key_pos
        result[key] = _construct(value_node, child, source)
    return result
