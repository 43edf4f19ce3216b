"""The audit ledger under Alembic, on SQLite and PostgreSQL: opened only when migrated, upgraded
from the tables `create_all` made before (rows kept), safely by many processes at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from foundation.engines import engine_for
from foundation.migrations import StoreNotReady, current_revision, script_head, upgrade
from governance.ledger import schema as t
from governance.ledger.audit_ledger import Ledger
from governance.ledger.incidents import append_event
from governance.ledger.migrate import LEDGER_HEAD, LEDGER_STORE, upgrade_ledger
from governance.ledger.records import IncidentState
from tests.governance.conftest import POSTGRES_URL
from tests.upgrade_worker import race

FIXTURES = Path(__file__).parents[1] / "fixtures" / "stores"
T0 = datetime(2026, 1, 21, 10, 0, tzinfo=UTC)
Db = tuple[sa.Engine, str | None]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    """An empty database: a SQLite file, or a PostgreSQL schema of the test's own."""
    if request.param == "sqlite":
        engine = engine_for(f"sqlite:///{tmp_path / 'audit.db'}")
        yield engine, None
    else:
        engine = sa.create_engine(POSTGRES_URL)
        yield engine, request.getfixturevalue("pg_schema")
    engine.dispose()


def create_tables_as_before(engine: sa.Engine, store: str, schema: str | None = None) -> None:
    """The tables exactly as `metadata.create_all` made them before migrations."""
    sql = (FIXTURES / f"{store}_create_all.{engine.dialect.name}.sql").read_text()
    body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    with engine.begin() as conn:
        if schema:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            conn.execute(sa.text(f'SET LOCAL search_path TO "{schema}"'))
        for statement in filter(str.strip, body.split(";")):
            conn.exec_driver_sql(statement)


def _tables(engine: sa.Engine, schema: str | None) -> set[str]:
    return set(sa.inspect(engine).get_table_names(schema=schema))


def _story(ledger: Ledger) -> int:
    """A whole incident: events, a step, a gate with a refused and an accepted answer, a receipt
    and a notification."""
    at = lambda minutes: T0 + timedelta(minutes=minutes)  # noqa: E731
    incident = ledger.incidents.open("aggregate_profit", "etl_failure", T0, partition="2026-01",
                                    event_id="ev-1", runbook="aggregate-profit",
                                    flow_run_id="run-1").id  # fmt: skip
    ledger.steps.record(incident, "rerun", "Completed", ended_at=at(2), result={"rows": 3})
    ledger.incidents.record_state(incident, "awaiting_approval", at=at(3))
    request = ledger.approvals.record_request(incident, "run-1", "paused-1", ["C", "D"],
                                             requested_at=at(3))  # fmt: skip
    ledger.approvals.record_answer(
        request.id, "E", "approve", authorized=False, reason="not on call", answered_at=at(4)
    )
    ledger.approvals.record_answer(request.id, "C", "approve", authorized=True, answered_at=at(5))
    ledger.incidents.record_state(incident, "approved", at=at(5), actor="C")
    ledger.publications.record(incident, "aggregate_profit", "2026-01", "report", "rcpt-1",
                              "ab" * 32, published_at=at(6), version=2)  # fmt: skip
    ledger.notifications.record_notification("C", "email", "approval_requested", delivered=True,
                               incident_id=incident, sent_at=at(3))  # fmt: skip
    with ledger.engine.begin() as conn:  # as the code before incident keys recorded it
        append_event(conn, incident, IncidentState.PUBLISHED, at(6), None, None)
    return incident


def test_opening_an_unmigrated_ledger_names_the_command_and_creates_nothing(db: Db) -> None:
    engine, schema = db
    expected = (
        r"The audit ledger at .* has no schema yet \(no alembic_version_ledger table\): "
        r"run `runbook data migrate` first"
    )
    with pytest.raises(StoreNotReady, match=expected):
        Ledger(engine, schema)
    assert _tables(engine, schema) == set()
    assert current_revision(LEDGER_STORE, engine, schema) is None


def test_upgrade_from_the_tables_create_all_made_keeps_every_row(db: Db) -> None:
    engine, schema = db
    create_tables_as_before(engine, "ledger", schema)
    before = Ledger(engine, schema, check=False)  # today's code writing today's tables
    incident = _story(before)
    story = before.incident_story(incident)
    with pytest.raises(StoreNotReady, match="was created before it had migrations: run "
                       "`runbook data migrate` to adopt and upgrade it"):  # fmt: skip
        Ledger(engine, schema)

    assert upgrade_ledger(engine, schema) == LEDGER_HEAD
    after = Ledger(engine, schema)
    assert after.incident_story(incident) == story
    assert after.incidents.current_state(incident) == "published"
    assert after.incidents.of_run("run-1") == before.incidents.get(incident)
    assert [
        a.who for r in after.approvals.requests(incident) for a in after.approvals.answers(r.id)
    ] == [
        "E",
        "C",
    ]
    assert after.incidents.open("aggregate_profit", "source_outage", T0).id == incident + 1
    indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes("ledger_incidents", schema)}
    assert "ix_ledger_incidents_flow_run_id" in indexes
    assert upgrade_ledger(engine, schema) == LEDGER_HEAD  # again: nothing to do


def test_the_migrations_build_exactly_the_tables_the_code_declares(db: Db) -> None:
    engine, schema = db
    upgrade_ledger(engine, schema)
    with engine.connect() as conn:
        if schema:
            conn.execute(sa.text(f'SET search_path TO "{schema}"'))
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, t.metadata)
    assert [d for d in diffs if "alembic_version" not in str(d)] == []


def test_the_head_the_code_expects_is_the_scripts_head() -> None:
    assert script_head(LEDGER_STORE) == LEDGER_HEAD


def test_an_older_revision_is_refused_until_upgraded(db: Db) -> None:
    engine, schema = db
    assert upgrade(LEDGER_STORE, engine, schema, revision="ledger_0001") == "ledger_0001"
    with pytest.raises(StoreNotReady, match="is at revision ledger_0001, this code needs "
                       f"{LEDGER_HEAD}: run `runbook data migrate`"):  # fmt: skip
        Ledger(engine, schema)
    assert upgrade_ledger(engine, schema) == LEDGER_HEAD
    Ledger(engine, schema)


def test_a_revision_written_by_newer_code_is_refused(db: Db) -> None:
    engine, schema = db
    upgrade_ledger(engine, schema)
    table = f'"{schema}".alembic_version_ledger' if schema else "alembic_version_ledger"
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {table} SET version_num = 'ledger_0099'"))
    with pytest.raises(StoreNotReady, match="at revision ledger_0099, which this code does not "
                       "know"):  # fmt: skip
        Ledger(engine, schema)


def test_the_ledger_and_the_warehouse_keep_separate_version_tables(tmp_path: Path) -> None:
    from warehouse.schema import migrate

    engine = engine_for(f"sqlite:///{tmp_path / 'warehouse.db'}")
    try:
        migrate(engine)
        upgrade_ledger(engine)
        with engine.connect() as conn:
            warehouse = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        assert warehouse == "0004"
        assert current_revision(LEDGER_STORE, engine) == LEDGER_HEAD
        Ledger(engine)
    finally:
        engine.dispose()


# spawns four processes
@pytest.mark.parametrize("adopt", [False, True], ids=["empty", "created-before"])
def test_processes_starting_together_upgrade_once(db: Db, adopt: bool) -> None:
    engine, schema = db
    if adopt:
        create_tables_as_before(engine, "ledger", schema)
    url = engine.url.render_as_string(hide_password=False)
    assert race("ledger", url, schema) == [LEDGER_HEAD] * 4
    table = f'"{schema}".alembic_version_ledger' if schema else "alembic_version_ledger"
    with engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() == 1
    Ledger(engine, schema).incidents.open("aggregate_profit", "etl_failure", T0)
