"""The reader's HTML pages: search, an article and its revisions, sources, runs, stats, login.

Each page is a thin view: read the archive through its parts, render a template. Article
bodies are shown through the one sanitizer with their archived images served by the reader.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import RedirectResponse, Response

from archiver.errors import NotFoundError
from archiver.web.context import reader_of
from archiver.web.params import Listing, listing

router = APIRouter(include_in_schema=False)

ArticleId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/")
def search_page(request: Request, query: Annotated[Listing, Depends(listing)]) -> Response:
    """The article list: the query box, the filters, facets, a page of results."""
    reader = reader_of(request)
    filters = query.filters()
    page = reader.archive.browse.page(filters, after=query.after)
    facets = reader.archive.browse.facets(query.filters())
    sources = [record.name for record in reader.archive.sources.all()]
    return reader.page(
        request,
        "search.html",
        query=query,
        page=page,
        facets=facets,
        sources=sources,
        next_link=query.link("/", after=page.next_cursor) if page.next_cursor else None,
        feed_atom=query.link("/feed.atom"),
        feed_json=query.link("/feed.json"),
    )


@router.get("/articles/{article_id}")
def article_page(request: Request, article_id: ArticleId) -> Response:
    """One article: its front-matter, provenance and body, its images from the archive."""
    from archiver.web.media import body_html

    reader = reader_of(request)
    article = reader.archive.articles.get(article_id)
    zone = _source_zone(reader, article["source"])
    images = [i for i in article["images"] if i.get("sha256") and i.get("status") == "downloaded"]
    head = next((i for i in images if article["headimg"] in (i["url"], i["src"])), None)
    body = body_html(article, reader.config.iframe_hosts)
    if head is not None and head["sha256"] in body:
        head = None  # the body shows it already
    return reader.page(
        request, "article.html", article=article, zone=zone, body=body, head_image=head
    )


@router.get("/articles/{article_id}/revisions")
def revisions_page(request: Request, article_id: ArticleId) -> Response:
    """The article's earlier versions, each with what changed to the next."""
    from archiver.web.diff import text_diff

    reader = reader_of(request)
    article = reader.archive.articles.get(article_id)
    versions = reader.archive.browse.revisions(article_id)
    current = {
        "title_raw": article["title_raw"],
        "content_html": article["content_html"] or article["summary_html"],
        "seen_from": None,
    }
    steps = []
    for index, version in enumerate(versions):
        following = versions[index + 1] if index + 1 < len(versions) else current
        steps.append(
            {
                "version": version,
                "title_changed": version["title_raw"] != following["title_raw"],
                "next_title": following["title_raw"],
                "diff": text_diff(
                    version["content_html"] or version["summary_html"],
                    following["content_html"] or following.get("summary_html"),
                ),
            }
        )
    return reader.page(request, "revisions.html", article=article, steps=steps)


@router.get("/sources")
def sources_page(request: Request) -> Response:
    """Every source's health at a glance, with its articles per month."""
    from archiver.web.charts import filled, sparkline

    reader = reader_of(request)
    months = reader.archive.browse.source_months()
    counts = reader.archive.stats.breakdown()["by_source"]
    rows = []
    for record in reader.archive.sources.all():
        per_month = filled(months.get(record.name, {}), last=24)
        rows.append(
            {
                "source": record,
                "articles": counts.get(record.name, {}).get("articles", 0),
                "chart": sparkline(per_month, title=f"{record.name}: articles per month"),
            }
        )
    return reader.page(request, "sources.html", rows=rows)


@router.get("/runs")
def runs_page(request: Request) -> Response:
    """The crawl runs, newest first."""
    reader = reader_of(request)
    return reader.page(request, "runs.html", runs=reader.archive.runs.recent(100))


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: ArticleId) -> Response:
    """One run and how each of its sources went."""
    reader = reader_of(request)
    return reader.page(request, "run.html", run=reader.archive.runs.get(run_id))


@router.get("/stats")
def stats_page(request: Request) -> Response:
    """The archive's counts and a chart of its articles over time."""
    from archiver.web.charts import bar_chart, filled

    reader = reader_of(request)
    totals = reader.archive.stats.totals()
    breakdown = reader.archive.stats.breakdown()
    chart = bar_chart(filled(breakdown["by_month"]), title="Articles published per month")
    return reader.page(request, "stats.html", totals=totals, breakdown=breakdown, chart=chart)


@router.get("/login")
def login_form(request: Request) -> Response:
    reader = reader_of(request)
    return reader.page(request, "login.html", failed=False)


@router.post("/login")
async def login(request: Request) -> Response:
    """The token from the form, checked; on success the session cookie (an HMAC of it)."""
    from archiver.web.security import COOKIE, session_value

    reader = reader_of(request)
    token = reader.config.token
    body = (await request.body())[:4096].decode("utf-8", "replace")
    given = (parse_qs(body).get("token") or [""])[0]
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        return reader.page(request, "login.html", status_code=401 if token else 404, failed=True)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE,
        session_value(token),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=30 * 24 * 3600,
    )
    return response


STATIC = {"style.css": "text/css; charset=utf-8", "icon.svg": "image/svg+xml"}


@router.get("/static/{name}")
def static_file(request: Request, name: str) -> Response:
    """The style sheet and the icon, from the package (names from a fixed list only)."""
    from importlib.resources import files

    from archiver.web.context import error_response

    if name not in STATIC:
        return error_response(request, 404, "Nothing here.")
    data = files("archiver.web").joinpath("static", name).read_bytes()
    return Response(
        data, media_type=STATIC[name], headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/favicon.ico")
def favicon(request: Request) -> Response:
    return static_file(request, "icon.svg")


def _source_zone(reader: Any, name: str) -> str | None:
    try:
        return reader.archive.sources.get(name).timezone  # type: ignore[no-any-return]
    except NotFoundError:
        return None
