"""The bulk writer: many articles in one transaction and a handful of statements (imports)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archiver.items import ArticleItem
from archiver.normalize.article import content_hash
from archiver.storage.articles import write_article
from archiver.storage.batch import fill_article
from archiver.storage.images import link_images_in_bulk
from archiver.storage.models import Article, ArticleCategory, ArticleTag, Base, Category, Tag
from archiver.storage.records import StoreResult
from archiver.storage.search import defer_indexing, index_articles
from archiver.storage.sql import Transaction, chunks, insert_many
from archiver.storage.terms import TermIds


class BulkWriter:
    """Writes batches of articles (``archive.bulk``), as ``archive.articles.store`` does
    one at a time, at a fraction of the cost: what ``archiver import`` writes through."""

    def __init__(self, session: Transaction, terms: TermIds) -> None:
        self.session = session
        self.terms = terms

    def store(
        self,
        entries: Sequence[tuple[ArticleItem, int, str]],
        *,
        raw_extras: Sequence[dict[str, Any]] | None = None,
    ) -> list[StoreResult]:
        """Archive many ``(item, source_id, identity)`` in one transaction (bulk import), as
        ``archive.articles.store`` does for each; a batch that meets a concurrent writer falls
        back to one transaction per article. ``raw_extras[i]`` is merged into the ``raw``
        column of the i-th article (what an import keeps of the file it read)."""
        extras = list(raw_extras or [])

        def store(session: Session, index: int) -> StoreResult:
            item, source_id, identity = entries[index]
            digest = item.content_hash or content_hash(item)
            result = write_article(session, self.terms, item, source_id, identity, digest)
            if index < len(extras) and extras[index]:
                article = session.get_one(Article, result.article_id)
                merged = {**(article.raw or {}), **extras[index]}
                if merged != article.raw:
                    article.raw = merged
            return result

        try:
            with self.session() as session:
                fast = self._insert_new_articles(session, entries, extras)
                return [
                    fast[index] if index in fast else store(session, index)
                    for index in range(len(entries))
                ]
        except BaseException as exc:
            self.terms.forget()  # ids learnt in a rolled-back transaction are void
            if not isinstance(exc, IntegrityError):
                raise
            results = []
            for index in range(len(entries)):
                for attempt in range(2):
                    try:
                        with self.session() as session:
                            results.append(store(session, index))
                        break
                    except BaseException as exc:
                        self.terms.forget()
                        if not isinstance(exc, IntegrityError) or attempt:
                            raise
            return results

    def _insert_new_articles(
        self,
        session: Session,
        entries: Sequence[tuple[ArticleItem, int, str]],
        extras: Sequence[dict[str, Any]],
    ) -> dict[int, StoreResult]:
        """The entries of a batch whose outcome is certain, stored in a few statements: new
        ones (no row has their identity or canonical URL) are inserted with their terms and
        images, unchanged ones (same identity and content hash) only have ``last_seen``
        moved. The others (changed, or colliding within the batch) are left to
        :func:`~archiver.storage.articles.write_article`. Returns the results by index in
        *entries*.

        Plain ``executemany`` statements (no ORM objects, no ``RETURNING``): the new ids are
        read back by identity, so the whole batch costs a handful of statements."""
        keys = list(dict.fromkeys((source_id, identity) for _, source_id, identity in entries))
        canonical = {item.canonical_url for item, _, _ in entries if item.canonical_url}
        existing = _by_identity(session, keys)
        taken_urls = set(
            session.scalars(
                select(Article.canonical_url).where(Article.canonical_url.in_(canonical))
            )
        )
        now = datetime.now(UTC)
        columns = [c.key for c in Article.__table__.columns if c.key != "id"]
        results: dict[int, StoreResult] = {}
        seen: set[tuple[int, str]] = set()
        unchanged: list[int] = []
        chosen: list[int] = []
        rows: list[dict[str, Any]] = []
        for index, (item, source_id, identity) in enumerate(entries):
            key = (source_id, identity)
            digest = item.content_hash or content_hash(item)
            if key in seen:
                continue
            seen.add(key)
            if key in existing:
                article_id, stored_digest = existing[key]
                if stored_digest == digest:
                    results[index] = StoreResult(article_id, "unchanged")
                    unchanged.append(article_id)
                continue
            if item.canonical_url in taken_urls:
                continue
            if item.canonical_url:
                taken_urls.add(item.canonical_url)
            # The column values fill_article gives a new Article, without the ORM's cost.
            values: Any = SimpleNamespace(
                source_id=source_id,
                guid=identity,
                first_seen=now,
                last_seen=now,
                canonical_url=item.canonical_url,
                page_failures=0,
            )
            fill_article(values, item, digest)
            if index < len(extras) and extras[index]:
                values.raw = {**values.raw, **extras[index]}
            rows.append({name: getattr(values, name, None) for name in columns})
            chosen.append(index)
        if unchanged:
            session.execute(update(Article).where(Article.id.in_(unchanged)).values(last_seen=now))
        if not rows:
            return results
        # The search index is written for the whole batch in one statement (SQLite: one
        # FTS segment instead of one per article; see search.defer_indexing).
        deferred = defer_indexing(session)
        insert_many(session, Article, rows)
        new_keys = [(row["source_id"], row["guid"]) for row in rows]
        found = _by_identity(session, new_keys)
        by_index = {index: found[key][0] for index, key in zip(chosen, new_keys, strict=True)}
        if deferred:
            index_articles(session, sorted(by_index.values()))
        term_tables: tuple[tuple[str, type[Category] | type[Tag], type[Base], str], ...] = (
            ("categories", Category, ArticleCategory, "category_id"),
            ("tags", Tag, ArticleTag, "tag_id"),
        )
        for attribute, term, link, key_name in term_tables:
            names = {
                index: list(dict.fromkeys(getattr(entries[index][0], attribute)))
                for index in chosen
            }
            wanted = {name for listed in names.values() for name in listed}
            if not wanted:
                continue
            known = self.terms.ids(session, term, wanted)
            links = [
                {"article_id": by_index[index], "position": position, key_name: known[name]}
                for index in chosen
                for position, name in enumerate(names[index])
            ]
            insert_many(session, link, links)
        link_images_in_bulk(session, {by_index[i]: entries[i][0].images for i in chosen})
        results.update(
            {index: StoreResult(article_id, "new") for index, article_id in by_index.items()}
        )
        return results


def _by_identity(
    session: Session, keys: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], tuple[int, str | None]]:
    """``(id, content_hash)`` of the articles with these ``(source_id, guid)``: per
    source, ``guid IN (...)`` a thousand at a time, which the unique index answers
    (SQLite scans the whole index for ``(source_id, guid) IN (...)``, a cost that grows
    with the archive)."""
    guids: dict[int, list[str]] = {}
    for source_id, guid in keys:
        guids.setdefault(source_id, []).append(guid)
    found: dict[tuple[int, str], tuple[int, str | None]] = {}
    for source_id, names in guids.items():
        for part in chunks(names):
            statement = select(Article.id, Article.guid, Article.content_hash).where(
                Article.source_id == source_id, Article.guid.in_(part)
            )
            for article_id, guid, digest in session.execute(statement):
                found[(source_id, guid)] = (article_id, digest)
    return found
