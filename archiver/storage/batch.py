"""Batches of a crawl's articles: the outcomes known from one read, written in a few statements.

The crawl's store pipeline hands ``archive.articles.store_many`` many articles at a time (a
group commit). Most of them are either new (no row has their identity or canonical URL) or
unchanged (their own row, the same version); those are written here with Core statements
over the whole batch: one read of what the archive holds of them, one ``executemany`` per
table, one search-index write. The rest (a new version, a copy of another feed's article, a
page to record on an unchanged one, a second entry of the batch with the same identity or
canonical URL) go through :func:`~archiver.storage.articles.write_article`, after these, in
the same transaction, so the outcome is the one storing them one by one in order gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from archiver.items import ArticleItem
from archiver.storage.captures import index_page_captures
from archiver.storage.images import link_images_in_bulk, save_images
from archiver.storage.models import (
    Article,
    ArticleCategory,
    ArticleTag,
    Base,
    Category,
    Tag,
)
from archiver.storage.pages import RECORDED, fill_page, recorded_capture
from archiver.storage.records import StoreResult
from archiver.storage.search import defer_indexing, index_articles
from archiver.storage.sql import chunks, insert_many
from archiver.storage.terms import TermIds

Entry = tuple[ArticleItem, int, str]
"""``(item, source_id, identity)``: what ``store`` takes, one article of a batch."""


@dataclass(frozen=True)
class StoredArticle:
    """What a batch needs to know of an archived article to tell its outcome."""

    id: int
    source_id: int
    guid: str
    canonical_url: str | None
    content_hash: str | None
    entry_hash: str | None


def is_another_version(
    stored_content_hash: str | None,
    stored_entry_hash: str | None,
    item: ArticleItem,
    digest: str,
) -> bool:
    """Whether *item* (content hash *digest*) is another version of the archived article:
    its archived content changed when a page was merged into it this time, else its feed
    entry changed (so an entry whose page was merged before is not undone by a crawl that
    kept the page)."""
    if (item.content_source or "").startswith("page:") and item.page is not None:
        return stored_content_hash != digest
    return (stored_entry_hash or stored_content_hash) != (item.entry_hash or digest)


def fill_article(article: Any, item: ArticleItem, digest: str) -> None:
    """Set *article*'s columns (or the attributes of anything standing in for one) from
    *item*, with *digest* as its content hash; identity, canonical URL and times aside."""
    article.guid_raw = item.guid
    article.url = item.url
    article.title = item.title
    article.title_raw = item.title_raw
    article.authors = list(item.authors)
    article.authors_raw = list(item.authors_raw)
    article.published = item.published
    article.published_raw = item.published_raw
    article.updated = item.updated
    article.updated_raw = item.updated_raw
    article.timezone_rule = item.timezone_rule
    article.summary = item.summary
    article.summary_html = item.summary_html
    article.content_html = item.content_html
    article.content_text = item.content_text
    article.headimg = item.headimg
    article.thumbnail = item.thumbnail
    article.language = item.language
    article.language_raw = item.language_raw
    article.origin = item.origin
    article.origin_url = item.origin_url
    article.content_hash = digest
    article.entry_hash = item.entry_hash or digest
    article.content_source = item.content_source or ("feed" if item.content_html else None)
    article.provenance = dict(item.provenance) or None
    article.raw = {
        "categories": list(item.categories_raw),
        "media": [vars(m) for m in item.media],
        "feed_title": item.feed_title,
        "feed_link": item.feed_link,
        "parse_errors": list(item.parse_errors),
        "base_url": item.base_url,
        "date_flags": list(item.date_flags),
        "content_text": item.content_text_raw,
        **({"feed_content_html": item.feed_content_html} if item.feed_content_html else {}),
        **({"page_metadata": dict(item.page_metadata)} if item.page_metadata else {}),
    }


def note_listing(article: Any, item: ArticleItem) -> None:
    """Widen *article*'s span of listing captures (the feed's or sitemap's responses that held
    it: ``first_listing_capture_id`` to ``last_listing_capture_id``) to the one *item* was
    read from, if any."""
    capture_id = item.listing_capture_id
    if capture_id is None:
        return
    first = getattr(article, "first_listing_capture_id", None)
    last = getattr(article, "last_listing_capture_id", None)
    article.first_listing_capture_id = capture_id if first is None else min(first, capture_id)
    article.last_listing_capture_id = capture_id if last is None else max(last, capture_id)


def by_identity(
    session: Session, keys: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], StoredArticle]:
    """The articles with these ``(source_id, guid)``: per source, ``guid IN (...)`` a
    thousand at a time, which the unique index answers (SQLite scans the whole index for
    ``(source_id, guid) IN (...)``, a cost that grows with the archive)."""
    guids: dict[int, list[str]] = {}
    for source_id, guid in keys:
        guids.setdefault(source_id, []).append(guid)
    found: dict[tuple[int, str], StoredArticle] = {}
    connection = session.connection()  # Core: none of the ORM's per-statement work
    for source_id, names in guids.items():
        for part in chunks(names):
            statement = _stored().where(Article.source_id == source_id, Article.guid.in_(part))
            for row in connection.execute(statement):
                stored = StoredArticle(*row)
                found[(stored.source_id, stored.guid)] = stored
    return found


def by_canonical_url(session: Session, urls: Sequence[str]) -> dict[str, StoredArticle]:
    """The articles with these canonical URLs (unique), by URL."""
    found: dict[str, StoredArticle] = {}
    connection = session.connection()
    for part in chunks(list(urls)):
        for row in connection.execute(_stored().where(Article.canonical_url.in_(part))):
            stored = StoredArticle(*row)
            found[stored.canonical_url or ""] = stored
    return found


NORMALIZED = (
    "url",
    "title",
    "authors",
    "published",
    "updated",
    "summary",
    "content_text",
    "headimg",
    "thumbnail",
    "language",
    "origin",
    "origin_url",
)
"""The columns today's normalizers make from what was published (``reparsed`` compares them)."""


def normalized_differ(stored: Any, item: ArticleItem) -> bool:
    """Whether today's normalizers make other values of *item* than *stored* (an article
    row or its ``NORMALIZED`` columns) holds."""
    return any(getattr(stored, name) != getattr(item, name) for name in NORMALIZED)


def _normalized_of(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    """The ``NORMALIZED`` columns of the articles *ids*, by id (Core rows)."""
    columns = [getattr(Article, name) for name in NORMALIZED]
    connection = session.connection()
    found: dict[int, Any] = {}
    for part in chunks(list(ids)):
        for row in connection.execute(select(Article.id, *columns).where(Article.id.in_(part))):
            found[row.id] = row
    return found


def _stored() -> Any:
    return select(
        Article.id,
        Article.source_id,
        Article.guid,
        Article.canonical_url,
        Article.content_hash,
        Article.entry_hash,
    )


def store_known_outcomes(
    session: Session,
    terms: TermIds,
    entries: Sequence[Entry],
    digests: Sequence[str],
    *,
    reparsed: bool = False,
) -> dict[int, StoreResult]:
    """Store the entries of a batch whose outcome one read tells, in *session*'s
    transaction: new ones are inserted with their terms, images, page state and capture;
    unchanged ones have ``last_seen`` moved and their images' fetches recorded. Returns
    their results by index in *entries*; the others are left to the caller, which must
    store them after these (in order) for the batch to end as a one-by-one store would.
    *reparsed* (``reprocess``): an article is unchanged only if its normalized columns are
    too (a second read of them)."""
    keys = list(dict.fromkeys((source_id, identity) for _, source_id, identity in entries))
    existing = by_identity(session, keys)
    normalized = _normalized_of(session, [a.id for a in existing.values()]) if reparsed else {}
    canonical = list({item.canonical_url for item, _, _ in entries if item.canonical_url})
    taken = by_canonical_url(session, canonical)
    now = datetime.now(UTC)
    results: dict[int, StoreResult] = {}
    seen_keys: set[tuple[int, str]] = set()
    seen_urls: set[str] = set()
    unchanged: dict[int | None, list[int]] = {}
    """The unchanged articles' ids, by the listing capture they were read from."""
    unchanged_images = []
    new: list[int] = []
    for index, (item, source_id, identity) in enumerate(entries):
        key = (source_id, identity)
        url = item.canonical_url
        first = key not in seen_keys and (not url or url not in seen_urls)
        seen_keys.add(key)
        if url:
            seen_urls.add(url)
        if not first:
            continue  # a second entry of the batch for the same article: after the first
        own = existing.get(key)
        if own is not None:
            paged = item.page is not None and item.page.status in RECORDED
            if paged or is_another_version(own.content_hash, own.entry_hash, item, digests[index]):
                continue
            if reparsed and normalized_differ(normalized[own.id], item):
                continue
            results[index] = StoreResult(own.id, "unchanged")
            unchanged.setdefault(item.listing_capture_id, []).append(own.id)
            # Its images (fetched again if they had failed): record how.
            unchanged_images += [
                r for r in item.images if r.status in ("downloaded", "cached", "failed")
            ]
            continue
        if url and url in taken:
            continue  # another feed's copy, or a feed pointing every entry at one page
        new.append(index)
    if unchanged:
        _seen_again(session, unchanged, now)
        save_images(session, unchanged_images, ids=False)
    if new:
        results.update(_insert_new(session, terms, entries, digests, new, now))
    return results


def _seen_again(session: Session, unchanged: dict[int | None, list[int]], now: datetime) -> None:
    """Move ``last_seen`` of the *unchanged* articles (ids by the listing capture they were
    read from) to *now*, and widen their span of listing captures to it, as
    :func:`note_listing` does one by one: one statement per capture and thousand ids."""
    table: Any = Article.__table__
    first, last = table.c.first_listing_capture_id, table.c.last_listing_capture_id
    connection = session.connection()
    for capture_id, ids in unchanged.items():
        values: dict[str, Any] = {"last_seen": now}
        if capture_id is not None:
            values["first_listing_capture_id"] = case(
                (first.is_(None) | (first > capture_id), capture_id), else_=first
            )
            values["last_listing_capture_id"] = case(
                (last.is_(None) | (last < capture_id), capture_id), else_=last
            )
        for part in chunks(ids):
            connection.execute(update(table).where(table.c.id.in_(part)).values(**values))


def _insert_new(
    session: Session,
    terms: TermIds,
    entries: Sequence[Entry],
    digests: Sequence[str],
    chosen: Sequence[int],
    now: datetime,
) -> dict[int, StoreResult]:
    """Insert the new articles *chosen* (indexes in *entries*) with everything they carry."""
    table: Any = Article.__table__
    defaults = {
        column.key: column.default.arg
        for column in table.columns
        if column.default is not None and column.default.is_scalar
    }
    columns = [c.key for c in table.columns if c.key != "id"]
    rows: list[dict[str, Any]] = []
    for index in chosen:
        item, source_id, identity = entries[index]
        # The column values fill_article gives a new Article, without the ORM's cost.
        values: Any = SimpleNamespace(
            source_id=source_id,
            guid=identity,
            first_seen=now,
            last_seen=now,
            canonical_url=item.canonical_url,
        )
        note_listing(values, item)
        fill_article(values, item, digests[index])
        fill_page(values, item)
        rows.append({name: getattr(values, name, defaults.get(name)) for name in columns})
    # The search index is written for the whole batch in one statement (SQLite: one FTS
    # segment instead of one per article; see search.defer_indexing).
    deferred = defer_indexing(session)
    insert_many(session, Article, rows)
    new_keys = [(row["source_id"], row["guid"]) for row in rows]
    found = by_identity(session, new_keys)
    ids = {index: found[key].id for index, key in zip(chosen, new_keys, strict=True)}
    if deferred:
        index_articles(session, sorted(ids.values()))
    term_tables: tuple[tuple[str, type[Category] | type[Tag], type[Base], str], ...] = (
        ("categories", Category, ArticleCategory, "category_id"),
        ("tags", Tag, ArticleTag, "tag_id"),
    )
    for attribute, term, link, key_name in term_tables:
        names = {
            index: list(dict.fromkeys(getattr(entries[index][0], attribute))) for index in chosen
        }
        wanted = {name for listed in names.values() for name in listed}
        if not wanted:
            continue
        known = terms.ids(session, term, wanted)
        links = [
            {"article_id": ids[index], "position": position, key_name: known[name]}
            for index in chosen
            for position, name in enumerate(names[index])
        ]
        insert_many(session, link, links)
    link_images_in_bulk(session, {ids[i]: entries[i][0].images for i in chosen})
    captured = [(index, recorded_capture(entries[index][0])) for index in chosen]
    index_page_captures(
        session,
        [(capture, ids[index], entries[index][1]) for index, capture in captured if capture],
    )
    return {index: StoreResult(article_id, "new") for index, article_id in ids.items()}
