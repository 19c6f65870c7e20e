"""The JSON API: the shapes of ``archiver search|show|sources list|runs|stats --format json``
(the same serializers), described in the OpenAPI document at ``/openapi.json``.

``/api/search`` answers the array ``archiver search --format json`` prints; the next page is
in the ``Link`` header (``rel="next"``, RFC 8288), so the body keeps the CLI's shape.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from archiver.web.context import reader_of
from archiver.web.params import Listing, listing

router = APIRouter(prefix="/api", tags=["archive"])


def _object(required: tuple[str, ...], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": properties}


_TEXT = {"type": ["string", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_STRINGS = {"type": "array", "items": {"type": "string"}}
LISTING_KEYS = (
    "id", "url", "title", "published", "author", "authors", "source", "source_url",
    "categories", "headimg",
)  # fmt: skip
SEARCH_ROW = _object(
    (*LISTING_KEYS, "snippet", "score"),
    id={"type": "integer"},
    url={"type": "string"},
    title=_TEXT,
    published=_TIME,
    author=_TEXT,
    authors=_STRINGS,
    source={"type": "string"},
    source_url={"type": "string"},
    categories=_STRINGS,
    headimg=_TEXT,
    snippet=_TEXT,
    score={"type": ["number", "null"]},
)
ARTICLE = _object(
    (
        *LISTING_KEYS, "canonical_url", "guid", "updated", "tags", "summary_html",
        "content_html", "images", "revisions", "provenance", "captures",
    ),
    id={"type": "integer"},
    url={"type": "string"},
    tags=_STRINGS,
    images={"type": "array", "items": {"type": "object"}},
    captures={"type": "array", "items": {"type": "object"}},
    revisions={"type": "integer"},
    provenance={"type": "object"},
)  # fmt: skip
SOURCE = _object(
    ("id", "name", "url", "kind", "categories", "enabled", "last_status", "error_count"),
    id={"type": "integer"},
    name={"type": "string"},
    url={"type": "string"},
    kind={"type": "string"},
    categories=_STRINGS,
    enabled={"type": "boolean"},
    error_count={"type": "integer"},
    next_due_at=_TIME,
    last_crawled_at=_TIME,
)
RUN = _object(
    ("id", "command", "status", "started_at", "finished_at", "new", "updated", "sources"),
    id={"type": "integer"},
    command={"type": "string"},
    status={"type": "string"},
    started_at=_TIME,
    finished_at=_TIME,
    sources={"type": "object"},
)
STATS = _object(
    ("articles", "sources", "images", "image_bytes", "revisions", "runs", "by_source", "by_month"),
    articles={"type": "integer"},
    sources={"type": "integer"},
    images={"type": "integer"},
    by_source={"type": "object"},
    by_month={"type": "object", "additionalProperties": {"type": "integer"}},
)
FACET = {
    "type": "array",
    "items": _object(("value", "count"), value={"type": "string"}, count={"type": "integer"}),
}
FACETS = _object(
    ("matches", "capped", "source", "category", "author", "month"),
    matches={"type": "integer"},
    capped={"type": "boolean"},
    source=FACET,
    category=FACET,
    author=FACET,
    month=FACET,
)
ERROR = _object(("error",), error={"type": "string"})


def _answers(schema: dict[str, Any], *errors: int) -> dict[int | str, dict[str, Any]]:
    answers: dict[int | str, dict[str, Any]] = {
        200: {"content": {"application/json": {"schema": schema}}}
    }
    for status in errors:
        answers[status] = {
            "description": {400: "Bad query", 404: "Not found"}.get(status, "Error"),
            "content": {"application/json": {"schema": ERROR}},
        }
    return answers


@router.get(
    "/search",
    response_class=JSONResponse,
    responses=_answers({"type": "array", "items": SEARCH_ROW}, 400),
    summary="Search, as `archiver search --format json`; the next page in the Link header",
)
def api_search(request: Request, query: Annotated[Listing, Depends(listing)]) -> JSONResponse:
    reader = reader_of(request)
    page = reader.archive.browse.page(query.filters(), after=query.after)
    headers = {}
    if page.next_cursor:
        following = query.link("/api/search", after=page.next_cursor)
        headers["Link"] = f'<{following}&limit={query.limit}>; rel="next"'
    return JSONResponse(page.rows, headers=headers)


@router.get(
    "/facets",
    response_class=JSONResponse,
    responses=_answers(FACETS, 400),
    summary="Counts of a search's matches by source, category, author and month",
)
def api_facets(request: Request, query: Annotated[Listing, Depends(listing)]) -> JSONResponse:
    return JSONResponse(reader_of(request).archive.browse.facets(query.filters()))


@router.get(
    "/articles/{article_id}",
    response_class=JSONResponse,
    responses=_answers(ARTICLE, 404),
    summary="One article, as `archiver show ID --format json`",
)
def api_article(request: Request, article_id: Annotated[int, Path(ge=1, le=2**62)]) -> JSONResponse:
    return JSONResponse(reader_of(request).archive.articles.get(article_id))


@router.get(
    "/sources",
    response_class=JSONResponse,
    responses=_answers({"type": "array", "items": SOURCE}),
    summary="Every source, as `archiver sources list --all --format json`",
)
def api_sources(request: Request) -> JSONResponse:
    from archiver.crawling.policy import format_interval

    rows = []
    for record in reader_of(request).archive.sources.all():
        row = record.as_dict()
        row["every"] = format_interval(record.crawl_interval)
        rows.append(row)
    return JSONResponse(rows)


@router.get(
    "/runs",
    response_class=JSONResponse,
    responses=_answers({"type": "array", "items": RUN}),
    summary="Crawl runs, newest first, as `archiver runs --format json`",
)
def api_runs(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> JSONResponse:
    records = reader_of(request).archive.runs.recent(limit)
    return JSONResponse([record.as_dict() for record in records])


@router.get(
    "/stats",
    response_class=JSONResponse,
    responses=_answers(STATS),
    summary="Counts over the archive, as `archiver stats --format json`",
)
def api_stats(request: Request) -> JSONResponse:
    return JSONResponse(reader_of(request).archive.counts())
