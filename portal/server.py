"""Running the portal: in the foreground for `runbook portal serve`, or in a background
thread on a free loopback port for tests and demos (`PortalServer`)."""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

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


class PortalServer:
    """A portal served by uvicorn in a daemon thread; use as a context manager.

    The listening socket is bound before the server starts, so the port is known and free
    of races; `url` is the base URL to give a `PortalClient`. `build` makes the app served
    (the product portal by default; `faults.portal_layer.portal_with_faults` for drills).
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
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = uvicorn.Server(
            uvicorn.Config(
                build(config),
                log_level="warning",
                timeout_graceful_shutdown=2,
                lifespan="on",
            )
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> PortalServer:
        """Start serving and wait until the server accepts requests."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"portal server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
