"""Where the data lives: one settings object read from the environment (prefix `RUNBOOK_`).

The embedded default keeps everything in SQLite files and local folders under `data/` in the
project, so one command works on a fresh clone; production points the same names at
PostgreSQL and object storage (fsspec URLs) without code changes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_data_dir() -> Path:
    return PROJECT_ROOT / "data"


class Settings(BaseSettings):
    """Connection URLs and storage locations; every field can be set as RUNBOOK_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="RUNBOOK_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    warehouse_url: str | None = None
    transactions_url: str | None = None
    registrations_url: str | None = None
    events_url: str | None = None
    audit_url: str | None = None
    backup_storage_url: str | None = None
    activity_logs_url: str | None = None
    portal_url: str = "http://127.0.0.1:8765"
    portal_token: str = "dev-portal-token"
    portal_db_url: str | None = None  # the portal's own database; default <data_dir>/portal.db
    governance_file: Path = PROJECT_ROOT / "governance.yaml"
    runbooks_dir: Path = PROJECT_ROOT / "runbooks"
    step_modules: list[str] = Field(
        default_factory=list, description="Extra modules registering step types (plugins)"
    )
    fiscal_calendar: Literal["calendar", "445"] = "calendar"
    warehouse_schema: str | None = None  # PostgreSQL schema for warehouse and sources
    margin_min: float = -0.25  # aggregate_profit margin thresholds (profit / revenue)
    margin_max: float = 0.85
    swing_threshold: float = 0.30  # engagement spike/drop allowed without an annotation

    def resolved_warehouse_url(self) -> str:
        """The warehouse URL, defaulting to a SQLite file in the data folder (created here)."""
        if self.warehouse_url:
            return self.warehouse_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / 'warehouse.db'}"

    def source_url(self, name: str) -> str:
        """A source system's URL; each defaults to the warehouse database."""
        return getattr(self, f"{name}_url", None) or self.resolved_warehouse_url()

    def resolved_activity_logs_url(self) -> str:
        """Where the daily activity-log files live (an fsspec URL or a local folder)."""
        return self.activity_logs_url or str(self.data_dir / "activity_logs")

    def resolved_backup_storage_url(self) -> str:
        """Where the event stream's daily backup files live (an fsspec URL or a local folder)."""
        return self.backup_storage_url or str(self.data_dir / "event_backup")

    def output_dir(self) -> Path:
        """Where pipelines write their report CSVs and dashboard feeds."""
        return self.data_dir / "outputs"

    def resolved_audit_url(self) -> str:
        """The audit ledger's URL; it lives beside the warehouse unless told otherwise."""
        return self.audit_url or self.resolved_warehouse_url()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests clear the cache after changing the environment)."""
    return Settings()
