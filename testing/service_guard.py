"""Services a test may start only when it says so: the `prefect` or `postgres` marker.

`make test-fast` leaves out the tests marked `prefect` or `postgres` and must start no Prefect
server and touch no PostgreSQL. A test that does so without a marker would slow every fast
loop silently, so the suite names the running unmarked test in `UNMARKED_TEST` (inherited
by the processes the test starts) and the places that start services refuse while it is set.
"""

from __future__ import annotations

import os
from typing import Any

UNMARKED_TEST = "RUNBOOK_TEST_UNMARKED"


class UnmarkedServiceError(RuntimeError):
    """A test without a service marker started a Prefect server or reached PostgreSQL."""


def refuse_in_unmarked_test(service: str) -> None:
    """Raise when the running test carries no service marker (outside tests: nothing)."""
    test = os.environ.get(UNMARKED_TEST)
    if test:
        raise UnmarkedServiceError(
            f"{test} starts {service} without the `prefect` or `postgres` marker: mark it "
            "(`pytestmark = pytest.mark.prefect`, or `postgres`) so that `make test-fast` "
            "leaves it out"
        )


def refuse_unmarked_postgres_connections() -> None:
    """Every new PostgreSQL connection of this process checks the running test's markers."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    if not event.contains(Pool, "connect", _on_connect):
        event.listen(Pool, "connect", _on_connect)


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith(("psycopg", "asyncpg")):
        refuse_in_unmarked_test("a PostgreSQL connection")
