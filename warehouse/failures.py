"""The failure taxonomy: every way a pipeline run can fail, as one enum recovery can match on.

A `PipelineFailure` carries the kind and the partition so the `pipeline.failed` event (and the
runbook it triggers) knows what broke and where, without parsing messages.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from foundation.errors import RecoveryError, TerminalError, TransientError


class FailureKind(StrEnum):
    """The seed's failure points, one value each (the event payload's `kind`)."""

    SOURCE_OUTAGE = "source_outage"
    ETL_JOB_FAILURE = "etl_job_failure"
    LATE_ARRIVING_DATA = "late_arriving_data"
    SCHEMA_DRIFT = "schema_drift"
    DATA_QUALITY = "data_quality"
    STORAGE_PARTITION = "storage_partition"
    REPORT_PUBLISHING = "report_publishing"
    UNCLASSIFIED = "unclassified"  # a run ended Failed or Crashed and no classifier knew why


TRANSIENT_KINDS = frozenset(
    {FailureKind.SOURCE_OUTAGE, FailureKind.LATE_ARRIVING_DATA, FailureKind.REPORT_PUBLISHING}
)
"""Kinds a plain retry later may fix; the others need a recovery step first."""


class PipelineFailure(RecoveryError):
    """A pipeline run (or a check on a stored partition) failed in a classified way.

    Constructed as `PipelineFailure(kind, ...)`, it is a `TransientPipelineFailure` when a
    later retry may fix the kind and a `TerminalPipelineFailure` otherwise, so retry decisions
    go by type.
    """

    def __new__(cls, kind: FailureKind | str, *args: Any, **kwargs: Any) -> PipelineFailure:
        if cls is PipelineFailure:
            transient = FailureKind(kind) in TRANSIENT_KINDS
            cls = TransientPipelineFailure if transient else TerminalPipelineFailure
        return super().__new__(cls)

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

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by the constructor's arguments (Prefect may ship failures across processes)."""
        kwargs = {"pipeline": self.pipeline, "evidence": self.evidence}
        return (_rebuild_failure, (self.kind, self.partition, self.detail, kwargs))

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


def _rebuild_failure(
    kind: FailureKind, partition: str, detail: str, kwargs: dict[str, Any]
) -> PipelineFailure:
    return PipelineFailure(kind, partition, detail, **kwargs)


class TransientPipelineFailure(PipelineFailure, TransientError):
    """A failure a later retry of the same run may fix (outage, late data, publishing)."""


class TerminalPipelineFailure(PipelineFailure, TerminalError):
    """A failure that needs a repair or a person before the run can succeed."""
