"""The portal database under Alembic, on SQLite and PostgreSQL: the app refuses a database
that was not migrated, an upgrade from the tables `create_all` made keeps every publication
and idempotency key, and workers starting together migrate once."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from typer.testing import CliRunner

from faults.portal_plan import (
    FAULT_PLAN_HEAD,
    FAULT_PLAN_STORE,
    FaultStore,
    fault_plan_metadata,
    upgrade_fault_plan,
)
from foundation.engines import engine_for
from foundation.migrations import StoreNotReady, current_revision, script_head
from portal.app import create_app
from portal.config import PortalConfig
from portal.database import (
    PORTAL_HEAD,
    PORTAL_STORE,
    metadata,
    portal_engine,
    require_portal_schema,
    upgrade_portal,
)
from portal.storage import Outcome, PublicationStore, Upload
from runbook_cli.main import app
from tests.governance.test_ledger_migrations import create_tables_as_before
from tests.upgrade_worker import race

POSTGRES_URL = os.environ.get(
    "RUNBOOK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REPORT = b"product,region,revenue\nwidget,EU,100.0\n"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    """An empty portal database: a SQLite file, or a PostgreSQL schema of the test's own."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'portal.db'}"
        engine = portal_engine(url)
        yield engine, url, None
        engine.dispose()
        return
    schema = f"portal_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = engine_for(POSTGRES_URL, schema)  # the portal's tables in a schema of its own
    try:
        yield engine, POSTGRES_URL, schema
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def _upload(key: str, content: bytes = REPORT) -> Upload:
    return Upload(
        pipeline="aggregate_profit", partition="2026-01", kind="report", content=content,
        sha256=hashlib.sha256(content).hexdigest(), content_type="text/csv", rows=1,
        idempotency_key=key,
    )  # fmt: skip


def test_the_app_refuses_an_unmigrated_database_and_names_the_command(tmp_path: Path) -> None:
    config = PortalConfig(db_url=f"sqlite:///{tmp_path / 'portal.db'}", token="t")
    with pytest.raises(StoreNotReady, match=r"The portal database at sqlite:///.*portal\.db has "
                       r"no schema yet .*: run `runbook portal migrate` first"):  # fmt: skip
        create_app(config)
    assert sa.inspect(sa.create_engine(config.db_url)).get_table_names() == []


def test_runbook_portal_migrate_sets_the_database_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    result = CliRunner().invoke(app, ["portal", "migrate", "--db-url", url])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"portal database at {PORTAL_HEAD}"
    create_app(PortalConfig(db_url=url, token="t"))


def test_upgrade_from_the_tables_create_all_made_keeps_every_publication(db: object) -> None:
    engine, _, schema = db  # type: ignore[misc]
    create_tables_as_before(engine, "portal", schema)
    before = PublicationStore(engine)  # today's code writing today's tables
    first, created = before.publish(_upload("key-1"))
    second, _ = before.publish(_upload("key-2", REPORT + b"gadget,US,50.0\n"))
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO portal_faults (rule, target, remaining, fired) "
                             "VALUES ('{\"mode\": \"drop\"}', 'publish', 1, 0)"))  # fmt: skip
    with pytest.raises(StoreNotReady, match="created before it had migrations: run "
                       "`runbook portal migrate` to adopt and upgrade it"):  # fmt: skip
        require_portal_schema(engine)  # what the app checks on start

    assert upgrade_portal(engine) == PORTAL_HEAD
    after = PublicationStore(engine)
    history = after.history("aggregate_profit", "2026-01", "report")
    assert history is not None and [r.version for r in history.history] == [2, 1]
    assert after.content("aggregate_profit", "2026-01", "report", 1).content == REPORT
    replay, outcome = after.publish(_upload("key-1"))
    assert (replay, outcome, created) == (first, Outcome.REPLAYED, Outcome.CREATED)
    assert after.publish(_upload("key-3"))[0].version == second.version + 1
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM portal_faults")).scalar() == 1
    assert upgrade_fault_plan(engine) == FAULT_PLAN_HEAD  # the fault layer adopts its table
    assert [state.rule.mode for state in FaultStore(engine).list()] == ["drop"]


def test_the_migrations_build_exactly_the_tables_the_code_declares(db: object) -> None:
    engine, _, _ = db  # type: ignore[misc]
    upgrade_portal(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, metadata)
    assert [d for d in diffs if "alembic_version" not in str(d)] == []
    assert current_revision(PORTAL_STORE, engine) == PORTAL_HEAD


def test_the_head_the_code_expects_is_the_scripts_head() -> None:
    assert script_head(PORTAL_STORE) == PORTAL_HEAD
    assert script_head(FAULT_PLAN_STORE) == FAULT_PLAN_HEAD


def test_a_product_portal_database_has_no_fault_table_until_faults_are_used(db: object) -> None:
    engine, _, schema = db  # type: ignore[misc]
    upgrade_portal(engine)
    product = set(sa.inspect(engine).get_table_names(schema=schema))
    assert product == {"portal_publications", "portal_idempotency_keys", "alembic_version_portal"}

    assert upgrade_fault_plan(engine) == FAULT_PLAN_HEAD
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, fault_plan_metadata)
    added = set(sa.inspect(engine).get_table_names(schema=schema)) - product
    assert added == {"portal_faults", "alembic_version_portal_faults"}
    assert [d for d in diffs if not d[0].startswith("remove_")] == []  # the rest: the portal's


# spawns four processes
def test_workers_starting_together_upgrade_once(db: object) -> None:
    engine, url, schema = db  # type: ignore[misc]
    create_tables_as_before(engine, "portal", schema)
    assert race("portal", url, schema) == [PORTAL_HEAD] * 4
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version_portal")).scalar() == 1
