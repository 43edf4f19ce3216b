"""Running the portal: in the foreground for `runbook portal serve`, or in a background
thread on a free loopback port for tests and demos (`PortalServer`)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from foundation.asgi_thread import ThreadedAsgiServer
from portal.app import create_app
from portal.config import PortalConfig

AppBuilder = Callable[[PortalConfig], ASGIApp]


def serve(
    config: PortalConfig,
    host: str,
    port: int,
    *,
    workers: int = 1,
    log_level: str = "info",
    build: AppBuilder = create_app,
    factory: str = "portal.app:app_from_settings",
) -> None:
    """Serve until interrupted; several workers share the database.

    `build` makes the app in this process, `factory` (its import path, reading the settings)
    in each worker process; the fault layer passes its own pair.
    """
    if workers == 1:
        uvicorn.run(build(config), host=host, port=port, log_level=log_level)
        return
    # Worker processes build the app from settings: hand the configuration over in an env
    # file uvicorn loads for them (in a private temporary folder: it holds the token).
    with tempfile.TemporaryDirectory(prefix="portal-") as folder:
        env_file = Path(folder) / "portal.env"
        env_file.write_text(
            f"RUNBOOK_PORTAL_DB_URL={json.dumps(config.db_url)}\n"
            f"RUNBOOK_PORTAL_TOKEN={json.dumps(config.token)}\n",
            encoding="utf-8",
        )
        uvicorn.run(
            factory,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            env_file=env_file,
        )


class PortalServer(ThreadedAsgiServer):
    """A portal served by uvicorn in a daemon thread; use as a context manager.

    `url` is the base URL to give a `PortalClient`. `build` makes the app served (the product
    portal by default; `faults.portal_layer.portal_with_faults` for drills).
    """

    def __init__(
        self,
        config: PortalConfig,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        build: AppBuilder = create_app,
    ) -> None:
        self.config = config
        super().__init__(build(config), host, port, name="portal server", lifespan="on")
