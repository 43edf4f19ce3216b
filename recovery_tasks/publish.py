"""Step family `publish`: send the approved report and feed to the investor portal.

Fail closed, twice over: the policy pass already refuses an investor runbook whose publish
step is not behind an approval gate, and at run time this step refuses to publish unless an
approval step of this run completed with approvers, and unless the report's bytes are the
ones that were approved (sha256). Idempotency keys (incident, partition, sha256) tie every
retry, and every `runbook retry` of the incident, to one publication. With `retry_budget`, an
unavailable portal is retried with backoff within that share of the SLA time left, one
attempt per try (the step's budget is the one retry policy, not the client's as well).

The ledger and the portal agree: the intent (release key, sha256 of the bytes, approvers) is
recorded before the request and settled with the receipts after. A ledger that is away is
waited for; if it stays away after the portal stored the release, the open intent lets the
reconciliation (`flows.operations.publication_reconcile`) record the portal's receipts later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from foundation.durations import Duration
from portal.errors import PortalUnavailableError
from portal.models import Receipt
from portal.retry import RetryPolicy
from recovery_tasks.approved_bytes import approved_release
from recovery_tasks.budget import BudgetParams, backoff_of, budget_for, keep_trying
from recovery_tasks.context import StepContext
from recovery_tasks.errors import TerminalStepError
from recovery_tasks.params import PartitionParams
from recovery_tasks.registry import Pinned, all_step_types, step_type

logger = logging.getLogger(__name__)
T = TypeVar("T")


class PublishParams(PartitionParams):
    """What to publish; `approved_sha256` and `approved_feed_sha256` pin what the approver saw."""

    approved_sha256: str | None = Field(
        default=None, description="sha256 of the report the approver saw"
    )
    approved_feed_sha256: str | None = Field(
        default=None, description="sha256 of the dashboard feed the approver saw"
    )
    feed: bool = Field(default=True, description="Also publish the dashboard feed")
    retry_budget: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Share of the SLA time left to keep retrying an unavailable portal",
    )
    max_wait: Duration | None = Field(default=None, description="Cap on the retry budget")


class PublishResult(BaseModel):
    """The portal's receipts."""

    pipeline: str
    partition: str
    report_receipt: str
    report_version: int
    feed_receipt: str | None = None
    approved_by: list[str]
    attempts: int = 1

    def evidence(self) -> str:
        """Receipts for the audit trail."""
        return (
            f"Published {self.pipeline} {self.partition} as version {self.report_version} "
            f"(receipt {self.report_receipt}), approved by {', '.join(self.approved_by)}"
        )


ONE_ATTEMPT = RetryPolicy(max_attempts=1)
RECEIPT_WAIT = 30.0  # at most, within the step's budget; reconciliation does the rest


def on_record(
    ctx: StepContext, holding: str, otherwise: str, write: Callable[[Any], T], budget: float
) -> T | None:
    """`write(recorder)` (None without an incident), waiting for an unavailable ledger for
    `budget` seconds; past that a terminal error saying what is kept and what happens next."""
    from governance.ledger.availability import LedgerUnavailableError, wait_for_ledger

    recorder = ctx.run.recorder
    if not ctx.incident.get("id"):
        return None
    try:
        return wait_for_ledger(
            lambda: write(recorder), budget_seconds=budget, holding=holding, say=logger.warning
        )
    except LedgerUnavailableError as exc:
        raise TerminalStepError(f"{exc}: {otherwise}") from None


def approvers_in_run(ctx: StepContext) -> list[str]:
    """Who approved this run, from the outcomes of its completed approval steps."""
    types = all_step_types()
    names: list[str] = []
    for step_id, outcome in ctx.steps.items():
        step_type = types.get(ctx.uses.get(step_id, ""))
        if step_type and step_type.role == "approval" and outcome.state == "completed":
            names += (outcome.outputs or {}).get("approvers", [])
    return names


def _refuse_partial_investor_release(
    pipeline: str, params: PublishParams, ctx: StepContext
) -> None:
    """Investors read the report and its dashboard feed together: never one without the other."""
    known = ctx.run.governance.pipelines.get(pipeline)
    if params.feed or (known is not None and not known.investor_reporting):
        return
    raise TerminalStepError(
        f"refusing to publish: investors read {pipeline}'s report and dashboard feed together; "
        "a report without its feed would stand beside the old feed, which the approver did "
        "not approve; publish both, each pinned to what the approver saw; nothing was sent"
    )


PUBLISHES = (
    Pinned("report", "approved_sha256", "sha256"),
    Pinned("dashboard feed", "approved_feed_sha256", "feed_sha256", toggle="feed"),
)


@step_type(
    "publish.investor_portal",
    params=PublishParams,
    result=PublishResult,
    role="publish",
    publishes=PUBLISHES,
)
def investor_portal(params: PublishParams, ctx: StepContext) -> PublishResult:
    """Publish the approved CSV report and dashboard feed to the investor portal."""
    from governance.ledger.intents import receipt_row  # deferred: the catalog loads without SQL
    from warehouse.outputs import output_files

    approved_by = approvers_in_run(ctx)
    if not approved_by:
        raise TerminalStepError("refusing to publish: no approval step of this run completed")
    pipeline = params.pipeline_of(ctx)
    _refuse_partial_investor_release(pipeline, params, ctx)
    files = output_files(ctx.run.output_dir, pipeline, params.partition)
    release = approved_release(
        files.report_csv,
        files.dashboard_feed if params.feed else None,
        params.approved_sha256,
        params.approved_feed_sha256,
        retry=f"runbook retry {ctx.incident.get('id', 'INCIDENT')}",
    )
    run_key = f"incident-{ctx.incident.get('id', ctx.flow_run_id)}"
    key = f"{run_key}:{pipeline}:{params.partition}:{release.report_sha256}"
    budget = BudgetParams(budget=params.retry_budget or 1.0, max_wait=params.max_wait)
    intent = on_record(
        ctx,
        "the approved release",
        "nothing was sent to the portal",
        lambda r: r.intend_publication(
            key,
            pipeline,
            params.partition,
            release.report_sha256,
            release.feed_sha256,
            approved_by,
        ),
        budget_for(budget, ctx).seconds,
    )

    def attempt() -> tuple[bool, tuple[Receipt, Receipt | None] | None, str | None]:
        with ctx.run.portal() as client:
            if params.retry_budget is not None:
                client.retry = ONE_ATTEMPT  # the step's budget is the one retry policy
            try:
                if release.feed is None:
                    receipt = client.publish_report(
                        pipeline, params.partition, release.report, f"{key}:report"
                    )
                    return True, (receipt, None), None
                both = client.publish_release(
                    pipeline,
                    params.partition,
                    release.report,
                    release.feed,
                    f"{key}:{release.feed_sha256}",
                )
            except PortalUnavailableError as exc:
                if params.retry_budget is None:
                    raise
                return False, None, str(exc)
        return True, (both.report, both.feed), None

    tried = keep_trying(attempt, budget_for(budget, ctx), backoff_of(budget))
    if not tried.succeeded or tried.value is None:
        raise TerminalStepError(
            f"the portal did not accept {pipeline} {params.partition} in {tried.attempts} "
            f"attempts over {tried.waited:.0f}s (the budget): {tried.last_problem}; nothing "
            f"was published; when the portal is back, `runbook retry "
            f"{ctx.incident.get('id', 'INCIDENT')}` republishes these approved bytes"
        )
    receipt, feed_receipt = tried.value
    if intent is not None:
        receipts = [
            receipt_row(r.kind, r.id, r.sha256, r.version, r.stored_at)
            for r in (receipt, feed_receipt)
            if r is not None
        ]
        on_record(
            ctx,
            f"the portal's receipt {receipt.id} (version {receipt.version})",
            f"the portal holds {pipeline} {params.partition} version {receipt.version}; the "
            f"invariant sweep, the incident sync or `runbook retry {ctx.incident.get('id')}` "
            "records it from the portal's receipts once the ledger is back",
            lambda r: r.published(intent, receipts, approved_by),
            min(RECEIPT_WAIT, budget_for(budget, ctx).seconds),
        )
    return PublishResult(
        pipeline=pipeline,
        partition=params.partition,
        report_receipt=receipt.id,
        report_version=receipt.version,
        feed_receipt=feed_receipt.id if feed_receipt else None,
        approved_by=approved_by,
        attempts=tried.attempts,
    )
