"""Running checks on a stored partition: each returns its failing rows, none means pass.

`run_checks` evaluates every check (so the evidence is complete) and records the verdict in
`partition_runs` in the same transaction: `complete`, or `quarantined` with the failing
blocking checks (`warehouse.partition_state`). `raise_for_checks` turns the first failing
blocking check into a `PipelineFailure` of that check's kind. A check whose input is a
damaged second copy (a log cut mid-row) fails with the file, line and problem as its failing
row: the pipeline stops classified, never on a bare parse error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from warehouse.activity_logs import load_activity_logs
from warehouse.calendar import Partition
from warehouse.common_checks import checks_of
from warehouse.contract import mapped_sources
from warehouse.db import Platform
from warehouse.failures import FailureKind, PipelineFailure
from warehouse.partition_state import read_state, record_verdict
from warehouse.pipelines import CheckContext, Pipeline, resolve
from warehouse.second_copies import DamagedCopyError
from warehouse.sql import bound, partition_params

MAX_EVIDENCE_ROWS = 50


@dataclass
class CheckResult:
    """The outcome of one check: its failing rows (at most 50 kept) and their count."""

    name: str
    passed: bool
    failing_rows: list[dict[str, Any]] = field(default_factory=list)
    kind: FailureKind = FailureKind.DATA_QUALITY
    blocking: bool = True
    failing_count: int = 0
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for artifacts and event evidence)."""
        return {**asdict(self), "kind": str(self.kind)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def run_checks(
    engine: Any, pipeline: str | Pipeline, partition: str | Partition
) -> list[CheckResult]:
    """Evaluate every check of the pipeline on the stored partition; record the verdict."""
    platform = Platform.of(engine)
    pipe, part = resolve(pipeline, partition, platform.config.fiscal_calendar)
    with platform.warehouse.begin() as conn, mapped_sources(conn, pipe):
        before = read_state(conn, pipe.name, part.key)
        results = _evaluate(conn, platform, pipe, part, checks_of(pipe))
        failing = [
            {"name": r.name, "kind": str(r.kind), "failing_count": r.failing_count}
            for r in results
            if not r.passed and r.blocking
        ]
        record_verdict(conn, pipe.name, part.key, failing, before)
    return results


def probe_checks(
    engine: Any, pipeline: str | Pipeline, partition: str | Partition, names: list[str]
) -> list[CheckResult]:
    """Evaluate only the named checks and record nothing: a look, not a verdict.

    What a step waiting for a source to be fixed asks (e.g. `critical_not_null`), without
    changing the partition's state.
    """
    platform = Platform.of(engine)
    pipe, part = resolve(pipeline, partition, platform.config.fiscal_calendar)
    wanted = [c for c in checks_of(pipe) if c.name in names]
    with platform.warehouse.connect() as conn, mapped_sources(conn, pipe):
        return _evaluate(conn, platform, pipe, part, wanted)


def _evaluate(
    conn: Connection, platform: Platform, pipe: Pipeline, part: Partition, checks: Any
) -> list[CheckResult]:
    params = partition_params(part, pipe.name)
    results = []
    for check in checks:
        ctx = CheckContext(pipe, part, conn, platform.config)
        try:
            if check.reads_activity_logs:
                load_activity_logs(conn, part.days, platform.config.activity_logs())
        except DamagedCopyError as damaged:  # the check's input is unreadable: its failing row
            rows: Any = [{"file": damaged.path, "line": damaged.line, "problem": damaged.what}]
        else:
            rows = conn.execute(bound(check.query(ctx)), params).mappings().all()
        results.append(
            CheckResult(
                name=check.name,
                passed=not rows,
                failing_rows=[
                    {k: _jsonable(v) for k, v in r.items()} for r in rows[:MAX_EVIDENCE_ROWS]
                ],
                kind=check.kind,
                blocking=check.blocking,
                failing_count=len(rows),
                description=check.description,
            )
        )
    return results


def raise_for_checks(pipeline: str, partition: str, results: list[CheckResult]) -> None:
    """Raise a `PipelineFailure` named after the first failing blocking check's kind."""
    failing = [r for r in results if not r.passed and r.blocking]
    if not failing:
        return
    first = failing[0]
    names = ", ".join(r.name for r in failing)
    raise PipelineFailure(
        first.kind,
        partition,
        f"check {first.name} failed ({first.failing_count} failing rows); failing: {names}",
        pipeline=pipeline,
        evidence={"checks": [r.as_dict() for r in failing]},
    )
