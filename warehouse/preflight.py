"""Before a run touches anything: can the sources be reached, and do they look as agreed?

Source outage and schema drift are decided here, so they are never mistaken for a
transformation error further down. The contract is the column set in `warehouse.schema` plus
the pipeline's declared column mappings (`warehouse.contract`): added columns are absorbed and
logged, declared renames applied, drops and undeclared renames stop the run.
Reaching a source goes through the platform's `before_connect` hook (a no-op by default).
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from sqlalchemy.exc import SQLAlchemyError

from warehouse.calendar import Partition
from warehouse.contract import DriftReport, drift_report
from warehouse.db import Platform
from warehouse.failures import FailureKind, PipelineFailure
from warehouse.pipelines import Pipeline

logger = logging.getLogger(__name__)


def check_reachable(platform: Platform, pipe: Pipeline, part: Partition) -> None:
    """Raise `source_outage` if a source of the pipeline cannot be reached."""
    for source in pipe.sources:
        try:
            platform.hooks.before_connect(platform, source)
            with platform.source(source).connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except SQLAlchemyError as exc:
            raise PipelineFailure(
                FailureKind.SOURCE_OUTAGE,
                part.key,
                f"source {source!r} cannot be reached: {getattr(exc, 'orig', exc)}",
                pipeline=pipe.name,
                evidence={"source": source},
            ) from exc


def check_contract(platform: Platform, pipe: Pipeline, part: Partition) -> DriftReport:
    """Raise `schema_drift` for a dropped column, a missing table or an undeclared rename.

    Added columns are absorbed and declared renames applied (`warehouse.contract`): both are
    in the returned report, which callers log, so drift is recorded without failing the run.
    """
    report = drift_report(platform, pipe)
    if report.blocking:
        raise PipelineFailure(
            FailureKind.SCHEMA_DRIFT,
            part.key,
            f"source schema changed: {report.summary()}",
            pipeline=pipe.name,
            evidence={"differences": [asdict(c) for c in report.changes]},
        )
    return report


def preflight(platform: Platform, pipe: Pipeline, part: Partition) -> DriftReport:
    """Reachability, then the schema contract; returns the drift that was absorbed."""
    check_reachable(platform, pipe, part)
    report = check_contract(platform, pipe, part)
    if report.changes:
        logger.warning("%s %s: source drift absorbed: %s", pipe.name, part.key, report.summary())
    return report
