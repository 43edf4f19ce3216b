"""Investors get only what the approver saw: report and feed pinned, published together.

The report step builds the report and feed and records both digests; the publish step,
given the approval, sends them to a real portal over HTTP as one release. These tests change
the files after approval, diff the feed against the published one, and hold the portal down
to count the requests one run sends.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from faults.portal_admin import PortalFaultAdmin
from faults.portal_layer import portal_with_faults
from portal.client import PortalClient
from portal.config import PortalConfig
from portal.database import portal_engine, upgrade_portal
from portal.server import PortalServer
from recovery_tasks.context import StepContext, StepOutcome
from recovery_tasks.errors import TerminalStepError
from recovery_tasks.params import PartitionParams
from recovery_tasks.publish import PublishParams, investor_portal
from recovery_tasks.reports import ReportResult, build
from recovery_tasks.services import RunServices
from tests.recovery_tasks.conftest import step_ctx
from warehouse.db import Platform
from warehouse.runner import run_pipeline

TOKEN = "pinned-token"
PIPELINE = "aggregate_engagement"
PARTITION = "2026-03"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalServer]:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('portal') / 'portal.db'}"
    engine = portal_engine(db_url)
    upgrade_portal(engine)
    engine.dispose()
    with PortalServer(PortalConfig(db_url=db_url, token=TOKEN), build=portal_with_faults) as server:
        yield server


@pytest.fixture
def run(services: RunServices, portal: PortalServer, clean: Platform) -> Iterator[RunServices]:
    """Services publishing to the test portal, after a clean run of the partition.

    Each test gets an empty portal: its publications are wiped through its database."""
    engine = portal_engine(portal.config.db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM portal_idempotency_keys")
        conn.exec_driver_sql("DELETE FROM portal_publications")
    engine.dispose()
    run_pipeline(clean, PIPELINE, PARTITION, services.output_dir)
    with PortalFaultAdmin(portal.url, TOKEN) as plan:
        plan.clear_faults()
        yield dataclasses.replace(
            services, portal_factory=lambda _: PortalClient(portal.url, TOKEN)
        )
        plan.clear_faults()


def report_of(services: RunServices) -> ReportResult:
    return build(PartitionParams(partition=PARTITION), step_ctx(services, PIPELINE))


def approved_ctx(services: RunServices, report: ReportResult, **kw: Any) -> StepContext:
    """The publish step's context: the report step and an approval of it completed."""
    approval = {"decision": "approved", "approvers": ["A"]}
    return step_ctx(
        services, PIPELINE, step_id="publish",
        steps={
            "report": StepOutcome("completed", outputs=report.model_dump(mode="json")),
            "approve": StepOutcome("completed", outputs=approval),
        },
        uses={"report": "reports.build", "approve": "approval.on_call"}, **kw,
    )  # fmt: skip


def pinned(report: ReportResult, **kw: Any) -> PublishParams:
    return PublishParams(
        partition=PARTITION,
        approved_sha256=report.sha256,
        approved_feed_sha256=report.feed_sha256,
        **kw,
    )


def published(portal: PortalServer) -> dict[str, bytes | None]:
    with PortalClient(portal.url, TOKEN) as client:
        found = {kind: client.content(PIPELINE, PARTITION, kind) for kind in ("report", "feed")}
    return {kind: item.content if item else None for kind, item in found.items()}


def test_report_and_feed_go_out_together_as_approved(
    run: RunServices, portal: PortalServer
) -> None:
    report = report_of(run)
    result = investor_portal(pinned(report), approved_ctx(run, report))

    with PortalClient(portal.url, TOKEN) as client:
        stored_report = client.content(PIPELINE, PARTITION, "report")
        stored_feed = client.content(PIPELINE, PARTITION, "feed")
    assert stored_report is not None and stored_feed is not None
    assert stored_report.receipt.sha256 == report.sha256
    assert stored_feed.receipt.sha256 == report.feed_sha256
    assert result.feed_receipt == stored_feed.receipt.id
    assert Path(report.csv_path).read_bytes() == stored_report.content


def test_a_feed_changed_after_approval_publishes_nothing(
    run: RunServices, portal: PortalServer
) -> None:
    report = report_of(run)
    feed_path = Path(report.feed_path)
    feed = json.loads(feed_path.read_text())
    feed["metrics"]["mau"] = feed["metrics"]["mau"] + 1
    feed_path.write_text(json.dumps(feed, indent=2))

    ctx = approved_ctx(run, report)
    ctx.incident["id"] = 17
    with pytest.raises(TerminalStepError, match="dashboard feed changed after approval") as info:
        investor_portal(pinned(report), ctx)
    assert published(portal) == {"report": None, "feed": None}
    assert "nothing was sent. Next: " in str(info.value)
    assert "then run `runbook retry 17`: it builds the report and feed again" in str(info.value)


def test_a_report_pinned_without_its_feed_publishes_nothing(
    run: RunServices, portal: PortalServer
) -> None:
    report = report_of(run)
    params = PublishParams(partition=PARTITION, approved_sha256=report.sha256)

    with pytest.raises(TerminalStepError, match="dashboard feed is not"):
        investor_portal(params, approved_ctx(run, report))
    assert published(portal) == {"report": None, "feed": None}


def test_an_investor_report_without_its_feed_publishes_nothing(
    run: RunServices, portal: PortalServer
) -> None:
    report = report_of(run)
    params = PublishParams(partition=PARTITION, approved_sha256=report.sha256, feed=False)

    with pytest.raises(TerminalStepError, match="report and dashboard feed together") as refused:
        investor_portal(params, approved_ctx(run, report))
    assert "feed: false" not in str(refused.value)  # the refusal never suggests leaving it out
    assert published(portal) == {"report": None, "feed": None}


def test_the_evidence_shows_the_feed_against_the_published_one(
    run: RunServices, portal: PortalServer
) -> None:
    first = report_of(run)
    assert "No feed published yet" in first.evidence()
    assert '"mau"' in first.evidence()  # the whole feed, readable, on a first publication
    older = json.loads(Path(first.feed_path).read_text())
    older["metrics"]["mau"] = older["metrics"]["mau"] - 7
    report = Path(first.csv_path).read_bytes()
    with PortalClient(portal.url, TOKEN) as client:
        client.publish_release(PIPELINE, PARTITION, report, older, "earlier-release")

    again = report_of(run)
    mau = again.model_dump()["feed_diff"]
    assert f'-    "mau": {older["metrics"]["mau"]},' in mau
    assert f'+    "mau": {older["metrics"]["mau"] + 7},' in mau
    evidence = again.evidence()
    assert "Against published feed version 1" in evidence
    assert "Identical to published version 1" in evidence  # the report did not change


def test_a_portal_answering_503_gets_one_request_per_budgeted_attempt(
    run: RunServices, portal: PortalServer
) -> None:
    """One retry policy per call chain: the step's SLA budget, one request per attempt.

    With 6 s of SLA left and `retry_budget: 0.5` the budget is 3 s; the backoff starts at 1 s
    with equal jitter (waits of at least 0.5 s, 1 s, then the rest of the budget), so one run
    sends at most 4 requests, whatever the client's own retry policy would have done.
    """
    report = report_of(run)
    with PortalFaultAdmin(portal.url, TOKEN) as plan:
        plan.set_faults({"mode": "status", "status": 503, "count": None})
        ctx = approved_ctx(run, report, sla_left=timedelta(seconds=6))
        with pytest.raises(TerminalStepError, match="nothing was published") as refused:
            investor_portal(pinned(report, retry_budget=0.5), ctx)
        (rule,) = plan.faults()
    attempts = int(str(refused.value).split(" attempts")[0].rsplit(" ", 1)[1])
    assert rule.fired == attempts
    assert 2 <= attempts <= 4
    assert published(portal) == {"report": None, "feed": None}
