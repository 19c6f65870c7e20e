"""Articles' pages: how each was last fetched, and the captures of what was fetched."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from archiver.items import ArticleItem, CaptureRecord
from archiver.storage.captures import index_page_captures
from archiver.storage.models import Article, Source
from archiver.storage.records import PageState
from archiver.storage.sql import Transaction


class Pages:
    """The page side of articles (``archive.pages``)."""

    def __init__(self, session: Transaction) -> None:
        self.session = session

    def state(
        self, source_url: str, identity: str, canonical_url: str | None = None
    ) -> PageState | None:
        """How the page of the article archived under *identity* in the source at
        *source_url* (else at *canonical_url*, reached through another feed) was last
        fetched, or None for an article not archived yet."""
        with self.session() as session:
            connection = session.connection()
            found = {"source_url": source_url, "identity": identity}
            row = connection.execute(_OWN_STATE, found).first()
            is_own = row is not None
            if row is None and canonical_url:
                row = connection.execute(_STATE_BY_CANONICAL, {"url": canonical_url}).first()
            if row is None:
                return None
            return PageState(
                article_id=row.id,
                own=is_own,
                entry_hash=row.entry_hash or row.content_hash,
                content_source=row.content_source,
                status=row.page_status,
                error=row.page_error,
                failures=row.page_failures or 0,
                attempted_at=row.page_attempted_at,
                url=row.page_url,
                etag=row.page_etag,
                last_modified=row.page_last_modified,
            )


_ARTICLES: Any = Article.__table__
_STATE_COLUMNS = [
    _ARTICLES.c[name]
    for name in (
        "id",
        "entry_hash",
        "content_hash",
        "content_source",
        "page_status",
        "page_error",
        "page_failures",
        "page_attempted_at",
        "page_url",
        "page_etag",
        "page_last_modified",
    )
]
_SOURCES: Any = Source.__table__
_OWN_STATE = (
    select(*_STATE_COLUMNS)
    .join(_SOURCES, _ARTICLES.c.source_id == _SOURCES.c.id)
    .where(_SOURCES.c.url == bindparam("source_url"), _ARTICLES.c.guid == bindparam("identity"))
    .limit(1)
)
_STATE_BY_CANONICAL = (
    select(*_STATE_COLUMNS).where(_ARTICLES.c.canonical_url == bindparam("url")).limit(1)
)
"""What a page's state is read from (Core, a statement each time a crawl asks): the columns,
not the whole article with its texts."""


def record_page(session: Session, article: Article, item: ArticleItem) -> None:
    """Keep how the article's page went in this crawl (a fetch or a failure; a page kept
    or deferred changes nothing), and the capture of what was fetched."""
    fill_page(article, item)
    capture = recorded_capture(item)
    if capture is not None:
        index_page_captures(session, [(capture, article.id, article.source_id)])


def fill_page(article: Any, item: ArticleItem) -> None:
    """Set how the article's page went in this crawl on *article* (a row or its values, as
    a batch writes them): its page columns, when :data:`RECORDED`."""
    page = item.page
    if page is None or page.status not in RECORDED:
        return
    article.page_status = page.status
    article.page_error = page.error
    article.page_failures = page.failures
    article.page_attempted_at = page.attempted_at
    article.page_url = page.url or getattr(article, "page_url", None)
    if page.status == "fetched":
        article.page_etag = page.etag
        article.page_last_modified = page.last_modified


RECORDED = ("fetched", "failed")
"""How a page went when the crawl keeps it on the article: kept and deferred change nothing."""


def recorded_capture(item: ArticleItem) -> CaptureRecord | None:
    """The capture of *item*'s page when :func:`record_page` keeps the page, else None."""
    page = item.page
    return page.capture if page is not None and page.status in RECORDED else None
