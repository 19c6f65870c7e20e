"""Sources: the registry, their schedule and leases, and the Referer policy of image hosts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from archiver.crawling.policy import FetchHints, next_due, next_interval
from archiver.errors import ConfigurationError, NotFoundError
from archiver.storage.models import Article, HostPolicy, Source
from archiver.storage.records import SourceRecord
from archiver.storage.sql import Transaction, chunks, rowcount, upsert


class Sources:
    """The sources the archive knows (``archive.sources``): what they are, how their last
    fetch went and when each is due again."""

    def __init__(self, session: Transaction) -> None:
        self.session = session

    def ensure(
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
                            name=name or _free_source_name(session, url),
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

    def record_fetch(
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

    def all(self, *, scheduled_only: bool = False) -> list[SourceRecord]:
        """Every source, or only those on the schedule, by name."""
        with self.session() as session:
            query = select(Source).order_by(Source.name)
            if scheduled_only:
                query = query.where(Source.crawl_interval.is_not(None))
            return [_source_record(s) for s in session.scalars(query)]

    def get(self, ident: str) -> SourceRecord:
        """A source by name, URL or id."""
        with self.session() as session:
            return _source_record(_find_source(session, ident))

    def schedule(
        self,
        url: str,
        *,
        kind: str,
        interval: int,
        name: str | None = None,
        categories: Sequence[str] | None = None,
        timezone: str | None = None,
        full_text: str | None = None,
        content_selectors: Sequence[str] = (),
        remove_selectors: Sequence[str] = (),
    ) -> tuple[SourceRecord, bool]:
        """Put a source on the schedule (created if new); returns it and whether it was new.

        A known source keeps its articles; its interval, categories, zone and page settings
        (``full_text``, its own site rule's selectors) are replaced.
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
                source = Source(url=url, name=name or _free_source_name(session, url), kind=kind)
                session.add(source)
            elif name:
                source.name = name
            source.kind = kind
            source.categories = list(categories or [])
            source.timezone = timezone
            source.full_text = full_text
            source.content_selectors = list(content_selectors) or None
            source.remove_selectors = list(remove_selectors) or None
            source.crawl_interval = interval
            source.current_interval = interval
            source.enabled = True
            source.next_due_at = None  # due at once
            session.flush()
            return _source_record(source), created

    def unschedule(self, ident: str) -> tuple[SourceRecord, int]:
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

    def due(self, now: datetime | None = None) -> list[SourceRecord]:
        """Enabled scheduled sources whose next due time has come (never-crawled first)."""
        return self._due(now or datetime.now(UTC))

    def claimable(self, limit: int, now: datetime | None = None) -> list[SourceRecord]:
        """Due sources that no live lease holds, at most *limit*, in :meth:`due` order: what
        ``archiver worker`` tries to lease (:meth:`Leases.acquire` still decides)."""
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


class Leases:
    """Which run or worker holds a source for now (``archive.leases``): a lease keeps two
    crawls off one source, and simply expires when its holder dies."""

    def __init__(self, session: Transaction) -> None:
        self.session = session

    def acquire(
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
                if rowcount(result) == 1:
                    won.append(source_id)
        return won

    def renew(self, owners: Collection[str], seconds: int) -> int:
        """Extend the leases of these exact *owners* (a run's one, or a worker's per-source
        ones still in flight) to *seconds* from now; how many there are."""
        expires = datetime.now(UTC) + timedelta(seconds=seconds)
        renewed = 0
        with self.session() as session:
            for part in chunks(sorted(owners)):
                result = session.execute(
                    update(Source)
                    .where(Source.lease_owner.in_(part))
                    .values(lease_expires_at=expires)
                    .execution_options(synchronize_session=False)
                )
                renewed += rowcount(result)
        return renewed

    def release(self, owner: str, *, family: bool = False) -> None:
        """Give up the leases of *owner* (with *family*, of ``<owner>/...`` too)."""
        with self.session() as session:
            session.execute(
                update(Source)
                .where(_held_by(owner, family=family))
                .values(lease_owner=None, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            )


class HostPolicies:
    """The Referer strategy that worked per image host (``archive.host_policies``)."""

    def __init__(self, session: Transaction) -> None:
        self.session = session

    def all(self) -> dict[str, str]:
        """The Referer strategy that worked per image host: ``none``, ``article``, ``root``."""
        with self.session() as session:
            rows = session.execute(select(HostPolicy.host, HostPolicy.referer_strategy)).all()
            return dict(rows)

    def save(self, host: str, strategy: str) -> None:
        """Remember that *strategy* worked for *host*, replacing what was known."""
        with self.session() as session:
            upsert(
                session,
                HostPolicy,
                {"host": host, "referer_strategy": strategy, "updated_at": datetime.now(UTC)},
                key="host",
            )


def _free_source_name(session: Session, url: str) -> str:
    """A readable unique name: the host, else host and path, else numbered."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    path = parts.path.strip("/")
    options = (host, f"{host}/{path}" if path else "")
    if not host:  # a file: its name, then its path
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
    """A source is due: enabled, scheduled, its next due time come (``Sources.due``,
    ``Leases.acquire(due_only=True)``)."""
    return (
        Source.enabled.is_(True),
        Source.crawl_interval.is_not(None),
        or_(Source.next_due_at.is_(None), Source.next_due_at <= now),
    )


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
        full_text=source.full_text,
        content_selectors=list(source.content_selectors or []),
        remove_selectors=list(source.remove_selectors or []),
    )
