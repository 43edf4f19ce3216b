"""The ledger catches up with the portal: open publication intents get the portal's receipts.

An intent is open when a publish step recorded what it was about to send but never recorded
the receipt: the ledger went away while the request was in flight. Once the ledger is back,
the portal is asked (its history of the partition's report and feed) for the versions with
exactly the intent's sha256, stored after the intent was recorded; if they are there, the
ledger records those receipts, the incident becomes `published` and then `resolved`, as the
run would have done. If the portal holds nothing of the kind, the intent stays open and the
incident as it was: `runbook retry` publishes the approved bytes once. The invariant sweep,
`runbook retry` and the incident sync each call this; for one incident, the intents of the
other pipelines' partitions its run publishes are settled too, told to both stories.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from governance.incidents.linked import LinkedStory, published_links
from governance.ledger.audit_ledger import Ledger
from governance.ledger.intents import receipt_row
from governance.ledger.records import IncidentState, PublicationIntent
from portal.client import PortalClient
from portal.models import Receipt
from recovery_tasks.services import RunServices

SLACK = timedelta(seconds=5)  # clocks of the ledger's and the portal's machines
FROM_RECEIPTS = "the portal's receipts, reconciled after the ledger was unavailable"


@dataclass(frozen=True)
class Reconciled:
    """What one open intent became."""

    incident_id: int
    version: int | None  # the portal's report version now on record; None: not on the portal


def reconcile(
    services: RunServices,
    incident_id: int | None = None,
    *,
    older_than: timedelta = timedelta(0),
) -> list[Reconciled]:
    """Settle the open intents (of one incident, or all older than `older_than`)."""
    cutoff = datetime.now(UTC) - older_than
    ledger = services.ledger
    linked = set() if incident_id is None else published_incidents(ledger, incident_id)
    intents = [
        i
        for one in (incident_id, *sorted(linked))
        for i in ledger.intents.unsettled(one)
        if i.recorded_at <= cutoff
    ]
    if not intents:
        return []
    done = []
    with services.portal() as portal:
        for intent in intents:
            receipts = portal_receipts(portal, intent)
            if receipts is None:
                done.append(Reconciled(intent.incident_id, None))
                continue
            story = services.story().of(intent.incident_id)
            if incident_id is not None and intent.incident_id in linked:  # and tell its own
                story = LinkedStory(services.story().of(incident_id), intent.incident_id)
            story.published(
                intent.id, receipts, intent.approved_by.split(","), recorded_from=FROM_RECEIPTS
            )
            if story.current_state() == IncidentState.PUBLISHED:
                story.state(IncidentState.RESOLVED, detail={"recorded_from": FROM_RECEIPTS})
            done.append(Reconciled(intent.incident_id, receipts[0]["version"]))
    return done


def published_incidents(ledger: Ledger, incident_id: int) -> set[int]:
    """The incidents of other pipelines' partitions that runs of `incident_id` publish: their
    intents are settled with its own (`governance.incidents.linked`)."""
    return {int(link["incident"]) for link in published_links(ledger, incident_id)}


def portal_receipts(portal: PortalClient, intent: PublicationIntent) -> list[dict] | None:
    """The receipts of the intent's report (and feed) on the portal, or None if absent."""
    wanted = [("report", intent.report_sha256)]
    if intent.feed_sha256:
        wanted.append(("feed", intent.feed_sha256))
    rows = []
    for kind, sha256 in wanted:
        found = _stored(portal, intent, kind, sha256)
        if found is None:
            return None
        rows.append(receipt_row(kind, found.id, found.sha256, found.version, found.stored_at))
    return rows


def _stored(portal: PortalClient, intent: PublicationIntent, kind: str, sha: str) -> Receipt | None:
    history = portal.history(intent.pipeline, intent.partition, kind)  # type: ignore[arg-type]
    if history is None:
        return None
    since = intent.recorded_at - SLACK
    after = [r for r in history.history if r.sha256 == sha and _aware(r.stored_at) >= since]
    return min(after, key=lambda r: r.version) if after else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
