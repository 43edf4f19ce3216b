"""Governance fixtures: governance files built from text, a ledger per database, a webhook."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import sqlalchemy as sa

from foundation.engines import engine_for
from governance.config import parse_governance
from governance.ledger.audit_ledger import Ledger
from governance.ledger.migrate import upgrade_ledger
from governance.models import GovernanceConfig
from tests.loopback_http import loopback_server

_SCHEMAS = itertools.count()
POSTGRES_URL = os.environ.get(
    "RUNBOOK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

BASE = """\
engineers:
  A: {email: a@example.com}
  B: {email: b@example.com}
  C: {email: c@example.com}
  D: {email: d@example.com}
pipelines:
  aggregate_profit:
    area: profit
    investor_reporting: true
    primary: B
    secondary: A
    sla: 4h
  unit_profit_experiments:
    area: profit
    investor_reporting: false
    primary: A
    secondary: B
    sla: 24h
rotation:
  order: [A, B, C, D]
  start: 2026-01-05
  handoff: {weekday: WEEKDAY, time: "TIME"}
  timezone: ZONE
"""


def make_config(
    holidays: Sequence[str] = (),
    overrides: Sequence[str] = (),
    *,
    weekday: str = "monday",
    time: str = "09:00",
    zone: str = "Europe/London",
    start: str = "2026-01-05",
    extra: str = "",
    replace: dict[str, str] | None = None,
) -> GovernanceConfig:
    """A governance config: BASE plus YAML flow-mapping lines for holidays and overrides."""
    text = (
        BASE.replace("WEEKDAY", weekday)
        .replace("TIME", time)
        .replace("ZONE", zone)
        .replace("2026-01-05", start)
    )
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    if holidays:
        text += "holidays:\n" + "".join(f"  - {h}\n" for h in holidays)
    if overrides:
        text += "overrides:\n" + "".join(f"  - {o}\n" for o in overrides)
    return parse_governance(text + extra, "test.yaml")


@pytest.fixture
def config() -> GovernanceConfig:
    """The base config: no holidays, no overrides."""
    return make_config()


def migrated_ledger(url: str, schema: str | None = None) -> Ledger:
    """A ledger at `url` after `upgrade_ledger`, as the set-up commands leave it."""
    engine = engine_for(url)
    upgrade_ledger(engine, schema)
    return Ledger(engine, schema=schema)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A PostgreSQL schema name of this test's own, dropped afterwards."""
    schema = f"ledger_test_{os.getpid()}_{next(_SCHEMAS)}"
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        yield schema
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    """An empty, migrated ledger on SQLite (a temp file) or PostgreSQL (a schema of its own)."""
    if request.param == "sqlite":
        ledger = migrated_ledger(f"sqlite:///{tmp_path / 'audit.db'}")
        yield ledger
        ledger.dispose()
        return
    schema = request.getfixturevalue("pg_schema")
    ledger = migrated_ledger(POSTGRES_URL, schema)
    try:
        yield ledger
    finally:
        ledger.dispose()


@pytest.fixture
def sqlite_ledger(tmp_path: Path) -> Iterator[Ledger]:
    """An empty ledger in a SQLite file, for tests about what gets recorded."""
    ledger = migrated_ledger(f"sqlite:///{tmp_path / 'audit.db'}")
    yield ledger
    ledger.dispose()


@dataclass
class Webhook:
    """A real HTTP endpoint on a free loopback port that records the JSON posted to it."""

    url: str
    received: list[dict] = field(default_factory=list)
    status: int = 204


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            hook.received.append(
                {"path": self.path, "body": json.loads(self.rfile.read(length) or b"null")}
            )
            self.send_response(hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with loopback_server(Handler) as url:
        hook.url = f"{url}/hook"
        yield hook
