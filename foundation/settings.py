"""Settings per subsystem, read from the environment (prefix `RUNBOOK_`), composed in one object.

Each subsystem owns one small class (Prefect's `settings/models/*` style): the warehouse and its
sources, the portal, governance and the audit ledger, the runbook library, notifications. The
composed `AppSettings` is what the process uses; `temporary_settings` overrides it for a block
(tests, the demo) without touching `os.environ`, as Prefect's `temporary_settings` does.

The embedded default keeps everything in SQLite files and local folders under `data/` in the
project, so one command works on a fresh clone; production points the same names at
PostgreSQL and object storage (fsspec URLs) without code changes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_data_dir() -> Path:
    return PROJECT_ROOT / "data"


class _Env(BaseSettings):
    """Every subsystem reads flat `RUNBOOK_<NAME>` variables (the documented names)."""

    model_config = SettingsConfigDict(env_prefix="RUNBOOK_", extra="ignore", frozen=True)


class DataSettings(_Env):
    """The local data folder: default home of SQLite files, logs, backups and outputs."""

    data_dir: Path = Field(default_factory=_default_data_dir)

    def default_sqlite_url(self, name: str) -> str:
        """`sqlite:///<data_dir>/<name>.db`, creating the folder."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / name}.db"


class WarehouseSettings(_Env):
    """The warehouse, its source systems, file stores and the pipelines' thresholds."""

    warehouse_url: str | None = None
    warehouse_schema: str | None = None  # PostgreSQL schema for warehouse and sources
    transactions_url: str | None = None
    registrations_url: str | None = None
    events_url: str | None = None
    backup_storage_url: str | None = None
    activity_logs_url: str | None = None
    fiscal_calendar: Literal["calendar", "445"] = "calendar"
    # a failure event may name a partition starting at most this many days after today
    future_grace_days: int = 1
    margin_min: float = -0.25  # aggregate_profit margin thresholds (profit / revenue)
    margin_max: float = 0.85
    swing_threshold: float = 0.30  # engagement spike/drop allowed without an annotation


class PortalSettings(_Env):
    """Where the investor portal is and how to reach it."""

    portal_url: str = "http://127.0.0.1:8765"
    portal_token: str = "dev-portal-token"
    portal_db_url: str | None = None  # the portal's own database; default <data_dir>/portal.db


class GovernanceSettings(_Env):
    """The governance file and the audit ledger's database."""

    governance_file: Path = PROJECT_ROOT / "governance.yaml"
    audit_url: str | None = None


class RunbookSettings(_Env):
    """The runbook library and the plugin modules a process imports (step types, test seams)."""

    runbooks_dir: Path = PROJECT_ROOT / "runbooks"
    step_modules: list[str] = Field(
        default_factory=list, description="Extra modules registering step types (plugins)"
    )
    faults: bool = Field(
        default=False,
        description="Install the fault-injection layer (`RUNBOOK_FAULTS=on`): tests, demo, drills",
    )

    def plugin_modules(self) -> list[str]:
        """Modules to import as plugins: the step modules, plus `faults.plugin` when enabled.

        Named, not imported, here: the foundation imports nothing of the project, and no
        product package imports the fault layer; a plugin wires itself in when imported.
        """
        return [*self.step_modules, *(["faults.plugin"] if self.faults else [])]


class NotifySettings(_Env):
    """Outgoing mail."""

    smtp_url: str | None = None
    smtp_from: str = "runbook@localhost"


Profile = Literal["local", "demo", "production"]


class ApprovalSettings(_Env):
    """How answers at an approval gate prove who gave them.

    Outside the `local` and `demo` profiles an answer counts only with the approver's own
    approval code (HMAC over run, gate, approver and expiry, keyed by `approval_secret`), so
    the production default is verified: forgetting to choose a profile fails closed.
    """

    profile: Profile = "production"
    approval_secret: SecretStr | None = None
    verified_approvals: bool | None = Field(
        default=None, description="Require approval codes (default: on outside local and demo)"
    )
    approval_page_url: str | None = Field(
        default=None,
        description="Public base URL of the approval page (`runbook approval-page`); when set, "
        "each approver's code arrives as a signed link to it and `runbook serve` serves it",
    )
    approval_page_host: str = Field(
        default="127.0.0.1", description="Address `runbook serve` binds the approval page to"
    )

    @property
    def codes_required(self) -> bool:
        """Whether a typed name alone is refused at every gate."""
        if self.verified_approvals is not None:
            return self.verified_approvals
        return self.profile not in ("local", "demo")


class ConfluenceSettings(_Env):
    """The Confluence space the runbook pages are mirrored to (`runbook docs --publish`)."""

    confluence_url: str | None = None
    confluence_space: str = "OPS"
    confluence_parent: str = Field(
        default="Runbooks (mirror)", description="title of the page the index goes under"
    )
    confluence_user: str | None = None
    confluence_token: str | None = None
    confluence_edit_url: str = Field(
        default="the runbooks/ folder of the pipeline-recovery repository",
        description="where to edit a runbook, named in every page's header",
    )


class OperationsSettings(_Env):
    """How the served side watches itself: heartbeats, crash detection, the weekly report."""

    heartbeat_seconds: int = Field(
        default=30,
        ge=30,
        description="Seconds between a runbook run's heartbeats (Prefect's floor: 30)",
    )
    crash_silence_seconds: int = Field(
        default=90, ge=31, description="Seconds without a heartbeat after which a run is Crashed"
    )
    pending_silence_seconds: int = Field(
        default=300,
        ge=30,
        description="Seconds a run may stay Pending before it is scheduled again",
    )
    report_cron: str | None = Field(
        default=None,
        description="When the weekly incident report runs (cron); default: the rotation's handoff",
    )
    refusal_window_seconds: int = Field(
        default=600,
        ge=1,
        description="A burst of refused events ends after this many seconds without one",
    )
    refusals_per_source: int = Field(
        default=20,
        ge=1,
        description="Refusals of one source in a burst kept with their reasons; later ones counted",
    )
    refusals_per_pipeline: int = Field(
        default=100,
        ge=1,
        description="Refusals of a pipeline in a burst kept with their reasons; later ones counted",
    )


class AppSettings(BaseModel):
    """The subsystems' settings together, plus the URLs derived from more than one of them."""

    model_config = ConfigDict(frozen=True)

    data: DataSettings = Field(default_factory=DataSettings)
    warehouse: WarehouseSettings = Field(default_factory=WarehouseSettings)
    portal: PortalSettings = Field(default_factory=PortalSettings)
    governance: GovernanceSettings = Field(default_factory=GovernanceSettings)
    runbooks: RunbookSettings = Field(default_factory=RunbookSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    approval: ApprovalSettings = Field(default_factory=ApprovalSettings)
    confluence: ConfluenceSettings = Field(default_factory=ConfluenceSettings)
    operations: OperationsSettings = Field(default_factory=OperationsSettings)

    @property
    def data_dir(self) -> Path:
        return self.data.data_dir

    def warehouse_url(self) -> str:
        """The warehouse URL, defaulting to a SQLite file in the data folder."""
        return self.warehouse.warehouse_url or self.data.default_sqlite_url("warehouse")

    def source_url(self, name: str) -> str:
        """A source system's URL; each defaults to the warehouse database."""
        return getattr(self.warehouse, f"{name}_url", None) or self.warehouse_url()

    def activity_logs_url(self) -> str:
        """Where the daily activity-log files live (an fsspec URL or a local folder)."""
        return self.warehouse.activity_logs_url or str(self.data_dir / "activity_logs")

    def backup_storage_url(self) -> str:
        """Where the event stream's daily backup files live (an fsspec URL or a local folder)."""
        return self.warehouse.backup_storage_url or str(self.data_dir / "event_backup")

    def output_dir(self) -> Path:
        """Where pipelines write their report CSVs and dashboard feeds."""
        return self.data_dir / "outputs"

    def audit_url(self) -> str:
        """The audit ledger's URL; it lives beside the warehouse unless told otherwise."""
        return self.governance.audit_url or self.warehouse_url()

    def portal_db_url(self) -> str:
        """The portal's own database; a SQLite file in the data folder by default."""
        return self.portal.portal_db_url or f"sqlite:///{self.data_dir / 'portal.db'}"

    def with_updates(self, **updates: Any) -> AppSettings:
        """A copy with flat field names replaced (`data_dir=...`, `portal_url=...`)."""
        parts = {name: getattr(self, name) for name in type(self).model_fields}
        for key, value in updates.items():
            owner = next((n for n, p in parts.items() if key in type(p).model_fields), None)
            if owner is None:
                raise KeyError(f"unknown setting {key!r}")
            parts[owner] = parts[owner].model_copy(update={key: _coerce(parts[owner], key, value)})
        return AppSettings(**parts)


def _coerce(part: BaseModel, key: str, value: Any) -> Any:
    annotation = type(part).model_fields[key].annotation
    if annotation is Path or (annotation == Path | None and value is not None):
        return Path(value)
    if annotation == SecretStr | None and isinstance(value, str):
        return SecretStr(value)
    return value


_overrides: list[AppSettings] = []
_lock = threading.Lock()


@lru_cache
def _from_environment() -> AppSettings:
    return AppSettings()


def get_settings() -> AppSettings:
    """The process's settings: the innermost `temporary_settings`, else the environment's."""
    with _lock:
        if _overrides:
            return _overrides[-1]
    return _from_environment()


def reload_settings() -> None:
    """Read the environment again (a process that changed its own environment on purpose)."""
    _from_environment.cache_clear()


@contextmanager
def temporary_settings(**updates: Any) -> Iterator[AppSettings]:
    """Override settings by flat name for the block, in every thread of this process."""
    settings = get_settings().with_updates(**updates)
    with _lock:
        _overrides.append(settings)
    try:
        yield settings
    finally:
        with _lock:
            _overrides.remove(settings)
