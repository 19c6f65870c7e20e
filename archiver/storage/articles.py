"""Articles: the upsert that keeps revisions, the lookup, search and export, archived pages.

Callers hand in plain items and get plain dicts and dataclasses back; ORM objects never leave
storage. Writes are idempotent upserts, so re-crawling, or two workers archiving the same
article at once, leave one row. Every method blocks: call it off the reactor thread.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, null, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.sql.elements import ColumnElement

from archiver.errors import DatabaseError, NotFoundError
from archiver.items import ArticleItem
from archiver.normalize.article import content_hash
from archiver.storage.batch import (
    Entry,
    fill_article,
    is_another_version,
    normalized_differ,
    note_listing,
    store_known_outcomes,
)
from archiver.storage.captures import capture_listing, read_from
from archiver.storage.db import first_line
from archiver.storage.images import image_listing, link_images, save_images
from archiver.storage.models import (
    Article,
    ArticleCategory,
    ArticleImage,
    ArticleTag,
    Category,
    Image,
    Revision,
    Source,
    Tag,
)
from archiver.storage.pages import record_page
from archiver.storage.records import SearchFilters, StoreOutcome, StoreResult, iso_utc
from archiver.storage.search import MAX_RANKED, apply_filters, snippet
from archiver.storage.sql import Transaction, chunks
from archiver.storage.stories import collapse, story_counts, story_detail
from archiver.storage.terms import TermIds, names_by_article

logger = logging.getLogger(__name__)


class Articles:
    """The articles of the archive (``archive.articles``), each with its revisions, terms
    and images."""

    def __init__(self, session: Transaction, terms: TermIds) -> None:
        self.session = session
        self.terms = terms

    def store(
        self, item: ArticleItem, source_id: int, identity: str, *, reparsed: bool = False
    ) -> StoreResult:
        """Archive *item* under *identity* within its source; idempotent.

        A new article is inserted; one whose published content changed is updated and its
        previous version kept in ``revisions``; anything else only refreshes ``last_seen``.
        Two writers racing on the same article leave one row: the loser updates it.
        *reparsed* (``archiver reprocess``: the same capture read again by today's code): a
        change of any normalized field makes another version too, not only one of what was
        published.
        """
        digest = item.content_hash or content_hash(item)
        for attempt in range(2):
            try:
                with self.session() as session:
                    return write_article(
                        session, self.terms, item, source_id, identity, digest, reparsed=reparsed
                    )
            except BaseException as exc:
                self.terms.forget()  # ids learnt in a rolled-back transaction are void
                if not isinstance(exc, IntegrityError):
                    raise
                if attempt:
                    raise DatabaseError(f"cannot store {item.url}: {first_line(exc)}") from exc
        raise AssertionError("unreachable")

    def store_many(
        self, entries: Sequence[Entry], *, reparsed: bool = False
    ) -> list[StoreResult | Exception]:
        """Archive many ``(item, source_id, identity)`` in one transaction (a group commit),
        each as :meth:`store` would (with *reparsed* as it takes it), in order: results by
        index, nothing committed before all are. A batch that fails (a concurrent writer,
        one article the database refuses) is stored again one article per transaction, so
        it costs only the articles that fail on their own: their place in the result holds
        the exception."""
        try:
            digests = [item.content_hash or content_hash(item) for item, _, _ in entries]
            with self.session() as session:
                known = store_known_outcomes(
                    session, self.terms, entries, digests, reparsed=reparsed
                )
                results: list[StoreResult | Exception] = []
                for index, (item, source_id, identity) in enumerate(entries):
                    result = known.get(index) or write_article(
                        session,
                        self.terms,
                        item,
                        source_id,
                        identity,
                        digests[index],
                        reparsed=reparsed,
                    )
                    results.append(result)
                return results
        except Exception as error:
            if isinstance(error, IntegrityError | DatabaseError):  # what the database refused
                logger.info("a group of %d articles is stored one by one: %s", len(entries), error)
            else:  # a fault of the group's own code: each article may still be stored
                logger.warning(
                    "a group of %d articles is stored one by one", len(entries), exc_info=True
                )
            self.terms.forget()  # ids learnt in a rolled-back transaction are void
        return [self._store_one(entry, reparsed) for entry in entries]

    def _store_one(self, entry: Entry, reparsed: bool) -> StoreResult | Exception:
        item, source_id, identity = entry
        try:
            return self.store(item, source_id, identity, reparsed=reparsed)
        except Exception as exc:  # one article's failure is its own, returned in its place
            return exc

    def get(self, ident: str | int) -> dict[str, Any]:
        """One article, by id or by URL (its link or canonical URL), with everything known."""
        with self.session() as session:
            article = _find_article(session, ident)
            ids = [article.id]
            categories = names_by_article(session, ids, Category, ArticleCategory)
            tags = names_by_article(session, ids, Tag, ArticleTag)
            images = session.execute(
                select(ArticleImage, Image)
                .join(Image, ArticleImage.image_id == Image.id)
                .where(ArticleImage.article_id == article.id)
                .order_by(ArticleImage.position)
            ).all()
            revisions = session.scalar(
                select(func.count()).select_from(Revision).where(Revision.article_id == article.id)
            )
            captures = _captures(session, ids)
            detail = _detail(
                article,
                categories.get(article.id, []),
                tags.get(article.id, []),
                [image_listing(link, image) for link, image in images],
                captures.get(article.id, []),
            )
            detail["revisions"] = revisions or 0
            detail["story"] = story_detail(session, article.story_id)
            return detail

    def matching_ids(self, filters: SearchFilters) -> list[int]:
        """The ids :meth:`search` lists for *filters*, in its order (at most
        ``filters.limit``), without reading the articles: for a tool that shows the rows
        itself (the Datasette plugin, :mod:`archiver.datasette`)."""
        with self.session() as session:
            planned = apply_filters(select(Article.id), filters, session)
            query = planned.query
            if planned.score is not None:
                ranked = planned.query.with_only_columns(
                    Article.id.label("id"), planned.score.label("score")
                )
                if planned.newest_first is not None:
                    ranked = ranked.order_by(planned.newest_first).limit(MAX_RANKED)
                candidates = ranked.subquery("ranked")
                query = (
                    select(Article.id)
                    .join(candidates, candidates.c.id == Article.id)
                    .order_by(candidates.c.score.desc())
                )
            query = query.order_by(
                Article.published.desc().nulls_last(), Article.first_seen.desc(), Article.id.desc()
            )
            if filters.limit:
                query = query.limit(filters.limit)
            return list(session.scalars(query))

    def search(self, filters: SearchFilters) -> list[dict[str, Any]]:
        """Articles matching *filters*, as the listing's JSON objects.

        With a text query (``filters.query``, see :mod:`archiver.storage.search` for its
        operators) the most relevant come first, then the newest, each with a ``score`` and
        a ``snippet`` of its text around the match; without one, the newest first.
        """
        with self.session() as session:
            if not filters.collapse:
                return self._search(session, filters, filters.limit)
            # One row per story: read more matches until the collapsed rows fill the limit.
            wanted = filters.limit
            fetch = wanted * 4 if wanted else None
            while True:
                found = self._search(session, filters, fetch)
                by_id = {row["id"]: row for row in found}
                kept = [by_id[i] for i in collapse(session, list(by_id))]
                if fetch is None or wanted is None or len(kept) >= wanted or len(found) < fetch:
                    return kept[:wanted] if wanted else kept
                fetch *= 4

    def _search(
        self, session: Session, filters: SearchFilters, limit: int | None
    ) -> list[dict[str, Any]]:
        """The search itself, with at most *limit* rows."""
        planned = apply_filters(select(Article), filters, session)
        query = planned.query
        if planned.score is not None:
            ranked = planned.query.with_only_columns(
                Article.id.label("id"), planned.score.label("score")
            )
            if planned.newest_first is not None:
                ranked = ranked.order_by(planned.newest_first).limit(MAX_RANKED)
            candidates = ranked.subquery("ranked")
            query = (
                select(Article, candidates.c.score)
                .join(candidates, candidates.c.id == Article.id)
                .order_by(candidates.c.score.desc())
            )
        else:
            query = query.add_columns(null().label("score"))
        query = query.order_by(
            Article.published.desc().nulls_last(), Article.first_seen.desc(), Article.id.desc()
        )
        if limit:
            query = query.limit(limit)
        rows = session.execute(query).all()
        articles = [row[0] for row in rows]
        categories = names_by_article(session, [a.id for a in articles], Category, ArticleCategory)
        stories = story_counts(session, [a.id for a in articles])
        found = []
        for article, score in rows:
            summary = _listing(article, categories.get(article.id, []))
            summary["story"], summary["copies"] = stories.get(article.id, (None, 1))
            summary["score"] = None if score is None else round(float(score), 4)
            summary["snippet"] = (
                snippet(article.content_text or article.title, planned.parsed.terms)
                if planned.parsed.terms
                else None
            )
            found.append(summary)
        return found

    def export(self, filters: SearchFilters, *, batch_size: int = 500) -> Iterator[dict[str, Any]]:
        """Every article matching *filters* (its limit ignored), oldest id first, with every
        field: the keys of :meth:`get` (``revisions`` aside) plus ``raw``, ``authors_raw``
        and ``source_info`` (the source's ``name``, ``url``, ``kind``, ``title``,
        ``categories``); with ``filters.collapse``, one article per story (its origin when
        it matches). Read in batches, so an export never holds the archive in memory."""
        with self.session() as session:
            planned = apply_filters(select(Article.id), filters, session)
            ids = list(session.scalars(planned.query.order_by(Article.id)))
            if filters.collapse:
                ids = sorted(collapse(session, ids))
        for batch in chunks(ids, batch_size):
            with self.session() as session:
                articles = session.scalars(
                    select(Article)
                    .options(joinedload(Article.source))
                    .where(Article.id.in_(batch))
                    .order_by(Article.id)
                ).all()
                categories = names_by_article(session, batch, Category, ArticleCategory)
                tags = names_by_article(session, batch, Tag, ArticleTag)
                images: dict[int, list[dict[str, Any]]] = {}
                for link, image in session.execute(
                    select(ArticleImage, Image)
                    .join(Image, ArticleImage.image_id == Image.id)
                    .where(ArticleImage.article_id.in_(batch))
                    .order_by(ArticleImage.article_id, ArticleImage.position)
                ):
                    images.setdefault(link.article_id, []).append(image_listing(link, image))
                captures = _captures(session, batch)
                story_ids = {a.story_id for a in articles if a.story_id is not None}
                stories = {s: story_detail(session, s) for s in sorted(story_ids)}
                for article in articles:
                    detail = _detail(
                        article,
                        categories.get(article.id, []),
                        tags.get(article.id, []),
                        images.get(article.id, []),
                        captures.get(article.id, []),
                    )
                    source = article.source
                    detail["story"] = stories.get(article.story_id or 0)
                    detail["authors_raw"] = list(article.authors_raw or [])
                    detail["raw"] = dict(article.raw or {})
                    detail["source_info"] = {
                        "name": source.name,
                        "url": source.url,
                        "kind": source.kind,
                        "title": source.title,
                        "categories": list(source.categories or []),
                    }
                    yield detail

    def archived_pages(self, source_urls: Sequence[str]) -> dict[str, dict[str, datetime]]:
        """For each sitemap source among *source_urls*: when each page it archived was last
        fetched (``last_seen``, UTC), by the article's URL and by its canonical URL.

        ``{source URL: {page URL: last fetched}}``; sources that are unknown or not sitemaps
        are left out, a known sitemap source without articles maps to ``{}``. Read-only:
        the crawl runner hands it to the spider, which never reads the database.
        """
        found: dict[str, dict[str, datetime]] = {}
        urls = list(dict.fromkeys(source_urls))
        with self.session() as session:
            for chunk in chunks(urls, 500):
                for url in session.scalars(
                    select(Source.url).where(Source.url.in_(chunk), Source.kind == "sitemap")
                ):
                    found[url] = {}
                rows = session.execute(
                    select(Source.url, Article.url, Article.canonical_url, Article.last_seen)
                    .join(Article, Article.source_id == Source.id)
                    .where(Source.url.in_(chunk), Source.kind == "sitemap")
                )
                for source_url, url, canonical_url, last_seen in rows:
                    pages = found[source_url]
                    for key in (url, canonical_url):
                        if key and (key not in pages or pages[key] < last_seen):
                            pages[key] = last_seen
        return found


# -- inside a transaction -------------------------------------------------------------------


def write_article(
    session: Session,
    terms: TermIds,
    item: ArticleItem,
    source_id: int,
    identity: str,
    digest: str,
    *,
    reparsed: bool = False,
) -> StoreResult:
    """Store *item* (its content hash *digest*) in *session*'s transaction, as
    :meth:`Articles.store` describes; the bulk writer's way for the entries it cannot batch."""
    now = datetime.now(UTC)
    conditions: list[ColumnElement[bool]] = [
        (Article.source_id == source_id) & (Article.guid == identity)
    ]
    if item.canonical_url:
        conditions.append(Article.canonical_url == item.canonical_url)
    matches = session.scalars(select(Article).where(or_(*conditions)).limit(2)).all()
    existing = next((a for a in matches if a.source_id == source_id and a.guid == identity), None)
    canonical_url = item.canonical_url
    if existing is None and matches:
        other = matches[0]
        if other.source_id == source_id and identity != canonical_url:
            # Same link, another stable guid in the same feed: a feed that points every
            # entry at one page. Distinct articles; the link cannot be their identity.
            canonical_url = None
        else:
            # The same article reached through another feed: the first feed's copy is the
            # archived one, or two renderings would overwrite each other on every crawl.
            other.last_seen = now
            return StoreResult(other.id, "unchanged")
    if existing is None:
        article = Article(source_id=source_id, guid=identity, first_seen=now, last_seen=now)
        note_listing(article, item)
        fill_article(article, item, digest)
        article.canonical_url = canonical_url
        session.add(article)
        session.flush()
        outcome: StoreOutcome = "new"
    else:
        article = existing
        article.last_seen = now
        note_listing(article, item)
        if not is_another_version(article.content_hash, article.entry_hash, item, digest) and not (
            reparsed and normalized_differ(article, item)
        ):
            # Its images (and page) were fetched again if they had failed: record how.
            fetched = [r for r in item.images if r.status in ("downloaded", "cached", "failed")]
            save_images(session, fetched, ids=False)
            record_page(session, article, item)
            return StoreResult(article.id, "unchanged")
        session.add(
            Revision(
                article_id=article.id,
                title_raw=article.title_raw,
                summary_html=article.summary_html,
                content_html=article.content_html,
                content_hash=article.content_hash,
                published_raw=article.published_raw,
                updated_raw=article.updated_raw,
                seen_from=article.first_seen
                if not article.raw.get("revised_at")
                else datetime.fromisoformat(article.raw["revised_at"]),
                replaced_at=now,
            )
        )
        fill_article(article, item, digest)
        article.raw = {**article.raw, "revised_at": now.isoformat()}
        outcome = "updated"
    record_page(session, article, item)
    is_new = outcome == "new"
    terms.link(session, article.id, item.categories, Category, ArticleCategory, new=is_new)
    terms.link(session, article.id, item.tags, Tag, ArticleTag, new=is_new)
    link_images(session, article.id, item.images)
    return StoreResult(article.id, outcome)


def _find_article(session: Session, ident: str | int) -> Article:
    article: Article | None = None
    text = str(ident).strip()
    if text.isdigit():
        article = session.get(Article, int(text))
    if article is None and text:
        article = session.scalars(
            select(Article)
            .where(or_(Article.url == text, Article.canonical_url == text))
            .order_by(Article.id)
            .limit(1)
        ).first()
    if article is None:
        raise NotFoundError(f"no article {text!r} in the archive (give an id or a URL)")
    return article


def _listing(article: Article, categories: list[str]) -> dict[str, Any]:
    """The keys every listing of an article starts with (search, ``show``, exports)."""
    return {
        "id": article.id,
        "url": article.url,
        "title": article.title,
        "published": iso_utc(article.published),
        "author": ", ".join(article.authors) if article.authors else None,
        "authors": list(article.authors),
        "source": article.source.name,
        "source_url": article.source.url,
        "categories": categories,
        "headimg": article.headimg,
    }


def _page_listing(article: Article) -> dict[str, Any] | None:
    """How the article's page was last fetched, for ``show``; None when it never was."""
    if article.page_status is None:
        return None
    return {
        "status": article.page_status,
        "url": article.page_url,
        "error": article.page_error,
        "failures": article.page_failures,
        "attempted_at": iso_utc(article.page_attempted_at),
    }


def _detail(
    article: Article,
    categories: list[str],
    tags: list[str],
    images: list[dict[str, Any]],
    captures: list[dict[str, Any]],
) -> dict[str, Any]:
    """Everything known of an article, as ``show`` and the exports give it."""
    detail = _listing(article, categories)
    detail.update(
        {
            "canonical_url": article.canonical_url,
            "guid": article.guid,
            "guid_raw": article.guid_raw,
            "updated": iso_utc(article.updated),
            "tags": tags,
            "summary": article.summary,
            "summary_html": article.summary_html,
            "content_html": article.content_html,
            "content_text": article.content_text,
            "thumbnail": article.thumbnail,
            "published_raw": article.published_raw,
            "updated_raw": article.updated_raw,
            "title_raw": article.title_raw,
            "authors_raw": article.authors_raw,
            "language": article.language,
            "language_raw": article.language_raw,
            "timezone_rule": article.timezone_rule,
            "origin": article.origin,
            "origin_url": article.origin_url,
            "content_hash": article.content_hash,
            "content_source": article.content_source,
            "feed_content_html": article.raw.get("feed_content_html"),
            "provenance": dict(article.provenance or {}),
            "page": _page_listing(article),
            "page_metadata": dict(article.raw.get("page_metadata") or {}),
            "captures": captures,
            "base_url": article.raw.get("base_url") or article.url,
            "date_flags": list(article.raw.get("date_flags") or []),
            "first_seen": iso_utc(article.first_seen),
            "last_seen": iso_utc(article.last_seen),
            "images": images,
        }
    )
    return detail


def _captures(session: Session, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Every capture the articles *ids* were read from, oldest first, by article: their
    pages' and their feeds' (see :func:`~archiver.storage.captures.read_from`)."""
    found: dict[int, list[dict[str, Any]]] = {}
    for article_id, capture in read_from(session, ids):
        found.setdefault(article_id, []).append(capture_listing(capture))
    return found
