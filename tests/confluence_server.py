"""A small Confluence on a free loopback port, for the mirror's tests (no real one is reachable).

It implements the REST endpoints the `atlassian-python-api` client calls for pages and
content properties, as Atlassian's Confluence Server/Data Center REST API documents them
(`/rest/api/content`: find by space and title, create, read, history, child pages, update
with the next version number or 409; `/rest/api/content/{id}/property[/{key}]`: create, read,
update with the next property version or 409). It keeps every version's body, so a test can
see which pages a publication changed, and `edit` changes a page the way a person in
Confluence would.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.loopback_http import loopback_server

API = "/rest/api/content"


@dataclass
class Page:
    """A page with its versions' bodies (storage format), parent and content properties."""

    id: str
    space: str
    title: str
    parent: str | None
    bodies: list[str]
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def version(self) -> int:
        return len(self.bodies)

    def as_json(self, expand: str = "") -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "type": "page",
            "status": "current",
            "title": self.title,
            "space": {"key": self.space},
            "version": {"number": self.version},
            "ancestors": [{"id": self.parent, "type": "page"}] if self.parent else [],
        }
        if "body.storage" in expand:
            doc["body"] = {"storage": {"value": self.bodies[-1], "representation": "storage"}}
        return doc


@dataclass
class FakeConfluence:
    """The server's state: pages by id, and the base URL once it listens."""

    url: str = ""
    pages: dict[str, Page] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1001))

    def add_page(self, space: str, title: str, body: str, parent: str | None = None) -> Page:
        page = Page(str(next(self._ids)), space, title, parent, [body])
        self.pages[page.id] = page
        return page

    def by_title(self, title: str) -> Page:
        return next(p for p in self.pages.values() if p.title == title)

    def edit(self, title: str, body: str) -> None:
        """A person's edit in Confluence: a new version of the page."""
        self.by_title(title).bodies.append(body)


def _handler(state: FakeConfluence) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, status: int, doc: Any = None) -> None:
            data = json.dumps(doc if doc is not None else {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length", 0))
            return json.loads(self.rfile.read(length) or b"{}")

        def _route(self, method: str) -> None:
            url = urlparse(self.path)
            state.requests.append((method, url.path))
            if not self.headers.get("Authorization", "").startswith("Basic "):
                return self._reply(401, {"message": "authentication required"})
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            parts = url.path.rstrip("/").removeprefix(API).strip("/").split("/")
            parts = [p for p in parts if p]
            if not url.path.startswith(API):
                return self._reply(404, {"message": f"no such endpoint {url.path}"})
            handler = {
                ("GET", 0): self._find,
                ("POST", 0): self._create,
                ("GET", 1): self._read,
                ("PUT", 1): self._update,
                ("GET", 2): self._history,
                ("POST", 2): self._create_property,
                ("GET", 3): self._read_below,
                ("PUT", 3): self._update_property,
            }.get((method, len(parts)))
            if handler is None:
                return self._reply(405, {"message": f"{method} {url.path} not implemented"})
            page = state.pages.get(parts[0]) if parts else None
            if parts and page is None:
                return self._reply(404, {"message": f"no content with id {parts[0]}"})
            handler(page, parts, query)

        def _find(self, _: Page | None, __: list[str], query: dict[str, str]) -> None:
            found = [
                p.as_json(query.get("expand", ""))
                for p in state.pages.values()
                if p.space == query.get("spaceKey") and p.title == query.get("title")
            ]
            self._reply(200, {"results": found, "size": len(found), "start": 0, "limit": 25})

        def _create(self, _: Page | None, __: list[str], ___: dict[str, str]) -> None:
            doc = self._body()
            space, title = doc["space"]["key"], doc["title"]
            if any(p.space == space and p.title == title for p in state.pages.values()):
                return self._reply(400, {"message": f"a page titled '{title}' already exists"})
            parent = (doc.get("ancestors") or [{}])[-1].get("id")
            page = state.add_page(space, title, doc["body"]["storage"]["value"], parent)
            self._reply(200, page.as_json("body.storage"))

        def _read(self, page: Page | None, _: list[str], query: dict[str, str]) -> None:
            assert page is not None
            self._reply(200, page.as_json(query.get("expand", "")))

        def _update(self, page: Page | None, _: list[str], __: dict[str, str]) -> None:
            assert page is not None
            doc = self._body()
            if doc["version"]["number"] != page.version + 1:
                return self._reply(409, {"message": f"version must be {page.version + 1}"})
            page.title = doc["title"]
            if doc.get("ancestors"):
                page.parent = doc["ancestors"][-1]["id"]
            page.bodies.append(doc["body"]["storage"]["value"])
            self._reply(200, page.as_json("body.storage"))

        def _history(self, page: Page | None, parts: list[str], _: dict[str, str]) -> None:
            assert page is not None
            if parts[1] != "history":
                return self._reply(404, {"message": "not found"})
            self._reply(200, {"latest": True, "lastUpdated": {"number": page.version}})

        def _create_property(self, page: Page | None, parts: list[str], _: dict[str, str]) -> None:
            assert page is not None and parts[1] == "property"
            doc = self._body()
            if doc["key"] in page.properties:
                return self._reply(400, {"message": "the content already has this key"})
            page.properties[doc["key"]] = {**doc, "version": {"number": 1}}
            self._reply(200, page.properties[doc["key"]])

        def _read_below(self, page: Page | None, parts: list[str], query: dict[str, str]) -> None:
            """`{id}/child/page` (the page's children) or `{id}/property/{key}`."""
            assert page is not None
            if parts[1:] == ["child", "page"]:
                children = [p.as_json() for p in state.pages.values() if p.parent == page.id]
                links = {"base": state.url, "context": ""}
                return self._reply(
                    200, {"results": children, "size": len(children), "_links": links}
                )
            prop = page.properties.get(parts[2])
            if parts[1] != "property" or prop is None:
                return self._reply(404, {"message": "no such property"})
            self._reply(200, prop)

        def _update_property(self, page: Page | None, parts: list[str], _: dict[str, str]) -> None:
            assert page is not None
            prop = page.properties.get(parts[2])
            if prop is None:
                return self._reply(404, {"message": "no such property"})
            doc = self._body()
            expected = prop["version"]["number"] + 1
            if (doc.get("version") or {}).get("number") != expected:
                return self._reply(409, {"message": f"property version must be {expected}"})
            page.properties[parts[2]] = {**doc, "version": {"number": expected}}
            self._reply(200, page.properties[parts[2]])

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PUT(self) -> None:
            self._route("PUT")

    return Handler


@contextmanager
def confluence_server() -> Iterator[FakeConfluence]:
    """A running fake Confluence on 127.0.0.1 and a free port; stopped on exit."""
    state = FakeConfluence()
    with loopback_server(_handler(state)) as url:
        state.url = url
        yield state
