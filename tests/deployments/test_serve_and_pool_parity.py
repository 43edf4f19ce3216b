"""What `runbook serve` registers on a Prefect server equals what `prefect deploy --all` of the
generated prefect.yaml registers: every deployment, trigger, schedule, parameter, tag and
concurrency limit, read back from a real server after each."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client

from deployments.application import RecoveryApplication
from deployments.prefect_yaml import WORK_POOL, write_prefect_yaml
from tests.prefect_servers import postgres_prefect_server

pytestmark = [pytest.mark.prefect, pytest.mark.postgres, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]


async def registered() -> dict[str, dict[str, Any]]:
    """Every deployment on the server with its triggers' automations, comparable by name."""
    seen: dict[str, dict[str, Any]] = {}
    async with get_client() as client:
        for deployment in await client.read_deployments():
            flow = await client.read_flow(deployment.flow_id)
            automations = await client.read_resource_related_automations(
                f"prefect.deployment.{deployment.id}"
            )
            seen[f"{flow.name}/{deployment.name}"] = {
                "entrypoint": _entrypoint(deployment.entrypoint or ""),
                "description": deployment.description,
                "tags": sorted(deployment.tags),
                "parameters": deployment.parameters,
                "concurrency": deployment.global_concurrency_limit.limit
                if deployment.global_concurrency_limit
                else None,
                "collision": deployment.concurrency_options.collision_strategy
                if deployment.concurrency_options
                else None,
                "schedules": sorted(_schedule(s.schedule) for s in deployment.schedules),
                "triggers": sorted((_trigger(a) for a in automations), key=repr),
            }
    return seen


def _entrypoint(entrypoint: str) -> str:
    """`flows/operations/sla_watch.py:sla_watch` and `flows.operations.sla_watch.sla_watch`
    name the same flow."""
    if ":" in entrypoint:
        path, attribute = entrypoint.split(":")
        return f"{path.removesuffix('.py').replace('/', '.')}.{attribute}"
    return entrypoint


def _schedule(schedule: Any) -> str:
    if hasattr(schedule, "interval"):
        return f"every {schedule.interval.total_seconds():g} s"
    return f"cron {schedule.cron} {schedule.timezone}"


def _trigger(automation: Any) -> dict[str, Any]:
    trigger = automation.trigger.model_dump(mode="json", exclude={"id"})
    actions = [
        a.model_dump(mode="json", exclude={"deployment_id", "source"}) for a in automation.actions
    ]
    return {"name": automation.name, "trigger": trigger, "actions": actions}


async def served_side(app: RecoveryApplication) -> None:
    """What `runbook serve` does with the application's deployments before it starts its runner."""
    for plan in app.deployments():
        await plan.runner_deployment().aapply()


async def forget_deployments() -> None:
    async with get_client() as client:
        for deployment in await client.read_deployments():
            for automation in await client.read_resource_related_automations(
                f"prefect.deployment.{deployment.id}"
            ):
                await client.delete_automation(automation.id)
            await client.delete_deployment(deployment.id)


def test_prefect_deploy_of_the_generated_file_registers_exactly_what_serve_registers(
    tmp_path: Path,
) -> None:
    app = RecoveryApplication.load()
    with postgres_prefect_server("runbook_parity") as server:
        asyncio.run(served_side(app))
        by_serve = asyncio.run(registered())
        asyncio.run(forget_deployments())
        assert asyncio.run(registered()) == {}

        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
            "PREFECT_API_URL": server.api_url,
            "PREFECT_HOME": str(tmp_path / "home"),
            "RUNBOOK_PROJECT_DIR": str(ROOT),
        }
        prefect = [sys.executable, "-m", "prefect", "--no-prompt"]
        for command in (
            [*prefect, "work-pool", "create", WORK_POOL, "--type", "process"],
            [
                *prefect,
                "deploy",
                "--all",
                "--prefect-file",
                str(write_prefect_yaml(app, tmp_path / "prefect.yaml")),
            ],
        ):
            done = subprocess.run(
                command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        by_pool = asyncio.run(registered())

    assert sorted(by_pool) == sorted(by_serve) == sorted(p.full_name for p in app.deployments())
    for name in by_serve:
        assert by_pool[name] == by_serve[name], name
    profit = by_serve["aggregate-profit/aggregate-profit"]
    assert profit["concurrency"] == 4 and len(profit["triggers"]) == 1
    assert by_serve["incident-sync/incident-sync"]["triggers"]
    assert by_serve["incident-report/weekly"]["schedules"] == ["cron 0 9 * * 1 Europe/London"]
    assert by_serve["sla-watch/sla-watch"]["schedules"] == ["every 60 s"]
