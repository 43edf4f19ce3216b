"""One pipeline run as plain functions: preflight, transform, checks, outputs.

The Prefect flows in `flows/pipelines` are thin wrappers over these, so tests and recovery
steps can run the same logic without a Prefect server. The checks record the partition's
verdict before a failure is raised, so a failed run leaves the partition `quarantined` (or
`running` after a crash) and the outputs of the last good run untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from warehouse.checks import CheckResult, raise_for_checks, run_checks
from warehouse.db import Platform
from warehouse.outputs import Outputs, write_outputs
from warehouse.pipelines import Pipeline, resolve
from warehouse.preflight import preflight
from warehouse.transform import TransformResult, run_transform


@dataclass
class RunResult:
    """What a successful run wrote, checked and produced."""

    pipeline: str
    partition: str
    transform: TransformResult
    checks: list[CheckResult]
    outputs: Outputs


def run_pipeline(
    engine: Engine | Platform, pipeline: str | Pipeline, partition: str, out_dir: Path | None = None
) -> RunResult:
    """Run one pipeline for one partition; a failure raises a classified `PipelineFailure`."""
    platform = Platform.of(engine)
    pipe, part = resolve(pipeline, partition, platform.config.fiscal_calendar)
    preflight(platform, pipe, part)
    transform = run_transform(platform, pipe, part)
    checks = run_checks(platform, pipe, part)
    raise_for_checks(pipe.name, part.key, checks)
    outputs = write_outputs(platform, pipe, part, out_dir)
    return RunResult(pipe.name, part.key, transform, checks, outputs)


def validate_partition(
    engine: Engine | Platform,
    pipeline: str | Pipeline,
    partition: str,
    *,
    raise_on_failure: bool = True,
) -> list[CheckResult]:
    """Check a stored partition without rewriting it (what a freshness monitor runs)."""
    platform = Platform.of(engine)
    pipe, part = resolve(pipeline, partition, platform.config.fiscal_calendar)
    preflight(platform, pipe, part)
    results = run_checks(platform, pipe, part)
    if raise_on_failure:
        raise_for_checks(pipe.name, part.key, results)
    return results
