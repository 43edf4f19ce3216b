"""The portal's admin fault API, from the outside: replace, read and clear its fault plan.

A portal served with faults (`faults.portal_layer`) answers `/admin/faults`; this client is the
one caller, used by `runbook portal faults ...` and the tests. It never retries: an admin
call that fails should say so at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from faults.portal_plan import FAULT_RULE, FaultRule, FaultState
from portal.errors import PortalUnavailableError, error_for_status
from portal.retry import TRANSIENT_STATUSES


class PortalFaultAdmin:
    """Talks to one portal's fault plan with the admin token; a context manager."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def set_faults(self, rules: FaultRule | Mapping[str, Any] | list[Any]) -> list[FaultState]:
        """Replace the portal's fault plan; rules apply in order."""
        items = rules if isinstance(rules, list) else [rules]
        payload = [
            FAULT_RULE.validate_python(r).model_dump(mode="json")
            if isinstance(r, Mapping)
            else r.model_dump(mode="json")
            for r in items
        ]
        response = self._request("POST", json=payload)
        return [FaultState.model_validate(item) for item in response.json()]

    def faults(self) -> list[FaultState]:
        """The current fault plan with what is left of each rule."""
        return [FaultState.model_validate(item) for item in self._request("GET").json()]

    def clear_faults(self) -> None:
        """Clear the fault plan: the portal behaves again."""
        self._request("DELETE")

    def _request(self, method: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, "/admin/faults", **kwargs)
        except httpx.TransportError as exc:
            raise PortalUnavailableError(f"{method} /admin/faults: {exc}") from exc
        if response.status_code < 400:
            return response
        detail = _detail(response)
        if response.status_code in TRANSIENT_STATUSES:
            raise PortalUnavailableError(
                f"{method} /admin/faults: HTTP {response.status_code}: {detail}",
                status=response.status_code,
            )
        raise error_for_status(response.status_code, detail)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> PortalFaultAdmin:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    return str(body.get("detail") or body) if isinstance(body, dict) else str(body)
