"""YAML read safely with the line and column of every key and value.

A `SafeLoader` subclass without the timestamp resolver (holiday dates and handoff times stay
strings; pydantic parses them, so errors are pydantic's and positioned). Duplicate keys are
problems, not PyYAML's silent last-one-wins: a second `primary:` would change who may approve.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import yaml

from governance.errors import Position, Problem

YamlPath = tuple[str | int, ...]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class PositionedLoader(yaml.SafeLoader):
    """SafeLoader that leaves timestamps as strings."""

    yaml_implicit_resolvers: ClassVar = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


@dataclass
class PositionedDocument:
    """Plain Python data plus where each value (and each mapping key) is written."""

    file: str
    text: str
    data: Any = None
    values: dict[YamlPath, Position] = field(default_factory=dict)
    keys: dict[YamlPath, Position] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, number: int) -> str:
        """The 1-based source line (empty when out of range)."""
        lines = self.text.splitlines()
        return lines[number - 1].rstrip() if 0 < number <= len(lines) else ""

    def position(self, path: YamlPath, *, key: bool = False) -> Position:
        """Where `path` is written: its key if asked, else its value, else its nearest parent."""
        while True:
            if key and path in self.keys:
                return self.keys[path]
            if path in self.values:
                return self.values[path]
            if not path:
                return Position(1, 1)
            path, key = path[:-1], False

    def problem(self, path: YamlPath, message: str, *, key: bool | None = None) -> Problem:
        """A problem anchored at `path`: at its key when it names a mapping (or when asked)."""
        if key is None:
            key = isinstance(self.value_at(path), dict)
        pos = self.position(path, key=key)
        return Problem(self.file, pos, format_path(path), message, self.line(pos.line))

    def value_at(self, path: YamlPath) -> Any:
        """The data at `path`, or None when there is nothing there."""
        value = self.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return None
        return value


def format_path(path: YamlPath) -> str:
    """("holidays", 2, "from") -> "holidays[2].from"."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_positioned(text: str, file: str) -> PositionedDocument:
    """Parse one YAML document; a syntax error becomes the document's only problem."""
    doc = PositionedDocument(file=file, text=text)
    loader = PositionedLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            doc.data = _construct(loader, node, (), doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        context = f" ({exc.context})" if exc.context else ""
        message = f"YAML syntax error: {exc.problem or 'invalid YAML'}{context}"
        doc.problems = [Problem(file, pos, "", message, doc.line(pos.line))]
        doc.data = None
    finally:
        loader.dispose()
    return doc


def _pos(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _construct(loader: PositionedLoader, node: yaml.Node, path: YamlPath, doc: PositionedDocument):
    doc.values[path] = _pos(node)
    if isinstance(node, yaml.MappingNode):
        return _construct_mapping(loader, node, path, doc)
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, child, (*path, i), doc) for i, child in enumerate(node.value)]
    if node.tag == _TIMESTAMP_TAG:  # explicit !!timestamp: still a string
        return node.value
    return loader.construct_object(node, deep=True)


def _construct_mapping(
    loader: PositionedLoader, node: yaml.MappingNode, path: YamlPath, doc: PositionedDocument
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
            what = "merge keys (<<) are not supported; write the keys out"
            if key_node.tag != _MERGE_TAG:
                what = "mapping keys must be plain scalars"
            doc.problems.append(
                Problem(
                    doc.file, _pos(key_node), format_path(path), what, doc.line(_pos(key_node).line)
                )
            )
            continue
        key = str(key_node.value)  # raw text: `on:`/`yes:` stay strings
        child = (*path, key)
        if key in result:
            first = doc.keys[child]
            doc.problems.append(
                Problem(
                    doc.file,
                    _pos(key_node),
                    format_path(child),
                    f"duplicate key '{key}' (first at line {first.line}); "
                    "YAML would keep only the last one: remove or rename one",
                    doc.line(_pos(key_node).line),
                )
            )
            continue
        doc.keys[child] = _pos(key_node)
        result[key] = _construct(loader, value_node, child, doc)
    return result
