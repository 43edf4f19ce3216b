"""Fixtures: a rehearsal template per backend (built once), scratch copies, the fault layer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

import faults
from rehearsal.workspace import Backend, Template, build_template, remove_template
from tests.warehouse.sample import PG_URL

SLA = timedelta(seconds=20)


@pytest.fixture(scope="session", autouse=True)
def fault_layer() -> Iterator[None]:
    with faults.enabled():
        yield


@pytest.fixture(scope="session")
def templates() -> Iterator[Callable[[Backend], Template]]:
    """Build a backend's template on first use; drop them all at the end."""
    built: dict[str, Template] = {}

    def template(backend: Backend) -> Template:
        if backend not in built:
            try:
                built[backend] = build_template(SLA, backend, PG_URL)
            except Exception as exc:  # PostgreSQL not reachable
                if backend == "postgres":
                    pytest.skip(f"PostgreSQL not reachable: {exc}")
                raise
        return built[backend]

    yield template
    for template in built.values():
        remove_template(template)
