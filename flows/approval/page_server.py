"""The approval page served by uvicorn in a daemon thread (`runbook serve`, the tests).

The listening socket is bound before the server starts, so the port is known (and can be
put in the links the gate sends) before the first request.
"""

from __future__ import annotations

from flows.approval.page import approval_page
from foundation.asgi_thread import ThreadedAsgiServer
from foundation.settings import ApprovalSettings
from governance.ledger.audit_ledger import Ledger


class ApprovalPageServer(ThreadedAsgiServer):
    """`approval_page(ledger, approval)` on `host:port` (0: any free port) until `stop()`.

    The page's thread sees the settings of the caller (e.g. the Prefect API a block points
    at), so it resumes runs on the server the caller uses.
    """

    def __init__(
        self, ledger: Ledger, approval: ApprovalSettings, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(
            approval_page(ledger, approval), host, port, name="approval page", copy_context=True
        )
