"""One classifier decides retries by type: terminal never, transient and unknown within budget."""

from __future__ import annotations

import pickle

from prefect.states import Failed

from foundation.errors import RecoveryError, TerminalError, is_retryable, retry_condition
from portal.errors import PortalAuthError, PortalUnavailableError
from recovery_tasks.errors import GateClosed, TerminalStepError
from warehouse.failures import FailureKind, PipelineFailure


def test_prefect_retry_condition_retries_transient_and_unknown_but_never_terminal() -> None:
    assert retry_condition(None, None, Failed(data=PortalUnavailableError("down")))
    assert retry_condition(None, None, Failed(data=RuntimeError("driver hiccup")))
    assert not retry_condition(None, None, Failed(data=PortalAuthError("bad token")))
    assert not retry_condition(None, None, Failed(data=TerminalStepError("bad params")))
    assert not retry_condition(None, None, Failed(data=GateClosed("rejected")))


def test_every_project_error_is_under_one_root() -> None:
    for error in (PortalAuthError("x"), TerminalStepError("x"), GateClosed("x")):
        assert isinstance(error, RecoveryError)


def test_pipeline_failure_is_terminal_or_transient_by_its_kind() -> None:
    outage = PipelineFailure(FailureKind.SOURCE_OUTAGE, "2026-03", "down", pipeline="p")
    drift = PipelineFailure(FailureKind.SCHEMA_DRIFT, "2026-03", "dropped x", pipeline="p")
    assert is_retryable(outage) and not isinstance(outage, TerminalError)
    assert not is_retryable(drift) and isinstance(drift, TerminalError)
    assert isinstance(drift, PipelineFailure)


def test_pipeline_failure_survives_pickling_with_its_kind_and_class() -> None:
    drift = PipelineFailure("schema_drift", "2026-03", "dropped x", pipeline="p", evidence={"a": 1})
    back = pickle.loads(pickle.dumps(drift))
    assert type(back) is type(drift) and back.kind == drift.kind and back.evidence == {"a": 1}
