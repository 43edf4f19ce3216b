"""One line for each way a Prefect API call fails, saying what to do about it.

Clients (`runbook emit`, `serve`, `approve`, the pipeline flows' emitter) meet three failures
that a traceback explains badly: no API configured (Prefect would quietly start a throwaway
server in-process), a server that cannot be reached, and a server with basic auth that
answers 401 because the client has no `PREFECT_API_AUTH_STRING`.
"""

from __future__ import annotations

import httpx

AUTH_HINT = (
    "the Prefect server requires a login: set PREFECT_API_AUTH_STRING=user:password "
    "(the server's PREFECT_SERVER_API_AUTH_STRING)"
)
NO_API_HINT = (
    "no Prefect API configured: set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api) to the "
    "server that runs the recoveries"
)


def api_url() -> str | None:
    """The configured PREFECT_API_URL (None: Prefect would run a server in this process)."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def explain(exc: BaseException, url: str | None) -> str | None:
    """One line for an error of a call to the Prefect API at `url`; None if it is not one."""
    from prefect.exceptions import PrefectHTTPStatusError

    if isinstance(exc, PrefectHTTPStatusError | httpx.HTTPStatusError):
        return explain_response(exc.response, url)
    if isinstance(exc, httpx.HTTPError):
        detail = str(exc)
        return f"cannot reach the Prefect server at {url}: {type(exc).__name__}" + (
            f": {detail}" if detail else ""
        )
    return None


def explain_response(response: httpx.Response, url: str | None) -> str:
    """One line for a refusing answer of the Prefect API."""
    if response.status_code == 401:
        return f"401 Unauthorized from {url}: {AUTH_HINT}"
    if response.status_code == 403:
        return f"403 Forbidden from {url}: PREFECT_API_AUTH_STRING's login is refused"
    text = response.text[:200]
    return f"the Prefect server at {url} answered HTTP {response.status_code}: {text}"


async def api_problem() -> str | None:
    """Why the configured Prefect API cannot be used right now (one line), or None.

    Asks `/hello`, which (unlike `/health`) the server's basic auth protects, so a missing
    or wrong login shows here and not halfway through a command.
    """
    from prefect.client.orchestration import get_client

    url = api_url()
    if url is None:
        return NO_API_HINT
    try:
        async with get_client() as client:
            response = await client.hello()
    except Exception as exc:  # only API errors are explained; anything else propagates
        if (line := explain(exc, url)) is None:
            raise
        return line
    return None if response.is_success else explain_response(response, url)
