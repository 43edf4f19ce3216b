"""Delivery through Apprise: an engineer's contacts as Apprise URLs, and one send per message.

Apprise speaks Slack, Teams, email, PagerDuty, generic JSON webhooks and many more from one URL
each (`slack://...`, `msteams://...`, `mailto://...`, `json://host/path`), and reports the
outcome of every service it was asked to reach. An engineer's `notify:` URLs are used as
written; the older contacts map onto Apprise: `webhook: http(s)://...` is `json(s)://...`, and
`email:` is `mailto(s)://` on the configured SMTP server (without one the attempt is recorded
as not delivered, so the audit shows nobody was reached that way).

JSON, form and XML webhooks also receive the message's structured fields (reason, incident,
pipeline, link) beside Apprise's title and message. Sending blocks: async callers use a thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

from governance.models import Engineer
from governance.notification.messages import Message

if TYPE_CHECKING:
    from apprise import Apprise

NO_SMTP = "no SMTP configured (set RUNBOOK_SMTP_URL)"
FIELD_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
_WEBHOOK_SCHEMES = {"http": "json", "https": "jsons"}
_MAIL_SCHEMES = {"smtp": "mailto", "smtps": "mailtos"}


@dataclass(frozen=True)
class Route:
    """One way to reach one engineer: the Apprise URL, or why there is none."""

    channel: str  # the URL's scheme: json, mailto, slack, msteams ...
    target: str  # what the ledger shows: the address, webhook or URL without secrets
    url: str | None
    problem: str | None = None


@dataclass(frozen=True)
class Attempt:
    """The outcome of one route for one message."""

    route: Route
    delivered: bool
    detail: str


def routes(contact: Engineer, smtp_url: str | None, smtp_from: str) -> list[Route]:
    """Every way the governance file says this engineer can be reached, in a stable order."""
    found: list[Route] = []
    if contact.webhook is not None:
        hook = str(contact.webhook)
        parts = urlsplit(hook)
        apprise_url = urlunsplit(parts._replace(scheme=_WEBHOOK_SCHEMES[parts.scheme]))
        found.append(Route(_WEBHOOK_SCHEMES[parts.scheme], hook, apprise_url))
    if contact.email is not None:
        found.append(_mail_route(contact.email, smtp_url, smtp_from))
    for url in contact.notify:
        found.append(Route(_scheme(url), masked(url), url))
    return found


def _mail_route(address: str, smtp_url: str | None, smtp_from: str) -> Route:
    if not smtp_url:
        return Route("mailto", address, None, NO_SMTP)
    parts = urlsplit(smtp_url)
    scheme = _MAIL_SCHEMES.get(parts.scheme)
    if scheme is None:
        problem = f"RUNBOOK_SMTP_URL must be smtp:// or smtps://, not {parts.scheme}://"
        return Route("mailto", address, None, problem)
    query = f"to={quote(address, safe='@')}&from={quote(smtp_from, safe='@')}"
    return Route(scheme, address, urlunsplit((scheme, parts.netloc, "", query, "")))


def deliver(routes: Sequence[Route], message: Message, timeout: float) -> list[Attempt]:
    """Send `message` on every route at once; one attempt per route, in the routes' order.

    Two contacts with the same URL are sent to once; both attempts record that outcome.
    """
    import apprise  # deferred: ~0.4 s to import, paid only by processes that send

    sender = apprise.Apprise()
    sent_by: dict[str, list[int]] = {}  # Apprise's id of a URL -> the routes it serves
    outcome: dict[int, Attempt] = {}
    for i, route in enumerate(routes):
        if route.url is None:
            outcome[i] = Attempt(route, False, route.problem or "no URL")
            continue
        plugin = apprise.Apprise.instantiate(_with_fields(route.url, message))
        if plugin is None:
            outcome[i] = Attempt(route, False, "not a URL Apprise knows")
            continue
        key = plugin.url_id() or f"route-{i}"
        if key not in sent_by:
            sender.add(plugin)
        sent_by.setdefault(key, []).append(i)
    for result in _send(sender, message, timeout) if sent_by else []:
        for i in sent_by.get(result.url_id or "", []):
            outcome[i] = Attempt(routes[i], bool(result), _detail(result))
    return [  # dispatched yet unreported: never count it as sent
        outcome.get(i, Attempt(route, False, "no outcome reported"))
        for i, route in enumerate(routes)
    ]


def _send(sender: Apprise, message: Message, timeout: float) -> list:
    return list(
        sender.notify(
            body=message.body, title=message.title, notify_type=message.severity, timeout=timeout
        )
    )


def _detail(result: object) -> str:
    """Why a service failed (its last warning), or that it was sent."""
    if bool(result):
        return "sent"
    messages = [entry.message for entry in result.logs()]  # type: ignore[attr-defined]
    status = getattr(getattr(result, "status", None), "name", "FAILURE").lower()
    return messages[-1].strip() if messages else status


def _with_fields(url: str, message: Message) -> str:
    """For JSON/form/XML webhooks, the message's fields as Apprise payload extras (`:key=`)."""
    if _scheme(url) not in FIELD_SCHEMES:
        return url
    extras = "&".join(f":{k}={quote(v, safe='')}" for k, v in message.fields().items())
    return f"{url}{'&' if '?' in url else '?'}{extras}"


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].lower()


def masked(url: str) -> str:
    """The URL as the ledger may show it: Apprise's private form, without its options."""
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    shown = plugin.url(privacy=True) if plugin is not None else f"{_scheme(url)}://..."
    return shown.split("?", 1)[0][:500]
