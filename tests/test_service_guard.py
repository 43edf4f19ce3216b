"""A test that starts a Prefect server or reaches PostgreSQL without a marker fails at once.

These tests carry no service marker on purpose: they are what the guard sees.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import sqlalchemy as sa

from testing.prefect_server import local_prefect_server, reset_postgres_database
from testing.service_guard import UNMARKED_TEST, UnmarkedServiceError
from tests.prefect_servers import ADMIN_URL


def test_an_unmarked_test_is_named_while_it_runs(request: pytest.FixtureRequest) -> None:
    assert os.environ[UNMARKED_TEST] == request.node.nodeid


def test_an_unmarked_test_cannot_start_a_prefect_server() -> None:
    with (
        pytest.raises(UnmarkedServiceError, match=r"test_service_guard\.py::.* starts a Prefect"),
        local_prefect_server(),
    ):
        pytest.fail("the server started")


def test_an_unmarked_test_cannot_make_a_postgresql_database() -> None:
    with pytest.raises(UnmarkedServiceError, match=r"`prefect` or `postgres` marker"):
        reset_postgres_database(ADMIN_URL, "never_made")


def test_a_process_the_unmarked_test_starts_is_refused_too() -> None:
    guard = "from testing.service_guard import refuse_in_unmarked_test as r; r('a server')"
    result = subprocess.run([sys.executable, "-c", guard], capture_output=True, text=True)
    assert result.returncode == 1
    assert "UnmarkedServiceError" in result.stderr
    assert "test_a_process_the_unmarked_test_starts_is_refused_too starts a server" in (
        result.stderr
    )


def test_an_unmarked_test_cannot_connect_to_postgresql() -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 5432)) != 0:
            pytest.skip("no PostgreSQL listening: nothing to refuse")
    engine = sa.create_engine(ADMIN_URL)
    try:
        with pytest.raises(UnmarkedServiceError, match="a PostgreSQL connection"):
            engine.connect()
    finally:
        engine.dispose()
