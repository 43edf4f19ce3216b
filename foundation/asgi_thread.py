"""An ASGI app served by uvicorn in a daemon thread, on a socket bound before it starts.

The portal in tests and demos, and the approval page in `runbook serve`, both need a
server whose port is known before the first request (it goes into links and clients) and
that stops cleanly with the process that runs it. Binding the socket first removes the
race of picking a free port and then listening on it.
"""

from __future__ import annotations

import contextvars
import functools
import socket
import threading
import time
from types import TracebackType
from typing import Literal, Self

import uvicorn
from starlette.types import ASGIApp

Lifespan = Literal["auto", "on", "off"]


class ThreadedAsgiServer:
    """`app` on `host:port` (0: any free port) in a daemon thread until `stop()`.

    `lifespan` is uvicorn's setting ("on" when the app must run its startup before serving).
    With `copy_context`, the thread runs in a copy of the caller's context variables, so an
    app that calls Prefect sees the settings (API URL, profile) the caller runs under.
    """

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        name: str = "server",
        lifespan: Lifespan = "auto",
        copy_context: bool = False,
    ) -> None:
        self.name = name
        self._copy_context = copy_context
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2, lifespan=lifespan)
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Start serving and return once the server accepts requests."""
        serve = functools.partial(self._server.run, sockets=[self._socket])
        if self._copy_context:
            serve = functools.partial(contextvars.copy_context().run, serve)
        self._thread = threading.Thread(
            target=serve,
            daemon=True,
            name=self.name,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} did not start on {self.url}")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
