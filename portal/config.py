"""How a portal instance is configured: its database, token and upload limit."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from foundation.settings import AppSettings, get_settings


class PortalConfig(BaseModel):
    """Everything the portal server needs; built from the project settings by default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    db_url: str
    token: str = Field(min_length=1)
    admin_token: str | None = Field(default=None, description="for /admin; defaults to `token`")
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)

    @classmethod
    def from_settings(
        cls, settings: AppSettings | None = None, **overrides: object
    ) -> PortalConfig:
        """The configuration from RUNBOOK_PORTAL_* settings, with explicit overrides."""
        settings = settings or get_settings()
        values: dict[str, object] = {
            "db_url": settings.portal_db_url(),
            "token": settings.portal.portal_token,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
