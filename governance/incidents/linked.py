"""The incident of another pipeline a run publishes: a gate belongs to what it publishes.

A profit recovery that rebuilds and publishes aggregate_engagement asks aggregate_engagement's
people on aggregate_engagement's SLA clock; its approval requests, answers and publication
belong to that (pipeline, partition)'s incident too, so the SLA watch, the invariant sweep and
the board see that partition handled. The run opens that incident (or attaches to the one
already open, through the keyed claim), links it to its own with a `linked` marker on both
stories, and from then on writes the gate's and the publication's records there; each
lifecycle state is also told to the run's own incident, so both read the same outcome. The
publication resolves the published incident (releasing its key); a rejection leaves it open
for a person, like the run's own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from governance.incidents.recorder import IncidentRecorder
from governance.ledger.audit_ledger import Ledger
from governance.ledger.records import LIFECYCLE, RESOLVED_STATES, IncidentState

PUBLISHES = "publishes"  # the `as` of the link on the run's own incident
PUBLISHED_BY = "published_by"  # ... and on the published pipeline's incident


class LinkedStory(IncidentRecorder):
    """The published pipeline's incident as a run's gate and publication write it."""

    def __init__(self, own: IncidentRecorder, incident_id: int) -> None:
        super().__init__(
            own.ledger, own.config, incident_id=incident_id, flow_run_id=own.flow_run_id
        )
        self.own = own

    def state(
        self,
        state: IncidentState | str,
        *,
        actor: str | None = None,
        detail: Any = None,
        at: datetime | None = None,
    ) -> None:
        """Append to the published incident; a lifecycle state to the run's own as well."""
        super().state(state, actor=actor, detail=detail, at=at)
        if IncidentState(state) in LIFECYCLE:
            told = {**detail} if isinstance(detail, dict) else {"detail": detail}
            self.own.state(state, actor=actor, detail={**told, "incident": self.incident_id}, at=at)


def publication_story(own: IncidentRecorder, pipeline: str, partition: str) -> IncidentRecorder:
    """The recorder of what this run's gate and publication of (pipeline, partition) write:
    `own` for the run's own pipeline (or a run that keeps no story); for another pipeline,
    the open incident of that partition this run is linked to, opened or attached (and
    linked both ways) the first time."""
    if not own.keeps_story or own.incident_id is None:
        return own
    head = own.ledger.incidents.get(own.incident_id)
    if head.pipeline == pipeline:
        return own
    linked = _open_link(own, pipeline, partition)
    if linked is None:
        linked = _link(own, pipeline, partition)
    return LinkedStory(own, linked)


def published_links(ledger: Ledger, incident_id: int) -> list[dict[str, Any]]:
    """The `linked` markers of an incident to the incidents of the other pipelines' partitions
    its runs publish, oldest first (each: incident, pipeline, partition)."""
    return [
        e.detail
        for e in ledger.incidents.events(incident_id)
        if e.state == IncidentState.LINKED
        and isinstance(e.detail, dict)
        and e.detail.get("as") == PUBLISHES
    ]


def _open_link(own: IncidentRecorder, pipeline: str, partition: str) -> int | None:
    """The newest incident of (pipeline, partition) this run's incident links to, while it
    is open (a resolved one was published: a new publication is a new incident)."""
    assert own.incident_id is not None
    for link in reversed(published_links(own.ledger, own.incident_id)):
        if (link.get("pipeline"), link.get("partition")) == (pipeline, partition):
            linked = int(link["incident"])
            state = IncidentState(own.ledger.incidents.current_state(linked))
            return None if state in RESOLVED_STATES else linked
    return None


def _link(own: IncidentRecorder, pipeline: str, partition: str) -> int:
    """Open (or attach to) the incident of (pipeline, partition), mark both stories linked."""
    ledger, run = own.ledger, own.flow_run_id
    assert own.incident_id is not None
    head = ledger.incidents.get(own.incident_id)
    opening = ledger.keys.open_or_attach(
        pipeline,
        partition,
        head.kind,
        head.opened_at,  # the failure's time: the published pipeline's SLA counts from it
        runbook=head.runbook,
        attach_detail={"linked_incident": head.id, "flow_run_id": run},
    )
    theirs = opening.incident.id
    if not opening.attached:
        ledger.incidents.record_state(
            theirs,
            IncidentState.RECOVERING,
            detail={"runbook": head.runbook, "flow_run_id": run, "incident": head.id},
        )
    ledger.incidents.record_state(
        head.id,
        IncidentState.LINKED,
        detail={"as": PUBLISHES, "incident": theirs, "pipeline": pipeline, "partition": partition},
    )
    ledger.incidents.record_state(
        theirs,
        IncidentState.LINKED,
        detail={
            "as": PUBLISHED_BY,
            "incident": head.id,
            "pipeline": head.pipeline,
            "partition": head.partition,
            "flow_run_id": run,
        },
    )
    return theirs


def tell_published(
    own: IncidentRecorder, state: IncidentState, detail: dict[str, Any]
) -> list[int]:
    """Record `state` (how the run ended: failed, or as the incident sync settles it) on the
    open incidents of the partitions the run publishes, naming the run's own; their ids."""
    if own.incident_id is None:
        return []
    told = []
    for link in published_links(own.ledger, own.incident_id):
        theirs = int(link["incident"])
        if IncidentState(own.ledger.incidents.current_state(theirs)) not in RESOLVED_STATES:
            own.of(theirs).state(state, detail={**detail, "incident": own.incident_id})
            told.append(theirs)
    return told
