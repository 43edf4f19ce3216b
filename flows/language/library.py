"""The runbooks of this project: find and validate them, and load one by name.

The `runbook` command and the deployment builder both go through here, so "valid" means the
same everywhere: a runbook is used only if its file and every other file in the folder pass.
Some rules span files: no two runbooks share a name, and no event starts two runbooks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flows.language.catalog import PipelineCatalog, load_catalog
from flows.language.errors import (
    Problem,
    RunbookNotFoundError,
    RunbookValidationError,
    display_path,
)
from flows.language.triggers import describe, triggers_overlap
from flows.language.validator import ValidatedRunbook, validate_file
from foundation.plugins import load_plugins
from foundation.settings import get_settings
from foundation.yaml_source import load_yaml


@dataclass(frozen=True)
class FileReport:
    """The outcome of validating one file: the runbook, or its problems."""

    path: Path
    runbook: ValidatedRunbook | None
    problems: tuple[Problem, ...] = ()


def runbook_files(paths: Iterable[Path | str] = ()) -> list[Path]:
    """YAML files named, or inside the folders named (the runbooks folder by default)."""
    roots = [Path(p) for p in paths] or [get_settings().runbooks.runbooks_dir]
    files: dict[Path, Path] = {}  # resolved -> as named: a file named twice is read once
    for root in roots:
        if root.is_dir():
            found = sorted([*root.glob("*.yaml"), *root.glob("*.yml")])
        elif root.exists():
            found = [root]
        else:
            raise RunbookNotFoundError(f"{display_path(root)}: no such file or folder")
        for path in found:
            files.setdefault(path.resolve(), path)
    return list(files.values())


def validate_files(
    paths: Iterable[Path | str] = (), catalog: PipelineCatalog | None = None
) -> list[FileReport]:
    """Validate each file; also reject two files that declare the same runbook name.

    The configured plugin modules are loaded first, so their step types are known.
    """
    load_plugins(get_settings().runbooks.plugin_modules())
    catalog = catalog if catalog is not None else load_catalog()
    reports: list[FileReport] = []
    seen: dict[str, Path] = {}
    accepted: list[tuple[Path, ValidatedRunbook]] = []
    for path in runbook_files(paths):
        try:
            runbook = validate_file(path, catalog)
        except RunbookValidationError as exc:
            reports.append(FileReport(path, None, tuple(exc.problems)))
            continue
        problems = _clashes(path, runbook, seen, accepted)
        if problems:
            reports.append(FileReport(path, None, tuple(problems)))
            continue
        seen[runbook.name] = path
        accepted.append((path, runbook))
        reports.append(FileReport(path, runbook))
    return reports


def _clashes(
    path: Path,
    runbook: ValidatedRunbook,
    names: dict[str, Path],
    accepted: list[tuple[Path, ValidatedRunbook]],
) -> list[Problem]:
    """What this runbook shares with one accepted before it: its name, or an event."""
    source = None

    def problem(at: tuple[str | int, ...], message: str) -> Problem:
        nonlocal source
        source = source or load_yaml(path.read_text(encoding="utf-8"), display_path(path))
        return source.problem(at, message)

    problems = []
    if runbook.name in names:
        problems.append(
            problem(
                ("runbook",),
                f"runbook name '{runbook.name}' is already "
                f"used by {display_path(names[runbook.name])}; rename one",
            )
        )
    for i, trigger in enumerate(runbook.spec.on):
        for other_path, other in accepted:
            j = next((j for j, t in enumerate(other.spec.on) if triggers_overlap(trigger, t)), None)
            if j is None:
                continue
            problems.append(
                problem(
                    ("on", i),
                    f"runbook '{other.name}' ({display_path(other_path)}, on[{j}]) already "
                    f"answers this event ({describe(trigger)}): one failure would start two "
                    "recoveries; remove one of the triggers or narrow its match",
                )
            )
            break
    return problems


def load_runbook(name: str, catalog: PipelineCatalog | None = None) -> ValidatedRunbook:
    """The valid runbook called `name` (or a path to its file); errors if it has problems."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        load_plugins(get_settings().runbooks.plugin_modules())  # their step types, as below
        return validate_file(candidate, catalog if catalog is not None else load_catalog())
    reports = validate_files((), catalog)
    for report in reports:
        if report.runbook is not None and report.runbook.name == name:
            return report.runbook
    for report in reports:
        if report.path.stem == name and report.problems:
            raise RunbookValidationError(report.problems)
    known = sorted(r.runbook.name for r in reports if r.runbook)
    raise RunbookNotFoundError(f"no valid runbook named '{name}'; runbooks: {', '.join(known)}")
