"""Browsing the archive (``archive.browse``, for the web reader): pages of a search read by
keyset, facets with counts, revisions, the files behind images, sources' months.

The search is ``archiver search``'s (:func:`archiver.storage.search.apply_filters`: the same
query language, Chinese substrings of any length, the same ranking); what this adds is the
cursor. A page ends with the key of its last row (score, date, id), and the next page starts
strictly after it, so paging costs the same on page 1 and page 500 (no ``OFFSET``).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from archiver.errors import ConfigurationError, NotFoundError
from archiver.storage.articles import _listing
from archiver.storage.models import (
    Article,
    ArticleCategory,
    Category,
    Image,
    Revision,
    Source,
)
from archiver.storage.records import SearchFilters, iso_utc
from archiver.storage.search import MAX_RANKED, apply_filters, snippet
from archiver.storage.sql import Transaction, published_month
from archiver.storage.stories import story_counts
from archiver.storage.terms import names_by_article

FACET_WINDOW = 1_000
"""Facets count among at most this many matches (the newest): a broad query on a million
articles costs what one matching a thousand does (the page says how many were counted)."""
FACET_SIZE = 12
"""Values shown per facet, the most frequent first."""


@dataclass
class Cursor:
    """Where a page of results ended: the key of its last row."""

    score: float | None
    published: datetime | None
    id: int

    def encode(self) -> str:
        """The cursor as an opaque URL-safe token."""
        payload = [self.score, self.published.isoformat() if self.published else None, self.id]
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """A cursor from :meth:`encode`'s token; ConfigurationError for anything else."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            score, published, ident = json.loads(raw)
            if not isinstance(ident, int) or isinstance(ident, bool):
                raise TypeError("id")
            if score is not None and not isinstance(score, int | float):
                raise TypeError("score")
            when = datetime.fromisoformat(published) if published is not None else None
            if when is not None and when.tzinfo is None:
                raise TypeError("naive")
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"not a page cursor: {token[:40]!r}") from exc
        return cls(None if score is None else float(score), when, ident)


@dataclass
class ResultPage:
    """One page of a search: its rows (the JSON objects of ``archiver search``) and where
    the next page starts (None: this is the last)."""

    rows: list[dict[str, Any]]
    next_cursor: str | None
    terms: list[str] = field(default_factory=list)
    """The query's positive words and phrases, for highlighting."""


class Browse:
    """What the web reader reads (``archive.browse``)."""

    def __init__(self, session: Transaction) -> None:
        self.session = session

    def page(self, filters: SearchFilters, *, after: str | None = None) -> ResultPage:
        """The page of :meth:`Articles.search`'s results after the cursor *after*, of
        ``filters.limit`` rows (50 when None), ordered as ``archiver search`` orders them
        (by relevance, then newest; without a query the newest first)."""
        limit = filters.limit or 50
        cursor = Cursor.decode(after) if after else None
        with self.session() as session:
            planned = apply_filters(select(Article), filters, session)
            score_column: ColumnElement[Any]
            if planned.score is not None:
                ranked = planned.query.with_only_columns(
                    Article.id.label("id"), planned.score.label("score")
                )
                if planned.newest_first is not None:
                    ranked = ranked.order_by(planned.newest_first).limit(MAX_RANKED)
                candidates = ranked.subquery("ranked")
                score_column = candidates.c.score
                query = select(Article, score_column).join(
                    candidates, candidates.c.id == Article.id
                )
            else:
                score_column = literal(None)
                query = planned.query.add_columns(score_column)
            if cursor is not None:
                query = query.where(_after(cursor, score_column, planned.score is not None))
            if planned.score is not None:
                query = query.order_by(score_column.desc())
            query = query.order_by(Article.published.desc().nulls_last(), Article.id.desc())
            rows = session.execute(query.limit(limit + 1)).all()
            more = len(rows) > limit
            rows = rows[:limit]
            ids = [row[0].id for row in rows]
            categories = names_by_article(session, ids, Category, ArticleCategory)
            stories = story_counts(session, ids)
            found = []
            for article, score in rows:
                listing = _listing(article, categories.get(article.id, []))
                listing["story"], listing["copies"] = stories.get(article.id, (None, 1))
                listing["score"] = None if score is None else round(float(score), 4)
                listing["snippet"] = (
                    snippet(article.content_text or article.title, planned.parsed.terms)
                    if planned.parsed.terms
                    else None
                )
                found.append(listing)
            next_cursor = None
            if more and rows:
                last_article, last_score = rows[-1]
                next_cursor = Cursor(
                    None if last_score is None else float(last_score),
                    last_article.published,
                    last_article.id,
                ).encode()
            terms = [t.text for t in planned.parsed.positive]
            return ResultPage(found, next_cursor, terms)

    def facets(self, filters: SearchFilters) -> dict[str, Any]:
        """Counts of the matches of *filters* by ``source``, ``category``, ``author`` and
        ``month`` (``YYYY-MM``, UTC), each a list of ``{"value", "count"}``, the most
        frequent first; ``matches`` (at most :data:`FACET_WINDOW`) and ``capped`` (whether
        there are more matches than were counted)."""
        with self.session() as session:
            planned = apply_filters(select(Article.id), filters, session)
            window = planned.query
            if planned.newest_first is not None:
                window = window.order_by(planned.newest_first)
            elif planned.score is None:
                window = window.order_by(Article.published.desc().nulls_last(), Article.id.desc())
            # The window's ids once (the search runs once), then two lookups by key.
            ids = list(session.scalars(window.limit(FACET_WINDOW + 1)))
            capped = len(ids) > FACET_WINDOW
            ids = ids[:FACET_WINDOW]
            names: dict[int, str] = dict(session.execute(select(Source.id, Source.name)).all())
            sources: dict[str, int] = {}
            authors: dict[str, int] = {}
            months: dict[str, int] = {}
            for source_id, people, published in session.execute(
                select(Article.source_id, Article.authors, Article.published).where(
                    Article.id.in_(ids)
                )
            ):
                name = names.get(source_id, "?")
                sources[name] = sources.get(name, 0) + 1
                for person in dict.fromkeys(people or []):
                    authors[person] = authors.get(person, 0) + 1
                if published is not None:
                    month = published.strftime("%Y-%m")
                    months[month] = months.get(month, 0) + 1
            categories: dict[str, int] = {}
            for (category,) in session.execute(
                select(Category.name)
                .join(ArticleCategory, ArticleCategory.category_id == Category.id)
                .where(ArticleCategory.article_id.in_(ids))
            ):
                categories[category] = categories.get(category, 0) + 1

            def top(counts: dict[str, int]) -> list[dict[str, Any]]:
                ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_SIZE]
                return [{"value": value, "count": count} for value, count in ordered]

            return {
                "matches": len(ids),
                "capped": capped,
                "source": top(sources),
                "category": top(categories),
                "author": top(authors),
                "month": [
                    {"value": m, "count": c} for m, c in sorted(months.items(), reverse=True)
                ][:FACET_SIZE],
            }

    def revisions(self, article_id: int) -> list[dict[str, Any]]:
        """The earlier versions of article *article_id*, oldest first: ``id``,
        ``title_raw``, ``summary_html``, ``content_html``, ``content_hash``,
        ``published_raw``, ``updated_raw``, ``seen_from`` and ``replaced_at``."""
        with self.session() as session:
            if session.get(Article, article_id) is None:
                raise NotFoundError(f"no article {article_id} in the archive")
            return [
                {
                    "id": revision.id,
                    "title_raw": revision.title_raw,
                    "summary_html": revision.summary_html,
                    "content_html": revision.content_html,
                    "content_hash": revision.content_hash,
                    "published_raw": revision.published_raw,
                    "updated_raw": revision.updated_raw,
                    "seen_from": iso_utc(revision.seen_from),
                    "replaced_at": iso_utc(revision.replaced_at),
                }
                for revision in session.scalars(
                    select(Revision)
                    .where(Revision.article_id == article_id)
                    .order_by(Revision.replaced_at, Revision.id)
                )
            ]

    def image_file(self, sha256: str) -> tuple[str, str | None] | None:
        """Where the downloaded image whose bytes have the digest *sha256* is kept (its
        ``path`` under the media directory, as the archive recorded it) and its media type;
        None when no downloaded image has it."""
        with self.session() as session:
            row = session.execute(
                select(Image.path, Image.media_type)
                .where(
                    Image.sha256 == sha256,
                    Image.status == "downloaded",
                    Image.path.is_not(None),
                )
                .order_by(Image.id)
                .limit(1)
            ).first()
            if row is None or not row[0]:
                return None
            return str(row[0]), row[1]

    def source_months(self) -> dict[str, dict[str, int]]:
        """Articles per month of publication (``YYYY-MM``, UTC) of every source, by source
        name: what the sources page draws."""
        with self.session() as session:
            month = published_month(session)
            names: dict[int, str] = dict(session.execute(select(Source.id, Source.name)).all())
            found: dict[str, dict[str, int]] = {}
            for source_id, value, count in session.execute(  # the index, not the rows
                select(Article.source_id, month, func.count())
                .where(Article.published.is_not(None))
                .group_by(Article.source_id, month)
            ):
                months = found.setdefault(names[source_id], {})
                months[str(value)] = months.get(str(value), 0) + int(count)
            return {name: dict(sorted(months.items())) for name, months in found.items()}


def _after(cursor: Cursor, score: ColumnElement[Any], ranked: bool) -> ColumnElement[bool]:
    """Rows strictly after *cursor* in the order (score desc, published desc nulls last,
    id desc)."""
    if cursor.published is None:
        later = and_(Article.published.is_(None), Article.id < cursor.id)
    else:
        later = or_(
            Article.published < cursor.published,
            and_(Article.published == cursor.published, Article.id < cursor.id),
            Article.published.is_(None),
        )
    if not ranked or cursor.score is None:
        return later
    return or_(score < cursor.score, and_(score == cursor.score, later))
