"""Articles' pages: how each was last fetched, and the captures of what was fetched."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archiver.items import ArticleItem
from archiver.storage.captures import index_page_capture
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
            own = (Source.url == source_url) & (Article.guid == identity)
            found = select(*_STATE_COLUMNS).join(Source, Article.source_id == Source.id)
            row = session.execute(found.where(own).limit(1)).first()
            is_own = row is not None
            if row is None and canonical_url:
                row = session.execute(
                    select(*_STATE_COLUMNS).where(Article.canonical_url == canonical_url).limit(1)
                ).first()
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


_STATE_COLUMNS = (
    Article.id,
    Article.entry_hash,
    Article.content_hash,
    Article.content_source,
    Article.page_status,
    Article.page_error,
    Article.page_failures,
    Article.page_attempted_at,
    Article.page_url,
    Article.page_etag,
    Article.page_last_modified,
)
"""What a page's state is read from: the columns, not the whole article (its texts)."""


def record_page(session: Session, article: Article, item: ArticleItem) -> None:
    """Keep how the article's page went in this crawl (a fetch or a failure; a page kept
    or deferred changes nothing), and the capture of what was fetched."""
    page = item.page
    if page is None or page.status not in ("fetched", "failed"):
        return
    article.page_status = page.status
    article.page_error = page.error
    article.page_failures = page.failures
    article.page_attempted_at = page.attempted_at
    article.page_url = page.url or article.page_url
    if page.status == "fetched":
        article.page_etag = page.etag
        article.page_last_modified = page.last_modified
    if page.capture is not None:
        index_page_capture(session, page.capture, article)
