"""Which events start a runbook: matching one event, and two runbooks answering the same one.

A trigger (`on:` entry) names an event (`*` wildcards allowed, as in Prefect) and labels the
event's resource must carry (`match:`) or one of its related resources (`match_related:`);
a label's value may be a list (any of them) or use `*`. Two triggers overlap when some event
could satisfy both: then one failure would start two recoveries.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from flows.language.models import Trigger

Labels = Mapping[str, "str | list[str]"]


def _values(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _could_be_equal(a: str, b: str) -> bool:
    """Two patterns some single string could match (exactly, or through a `*`)."""
    return a == b or fnmatch.fnmatchcase(a, b) or fnmatch.fnmatchcase(b, a)


def _labels_overlap(a: Labels, b: Labels) -> bool:
    """Every label both constrain has a value both allow."""
    return all(
        any(_could_be_equal(x, y) for x in _values(a[label]) for y in _values(b[label]))
        for label in set(a) & set(b)
    )


def triggers_overlap(a: Trigger, b: Trigger) -> bool:
    """True when one event could start both triggers."""
    return (
        _could_be_equal(a.event, b.event)
        and _labels_overlap(a.match, b.match)
        and _labels_overlap(a.match_related, b.match_related)
    )


def describe(trigger: Trigger) -> str:
    """`pipeline.failed for prefect.resource.id=pipeline.x`, for messages."""
    labels = ", ".join(f"{k}={'|'.join(_values(v))}" for k, v in sorted(trigger.match.items()))
    return f"{trigger.event} for {labels}" if labels else f"{trigger.event} (any resource)"


def _labels_match(wanted: Labels, labels: Mapping[str, Any]) -> bool:
    return all(
        any(fnmatch.fnmatchcase(str(labels.get(k, "")), v) for v in _values(allowed))
        and k in labels
        for k, allowed in wanted.items()
    )


def event_matches(trigger: Trigger, event: Mapping[str, Any]) -> bool:
    """True when `event` (Prefect's shape: event, resource, related) would start `trigger`."""
    name = str(event.get("event", ""))
    if not fnmatch.fnmatchcase(name, trigger.event):
        return False
    resource = event.get("resource") or {}
    if not _labels_match(trigger.match, resource if isinstance(resource, Mapping) else {}):
        return False
    if not trigger.match_related:
        return True
    related = event.get("related") or []
    return any(_labels_match(trigger.match_related, r) for r in related if isinstance(r, Mapping))
