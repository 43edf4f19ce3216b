"""Sample-data scales: `small` builds in seconds for tests, `bench` has over 10M events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

ScaleName = Literal["small", "bench"]


@dataclass(frozen=True)
class Scale:
    """How much data to generate over which date range."""

    name: str
    users: int
    sessions: int
    first_day: date = date(2025, 1, 1)
    last_day: date = date(2026, 6, 30)

    @property
    def days(self) -> int:
        """Number of days generated."""
        return (self.last_day - self.first_day).days + 1


SCALES: dict[str, Scale] = {
    "small": Scale("small", users=3_000, sessions=30_000),
    "bench": Scale("bench", users=400_000, sessions=2_300_000),
}

PRODUCTS = [
    # code, name, category, price_cents, unit_cost_cents
    ("SKU-BASIC", "Basic plan", "subscription", 999, 310),
    ("SKU-PLUS", "Plus plan", "subscription", 1999, 540),
    ("SKU-PRO", "Pro plan", "subscription", 4999, 1150),
    ("SKU-TEAM", "Team plan", "subscription", 9999, 2600),
    ("SKU-STORAGE", "Extra storage", "add-on", 299, 60),
    ("SKU-THEMES", "Theme pack", "add-on", 499, 40),
    ("SKU-SUPPORT", "Priority support", "service", 2999, 1700),
    ("SKU-TRAINING", "Training session", "service", 14999, 9800),
]
PRODUCT_WEIGHTS = [30, 22, 12, 4, 14, 10, 5, 3]  # purchase mix, percent
REGIONS = [
    ("NA", "North America"),
    ("EU", "Europe"),
    ("APAC", "Asia Pacific"),
    ("LATAM", "Latin America"),
    ("MEA", "Middle East and Africa"),
]
REGION_WEIGHTS = [38, 30, 18, 9, 5]
CHANNELS = ["organic", "paid_search", "social", "referral"]
EVENT_TYPES = ["app_open", "view", "click", "search", "share", "purchase"]
CANCEL_REASONS = ["price", "missing_feature", "switched", "not_using", "other"]
EXPERIMENTS = {"checkout_v2": ["control", "treatment"], "onboarding_v3": ["control", "guided"]}
