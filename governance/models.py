"""The governance file's shape as strict pydantic models.

`extra="forbid"` everywhere: a misspelt `secondray:` must fail, not silently leave a pipeline
without a second owner. Names of engineers are checked against `engineers:` through the
validation context, so an unknown name is reported at the exact place it is written.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
    model_validator,
)

from foundation.durations import Duration

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _known_engineer(name: str, info: ValidationInfo) -> str:
    known = (info.context or {}).get("engineers")
    if known is not None and name not in known:
        listed = ", ".join(sorted(known)) or "none declared"
        raise ValueError(f"unknown engineer '{name}'; known: {listed}")
    return name


EngineerName = Annotated[str, AfterValidator(_known_engineer)]


class Strict(BaseModel):
    """Base of every governance model: unknown keys are errors; models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Engineer(Strict):
    """How to reach an engineer: Apprise URLs (`notify:`), an email address, a webhook URL.

    `notify:` takes any Apprise URL (slack://, msteams://, mailto://, json://host/path, ...);
    `email:` goes out through the configured SMTP server, `webhook:` as a JSON POST.
    """

    email: str | None = None
    webhook: HttpUrl | None = None
    notify: list[str] = Field(default_factory=list, description="Apprise URLs")
    calendar: str | None = Field(
        default=None, description="public-holiday calendar (default: the rotation's)"
    )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError(f"'{value}' is not an email address")
        return value

    @field_validator("notify")
    @classmethod
    def _apprise_urls(cls, value: list[str]) -> list[str]:
        if not value:
            return value
        import apprise  # deferred: only files with `notify:` URLs pay its import time

        for url in value:
            if apprise.Apprise.instantiate(url) is None:
                scheme = url.split("://", 1)[0] if "://" in url else url
                raise ValueError(
                    f"'{scheme}://...' is not a URL Apprise can send to; see "
                    "https://github.com/caronc/apprise/wiki for slack://, msteams://, "
                    "mailto://, json://host/path and the others"
                )
        return value

    @model_validator(mode="after")
    def _reachable(self) -> Engineer:
        if self.email is None and self.webhook is None and not self.notify:
            raise ValueError("an engineer needs a contact: notify (Apprise URLs), email or webhook")
        return self


class Pipeline(Strict):
    """A pipeline's business area, owners and recovery deadline."""

    description: str | None = None
    area: str
    investor_reporting: bool
    primary: EngineerName
    secondary: EngineerName
    sla: Duration = Field(description="time from the failure to the republished output")
    escalate_after: Duration | None = Field(
        default=None, description="unanswered approval -> backup and owners; default by kind"
    )

    @property
    def owners(self) -> tuple[str, str]:
        """Primary then secondary owner."""
        return (self.primary, self.secondary)

    @model_validator(mode="after")
    def _two_owners(self) -> Pipeline:
        if self.primary == self.secondary:
            raise ValueError(f"primary and secondary owner are both '{self.primary}'")
        if self.sla <= timedelta(0):
            raise ValueError("sla must be longer than zero")
        return self


class Handoff(Strict):
    """When one on-call week ends and the next begins (local time of the rotation)."""

    weekday: Weekday
    time: time

    @property
    def weekday_index(self) -> int:
        """Monday is 0, as `date.weekday()`."""
        return WEEKDAYS.index(self.weekday)


class Rotation(Strict):
    """Weekly on-call rotation: the order, its first handoff, and the time zone it lives in."""

    order: Annotated[list[EngineerName], Field(min_length=2)]
    start: date
    handoff: Handoff
    timezone: str
    calendar: str | None = Field(
        default=None, description="public-holiday calendar of engineers who name none"
    )
    swap_threshold: Annotated[int, Field(ge=1, le=100)] = Field(
        default=50,
        description="percent of a week's hours an absence must exceed to swap the whole "
        "week; shorter absences are covered hour by hour",
    )

    @field_validator("order")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        repeated = sorted({n for n in value if value.count(n) > 1})
        if repeated:
            raise ValueError(f"engineers listed twice in the rotation: {', '.join(repeated)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone '{value}'; use an IANA name such as Europe/London"
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The rotation's time zone."""
        return ZoneInfo(self.timezone)

    @model_validator(mode="after")
    def _start_on_handoff_day(self) -> Rotation:
        if self.start.weekday() != self.handoff.weekday_index:
            actual = WEEKDAYS[self.start.weekday()]
            raise ValueError(
                f"start {self.start} is a {actual}; it must be a {self.handoff.weekday} "
                "(the handoff weekday)"
            )
        return self


class Holiday(Strict):
    """An engineer away for whole days, `from` and `to` included (rotation's local dates)."""

    engineer: EngineerName
    from_: date = Field(alias="from")
    to: date

    @model_validator(mode="after")
    def _ordered(self) -> Holiday:
        if self.to < self.from_:
            raise ValueError(f"'to' ({self.to}) is before 'from' ({self.from_})")
        return self

    def covers(self, first: date, last: date) -> bool:
        """Whether any day of `first`..`last` (inclusive) is a holiday day."""
        return self.from_ <= last and first <= self.to


class PublicHoliday(Strict):
    """A day (or days) off that everyone on one calendar shares, declared once."""

    name: str
    from_: date = Field(alias="from")
    to: date | None = Field(default=None, description="last day; default: `from`")

    @property
    def last(self) -> date:
        """The last day off (inclusive)."""
        return self.to or self.from_

    @model_validator(mode="after")
    def _ordered(self) -> PublicHoliday:
        if self.to is not None and self.to < self.from_:
            raise ValueError(f"'to' ({self.to}) is before 'from' ({self.from_})")
        return self


class Override(Strict):
    """A one-off change of who is on call: a whole week, or a time range; wins over all else."""

    week: date | None = Field(default=None, description="a week's start date (handoff day)")
    from_: datetime | None = Field(default=None, alias="from")
    to: datetime | None = None
    primary: EngineerName | None = None
    backup: EngineerName | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Override:
        if self.week is None and (self.from_ is None or self.to is None):
            raise ValueError("an override needs `week:` or both `from:` and `to:`")
        if self.week is not None and (self.from_ is not None or self.to is not None):
            raise ValueError("an override has `week:` or `from:`/`to:`, not both")
        if self.from_ and self.to and self.to <= self.from_:
            raise ValueError(f"'to' ({self.to}) is not after 'from' ({self.from_})")
        if self.primary is None and self.backup is None:
            raise ValueError("an override names a primary, a backup or both")
        if self.primary is not None and self.primary == self.backup:
            raise ValueError(f"primary and backup are both '{self.primary}'")
        return self


class Escalation(Strict):
    """Default wait for an approval answer before the backup and owners are notified."""

    investor_reporting: Duration = timedelta(minutes=30)
    other: Duration = timedelta(hours=2)


class GovernanceConfig(Strict):
    """The whole governance file."""

    engineers: Annotated[dict[str, Engineer], Field(min_length=1)]
    pipelines: dict[str, Pipeline]
    rotation: Rotation
    holidays: list[Holiday] = Field(default_factory=list)
    public_holidays: dict[str, list[PublicHoliday]] = Field(
        default_factory=dict, description="calendar (region) -> days off everyone on it shares"
    )
    overrides: list[Override] = Field(default_factory=list)
    escalation: Escalation = Field(default_factory=Escalation)
    sla_notify_at: list[Annotated[int, Field(gt=0, lt=100)]] = Field(
        default_factory=lambda: [50, 75], description="percent of the SLA used -> notify"
    )

    @field_validator("engineers")
    @classmethod
    def _names(cls, value: dict[str, Engineer]) -> dict[str, Engineer]:
        for name in value:
            if not _NAME.match(name):
                raise ValueError(
                    f"engineer name '{name}' must start with a letter (letters, digits, _ . -)"
                )
        return value

    @model_validator(mode="after")
    def _known_calendars(self) -> GovernanceConfig:
        named = [self.rotation.calendar, *(e.calendar for e in self.engineers.values())]
        unknown = sorted({c for c in named if c is not None and c not in self.public_holidays})
        if unknown:
            known = ", ".join(self.public_holidays) or "none declared"
            raise ValueError(
                f"unknown public-holiday calendar {', '.join(unknown)}; declared: {known}"
            )
        return self

    def calendar_of(self, engineer: str) -> str | None:
        """The public-holiday calendar an engineer follows (theirs, else the rotation's)."""
        own = self.engineers[engineer].calendar if engineer in self.engineers else None
        return own or self.rotation.calendar

    def pipeline(self, name: str) -> Pipeline:
        """The named pipeline; KeyError listing the known ones otherwise."""
        try:
            return self.pipelines[name]
        except KeyError:
            raise KeyError(
                f"unknown pipeline '{name}'; known: {', '.join(self.pipelines)}"
            ) from None

    def escalate_after(self, pipeline: str) -> timedelta:
        """How long an approval may go unanswered before escalation, for this pipeline."""
        p = self.pipeline(pipeline)
        if p.escalate_after is not None:
            return p.escalate_after
        return self.escalation.investor_reporting if p.investor_reporting else self.escalation.other

    def sla_thresholds(self) -> tuple[float, ...]:
        """Notification thresholds as fractions of the SLA, ascending."""
        return tuple(sorted({p / 100 for p in self.sla_notify_at}))
