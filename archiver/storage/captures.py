"""The capture index: where each response kept as a WARC record is, and what it was of.

One row per record the crawl wrote (``response`` or ``revisit``), written once the record is
whole in its file; an article's page has one more row per further article it served (the
entries of several feeds may share a page). Every method blocks: call it off the reactor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, union_all, update
from sqlalchemy.orm import Session, aliased

from archiver.errors import NotFoundError
from archiver.items import CaptureRecord, ImageRef
from archiver.storage.models import Article, ArticleImage, Capture, Image, Source
from archiver.storage.records import SearchFilters, iso_utc
from archiver.storage.search import apply_filters
from archiver.storage.sql import Transaction, chunks, insert_many


@dataclass(frozen=True)
class StoredCapture:
    """One row of the index."""

    id: int
    url: str
    fetched_at: datetime
    status: int
    content_type: str | None
    payload_digest: str
    warc_file: str
    offset: int
    length: int
    kind: str
    record_type: str
    source_url: str | None
    run_id: int | None
    article_id: int | None

    def listing(self) -> dict[str, Any]:
        """The capture as a listing's JSON object (the keys of ``show``'s captures, and
        ``source``, ``run_id``, ``article_id``)."""
        return {
            **capture_listing(self),
            "source": self.source_url,
            "run_id": self.run_id,
            "article_id": self.article_id,
        }


def capture_listing(capture: Capture | StoredCapture | Any) -> dict[str, Any]:
    """A capture (a row, or anything with its columns) as ``show``'s captures list it."""
    return {
        "id": capture.id,
        "url": capture.url,
        "fetched_at": iso_utc(capture.fetched_at),
        "status": capture.status,
        "content_type": capture.content_type,
        "payload_digest": capture.payload_digest,
        "warc_file": capture.warc_file,
        "offset": capture.offset,
        "length": capture.length,
        "kind": capture.kind,
        "record_type": capture.record_type,
    }


@dataclass
class ReprocessTarget:
    """An archived article to parse again from its captures: who it is, its source's
    settings, and its page's latest capture (None: the feed alone made it)."""

    article_id: int
    identity: str
    url: str
    canonical_url: str | None
    source_id: int
    source_url: str
    source_kind: str
    categories: list[str] = field(default_factory=list)
    timezone: str | None = None
    full_text: str | None = None
    content_selectors: list[str] = field(default_factory=list)
    remove_selectors: list[str] = field(default_factory=list)
    page: StoredCapture | None = None
    listing: StoredCapture | None = None
    """The last response of its feed or sitemap that held it (a sitemap's page: the
    sitemap whose entry it was), when indexed."""
    images: dict[str, ImageRef] = field(default_factory=dict)
    """What the archive holds of the images the article shows now, by URL (downloaded:
    ``cached``; ``failed``; never tried: ``pending``)."""


_TABLE: Any = Capture.__table__
_ADD = insert(_TABLE).returning(_TABLE.c.id)
"""One row of the index, its id back: Core, as a crawl indexes every response it keeps."""
_EARLIER = (
    select(_TABLE)
    .where(
        _TABLE.c.url == bindparam("url"),
        _TABLE.c.payload_digest == bindparam("digest"),
        _TABLE.c.record_type == "response",
    )
    .order_by(_TABLE.c.id)
    .limit(1)
)
"""The first ``response`` row of a URL with a payload digest."""


class Captures:
    """The capture index (``archive.captures``)."""

    def __init__(self, session: Transaction) -> None:
        self.session = session

    def add(
        self,
        record: CaptureRecord,
        *,
        kind: str,
        source_url: str | None = None,
        run_id: int | None = None,
    ) -> int:
        """Index one record, once it is whole in its file; its row's id."""
        values = {**_columns(record), "kind": kind, "source_url": source_url, "run_id": run_id}
        with self.session() as session:
            return int(session.connection().execute(_ADD, values).scalar_one())

    def add_found(self, rows: Sequence[dict[str, Any]]) -> int:
        """Index records found in the files (their columns as dicts); how many."""
        with self.session() as session:
            for part in chunks(list(rows)):
                insert_many(session, Capture, list(part))
        return len(rows)

    def indexed_offsets(self, warc_file: str) -> set[int]:
        """The offsets of *warc_file*'s records already in the index."""
        with self.session() as session:
            return set(
                session.scalars(select(Capture.offset).where(Capture.warc_file == warc_file))
            )

    def earlier(self, url: str, digest: str) -> StoredCapture | None:
        """The first ``response`` record of *url* with payload *digest*: what a revisit of
        the same payload refers to."""
        with self.session() as session:
            row = session.connection().execute(_EARLIER, {"url": url, "digest": digest}).first()
            return _stored(row) if row is not None else None

    def original(self, capture: StoredCapture) -> StoredCapture:
        """The record holding *capture*'s payload: itself, or for a revisit the response
        it repeats (by URL and digest, else by digest alone)."""
        if capture.record_type != "revisit":
            return capture
        found = self.earlier(capture.url, capture.payload_digest)
        if found is None:
            with self.session() as session:
                row = session.scalars(
                    select(Capture)
                    .where(
                        Capture.payload_digest == capture.payload_digest,
                        Capture.record_type == "response",
                    )
                    .order_by(Capture.id)
                    .limit(1)
                ).first()
                found = _stored(row) if row is not None else None
        if found is None:
            raise NotFoundError(f"the payload of capture {capture.id} is in no indexed record")
        return found

    def for_url(self, url: str, *, limit: int | None = None) -> list[StoredCapture]:
        """The records of *url* (one per record: not again per article), newest first."""
        with self.session() as session:
            first = (
                select(func.min(Capture.id))
                .where(Capture.url == url)
                .group_by(Capture.warc_file, Capture.offset)
            )
            query = (
                select(Capture)
                .where(Capture.id.in_(first))
                .order_by(Capture.fetched_at.desc(), Capture.id.desc())
            )
            if limit:
                query = query.limit(limit)
            return [_stored(row) for row in session.scalars(query)]

    def get(self, capture_id: int) -> StoredCapture:
        with self.session() as session:
            row = session.get(Capture, capture_id)
            if row is None:
                raise NotFoundError(f"no capture {capture_id}")
            return _stored(row)

    def of_article(self, article_id: int) -> list[StoredCapture]:
        """The captures of an article's page, oldest first."""
        with self.session() as session:
            rows = session.scalars(
                select(Capture).where(Capture.article_id == article_id).order_by(Capture.id)
            )
            return [_stored(row) for row in rows]

    def serving(self, article_id: int) -> StoredCapture | None:
        """The capture an article was last read from: its page's latest, else the last
        response of its feed (or sitemap) that held it, else (an article indexed before
        that was known) the latest capture of its source's feed, else None."""
        with self.session() as session:
            row = session.scalars(
                select(Capture)
                .where(Capture.article_id == article_id)
                .order_by(Capture.id.desc())
                .limit(1)
            ).first()
            if row is None:
                row = _last_listing(session, article_id)
            if row is None:
                source_url = session.scalar(
                    select(Source.url)
                    .join(Article, Article.source_id == Source.id)
                    .where(Article.id == article_id)
                )
                row = session.scalars(
                    select(Capture)
                    .where(Capture.source_url == source_url, Capture.kind == "feed")
                    .order_by(Capture.fetched_at.desc(), Capture.id.desc())
                    .limit(1)
                ).first()
            return _stored(row) if row is not None else None

    def last_listing(self, article_id: int) -> StoredCapture | None:
        """The last response of the article's feed (or sitemap) that held it, if indexed."""
        with self.session() as session:
            row = _last_listing(session, article_id)
            return _stored(row) if row is not None else None

    def of_source(self, source_url: str, kinds: Iterable[str] = ("feed",)) -> list[StoredCapture]:
        """The captures of a source's own responses of *kinds*, oldest first."""
        with self.session() as session:
            rows = session.scalars(
                select(Capture)
                .where(Capture.source_url == source_url, Capture.kind.in_(list(kinds)))
                .order_by(Capture.fetched_at, Capture.id)
            )
            return [_stored(row) for row in rows]

    def targets(self, filters: SearchFilters) -> list[ReprocessTarget]:
        """The articles *filters* select (no limit), each with its source's settings, its
        page's latest successful capture and its last listing capture, in id order."""
        with self.session() as session:
            chosen = apply_filters(
                select(Article.id), SearchFilters(**{**vars(filters), "limit": None}), session
            ).query
            rows = session.execute(
                select(  # the few columns it needs: an article's row holds its whole text
                    Article.id,
                    Article.guid,
                    Article.url,
                    Article.canonical_url,
                    Article.last_listing_capture_id,
                    Source,
                )
                .join(Source, Source.id == Article.source_id)
                .where(Article.id.in_(chosen.scalar_subquery()))
                .order_by(Article.id)
            ).all()
            targets: dict[int, ReprocessTarget] = {}
            by_listing: dict[int, list[int]] = {}
            for chosen_row in rows:
                source = chosen_row.Source
                targets[chosen_row.id] = ReprocessTarget(
                    article_id=chosen_row.id,
                    identity=chosen_row.guid,
                    url=chosen_row.url,
                    canonical_url=chosen_row.canonical_url,
                    source_id=source.id,
                    source_url=source.url,
                    source_kind=source.kind,
                    categories=list(source.categories or []),
                    timezone=source.timezone,
                    full_text=source.full_text,
                    content_selectors=list(source.content_selectors or []),
                    remove_selectors=list(source.remove_selectors or []),
                )
                if (listing := chosen_row.last_listing_capture_id) is not None:
                    by_listing.setdefault(listing, []).append(chosen_row.id)
            for part in chunks(list(targets)):
                shown = session.execute(
                    select(ArticleImage.article_id, Image)
                    .join(Image, Image.id == ArticleImage.image_id)
                    .where(ArticleImage.article_id.in_(part))
                )
                for article_id, image in shown:
                    targets[article_id].images[image.url] = _image_ref(image)
                pages = session.scalars(
                    select(Capture)
                    .where(Capture.article_id.in_(part), Capture.status < 400)
                    .order_by(Capture.id)
                )
                for row in pages:  # the latest wins
                    targets[row.article_id or 0].page = _stored(row)
            for part in chunks(list(by_listing)):
                for row in session.scalars(select(Capture).where(Capture.id.in_(part))):
                    for article_id in by_listing[row.id]:
                        targets[article_id].listing = _stored(row)
            return list(targets.values())

    def totals(self) -> dict[str, int]:
        """How many records the index names (``captures``, ``capture_revisits``) and the
        bytes of their files (``capture_bytes``), each record counted once."""
        with self.session() as session:
            records = (
                select(Capture.record_type, Capture.length)
                .group_by(Capture.warc_file, Capture.offset, Capture.record_type, Capture.length)
                .subquery()
            )
            count, size = session.execute(
                select(func.count(), func.coalesce(func.sum(records.c.length), 0))
            ).one()
            revisits = session.scalar(
                select(func.count()).select_from(records).where(records.c.record_type == "revisit")
            )
            return {
                "captures": int(count),
                "capture_revisits": int(revisits or 0),
                "capture_bytes": int(size),
            }


def _last_listing(session: Session, article_id: int) -> Capture | None:
    return session.scalars(
        select(Capture)
        .join(Article, Article.last_listing_capture_id == Capture.id)
        .where(Article.id == article_id)
    ).first()


def read_from(session: Session, ids: Sequence[int]) -> list[tuple[int, Any]]:
    """Every capture the articles *ids* were read from, as ``(article id, row)``, by article
    and oldest first: their pages' records (``captures.article_id``) and their feed's (or
    sitemap's) records from the one that first gave the article to the last that still held
    it (``articles.first_listing_capture_id`` to ``last_listing_capture_id``: the records of
    that URL, or of the URL it moved to, whose ids lie between, responses and revisits).

    One statement for any number of articles; an article's feed records are one range of
    the ``(url, id)`` index, so a feed polled every 30 minutes for a year costs a read of
    the records listed, never a scan of the feed's others."""
    table: Any = Capture.__table__
    columns = list(table.c)
    pages = select(table.c.article_id.label("owner"), *columns).where(table.c.article_id.in_(ids))
    first, last = aliased(Capture, name="first_listing"), aliased(Capture, name="last_listing")
    span = Capture.id.between(Article.first_listing_capture_id, Article.last_listing_capture_id)
    feeds = (
        select(Article.id.label("owner"), *columns)
        .select_from(Article)
        .join(first, first.id == Article.first_listing_capture_id)
        .join(last, last.id == Article.last_listing_capture_id)
        .join(table, or_(table.c.url == first.url, table.c.url == last.url) & span)
        .where(Article.id.in_(ids))
    )
    both = union_all(pages, feeds).subquery()
    rows = session.execute(select(both).order_by(both.c.owner, both.c.fetched_at, both.c.id))
    return [(row.owner, row) for row in rows]


def index_page_captures(
    session: Session, pages: Sequence[tuple[CaptureRecord, int, int | None]]
) -> None:
    """Name each article on the index row of its page's record, *pages* being ``(record,
    article id, source id)`` (in the articles' transaction): the row the crawl wrote, else
    (another article of the same page, or a record indexed by nobody yet) a row of its own,
    those rows in one INSERT."""
    table: Any = Capture.__table__
    connection = session.connection()
    unclaimed: list[tuple[CaptureRecord, int, int | None]] = []
    for record, article_id, source_id in pages:
        if record.capture_id is not None:
            claimed = connection.execute(
                update(table)
                .where(table.c.id == record.capture_id, table.c.article_id.is_(None))
                .values(article_id=article_id, source_id=source_id)
            )
            if claimed.rowcount:
                continue
        unclaimed.append((record, article_id, source_id))
    if not unclaimed:
        return
    wanted = {source_id for _, _, source_id in unclaimed if source_id is not None}
    found = session.execute(select(Source.id, Source.url).where(Source.id.in_(wanted)))
    urls: dict[int, str] = dict(found.all())
    rows = [
        {
            **_columns(record),
            "kind": "page",
            "article_id": article_id,
            "source_id": source_id,
            "source_url": urls.get(source_id) if source_id is not None else None,
        }
        for record, article_id, source_id in unclaimed
    ]
    insert_many(session, Capture, rows)


def _image_ref(image: Image) -> ImageRef:
    """An image row as ``archive.images.known`` gives it."""
    status = {"downloaded": "cached", "failed": "failed"}.get(image.status, "pending")
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
        status=status,
        error=image.error,
        failures=image.failures,
        last_attempt=image.last_attempt,
    )


def _columns(record: CaptureRecord) -> dict[str, Any]:
    return {
        "url": record.url,
        "fetched_at": record.fetched_at,
        "status": record.status,
        "content_type": record.content_type,
        "payload_digest": record.payload_digest,
        "warc_file": record.warc_file,
        "offset": record.offset,
        "length": record.length,
        "record_type": record.record_type,
    }


def _stored(row: Capture | Any) -> StoredCapture:
    """A row of the index (an ORM object, or a row of its columns) as a plain record."""
    return StoredCapture(
        id=row.id,
        url=row.url,
        fetched_at=row.fetched_at,
        status=row.status,
        content_type=row.content_type,
        payload_digest=row.payload_digest,
        warc_file=row.warc_file,
        offset=row.offset,
        length=row.length,
        kind=row.kind,
        record_type=row.record_type,
        source_url=row.source_url,
        run_id=row.run_id,
        article_id=row.article_id,
    )
