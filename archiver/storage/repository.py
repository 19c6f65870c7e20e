"""The archive's repository: every read and write the rest of the code makes.

Callers hand in plain items and get plain dataclasses back; ORM objects never leave this
module. Writes are idempotent upserts, so re-crawling, or two workers archiving the same
article at once, leave one row. Every method is blocking: call it off the reactor thread.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Result, Select, delete, func, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from archiver.crawling.policy import FetchHints, next_due, next_interval
from archiver.errors import ConfigurationError, DatabaseError, NotFoundError
from archiver.items import ArticleItem, ImageRef
from archiver.storage.db import create_archive_engine, ensure_schema, first_line
from archiver.storage.models import (
    Article,
    ArticleCategory,
    ArticleImage,
    ArticleTag,
    Base,
    Category,
    CrawlRun,
    HostPolicy,
    Image,
    Revision,
    Source,
    Tag,
)
from archiver.storage.records import (
    RunRecord,
    SearchFilters,
    SourceRecord,
    StoreOutcome,
    StoreResult,
    iso_utc,
)


def content_hash(item: ArticleItem) -> str:
    """A digest of what the source published for the article: a change means a revision."""
    digest = hashlib.sha256()
    for part in (item.title_raw, item.content_html, item.summary_html):
        digest.update((part or "").encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


class Archive:
    """The archive in one database. Build it once per process and share it.

    ``Archive()`` opens ``ARCHIVER_DATABASE_URL`` or ``./archive.db``, creating and
    upgrading the schema on first use.
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.engine: Engine = create_archive_engine(url)
        if migrate:
            ensure_schema(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._term_ids: dict[str, dict[str, int]] = {}

    @classmethod
    def from_settings(cls, settings: Any) -> Archive:
        """The archive named by a Scrapy settings object (``ARCHIVER_DATABASE_URL``)."""
        return cls(settings.get("ARCHIVER_DATABASE_URL"))

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            if isinstance(exc, IntegrityError):
                raise
            raise DatabaseError(f"database error on {self.url}: {first_line(exc)}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    # -- sources -------------------------------------------------------------------------

    def ensure_source(
        self,
        url: str,
        *,
        kind: str,
        name: str | None = None,
        categories: Sequence[str] | None = None,
        timezone: str | None = None,
        title: str | None = None,
        link: str | None = None,
    ) -> SourceRecord:
        """The source at *url*, created if new. Given categories and zone replace the stored
        ones; a title or link the feed declared fills in what was missing."""
        for attempt in range(2):
            try:
                with self.session() as session:
                    source = session.scalars(select(Source).where(Source.url == url)).first()
                    if source is None:
                        source = Source(
                            url=url,
                            name=name or self._free_source_name(session, url),
                            kind=kind,
                            categories=list(categories or []),
                            timezone=timezone,
                            title=title,
                            link=link,
                        )
                        session.add(source)
                    else:
                        if categories:
                            source.categories = list(categories)
                        if timezone:
                            source.timezone = timezone
                        if kind and kind not in (source.kind, "unknown"):
                            source.kind = kind
                        source.title = source.title or title
                        source.link = source.link or link
                    session.flush()
                    return _source_record(source)
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _free_source_name(self, session: Session, url: str) -> str:
        """A readable unique name: the host, else host and path, else numbered."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        host = parts.hostname or ""
        path = parts.path.strip("/")
        if host:
            options = (host, f"{host}/{path}" if path else "")
        else:  # a file: its name, then its path
            options = (path.rsplit("/", 1)[-1], path)
        candidates = [c[:190] for c in options if c]
        taken = set(session.scalars(select(Source.name).where(Source.name.in_(candidates))))
        for candidate in candidates:
            if candidate not in taken:
                return candidate
        base = candidates[0] if candidates else "source"
        counter = 2
        while session.scalar(select(Source.id).where(Source.name == f"{base}-{counter}")):
            counter += 1
        return f"{base}-{counter}"

    def record_source_fetch(
        self,
        source_id: int,
        *,
        status: str,
        error: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        new_entries: int = 0,
        hints: FetchHints | None = None,
        gone: bool = False,
        moved_to: str | None = None,
    ) -> SourceRecord:
        """Remember how the last fetch of a source went, and when it is due again.

        A scheduled source's interval adapts (archiver.crawling.policy.next_interval): it backs off
        on errors and comes back sooner when entries arrive often; the feed's ttl,
        ``Cache-Control: max-age`` and ``Retry-After`` push the next crawl later. A source
        that is *gone* (HTTP 410) is taken off the schedule, as ``sources remove`` does; one
        that *moved_to* another URL for good (301/308) is fetched there from now on.
        """
        now = datetime.now(UTC)
        with self.session() as session:
            source = session.get_one(Source, source_id)
            failed = status == "failed"
            source.last_crawled_at = now
            source.last_status = status
            source.last_error = error
            source.error_count = source.error_count + 1 if failed else 0
            if etag is not None:
                source.etag = etag
            if last_modified is not None:
                source.last_modified = last_modified
            if source.crawl_interval:
                source.current_interval = next_interval(
                    source.current_interval,
                    configured=source.crawl_interval,
                    new_entries=new_entries,
                    failed=failed,
                    error_count=source.error_count,
                )
                source.next_due_at = next_due(now, source.current_interval, hints or FetchHints())
            if gone:
                _unschedule(source)
            if moved_to:
                source.fetch_url = None if moved_to == source.url else moved_to
            return _source_record(source)

    def sources(self, *, scheduled_only: bool = False) -> list[SourceRecord]:
        """Every source, or only those on the schedule, by name."""
        with self.session() as session:
            query = select(Source).order_by(Source.name)
            if scheduled_only:
                query = query.where(Source.crawl_interval.is_not(None))
            return [_source_record(s) for s in session.scalars(query)]

    def source(self, ident: str) -> SourceRecord:
        """A source by name, URL or id."""
        with self.session() as session:
            return _source_record(_find_source(session, ident))

    def schedule_source(
        self,
        url: str,
        *,
        kind: str,
        interval: int,
        name: str | None = None,
        categories: Sequence[str] | None = None,
        timezone: str | None = None,
    ) -> tuple[SourceRecord, bool]:
        """Put a source on the schedule (created if new); returns it and whether it was new.

        A known source keeps its articles; its interval, categories and zone are replaced.
        """
        with self.session() as session:
            if name:
                clash = session.scalars(
                    select(Source).where(Source.name == name, Source.url != url)
                ).first()
                if clash is not None:
                    raise ConfigurationError(
                        f"a source named {name!r} exists already ({clash.url})"
                    )
            source = session.scalars(select(Source).where(Source.url == url)).first()
            created = source is None
            if source is None:
                source = Source(
                    url=url, name=name or self._free_source_name(session, url), kind=kind
                )
                session.add(source)
            elif name:
                source.name = name
            source.kind = kind
            source.categories = list(categories or [])
            source.timezone = timezone
            source.crawl_interval = interval
            source.current_interval = interval
            source.enabled = True
            source.next_due_at = None  # due at once
            session.flush()
            return _source_record(source), created

    def unschedule_source(self, ident: str) -> tuple[SourceRecord, int]:
        """Take a source off the schedule. Its articles stay: the archive never deletes.

        Returns the source and how many articles it keeps.
        """
        with self.session() as session:
            source = _find_source(session, ident)
            _unschedule(source)
            kept = session.scalar(
                select(func.count()).select_from(Article).where(Article.source_id == source.id)
            )
            return _source_record(source), kept or 0

    def due_sources(self, now: datetime | None = None) -> list[SourceRecord]:
        """Enabled scheduled sources whose next due time has come (never-crawled first)."""
        return self._due(now or datetime.now(UTC))

    def claimable_sources(self, limit: int, now: datetime | None = None) -> list[SourceRecord]:
        """Due sources that no live lease holds, at most *limit*, in ``due_sources`` order:
        what ``archiver worker`` tries to lease (``acquire_leases`` still decides)."""
        now = now or datetime.now(UTC)
        return self._due(now, _lease_free(now), limit=limit)

    def _due(
        self, now: datetime, *conditions: ColumnElement[bool], limit: int | None = None
    ) -> list[SourceRecord]:
        with self.session() as session:
            query = (
                select(Source)
                .where(*_due_now(now), *conditions)
                .order_by(Source.next_due_at.asc().nulls_first(), Source.id)
                .limit(limit)
            )
            return [_source_record(s) for s in session.scalars(query)]

    def acquire_leases(
        self, source_ids: Sequence[int], owner: str, seconds: int, *, due_only: bool = False
    ) -> list[int]:
        """Lease each source to *owner* unless another live run holds it; the ids leased.

        One conditional UPDATE per source, so two runs started at the same moment cannot
        both win: the database decides. A killed run's lease simply expires. With
        *due_only* (``archiver worker``), a source is leased only if it is still due when
        the UPDATE runs: one recorded and released by another worker since it was found
        due is left alone (``run --all`` leases sources that are not due, on purpose).
        """
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=seconds)
        due = _due_now(now) if due_only else ()
        won = []
        with self.session() as session:
            for source_id in source_ids:
                result = session.execute(
                    update(Source)
                    .where(Source.id == source_id, _lease_free(now, owner), *due)
                    .values(lease_owner=owner, lease_expires_at=expires)
                    .execution_options(synchronize_session=False)
                )
                if _rowcount(result) == 1:
                    won.append(source_id)
        return won

    def renew_leases(self, owners: Collection[str], seconds: int) -> int:
        """Extend the leases of these exact *owners* (a run's one, or a worker's per-source
        ones still in flight) to *seconds* from now; how many there are."""
        expires = datetime.now(UTC) + timedelta(seconds=seconds)
        renewed = 0
        with self.session() as session:
            for part in _chunks(sorted(owners)):
                result = session.execute(
                    update(Source)
                    .where(Source.lease_owner.in_(part))
                    .values(lease_expires_at=expires)
                    .execution_options(synchronize_session=False)
                )
                renewed += _rowcount(result)
        return renewed

    def release_leases(self, owner: str, *, family: bool = False) -> None:
        """Give up the leases of *owner* (with *family*, of ``<owner>/...`` too)."""
        with self.session() as session:
            session.execute(
                update(Source)
                .where(_held_by(owner, family=family))
                .values(lease_owner=None, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            )

    # -- articles ------------------------------------------------------------------------

    def store_article(self, item: ArticleItem, source_id: int, identity: str) -> StoreResult:
        """Archive *item* under *identity* within its source; idempotent.

        A new article is inserted; one whose published content changed is updated and its
        previous version kept in ``revisions``; anything else only refreshes ``last_seen``.
        Two writers racing on the same article leave one row: the loser updates it.
        """
        digest = item.content_hash or content_hash(item)
        for attempt in range(2):
            try:
                with self.session() as session:
                    return self._store_article(session, item, source_id, identity, digest)
            except BaseException as exc:
                self._term_ids.clear()  # ids learnt in a rolled-back transaction are void
                if not isinstance(exc, IntegrityError):
                    raise
                if attempt:
                    raise DatabaseError(f"cannot store {item.url}: {first_line(exc)}") from exc
        raise AssertionError("unreachable")

    def _store_article(
        self, session: Session, item: ArticleItem, source_id: int, identity: str, digest: str
    ) -> StoreResult:
        now = datetime.now(UTC)
        conditions: list[ColumnElement[bool]] = [
            (Article.source_id == source_id) & (Article.guid == identity)
        ]
        if item.canonical_url:
            conditions.append(Article.canonical_url == item.canonical_url)
        matches = session.scalars(select(Article).where(or_(*conditions)).limit(2)).all()
        existing = next(
            (a for a in matches if a.source_id == source_id and a.guid == identity), None
        )
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
            _fill_article(article, item, digest)
            article.canonical_url = canonical_url
            session.add(article)
            session.flush()
            outcome: StoreOutcome = "new"
        else:
            article = existing
            article.last_seen = now
            if article.content_hash == digest:
                # Its images were fetched again if they had failed: record how that went.
                fetched = [r for r in item.images if r.status in ("downloaded", "cached", "failed")]
                self._save_images(session, fetched, ids=False)
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
            _fill_article(article, item, digest)
            article.raw = {**article.raw, "revised_at": now.isoformat()}
            outcome = "updated"
        is_new = outcome == "new"
        self._link_terms(
            session, article.id, item.categories, Category, ArticleCategory, new=is_new
        )
        self._link_terms(session, article.id, item.tags, Tag, ArticleTag, new=is_new)
        self._link_images(session, article.id, item.images)
        return StoreResult(article.id, outcome)

    def _link_terms(
        self,
        session: Session,
        article_id: int,
        names: Sequence[str],
        term: type[Category] | type[Tag],
        link: type[ArticleCategory] | type[ArticleTag],
        *,
        new: bool = False,
    ) -> None:
        if not new:
            session.execute(delete(link).where(link.article_id == article_id))
        names = list(dict.fromkeys(names))
        if not names:
            return
        known = self._term_id_map(session, term, names)
        key = "category_id" if link is ArticleCategory else "tag_id"
        session.add_all(
            link(article_id=article_id, position=i, **{key: known[n]}) for i, n in enumerate(names)
        )

    def _term_id_map(
        self, session: Session, term: type[Category] | type[Tag], names: Iterable[str]
    ) -> dict[str, int]:
        """The ids of the terms *names* (made where missing), by name. Terms are few and
        never deleted: their ids are remembered for the Archive's life."""
        known = self._term_ids.setdefault(term.__tablename__, {})
        missing = sorted(set(names) - known.keys())
        if missing:
            _insert_ignore(session, term, [{"name": n} for n in missing])
            known.update(
                session.execute(select(term.name, term.id).where(term.name.in_(missing))).all()
            )
        return known

    def _link_images(self, session: Session, article_id: int, images: Sequence[ImageRef]) -> None:
        """Record *images* and make them the ones *article_id* shows, in order."""
        session.execute(delete(ArticleImage).where(ArticleImage.article_id == article_id))
        self._link_images_in_bulk(session, {article_id: images})

    def _link_images_in_bulk(self, session: Session, images: dict[int, Sequence[ImageRef]]) -> None:
        """Record the images and link each article (which shows none yet) to its own."""
        image_ids = self._save_images(session, [ref for refs in images.values() for ref in refs])
        links = [
            {
                "article_id": article_id,
                "position": ref.position,
                "image_id": image_ids[ref.url],
                "src": ref.src,
                "role": ref.role,
            }
            for article_id, article_images in images.items()
            for ref in _unique_positions(article_images)
        ]
        self._insert_many(session, ArticleImage, links)

    def _save_images(
        self, session: Session, images: Sequence[ImageRef], *, ids: bool = True
    ) -> dict[str, int]:
        """Record what fetching each image gave (one row per URL) and return the rows' ids
        (none without *ids*).

        A download replaces the row; a failure (with its count in a row and when it was
        tried) or a ``cached`` result (archived before) replaces anything but a download;
        ``deferred`` (not fetched) rows are left as they are. New URLs get a row each.
        """
        refs = {ref.url: ref for ref in images}
        if not refs:
            return {}
        now = datetime.now(UTC)
        kept: list[dict[str, Any]] = []
        fetched: list[dict[str, Any]] = []
        unless_downloaded: list[dict[str, Any]] = []
        for ref in refs.values():
            status = {"cached": "downloaded", "deferred": "failed"}.get(ref.status, ref.status)
            values = {
                "url": ref.url,
                "sha256": ref.sha256,
                "path": ref.path,
                "media_type": ref.media_type,
                "width": ref.width,
                "height": ref.height,
                "size": ref.size,
                "status": status,
                "error": None if status == "downloaded" else ref.error,
                "last_attempt": ref.last_attempt or now,
                "failures": max(ref.failures, 1) if status == "failed" else 0,
            }
            if ref.status == "deferred":
                kept.append(values)
            elif ref.status == "downloaded":
                fetched.append(values)
            else:  # cached, failed, skipped: never over a download (a race between workers)
                unless_downloaded.append(values)
        _insert_ignore(session, Image, kept)
        _upsert_many(session, Image, fetched, key="url")
        table: Any = Image.__table__
        _upsert_many(
            session, Image, unless_downloaded, key="url", where=table.c.status != "downloaded"
        )
        image_ids: dict[str, int] = {}
        for part in _chunks(list(refs)) if ids else ():
            found = session.execute(select(Image.url, Image.id).where(Image.url.in_(part)))
            image_ids.update((url, image_id) for url, image_id in found)
        return image_ids

    # -- images --------------------------------------------------------------------------

    def known_image(self, url: str) -> ImageRef | None:
        """What the archive holds of the image at *url*: ``cached`` (downloaded before, so
        not downloaded again) or ``failed`` (with its reason, ``failures`` in a row and
        ``last_attempt``); None when it was never tried."""
        with self.session() as session:
            image = session.scalars(
                select(Image).where(Image.url == url, Image.status.in_(("downloaded", "failed")))
            ).first()
            if image is None:
                return None
            failed = image.status == "failed"
            return ImageRef(
                url=image.url,
                src=image.url,
                position=0,
                sha256=image.sha256,
                path=image.path,
                media_type=image.media_type,
                width=image.width,
                height=image.height,
                size=image.size,
                status="failed" if failed else "cached",
                error=image.error,
                failures=image.failures,
                last_attempt=image.last_attempt,
            )

    def host_policies(self) -> dict[str, str]:
        """The Referer strategy that worked per image host: ``none``, ``article``, ``root``."""
        with self.session() as session:
            rows = session.execute(select(HostPolicy.host, HostPolicy.referer_strategy)).all()
            return dict(rows)

    def save_host_policy(self, host: str, strategy: str) -> None:
        with self.session() as session:
            _upsert(
                session,
                HostPolicy,
                {"host": host, "referer_strategy": strategy, "updated_at": datetime.now(UTC)},
                key="host",
            )

    # -- crawl runs ----------------------------------------------------------------------

    def start_run(self, command: str) -> int:
        with self.session() as session:
            run = CrawlRun(command=command, status="running", started_at=datetime.now(UTC))
            session.add(run)
            session.flush()
            return run.id

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        counts: dict[str, int],
        sources: dict[str, Any],
        error: str | None = None,
    ) -> RunRecord:
        with self.session() as session:
            run = session.get_one(CrawlRun, run_id)
            run.finished_at = datetime.now(UTC)
            run.status = status
            for key in ("new", "updated", "unchanged", "failed", "not_modified", "images", "bytes"):
                setattr(run, key, int(counts.get(key, 0)))
            run.sources = sources
            run.error = error
            session.flush()
            return _run_record(run)

    def runs(self, limit: int | None = 50) -> list[RunRecord]:
        """Crawl runs, newest first."""
        with self.session() as session:
            query = select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
            return [_run_record(r) for r in session.scalars(query.limit(limit))]

    def run(self, run_id: int) -> RunRecord:
        with self.session() as session:
            run = session.get(CrawlRun, run_id)
            if run is None:
                raise NotFoundError(f"no crawl run {run_id}")
            return _run_record(run)

    # -- queries -------------------------------------------------------------------------

    def search(self, filters: SearchFilters) -> list[dict[str, Any]]:
        """Articles matching *filters*, as the listing's JSON objects.

        With a text query (``filters.query``, see :mod:`archiver.storage.search` for its
        operators) the most relevant come first, then the newest, each with a ``score`` and
        a ``snippet`` of its text around the match; without one, the newest first.
        """
        from archiver.storage.search import MAX_RANKED, apply_filters, snippet

        with self.session() as session:
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
            if filters.limit:
                query = query.limit(filters.limit)
            rows = session.execute(query).all()
            articles = [row[0] for row in rows]
            categories = _terms(session, [a.id for a in articles], Category, ArticleCategory)
            found = []
            for article, score in rows:
                summary = _summary(article, categories.get(article.id, []))
                summary["score"] = None if score is None else round(float(score), 4)
                summary["snippet"] = (
                    snippet(article.content_text or article.title, planned.parsed.terms)
                    if planned.parsed.terms
                    else None
                )
                found.append(summary)
            return found

    def article(self, ident: str | int) -> dict[str, Any]:
        """One article, by id or by URL (its link or canonical URL), with everything known."""
        with self.session() as session:
            article = _find_article(session, ident)
            ids = [article.id]
            categories = _terms(session, ids, Category, ArticleCategory).get(article.id, [])
            tags = _terms(session, ids, Tag, ArticleTag).get(article.id, [])
            images = session.execute(
                select(ArticleImage, Image)
                .join(Image, ArticleImage.image_id == Image.id)
                .where(ArticleImage.article_id == article.id)
                .order_by(ArticleImage.position)
            ).all()
            revisions = session.scalar(
                select(func.count()).select_from(Revision).where(Revision.article_id == article.id)
            )
            detail = _summary(article, categories)
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
                    "base_url": article.raw.get("base_url") or article.url,
                    "date_flags": list(article.raw.get("date_flags") or []),
                    "first_seen": iso_utc(article.first_seen),
                    "last_seen": iso_utc(article.last_seen),
                    "revisions": revisions or 0,
                    "images": [_image_dict(link, image) for link, image in images],
                }
            )
            return detail

    def stats(self) -> dict[str, Any]:
        """Counts over the whole archive."""
        with self.session() as session:
            files = (
                select(Image.sha256, func.max(Image.size).label("size"))
                .where(Image.status == "downloaded", Image.sha256.is_not(None))
                .group_by(Image.sha256)
                .subquery()
            )
            image_count, image_bytes = session.execute(
                select(func.count(), func.coalesce(func.sum(files.c.size), 0))
            ).one()

            def count(model: type[Base]) -> int:
                return session.scalar(select(func.count()).select_from(model)) or 0

            failed_images = session.scalar(
                select(func.count()).select_from(Image).where(Image.status == "failed")
            )
            return {
                "articles": count(Article),
                "sources": count(Source),
                "images": int(image_count),
                "image_bytes": int(image_bytes),
                "images_failed": failed_images or 0,
                "revisions": count(Revision),
                "runs": count(CrawlRun),
                "oldest": iso_utc(session.scalar(select(func.min(Article.published)))),
                "newest": iso_utc(session.scalar(select(func.max(Article.published)))),
            }

    def create_all(self) -> None:
        """Create the tables straight from the models (tests of the models alone)."""
        Base.metadata.create_all(self.engine)

    # -- export and import --

    def export_articles(
        self, filters: SearchFilters, *, batch_size: int = 500
    ) -> Iterator[dict[str, Any]]:
        """Every article matching *filters* (its limit ignored), oldest id first, with every
        field: the keys of :meth:`article` (``revisions`` aside) plus ``raw``, ``authors_raw``
        and ``source_info`` (the source's ``name``, ``url``, ``kind``, ``title``,
        ``categories``). Read in batches, so an export never holds the archive in memory."""
        from sqlalchemy.orm import joinedload

        from archiver.storage.search import apply_filters

        with self.session() as session:
            planned = apply_filters(select(Article.id), filters, session)
            ids = list(session.scalars(planned.query.order_by(Article.id)))
        for batch in _chunks(ids, batch_size):
            with self.session() as session:
                articles = session.scalars(
                    select(Article)
                    .options(joinedload(Article.source))
                    .where(Article.id.in_(batch))
                    .order_by(Article.id)
                ).all()
                categories = _terms(session, batch, Category, ArticleCategory)
                tags = _terms(session, batch, Tag, ArticleTag)
                images: dict[int, list[dict[str, Any]]] = {}
                for link, image in session.execute(
                    select(ArticleImage, Image)
                    .join(Image, ArticleImage.image_id == Image.id)
                    .where(ArticleImage.article_id.in_(batch))
                    .order_by(ArticleImage.article_id, ArticleImage.position)
                ):
                    images.setdefault(link.article_id, []).append(_image_dict(link, image))
                for article in articles:
                    detail = _summary(article, categories.get(article.id, []))
                    source = article.source
                    detail.update(
                        {
                            "canonical_url": article.canonical_url,
                            "guid": article.guid,
                            "guid_raw": article.guid_raw,
                            "updated": iso_utc(article.updated),
                            "tags": tags.get(article.id, []),
                            "summary": article.summary,
                            "summary_html": article.summary_html,
                            "content_html": article.content_html,
                            "content_text": article.content_text,
                            "thumbnail": article.thumbnail,
                            "published_raw": article.published_raw,
                            "updated_raw": article.updated_raw,
                            "title_raw": article.title_raw,
                            "authors_raw": list(article.authors_raw or []),
                            "language": article.language,
                            "language_raw": article.language_raw,
                            "timezone_rule": article.timezone_rule,
                            "origin": article.origin,
                            "origin_url": article.origin_url,
                            "content_hash": article.content_hash,
                            "base_url": article.raw.get("base_url") or article.url,
                            "date_flags": list(article.raw.get("date_flags") or []),
                            "first_seen": iso_utc(article.first_seen),
                            "last_seen": iso_utc(article.last_seen),
                            "images": images.get(article.id, []),
                            "raw": dict(article.raw or {}),
                            "source_info": {
                                "name": source.name,
                                "url": source.url,
                                "kind": source.kind,
                                "title": source.title,
                                "categories": list(source.categories or []),
                            },
                        }
                    )
                    yield detail

    def store_articles(
        self,
        entries: Sequence[tuple[ArticleItem, int, str]],
        *,
        raw_extras: Sequence[dict[str, Any]] | None = None,
    ) -> list[StoreResult]:
        """Archive many ``(item, source_id, identity)`` in one transaction (bulk import), as
        :meth:`store_article` does for each; a batch that meets a concurrent writer falls back
        to one transaction per article. ``raw_extras[i]`` is merged into the ``raw`` column
        of the i-th article (what an import keeps of the file it read)."""
        extras = list(raw_extras or [])

        def store(session: Session, index: int) -> StoreResult:
            item, source_id, identity = entries[index]
            digest = item.content_hash or content_hash(item)
            result = self._store_article(session, item, source_id, identity, digest)
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
            self._term_ids.clear()  # ids learnt in a rolled-back transaction are void
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
                        self._term_ids.clear()
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
        :meth:`_store_article`. Returns the results by index in *entries*.

        Plain ``executemany`` statements (no ORM objects, no ``RETURNING``): the new ids are
        read back by identity, so the whole batch costs a handful of statements."""
        from types import SimpleNamespace

        from archiver.storage.search import defer_indexing, index_articles

        keys = list(dict.fromkeys((source_id, identity) for _, source_id, identity in entries))
        canonical = {item.canonical_url for item, _, _ in entries if item.canonical_url}
        existing = self._by_identity(session, keys)
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
            # The column values _fill_article gives a new Article, without the ORM's cost.
            values: Any = SimpleNamespace(
                source_id=source_id,
                guid=identity,
                first_seen=now,
                last_seen=now,
                canonical_url=item.canonical_url,
            )
            _fill_article(values, item, digest)
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
        self._insert_many(session, Article, rows)
        new_keys = [(row["source_id"], row["guid"]) for row in rows]
        found = self._by_identity(session, new_keys)
        by_index = {index: found[key][0] for index, key in zip(chosen, new_keys, strict=True)}
        if deferred:
            index_articles(session, sorted(by_index.values()))
        terms: tuple[tuple[str, type[Category] | type[Tag], type[Base], str], ...] = (
            ("categories", Category, ArticleCategory, "category_id"),
            ("tags", Tag, ArticleTag, "tag_id"),
        )
        for attribute, term, link, key_name in terms:
            names = {
                index: list(dict.fromkeys(getattr(entries[index][0], attribute)))
                for index in chosen
            }
            wanted = {name for listed in names.values() for name in listed}
            if not wanted:
                continue
            known = self._term_id_map(session, term, wanted)
            links = [
                {"article_id": by_index[index], "position": position, key_name: known[name]}
                for index in chosen
                for position, name in enumerate(names[index])
            ]
            self._insert_many(session, link, links)
        self._link_images_in_bulk(session, {by_index[i]: entries[i][0].images for i in chosen})
        results.update(
            {index: StoreResult(article_id, "new") for index, article_id in by_index.items()}
        )
        return results

    @staticmethod
    def _insert_many(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
        """INSERT *rows* (dicts with the same keys) with one ``executemany``. On SQLite the
        values go straight to the driver, converted by the columns' own bind processors
        (JSON, dates) as SQLAlchemy would: its per-row handling is otherwise a third of a
        bulk import's Python time."""
        from sqlalchemy import insert

        if not rows:
            return
        table: Any = model.__table__
        connection = session.connection()
        dialect = connection.dialect
        if dialect.name != "sqlite":
            connection.execute(insert(table), list(rows))
            return
        compiled: Any = insert(table).compile(dialect=dialect, column_keys=list(rows[0]))
        order = list(compiled.positiontup)
        converters = [
            (position, convert)
            for position, key in enumerate(order)
            if (convert := table.c[key].type.dialect_impl(dialect).bind_processor(dialect))
        ]
        values: list[tuple[Any, ...]] = []
        for row in rows:
            picked = [row[key] for key in order]
            for position, convert in converters:
                picked[position] = convert(picked[position])
            values.append(tuple(picked))
        connection.exec_driver_sql(str(compiled), values)

    @staticmethod
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
            for part in _chunks(names):
                statement = select(Article.id, Article.guid, Article.content_hash).where(
                    Article.source_id == source_id, Article.guid.in_(part)
                )
                for article_id, guid, digest in session.execute(statement):
                    found[(source_id, guid)] = (article_id, digest)
        return found

    def stats_breakdown(self) -> dict[str, Any]:
        """``by_source`` (articles, oldest, newest, images, image bytes per source) and
        ``by_month`` (articles per ``YYYY-MM`` of publication, UTC), for ``archiver stats``."""
        with self.session() as session:
            by_source: dict[str, dict[str, Any]] = {}
            for name, count, oldest, newest in session.execute(
                select(
                    Source.name,
                    func.count(Article.id),
                    func.min(Article.published),
                    func.max(Article.published),
                )
                .join(Article, Article.source_id == Source.id, isouter=True)
                .group_by(Source.id, Source.name)
                .order_by(Source.name)
            ):
                by_source[name] = {
                    "articles": count,
                    "oldest": iso_utc(oldest),
                    "newest": iso_utc(newest),
                    "images": 0,
                    "image_bytes": 0,
                }
            files = (
                select(
                    Article.source_id,
                    Image.sha256,
                    func.max(Image.size).label("size"),
                )
                .join(ArticleImage, ArticleImage.article_id == Article.id)
                .join(Image, Image.id == ArticleImage.image_id)
                .where(Image.status == "downloaded", Image.sha256.is_not(None))
                .group_by(Article.source_id, Image.sha256)
                .subquery()
            )
            for name, count, size in session.execute(
                select(Source.name, func.count(), func.coalesce(func.sum(files.c.size), 0))
                .join(files, files.c.source_id == Source.id)
                .group_by(Source.name)
            ):
                by_source[name].update({"images": int(count), "image_bytes": int(size)})
            dialect = session.get_bind().dialect.name
            if dialect == "sqlite":  # stored as UTC text
                month: Any = func.strftime("%Y-%m", Article.published)
            elif dialect == "postgresql":
                month = func.to_char(func.timezone("UTC", Article.published), "YYYY-MM")
            else:  # pragma: no cover - other dialects: by year and month in Python
                month = None
            by_month: dict[str, int] = {}
            if month is not None:
                rows = session.execute(
                    select(month, func.count())
                    .where(Article.published.is_not(None))
                    .group_by(month)
                )
                by_month = {str(m): int(n) for m, n in rows}
            else:  # pragma: no cover
                for published in session.scalars(
                    select(Article.published).where(Article.published.is_not(None))
                ):
                    if published is not None:
                        key = published.astimezone(UTC).strftime("%Y-%m")
                        by_month[key] = by_month.get(key, 0) + 1
            return {"by_source": by_source, "by_month": dict(sorted(by_month.items()))}

    # -- pages --

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
            for chunk in _chunks(urls, 500):
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


# -- helpers ---------------------------------------------------------------------------------


def _fill_article(article: Article, item: ArticleItem, digest: str) -> None:
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
    article.raw = {
        "categories": list(item.categories_raw),
        "media": [vars(m) for m in item.media],
        "feed_title": item.feed_title,
        "feed_link": item.feed_link,
        "parse_errors": list(item.parse_errors),
        "base_url": item.base_url,
        "date_flags": list(item.date_flags),
        "content_text": item.content_text_raw,
    }


def _unique_positions(images: Sequence[ImageRef]) -> Iterator[ImageRef]:
    seen: set[int] = set()
    for ref in images:
        if ref.position not in seen:
            seen.add(ref.position)
            yield ref


def _insert_ignore(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """INSERT rows, skipping any that would break a unique constraint (any dialect)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        session.execute(sqlite.insert(model).on_conflict_do_nothing(), rows)
    elif dialect == "postgresql":
        session.execute(postgresql.insert(model).on_conflict_do_nothing(), rows)
    else:  # pragma: no cover - other dialects: one savepoint per row
        for row in rows:
            try:
                with session.begin_nested():
                    session.add(model(**row))
            except IntegrityError:
                pass


def _upsert(session: Session, model: type[Base], values: dict[str, Any], *, key: str) -> None:
    """INSERT *values* or, when *key* exists, UPDATE the other columns (any dialect)."""
    _upsert_many(session, model, [values], key=key)


def _upsert_many(
    session: Session,
    model: type[Base],
    rows: list[dict[str, Any]],
    *,
    key: str,
    where: ColumnElement[bool] | None = None,
) -> None:
    """INSERT *rows* (dicts with the same keys) or, where *key* exists, UPDATE the other
    columns, in one ``executemany``; with *where*, only rows where it holds are updated."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - other dialects
        column = getattr(model, key)
        for values in rows:
            same = column == values[key]
            row = session.scalars(select(model).where(same)).first()
            if row is None:
                session.add(model(**values))
            elif where is None or session.scalars(select(model).where(same & where)).first():
                for name, value in values.items():
                    setattr(row, name, value)
        return
    table: Any = model.__table__  # Core: none of the ORM's per-row work
    statement = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(table)
    statement = statement.on_conflict_do_update(
        index_elements=[key],
        set_={k: statement.excluded[k] for k in rows[0] if k != key},
        where=where,
    )
    session.execute(statement, rows)


def _unschedule(source: Source) -> None:
    """Off the schedule (``sources remove``, a feed gone for good); the source stays."""
    source.crawl_interval = source.current_interval = source.next_due_at = None
    source.enabled = False


def _lease_free(now: datetime, owner: str | None = None) -> ColumnElement[bool]:
    """No live lease holds the source (or *owner*'s own does)."""
    free = [
        Source.lease_owner.is_(None),
        Source.lease_expires_at.is_(None),
        Source.lease_expires_at < now,
    ]
    if owner is not None:
        free.append(Source.lease_owner == owner)
    return or_(*free)


def _held_by(owner: str, *, family: bool) -> ColumnElement[bool]:
    held = Source.lease_owner == owner
    if family:
        held = or_(held, Source.lease_owner.startswith(f"{owner}/", autoescape=True))
    return held


def _due_now(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """A source is due: enabled, scheduled, its next due time come (``Archive._due``,
    ``acquire_leases(due_only=True)``)."""
    return (
        Source.enabled.is_(True),
        Source.crawl_interval.is_not(None),
        or_(Source.next_due_at.is_(None), Source.next_due_at <= now),
    )


def _chunks(values: Sequence[Any], size: int = 1000) -> Iterator[Sequence[Any]]:
    """*values* a thousand at a time: SQLite binds at most 32,766 values a statement."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _filtered(
    query: Select[Any], filters: SearchFilters, session: Session | None = None
) -> Select[Any]:
    """*query* narrowed by *filters*; see :func:`archiver.storage.search.apply_filters`."""
    from archiver.storage.search import apply_filters

    return apply_filters(query, filters, session).query


def _find_source(session: Session, ident: str) -> Source:
    text = ident.strip()
    source = session.scalars(
        select(Source).where(or_(Source.name == text, Source.url == text))
    ).first()
    if source is None and text.isdigit():
        source = session.get(Source, int(text))
    if source is None:
        raise NotFoundError(f"no source {text!r} (give its name, URL or id; see 'sources list')")
    return source


def _rowcount(result: Result[Any]) -> int:
    return int(getattr(result, "rowcount", 0))


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


def _terms(
    session: Session,
    article_ids: Sequence[int],
    term: type[Category] | type[Tag],
    link: type[ArticleCategory] | type[ArticleTag],
) -> dict[int, list[str]]:
    if not article_ids:
        return {}
    key = link.category_id if link is ArticleCategory else link.tag_id  # type: ignore[union-attr]
    rows = session.execute(
        select(link.article_id, term.name)
        .join(term, term.id == key)
        .where(link.article_id.in_(article_ids))
        .order_by(link.article_id, link.position)
    )
    result: dict[int, list[str]] = {}
    for article_id, name in rows:
        result.setdefault(article_id, []).append(name)
    return result


def _summary(article: Article, categories: list[str]) -> dict[str, Any]:
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


def _image_dict(link: ArticleImage, image: Image) -> dict[str, Any]:
    return {
        "url": image.url,
        "src": link.src,
        "role": link.role,
        "position": link.position,
        "path": image.path,
        "sha256": image.sha256,
        "media_type": image.media_type,
        "width": image.width,
        "height": image.height,
        "bytes": image.size,
        "status": image.status,
        "error": image.error,
        "failures": image.failures,
        "last_attempt": iso_utc(image.last_attempt),
    }


def _source_record(source: Source) -> SourceRecord:
    return SourceRecord(
        id=source.id,
        name=source.name,
        url=source.url,
        kind=source.kind,
        categories=list(source.categories or []),
        timezone=source.timezone,
        title=source.title,
        crawl_interval=source.crawl_interval,
        current_interval=source.current_interval,
        enabled=source.enabled,
        etag=source.etag,
        last_modified=source.last_modified,
        next_due_at=source.next_due_at,
        last_crawled_at=source.last_crawled_at,
        last_status=source.last_status,
        last_error=source.last_error,
        error_count=source.error_count,
        fetch_url=source.fetch_url,
    )


def _run_record(run: CrawlRun) -> RunRecord:
    return RunRecord(
        id=run.id,
        command=run.command,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        new=run.new,
        updated=run.updated,
        unchanged=run.unchanged,
        failed=run.failed,
        not_modified=run.not_modified,
        images=run.images,
        bytes=run.bytes,
        sources=dict(run.sources or {}),
        error=run.error,
    )
