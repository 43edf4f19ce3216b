"""A small Confluence on a free loopback port, for the mirror's tests (no real one is reachable).

It implements the REST endpoints the `atlassian-python-api` client calls for pages and
content properties, as Atlassian's Confluence Server/Data Center REST API documents them
(`/rest/api/content`: find by space and title, create, read, history, child pages, update
with the next version number or 409; `/rest/api/content/{id}/property[/{key}]`: create, read,
update with the next property version or 409; `/rest/api/content/{id}/child/attachment`: list
(by `filename`), create from a multipart `file` (403 without `X-Atlassian-Token: no-check`,
400 for a name the page already has), `.../{attachmentId}/data` for a new version, and each
attachment's `_links.download` under `/download/attachments/`). It keeps every version's body
and every attachment version's bytes, so a test can see which pages and images a publication
changed, and `edit` / `replace_attachment` change them the way a person in Confluence would.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlparse

from tests.loopback_http import loopback_server

API = "/rest/api/content"
DOWNLOAD = "/download/attachments/"


@dataclass
class StoredAttachment:
    """An attachment of a page with every version's bytes."""

    id: str
    page_id: str
    title: str
    media_type: str
    versions: list[bytes]

    def as_json(self) -> dict[str, Any]:
        link = f"{DOWNLOAD}{self.page_id}/{quote(self.title)}?version={len(self.versions)}&api=v2"
        return {
            "id": self.id,
            "type": "attachment",
            "status": "current",
            "title": self.title,
            "version": {"number": len(self.versions)},
            "metadata": {"mediaType": self.media_type},
            "extensions": {"mediaType": self.media_type, "fileSize": len(self.versions[-1])},
            "_links": {"download": link},
        }


@dataclass
class Page:
    """A page with its versions' bodies (storage format), parent and content properties."""

    id: str
    space: str
    title: str
    parent: str | None
    bodies: list[str]
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: dict[str, StoredAttachment] = field(default_factory=dict)  # by file name

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

    def attachment(self, title: str, name: str) -> StoredAttachment:
        return self.by_title(title).attachments[name]

    def replace_attachment(self, title: str, name: str, content: bytes) -> None:
        """A person uploading another file under the same name: a new attachment version."""
        self.attachment(title, name).versions.append(content)

    def store_attachment(self, page: Page, name: str, media_type: str, content: bytes) -> None:
        attached = StoredAttachment(f"att{next(self._ids)}", page.id, name, media_type, [content])
        page.attachments[name] = attached


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

        def _uploaded_file(self) -> tuple[str, str, bytes] | str:
            """The multipart `file` part (name, media type, bytes), or why it is refused."""
            if self.headers.get("X-Atlassian-Token") != "no-check":
                return "XSRF check failed: send X-Atlassian-Token: no-check"
            kind = self.headers.get("Content-Type", "")
            if not kind.startswith("multipart/form-data"):
                return f"an attachment is uploaded as multipart/form-data, not {kind or 'nothing'}"
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            form = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {kind}\r\n\r\n".encode() + raw
            )
            for part in form.iter_parts():
                if part.get_param("name", header="content-disposition") == "file":
                    content = part.get_payload(decode=True) or b""
                    return part.get_filename() or "", part.get_content_type(), content
            return "no multipart part named 'file'"

        def _create_attachment(
            self, page: Page | None, parts: list[str], _: dict[str, str]
        ) -> None:
            assert page is not None
            if parts[1:] != ["child", "attachment"]:
                return self._reply(404, {"message": "not found"})
            upload = self._uploaded_file()
            if isinstance(upload, str):
                return self._reply(403 if "XSRF" in upload else 400, {"message": upload})
            name, media_type, content = upload
            if name in page.attachments:
                message = (
                    "Cannot add a new attachment with same file name as an existing attachment: "
                    + name
                )
                return self._reply(400, {"message": message})
            state.store_attachment(page, name, media_type, content)
            doc = page.attachments[name].as_json()
            self._reply(200, {"results": [doc], "size": 1})

        def _update_attachment_data(
            self, page: Page | None, parts: list[str], _: dict[str, str]
        ) -> None:
            assert page is not None
            attached = next((a for a in page.attachments.values() if a.id == parts[3]), None)
            if parts[1:3] != ["child", "attachment"] or parts[4] != "data" or attached is None:
                return self._reply(404, {"message": "no such attachment"})
            upload = self._uploaded_file()
            if isinstance(upload, str):
                return self._reply(403 if "XSRF" in upload else 400, {"message": upload})
            attached.versions.append(upload[2])
            self._reply(200, attached.as_json())

        def _download(self, rest: str, query: dict[str, str]) -> None:
            page_id, _, name = rest.partition("/")
            page = state.pages.get(page_id)
            attached = page.attachments.get(unquote(name)) if page else None
            if attached is None:
                return self._reply(404, {"message": f"no attachment {rest}"})
            version = int(query.get("version", len(attached.versions)))
            data = attached.versions[version - 1]
            self.send_response(200)
            self.send_header("Content-Type", attached.media_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> None:
            url = urlparse(self.path)
            state.requests.append((method, url.path))
            if not self.headers.get("Authorization", "").startswith("Basic "):
                return self._reply(401, {"message": "authentication required"})
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            if method == "GET" and url.path.startswith(DOWNLOAD):
                return self._download(url.path.removeprefix(DOWNLOAD), query)
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
                ("POST", 3): self._create_attachment,
                ("POST", 5): self._update_attachment_data,
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
            links = {"base": state.url, "context": ""}
            if parts[1:] == ["child", "page"]:
                children = [p.as_json() for p in state.pages.values() if p.parent == page.id]
                return self._reply(
                    200, {"results": children, "size": len(children), "_links": links}
                )
            if parts[1:] == ["child", "attachment"]:
                found = [
                    a.as_json()
                    for a in page.attachments.values()
                    if query.get("filename") in (None, a.title)
                ]
                return self._reply(200, {"results": found, "size": len(found), "_links": links})
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
