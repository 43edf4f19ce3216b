"""The warehouse and its source systems as one `Platform`: engines, config and hooks.

Engines come from the foundation (`engine_for`: WAL and busy timeout on SQLite, a pinned
schema on PostgreSQL); a run builds its platform once from an `EngineCache` and disposes it.
`Platform.from_settings` is the one place the warehouse reads settings: it turns them into a
`WarehouseConfig` the platform carries, and loads the configured plugins, which may install
`WarehouseHooks` (the fault layer does; the default hooks do nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from foundation.engines import EngineCache, engine_for
from foundation.plugins import load_plugins
from foundation.settings import AppSettings, get_settings
from warehouse.config import WarehouseConfig

if TYPE_CHECKING:
    from warehouse.calendar import Partition
    from warehouse.pipelines.base import Pipeline

__all__ = ["SOURCES", "Platform", "WarehouseHooks", "dialect", "engine_for", "install_hooks"]

SOURCES = ("transactions", "registrations", "events")
"""The source systems: transaction DB, user registration DB, app event stream."""


class WarehouseHooks:
    """Callbacks at the warehouse's seams; these defaults do nothing.

    A seam, not a branch: production code calls the hooks unconditionally and knows nothing of
    what a subclass does there (the fault layer simulates outages, crashes and quotas).
    """

    def before_connect(self, platform: Platform, source: str) -> None:
        """Before preflight reaches source system `source`; may raise a SQLAlchemy error."""

    def before_write(self, conn: Connection, pipe: Pipeline, part: Partition) -> None:
        """Inside the transform's transaction, before the first step writes."""

    def after_write(
        self, conn: Connection, pipe: Pipeline, part: Partition, rows: dict[str, int]
    ) -> None:
        """Inside the transform's transaction, after the steps wrote `rows`, before commit."""

    def after_reset(self, platform: Platform) -> None:
        """After the sample-data generator emptied the warehouse."""


_installed: list[WarehouseHooks] = [WarehouseHooks()]


def install_hooks(hooks: WarehouseHooks | None) -> None:
    """Make `hooks` the default of platforms built from now on (None: the no-op hooks)."""
    _installed[0] = hooks or WarehouseHooks()


def installed_hooks() -> WarehouseHooks:
    """The hooks new platforms get."""
    return _installed[0]


@dataclass
class Platform:
    """The warehouse engine plus one engine per source system (often the same engine).

    Transforms run in the warehouse; a source living in another database is mirrored into
    the warehouse (its partition only) before the transform reads it.
    """

    warehouse: Engine
    sources: dict[str, Engine] = field(default_factory=dict)
    config: WarehouseConfig = field(default_factory=WarehouseConfig)
    hooks: WarehouseHooks = field(default_factory=installed_hooks)

    def source(self, name: str) -> Engine:
        """The engine of source system `name` (the warehouse unless configured apart)."""
        return self.sources.get(name, self.warehouse)

    def is_colocated(self, name: str) -> bool:
        """Whether source `name` lives in the warehouse database itself."""
        return self.source(name) is self.warehouse

    @classmethod
    def of(cls, engine_or_platform: Engine | Platform) -> Platform:
        """Accept either a platform or an engine (everything in one database, default config)."""
        if isinstance(engine_or_platform, Platform):
            return engine_or_platform
        return cls(warehouse=engine_or_platform)

    @classmethod
    def from_settings(
        cls, settings: AppSettings | None = None, engines: EngineCache | None = None
    ) -> Platform:
        """Engines for the configured URLs (sources sharing the warehouse URL share its engine),
        the warehouse config, and the hooks of the configured plugins.

        With `engines`, the engines come from (and are disposed with) that cache.
        """
        settings = settings or get_settings()
        load_plugins(settings.runbooks.plugin_modules())
        schema = settings.warehouse.warehouse_schema
        make = engines.get if engines is not None else engine_for
        wh_url = settings.warehouse_url()
        warehouse = make(wh_url, schema)
        sources = {
            name: make(settings.source_url(name), schema)
            for name in SOURCES
            if settings.source_url(name) != wh_url
        }
        return cls(warehouse, sources, WarehouseConfig.from_settings(settings))

    def dispose(self) -> None:
        """Close the pooled connections of every engine of the platform."""
        for engine in {self.warehouse, *self.sources.values()}:
            engine.dispose()


def dialect(engine: Engine) -> str:
    """`sqlite` or `postgresql`."""
    return engine.dialect.name
