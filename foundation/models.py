"""The shared pydantic base of hand-written configuration: unknown keys are errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Frozen, forbids unknown keys (a typo fails loudly), accepts field aliases by name."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
