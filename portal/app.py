"""The portal's HTTP API: publish with a bearer token and an idempotency key, list, read back.

Endpoints (reads are public, as an investor-facing page would be; writes need the token):

- `POST /api/reports/{pipeline}/{partition}`: body is the CSV report.
- `POST /api/feeds/{pipeline}/{partition}`: body is the JSON dashboard feed (an object).
  Both need `Authorization: Bearer <token>` and `Idempotency-Key`; they answer 201 with a
  receipt for a new version, 200 with the earlier receipt for a replay (header
  `Idempotent-Replayed: true`) or unchanged content, 409 when the key was used for
  different content.
- `POST /api/releases/{pipeline}/{partition}`: body is JSON `{"report": "<CSV text>",
  "feed": {...}}`, a report and its feed approved together; both are stored in one
  transaction (each under `<Idempotency-Key>:report` / `:feed`), so the portal holds both or
  neither. Answers `{"report": receipt, "feed": receipt}`, 201 when either is new.
- `GET /`: HTML listing; `GET /api/publications[?pipeline=]`: the same as JSON.
- `GET /api/publications/{pipeline}/{partition}`: the latest report and feed with content.
- `GET /api/publications/{pipeline}/{partition}/{kind}`: every version's receipt.
- `GET /api/publications/{pipeline}/{partition}/{kind}/content[?version=]`: the bytes.

The product portal does no fault work; drills and tests serve it behind the fault layer
(`faults.portal_layer`), which adds `/admin/faults`.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from portal.config import PortalConfig
from portal.content import MEDIA_TYPES, ContentError, Kind, count_csv_rows, parse_feed, sha256
from portal.database import portal_engine, require_portal_schema
from portal.html import render_listing
from portal.models import PublicationHistory, PublicationSummary, Receipt, ReleaseReceipt
from portal.storage import IdempotencyConflict, Outcome, PublicationStore, Upload

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
PipelineName = Annotated[str, Path(pattern=NAME_PATTERN)]
PartitionName = Annotated[str, Path(pattern=NAME_PATTERN)]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=255)]
REPORT_TYPES = {"", "text/csv", "text/plain", "application/octet-stream"}
FEED_TYPES = {"", "application/json"}


def check_token(authorization: str | None, expected: str) -> None:
    """401 unless `authorization` is `Bearer <expected>` (compared in constant time)."""
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            401, "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"}
        )


async def _read_body(request: Request, limit: int, allowed_types: set[str]) -> bytes:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in allowed_types:
        raise HTTPException(415, f"content type {media_type!r} not accepted here")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"upload exceeds {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"upload exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _upload(kind: Kind, pipeline: str, partition: str, data: bytes, key: str) -> Upload:
    """A validated upload: a CSV report as sent, a feed in canonical JSON."""
    try:
        rows = count_csv_rows(data) if kind == "report" else None
        content = data if kind == "report" else parse_feed(data)
    except ContentError as exc:
        raise HTTPException(422, str(exc)) from exc
    return Upload(
        pipeline=pipeline,
        partition=partition,
        kind=kind,
        content=content,
        sha256=sha256(content),
        content_type=MEDIA_TYPES[kind],
        rows=rows,
        idempotency_key=key,
    )


def _outcome_headers(outcomes: list[Outcome]) -> dict[str, str]:
    headers = {"Publication-Outcome": ",".join(o.value for o in outcomes)}
    if all(o is Outcome.REPLAYED for o in outcomes):
        headers["Idempotent-Replayed"] = "true"
    return headers


def create_app(config: PortalConfig) -> FastAPI:
    """The portal's FastAPI app on a migrated database (what `runbook portal serve` serves)."""
    engine = portal_engine(config.db_url)
    try:
        require_portal_schema(engine)  # no DDL here: `runbook portal serve` migrated it
    except Exception:
        engine.dispose()
        raise
    store = PublicationStore(engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    api = FastAPI(title="Investor portal", lifespan=lifespan)
    api.state.store = store

    def require_token(authorization: Annotated[str | None, Header()] = None) -> None:
        check_token(authorization, config.token)

    async def publish(
        request: Request, kind: Kind, pipeline: str, partition: str, key: str
    ) -> JSONResponse:
        data = await _read_body(
            request,
            config.max_upload_bytes,
            REPORT_TYPES if kind == "report" else FEED_TYPES,
        )
        upload = _upload(kind, pipeline, partition, data, key)
        ((receipt, outcome),) = await _store(upload)
        return JSONResponse(
            receipt.model_dump(mode="json"),
            status_code=201 if outcome is Outcome.CREATED else 200,
            headers=_outcome_headers([outcome]),
        )

    async def _store(*uploads: Upload) -> list[tuple[Receipt, Outcome]]:
        try:
            return await run_in_threadpool(store.publish_together, list(uploads))
        except IdempotencyConflict as exc:
            raise HTTPException(409, str(exc)) from exc

    @api.post("/api/releases/{pipeline}/{partition}", dependencies=[Depends(require_token)])
    async def publish_release(
        request: Request, pipeline: PipelineName, partition: PartitionName, key: IdempotencyKey
    ) -> JSONResponse:
        """Store a report and its feed as one release: both versions or neither."""
        data = await _read_body(request, 2 * config.max_upload_bytes, FEED_TYPES)
        try:
            body = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HTTPException(422, f"release is not valid JSON: {exc}") from exc
        if not isinstance(body, dict) or set(body) != {"report", "feed"}:
            raise HTTPException(422, 'a release is a JSON object {"report": "...", "feed": {...}}')
        if not isinstance(body["report"], str):
            raise HTTPException(422, "release report must be the CSV text, as a JSON string")
        report = _upload("report", pipeline, partition, body["report"].encode(), f"{key}:report")
        feed = _upload(
            "feed", pipeline, partition, json.dumps(body["feed"]).encode(), f"{key}:feed"
        )
        stored = await _store(report, feed)
        (report_receipt, report_outcome), (feed_receipt, feed_outcome) = stored
        release = ReleaseReceipt(report=report_receipt, feed=feed_receipt)
        outcomes = [report_outcome, feed_outcome]
        return JSONResponse(
            release.model_dump(mode="json"),
            status_code=201 if Outcome.CREATED in outcomes else 200,
            headers=_outcome_headers(outcomes),
        )

    @api.post("/api/reports/{pipeline}/{partition}", dependencies=[Depends(require_token)])
    async def publish_report(
        request: Request, pipeline: PipelineName, partition: PartitionName, key: IdempotencyKey
    ) -> JSONResponse:
        """Store a CSV report as the next version of (pipeline, partition, report)."""
        return await publish(request, "report", pipeline, partition, key)

    @api.post("/api/feeds/{pipeline}/{partition}", dependencies=[Depends(require_token)])
    async def publish_feed(
        request: Request, pipeline: PipelineName, partition: PartitionName, key: IdempotencyKey
    ) -> JSONResponse:
        """Store a JSON dashboard feed as the next version of (pipeline, partition, feed)."""
        return await publish(request, "feed", pipeline, partition, key)

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/", response_class=HTMLResponse)
    def listing_page() -> str:
        return render_listing(store.summaries())

    @api.get("/api/publications")
    def list_publications(pipeline: str | None = None) -> list[PublicationSummary]:
        return store.summaries(pipeline)

    @api.get("/api/publications/{pipeline}/{partition}")
    def latest_of_partition(pipeline: str, partition: str) -> dict[str, Any]:
        """The latest report and feed of a partition, content included, for diffs."""
        found: dict[str, Any] = {}
        for kind in MEDIA_TYPES:
            item = store.content(pipeline, partition, kind)
            found[kind] = None
            if item is not None:
                body = item.as_json() if kind == "feed" else item.text
                found[kind] = {"receipt": item.receipt.model_dump(mode="json"), "content": body}
        if not any(found.values()):
            raise HTTPException(404, f"nothing published for {pipeline}/{partition}")
        return found

    @api.get("/api/publications/{pipeline}/{partition}/{kind}")
    def history(pipeline: str, partition: str, kind: Kind) -> PublicationHistory:
        found = store.history(pipeline, partition, kind)
        if found is None:
            raise HTTPException(404, f"no {kind} published for {pipeline}/{partition}")
        return found

    @api.get("/api/publications/{pipeline}/{partition}/{kind}/content")
    def content(
        pipeline: str,
        partition: str,
        kind: Kind,
        version: Annotated[int | None, Query(ge=1)] = None,
    ) -> Response:
        item = store.content(pipeline, partition, kind, version)
        if item is None:
            raise HTTPException(404, f"no such {kind} version for {pipeline}/{partition}")
        r: Receipt = item.receipt
        return Response(
            item.content,
            media_type=r.content_type,
            headers={
                "ETag": f'"{r.sha256}"',
                "X-Publication-Id": r.id,
                "X-Publication-Version": str(r.version),
                "X-Publication-Stored-At": r.stored_at.isoformat(),
            },
        )

    return api


def app_from_settings() -> FastAPI:
    """Uvicorn factory (`portal.app:app_from_settings`) for multi-worker serving."""
    return create_app(PortalConfig.from_settings())
