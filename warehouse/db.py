"""The warehouse and its source systems as one `Platform` of engines.

Engines come from the foundation (`engine_for`: WAL and busy timeout on SQLite, a pinned
schema on PostgreSQL); a run builds its platform once from an `EngineCache` and disposes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from foundation.engines import EngineCache, engine_for
from foundation.settings import AppSettings, get_settings

SOURCES = ("transactions", "registrations", "events")
"""The source systems: transaction DB, user registration DB, app event stream."""


@dataclass
class Platform:
    """The warehouse engine plus one engine per source system (often the same engine).

    Transforms run in the warehouse; a source living in another database is mirrored into
    the warehouse (its partition only) before the transform reads it.
    """

    warehouse: Engine
    sources: dict[str, Engine] = field(default_factory=dict)

    def source(self, name: str) -> Engine:
        """The engine of source system `name` (the warehouse unless configured apart)."""
        return self.sources.get(name, self.warehouse)

    def is_colocated(self, name: str) -> bool:
        """Whether source `name` lives in the warehouse database itself."""
        return self.source(name) is self.warehouse

    @classmethod
    def of(cls, engine_or_platform: Engine | Platform) -> Platform:
        """Accept either an engine (everything in one database) or a platform."""
        if isinstance(engine_or_platform, Platform):
            return engine_or_platform
        return cls(warehouse=engine_or_platform)

    @classmethod
    def from_settings(
        cls, settings: AppSettings | None = None, engines: EngineCache | None = None
    ) -> Platform:
        """Engines for the configured URLs; sources sharing the warehouse URL share its engine.

        With `engines`, the engines come from (and are disposed with) that cache.
        """
        settings = settings or get_settings()
        schema = settings.warehouse.warehouse_schema
        make = engines.get if engines is not None else engine_for
        wh_url = settings.warehouse_url()
        warehouse = make(wh_url, schema)
        sources = {
            name: make(settings.source_url(name), schema)
            for name in SOURCES
            if settings.source_url(name) != wh_url
        }
        return cls(warehouse=warehouse, sources=sources)

    def dispose(self) -> None:
        """Close the pooled connections of every engine of the platform."""
        for engine in {self.warehouse, *self.sources.values()}:
            engine.dispose()


def dialect(engine: Engine) -> str:
    """`sqlite` or `postgresql`."""
    return engine.dialect.name
