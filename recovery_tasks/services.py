"""The services one runbook run hands to its steps (Dagster's resources, SQLMesh's context).

A step type receives everything it touches through `ctx.services`: engines cached per URL
(with the dialect's settings) and disposed when the run ends, the audit ledger, the incident
recorder (the one writer of the incident's story), a governance snapshot taken when the run
started, a portal client factory, the notifier and the approval gate. Steps never look
settings up, so tests and the demo hand a run whatever services they need.

The services are frozen and complete: a run that keeps no story gets a recorder that opens
no incident (`UnrecordedRun`), a command gets a gate that refuses to pause (`no_gate`), so no
caller checks for a missing service. A variant is a copy (`dataclasses.replace`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from foundation.engines import EngineCache
from foundation.plugins import load_plugins
from foundation.settings import AppSettings, get_settings
from governance.config import load_governance
from governance.incidents.recorder import IncidentRecorder
from governance.incidents.unrecorded import UnrecordedRun
from governance.ledger.audit_ledger import Ledger
from governance.models import GovernanceConfig
from governance.notification.notify import Notifier
from portal.client import PortalClient
from recovery_tasks.errors import TerminalStepError
from warehouse.db import Platform


class ApprovalGate(Protocol):
    """Pauses a run until enough authorized answers arrive (provided by the flow layer).

    `ctx` is the gate step's `recovery_tasks.context.StepContext`; it is not named here
    because the context holds these services, and the two modules stay one-way.
    """

    def __call__(self, params: Any, ctx: Any) -> Awaitable[Any]: ...


async def no_gate(params: Any, ctx: Any) -> Any:
    """The gate of services that were given none (a command's): a step that pauses fails."""
    raise TerminalStepError(f"step {ctx.step_id}: this run has no approval gate service")


PortalFactory = Callable[["RunServices"], PortalClient]
ServicesPlugin = Callable[["RunServices"], "RunServices"]
_plugins: dict[str, ServicesPlugin] = {}


def settings_portal(services: RunServices) -> PortalClient:
    """A client of the configured portal."""
    portal = services.settings.portal
    return PortalClient(portal.portal_url, portal.portal_token)


def register_services_plugin(name: str, plugin: ServicesPlugin | None) -> None:
    """Have `plugin` vary the services of every run opened from now on (None removes it)."""
    if plugin is None:
        _plugins.pop(name, None)
    else:
        _plugins[name] = plugin


@dataclass(frozen=True)
class RunServices:
    """Everything a run's steps may use; `close()` releases it when the run ends."""

    settings: AppSettings
    engines: EngineCache
    governance: GovernanceConfig
    ledger: Ledger
    recorder: IncidentRecorder
    gate: ApprovalGate = no_gate
    ui_url: str | None = None
    portal_factory: PortalFactory = settings_portal
    _built: dict[str, Platform] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def open(
        cls,
        settings: AppSettings | None = None,
        *,
        record: bool = True,
        gate: ApprovalGate | None = None,
        ui_url: str | None = None,
        governance: GovernanceConfig | None = None,
    ) -> RunServices:
        """Services from settings; with `record`, an incident recorder on the ledger.

        `governance` hands in a snapshot already loaded (a command's `--governance` file).
        """
        settings = settings or get_settings()
        load_plugins(settings.runbooks.plugin_modules())
        engines = EngineCache()
        try:
            governance = governance or load_governance(settings.governance.governance_file)
            ledger = audit_ledger(settings, engines)
        except BaseException:
            engines.close()
            raise
        recorder = (IncidentRecorder if record else UnrecordedRun)(ledger, governance)
        services = cls(settings, engines, governance, ledger, recorder, gate or no_gate, ui_url)
        for plugin in list(_plugins.values()):
            services = plugin(services)
        return services

    def platform(self) -> Platform:
        """The warehouse and source engines, built once for the run."""
        if "platform" not in self._built:
            self._built["platform"] = Platform.from_settings(self.settings, self.engines)
        return self._built["platform"]

    def portal(self) -> PortalClient:
        """A new portal client (use it as a context manager)."""
        return self.portal_factory(self)

    def story(self) -> IncidentRecorder:
        """The run's incident recorder; one bound to no incident when the run keeps no story
        (it then records only what needs no incident, such as notification attempts)."""
        return self.recorder

    def notifier(self) -> Notifier:
        """Sends to engineers by name; every attempt goes into the incident's story."""
        notify = self.settings.notify
        return Notifier(
            self.governance, self.story(), smtp_url=notify.smtp_url, smtp_from=notify.smtp_from
        )

    @property
    def output_dir(self) -> Path:
        """Where reports and feeds are written."""
        return self.settings.output_dir()

    def close(self) -> None:
        """Dispose every engine the run opened."""
        self.engines.close()

    def __enter__(self) -> RunServices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def audit_ledger(settings: AppSettings, engines: EngineCache) -> Ledger:
    """The audit ledger on the run's engine for the configured URL: the one place it is built."""
    return Ledger(engines.get(settings.audit_url()))
