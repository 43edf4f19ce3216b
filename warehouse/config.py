"""What the warehouse needs to know besides its engines: calendar, thresholds, file stores.

Built once from `foundation.settings.AppSettings` by `Platform.from_settings` and carried by
the `Platform`, so no warehouse function looks settings up. A platform made from a bare
engine (`Platform.of(engine)`) gets the defaults and no file stores: functions that read or
write files then say which store is missing instead of guessing a folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foundation.errors import RecoveryError, TerminalError
from foundation.settings import AppSettings, WarehouseSettings
from warehouse.calendar import FiscalCalendar

_DEFAULTS = WarehouseSettings.model_fields  # one source of truth for the default values


class StoreNotConfiguredError(RecoveryError, TerminalError, LookupError):
    """A file store (activity logs, event backup, outputs) the platform was built without."""


@dataclass(frozen=True)
class WarehouseConfig:
    """Calendar, check thresholds and file-store locations (fsspec URLs or folders)."""

    fiscal_calendar: FiscalCalendar = _DEFAULTS["fiscal_calendar"].default
    margin_min: float = _DEFAULTS["margin_min"].default
    margin_max: float = _DEFAULTS["margin_max"].default
    swing_threshold: float = _DEFAULTS["swing_threshold"].default
    activity_logs_url: str | None = None
    backup_storage_url: str | None = None
    output_dir: Path | None = None

    @classmethod
    def from_settings(cls, settings: AppSettings) -> WarehouseConfig:
        """The warehouse's part of the application settings."""
        wh = settings.warehouse
        return cls(
            fiscal_calendar=wh.fiscal_calendar,
            margin_min=wh.margin_min,
            margin_max=wh.margin_max,
            swing_threshold=wh.swing_threshold,
            activity_logs_url=settings.activity_logs_url(),
            backup_storage_url=settings.backup_storage_url(),
            output_dir=settings.output_dir(),
        )

    def activity_logs(self) -> str:
        """Where the daily activity-log files live."""
        return _require(self.activity_logs_url, "activity-log store", "RUNBOOK_ACTIVITY_LOGS_URL")

    def event_backup(self) -> str:
        """Where the event stream's daily backup files live."""
        return _require(self.backup_storage_url, "event backup store", "RUNBOOK_BACKUP_STORAGE_URL")

    def outputs(self) -> Path:
        """Where reports and dashboard feeds are written."""
        return Path(_require(self.output_dir, "output folder", "RUNBOOK_DATA_DIR"))


def _require(value: Any, what: str, setting: str) -> Any:
    if value is None:
        raise StoreNotConfiguredError(
            f"no {what} configured for this platform: build it with Platform.from_settings "
            f"(setting {setting}) or pass WarehouseConfig(...) to Platform"
        )
    return value
