"""The failure taxonomy: every way a pipeline run can fail, as one enum recovery can match on.

A `PipelineFailure` carries the kind and the partition so the `pipeline.failed` event (and the
runbook it triggers) knows what broke and where, without parsing messages.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class FailureKind(StrEnum):
    """The seed's failure points, one value each (the event payload's `kind`)."""

    SOURCE_OUTAGE = "source_outage"
    ETL_JOB_FAILURE = "etl_job_failure"
    LATE_ARRIVING_DATA = "late_arriving_data"
    SCHEMA_DRIFT = "schema_drift"
    DATA_QUALITY = "data_quality"
    STORAGE_PARTITION = "storage_partition"
    REPORT_PUBLISHING = "report_publishing"


TRANSIENT_KINDS = frozenset(
    {FailureKind.SOURCE_OUTAGE, FailureKind.LATE_ARRIVING_DATA, FailureKind.REPORT_PUBLISHING}
)
"""Kinds a plain retry later may fix; the others need a recovery step first."""


class PipelineFailure(Exception):
    """A pipeline run (or a check on a stored partition) failed in a classified way."""

    def __init__(
        self,
        kind: FailureKind | str,
        partition: str,
        detail: str,
        *,
        pipeline: str | None = None,
        evidence: dict[str, Any] | None = None,
    ) -> None:
        self.kind = FailureKind(kind)
        self.partition = partition
        self.pipeline = pipeline
        self.detail = detail
        self.evidence = evidence or {}
        super().__init__(f"[{self.kind}] {pipeline or '?'} {partition}: {detail}")

    @property
    def transient(self) -> bool:
        """Whether retrying the same run later may succeed without intervention."""
        return self.kind in TRANSIENT_KINDS

    def payload(self) -> dict[str, Any]:
        """The `pipeline.failed` event payload."""
        return {
            "kind": str(self.kind),
            "partition": self.partition,
            "pipeline": self.pipeline,
            "detail": self.detail,
        }
