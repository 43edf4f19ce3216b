"""Load `governance.yaml`: positioned YAML -> strict models -> cross-checks, all problems at once.

Every message reads `governance.yaml:LINE:COL: path: message` with the source line and a caret,
like runbook errors, because a wrong name here changes who may approve a publication.
"""

from __future__ import annotations

import difflib
import os
from datetime import datetime
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from governance.config_loader import PositionedDocument, YamlPath, load_positioned
from governance.errors import GovernanceConfigError, Problem
from governance.models import WEEKDAYS, GovernanceConfig


def load_governance(path: Path | str | None = None) -> GovernanceConfig:
    """Load and validate a governance file (the configured one by default)."""
    if path is None:
        from warehouse.settings import get_settings

        path = get_settings().governance_file
    path = Path(path)
    return parse_governance(path.read_text(encoding="utf-8"), _display(path))


def parse_governance(text: str, file: str = "governance.yaml") -> GovernanceConfig:
    """Validate governance YAML given as text; raise GovernanceConfigError with every problem."""
    doc = load_positioned(text, file)
    problems = list(doc.problems)
    if doc.data is None and problems:
        raise GovernanceConfigError(problems)
    if not isinstance(doc.data, dict):
        found = "an empty file" if doc.data is None else f"a {type(doc.data).__name__}"
        problems.append(
            doc.problem(
                (), f"expected a mapping (engineers:, pipelines:, rotation: ...); found {found}"
            )
        )
        raise GovernanceConfigError(problems)
    engineers = doc.data.get("engineers")
    known = {str(k) for k in engineers} if isinstance(engineers, dict) else set()
    config: GovernanceConfig | None = None
    try:
        config = GovernanceConfig.model_validate(doc.data, context={"engineers": known})
    except ValidationError as exc:
        problems += pydantic_problems(exc, doc, GovernanceConfig)
    if config is not None:
        problems += _cross_checks(config, doc)
    if problems:
        raise GovernanceConfigError(problems)
    assert config is not None
    return config


def pydantic_problems(
    exc: ValidationError, doc: PositionedDocument, model: type[BaseModel]
) -> list[Problem]:
    """Pydantic's errors anchored at the YAML they came from, in plain words."""
    problems = []
    for err in exc.errors():
        loc: YamlPath = tuple(err["loc"])
        if err["type"] == "extra_forbidden":
            allowed = _fields_at(model, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(
                doc.problem(
                    loc,
                    f"unknown key '{loc[-1]}'; {hint}allowed here: {', '.join(allowed)}",
                    key=True,
                )
            )
        elif err["type"] == "missing":
            problems.append(doc.problem(loc[:-1], f"missing required key '{loc[-1]}'"))
        else:
            problems.append(doc.problem(_trim(loc), _message(err)))
    return problems


def _trim(loc: YamlPath) -> YamlPath:
    """Drop pydantic's `[key]` suffixes of dict keys and union tags, which YAML never shows."""
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p == "function-after")))


def _message(err: Any) -> str:
    msg = str(err["msg"]).removeprefix("Value error, ")
    given = err.get("input")
    if err["type"].startswith(("literal_error", "enum")) and isinstance(given, str):
        return f"{msg} (got '{given}')"
    if err["type"] in ("value_error", "assertion_error"):
        return msg
    return f"{msg} (got {given!r})" if isinstance(given, str | int | float | bool) else msg


def _fields_at(model: type[BaseModel], loc: YamlPath) -> list[str]:
    """Names (aliases where set) of the keys allowed at `loc` inside `model`."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            current = _item_model(current)
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) or next(
                (f for f in current.model_fields.values() if f.alias == part), None
            )
            current = _model_in(field.annotation) if field else None
        else:  # a dict value: the key named an entry, the model stays
            current = _item_model(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _model_in(annotation: Any) -> Any:
    """The model type inside `X`, `X | None`, `list[X]` or `dict[str, X]` (else the annotation)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = get_origin(annotation)
    if origin in (list, dict):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None and found is not type(None):
            return found
    return annotation


def _item_model(container: Any) -> Any:
    args = get_args(container)
    return _model_in(args[-1]) if args else None


def _cross_checks(config: GovernanceConfig, doc: PositionedDocument) -> list[Problem]:
    """Rules that need the rotation: overrides start on handoff days and do not overlap."""
    from governance.rotation import override_interval

    problems = []
    handoff = config.rotation.handoff
    intervals: list[tuple[int, datetime, datetime]] = []
    for i, override in enumerate(config.overrides):
        if override.week is not None and override.week.weekday() != handoff.weekday_index:
            problems.append(
                doc.problem(
                    ("overrides", i, "week"),
                    f"{override.week} is a {WEEKDAYS[override.week.weekday()]}; on-call weeks "
                    f"start on {handoff.weekday} (the handoff day)",
                )
            )
            continue
        start, end = override_interval(config, override)
        for j, other_start, other_end in intervals:
            if start < other_end and other_start < end:
                problems.append(
                    doc.problem(
                        ("overrides", i), f"overlaps overrides[{j}]; say who is on call once"
                    )
                )
        intervals.append((i, start, end))
    return problems


def _display(path: Path) -> str:
    """The path relative to the working directory when below it, as users typed it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return rel if not rel.startswith("..") else str(path)
