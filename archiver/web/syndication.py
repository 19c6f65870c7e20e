"""Any search as a feed: ``/feed.atom`` (Atom 1.0) and ``/feed.json`` (JSON Feed 1.1).

They take the search page's query and filters, carry each article whole (sanitized) with
absolute links to the archive's images, and answer conditional requests: the ``ETag`` is
the digest of the feed's bytes, ``Last-Modified`` when its articles were last archived;
``If-None-Match`` (or, without it, ``If-Modified-Since``) that still holds gets ``304`` and
no body (RFC 9110, section 13.1).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from archiver.export.feeds import (
    MEDIA_TYPES,
    FeedInfo,
    archive_images,
    feed_entries,
    write_feed,
)
from archiver.web.api import ERROR
from archiver.web.context import reader_of
from archiver.web.params import Listing, listing

router = APIRouter(tags=["feeds"])


def _feed_doc(fmt: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {MEDIA_TYPES[fmt]: {}}, "description": "The feed"},
        304: {"description": "Not modified since the validators given"},
        400: {"description": "Bad query", "content": {"application/json": {"schema": ERROR}}},
    }


@router.get(
    "/feed.atom",
    response_class=Response,
    responses=_feed_doc("atom"),
    summary="A search as an Atom 1.0 feed (full content)",
)
def feed_atom(request: Request, query: Annotated[Listing, Depends(listing)]) -> Response:
    return _feed(request, query, "atom")


@router.get(
    "/feed.json",
    response_class=Response,
    responses=_feed_doc("jsonfeed"),
    summary="A search as a JSON Feed 1.1 (full content)",
)
def feed_json(request: Request, query: Annotated[Listing, Depends(listing)]) -> Response:
    return _feed(request, query, "jsonfeed")


def _feed(request: Request, query: Listing, fmt: str) -> Response:
    reader = reader_of(request)
    archive = reader.archive
    filters = query.filters()
    base = str(request.base_url).rstrip("/")
    rows = archive.browse.page(filters).rows
    articles = [archive.articles.get(row["id"]) for row in rows]
    # Last-Modified: when its articles were last archived (a later crawl that saw them
    # unchanged moves it on too: a needless 200, never a wrong 304; the ETag is exact).
    changed = max((_parse(a["last_seen"]) for a in articles), default=None)
    entries = feed_entries(articles, lambda article: archive_images(article, f"{base}/media/"))
    described = _describe(query)
    info = FeedInfo(
        title=f"{reader.config.title}: {described}" if described else reader.config.title,
        feed_url=base + query.link(request.url.path),
        home_url=base + query.link("/"),
        description=f"Articles archived by feed-archiver{': ' + described if described else ''}",
    )
    body = write_feed(fmt, info, entries)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if changed is not None:
        headers["Last-Modified"] = format_datetime(changed.astimezone(UTC), usegmt=True)
    if _not_modified(request, etag, changed):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=f"{MEDIA_TYPES[fmt]}; charset=utf-8", headers=headers)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _describe(query: Listing) -> str:
    parts = [query.q or ""]
    for name in ("source", "category", "author", "since", "until"):
        value = getattr(query, name)
        if value:
            parts.append(f"{name}:{value}")
    return " ".join(p for p in parts if p)


def _not_modified(request: Request, etag: str, changed: datetime | None) -> bool:
    """RFC 9110 13.1: If-None-Match decides when present; else If-Modified-Since."""
    match = request.headers.get("if-none-match")
    if match is not None:
        candidates = {part.strip().removeprefix("W/") for part in match.split(",")}
        return "*" in candidates or etag in candidates
    since = request.headers.get("if-modified-since")
    if since and changed is not None:
        try:
            moment = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return changed.replace(microsecond=0) <= moment
    return False
