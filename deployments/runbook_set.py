"""The runbooks a configuration serves: its runbooks folder, validated with its plugins' steps.

The application (every deployment) and the entrypoints (the one flow a run's process loads)
both ask here, so a flow-run process validates its runbook exactly as `serve` and `deploy`
did, without importing the standing flows and automations it will not run.
"""

from __future__ import annotations

from flows.language.errors import RunbookNotFoundError, RunbookValidationError
from flows.language.library import FileReport, validate_files
from flows.language.validator import ValidatedRunbook
from foundation.plugins import load_plugins
from foundation.settings import AppSettings, get_settings


def validate_runbook_set(settings: AppSettings | None = None) -> list[FileReport]:
    """Every runbook file's outcome, with the configured plugins' step types known."""
    settings = settings or get_settings()
    load_plugins(settings.runbooks.plugin_modules())
    return validate_files((settings.runbooks.runbooks_dir,))


def valid_runbooks(settings: AppSettings | None = None) -> tuple[ValidatedRunbook, ...]:
    """The runbooks, or `RunbookValidationError` with every problem of every file: nothing
    is served, deployed or run while one runbook is broken."""
    reports = validate_runbook_set(settings)
    problems = [p for r in reports for p in r.problems]
    if problems:
        raise RunbookValidationError(problems)
    return tuple(r.runbook for r in reports if r.runbook is not None)


def find_runbook(runbooks: tuple[ValidatedRunbook, ...], name: str) -> ValidatedRunbook:
    """The valid runbook called `name` among `runbooks`."""
    for runbook in runbooks:
        if runbook.name == name:
            return runbook
    known = ", ".join(sorted(r.name for r in runbooks))
    raise RunbookNotFoundError(f"no valid runbook named '{name}'; runbooks: {known}")
