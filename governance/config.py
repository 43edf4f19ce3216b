"""Load `governance.yaml`: positioned YAML -> strict models -> cross-checks, all problems at once.

Every message reads `governance.yaml:LINE:COL: path: message` with the source line and a caret,
like runbook errors, because a wrong name here changes who may approve a publication. The YAML
loader and the reading of pydantic's errors are the runbook language's.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from foundation.pydantic_errors import pydantic_problems
from foundation.yaml_source import YamlDialect, YamlSource, load_mapping
from governance.errors import GovernanceConfigError, Problem
from governance.models import WEEKDAYS, GovernanceConfig

# PyYAML's pure-Python parser, whose syntax messages name what it expected, and shorter phrases.
GOVERNANCE_YAML = YamlDialect(
    loader=yaml.SafeLoader,
    syntax_hint="",
    duplicate_key=(
        "duplicate key '{key}' (first at line {first}); "
        "YAML would keep only the last one: remove or rename one"
    ),
)


def load_governance(path: Path | str | None = None) -> GovernanceConfig:
    """Load and validate a governance file (the configured one by default)."""
    return load_governance_with_warnings(path)[0]


def load_governance_with_warnings(
    path: Path | str | None = None,
) -> tuple[GovernanceConfig, list[Problem]]:
    """Load a governance file and what in it is allowed but probably a mistake (warnings)."""
    if path is None:
        from foundation.settings import get_settings

        path = get_settings().governance.governance_file
    path = Path(path)
    return parse_governance_with_warnings(path.read_text(encoding="utf-8"), _display(path))


def parse_governance(text: str, file: str = "governance.yaml") -> GovernanceConfig:
    """Validate governance YAML given as text; raise GovernanceConfigError with every problem."""
    return parse_governance_with_warnings(text, file)[0]


def parse_governance_with_warnings(
    text: str, file: str = "governance.yaml"
) -> tuple[GovernanceConfig, list[Problem]]:
    """`parse_governance`, plus positioned warnings (duplicate or overlapping holidays)."""
    doc, problems = load_mapping(
        text, file, "expected a mapping (engineers:, pipelines:, rotation: ...)", GOVERNANCE_YAML
    )
    if doc is None:
        raise GovernanceConfigError(problems)
    engineers = doc.data.get("engineers")
    known = {str(k) for k in engineers} if isinstance(engineers, dict) else set()
    config: GovernanceConfig | None = None
    try:
        config = GovernanceConfig.model_validate(doc.data, context={"engineers": known})
    except ValidationError as exc:
        problems += pydantic_problems(doc, exc, GovernanceConfig, noun="key", mappings_at_key=True)
    if config is not None:
        problems += _cross_checks(config, doc)
    if problems:
        raise GovernanceConfigError(problems)
    assert config is not None and doc is not None
    return config, _holiday_warnings(config, doc)


def _cross_checks(config: GovernanceConfig, doc: YamlSource) -> list[Problem]:
    """Rules that need the rotation: overrides start on handoff days and do not overlap."""
    from governance.oncall.rotation import override_interval

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


def _holiday_warnings(config: GovernanceConfig, doc: YamlSource) -> list[Problem]:
    """An engineer's holidays that repeat or overlap: harmless to the rotation, but usually
    a copy-paste slip or an edit that forgot to remove the old dates."""
    warnings = []
    for i, h in enumerate(config.holidays):
        for j, earlier in enumerate(config.holidays[:i]):
            if earlier.engineer != h.engineer or not h.covers(earlier.from_, earlier.to):
                continue
            same = (earlier.from_, earlier.to) == (h.from_, h.to)
            what = "repeats" if same else f"overlaps {earlier.from_}..{earlier.to} in"
            warnings.append(
                doc.problem(
                    ("holidays", i),
                    f"{h.engineer}'s holiday {h.from_}..{h.to} {what} holidays[{j}]; "
                    "keep one entry per absence",
                    key=None,
                )
            )
            break
    return warnings


def _display(path: Path) -> str:
    """The path relative to the working directory when below it, as users typed it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return rel if not rel.startswith("..") else str(path)
