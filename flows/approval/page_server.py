"""The approval page served by uvicorn in a daemon thread (`runbook serve`, the tests).

The listening socket is bound before the server starts, so the port is known (and can be
put in the links the gate sends) before the first request.
"""

from __future__ import annotations

import contextvars
import socket
import threading
import time
from types import TracebackType

import uvicorn

from flows.approval.page import approval_page
from foundation.settings import ApprovalSettings
from governance.ledger.audit_ledger import Ledger


class ApprovalPageServer:
    """`approval_page(ledger, approval)` on `host:port` (0: any free port) until `stop()`."""

    def __init__(
        self, ledger: Ledger, approval: ApprovalSettings, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            approval_page(ledger, approval), log_level="warning", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ApprovalPageServer:
        """Start serving and wait until the server accepts requests; the page's thread sees
        the settings of the caller (e.g. the Prefect API a block points at)."""
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run,
            args=(self._server.run,),
            kwargs={"sockets": [self._socket]},
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the approval page did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> ApprovalPageServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
