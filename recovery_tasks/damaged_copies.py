"""A damaged second copy stops a step with the operator's next command in its message.

The warehouse names file, line and day and says to restore a good copy; only the run knows
its incident, so steps reading second copies add the exact `runbook retry N` to the error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from recovery_tasks.context import StepContext


@contextmanager
def naming_the_retry(ctx: StepContext) -> Iterator[None]:
    """Re-raise a `DamagedCopyError` with `runbook retry <incident>` as its next step."""
    from warehouse.second_copies import DamagedCopyError  # deferred: start-up time

    try:
        yield
    except DamagedCopyError as exc:
        raise exc.with_retry(f"runbook retry {ctx.incident.get('id', 'INCIDENT')}") from exc
