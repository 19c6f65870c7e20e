"""The archive's tables, as typed SQLAlchemy 2.0 models.

Every timestamp is stored in UTC (``DateTime(timezone=True)``); raw strings as published
sit beside the normalized values. Nothing here deletes: the archive is the point.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    SQLite has no time zone type and hands back naive values; this puts UTC back on them,
    and refuses naive values on the way in so a local time can never be stored by mistake.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; give it a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite server defaults come back as text
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class Source(Base):
    """A feed, sitemap, page or RSSHub route that is crawled, ad hoc or on a schedule."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    fetch_url: Mapped[str | None] = mapped_column(String(2048))
    """Where the source moved for good (301/308): fetched there; ``url`` stays its identity."""
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2048))
    categories: Mapped[list[str]] = mapped_column(default=list)
    timezone: Mapped[str | None] = mapped_column(String(64))
    crawl_interval: Mapped[int | None] = mapped_column(Integer)
    """Seconds between scheduled crawls, as configured; None for sources only crawled ad hoc."""
    current_interval: Mapped[int | None] = mapped_column(Integer)
    """The interval adapted to the source's activity and errors (see archiver.crawling.policy)."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    next_due_at: Mapped[datetime | None]
    last_crawled_at: Mapped[datetime | None]
    last_status: Mapped[str | None] = mapped_column(String(32))
    """``ok``, ``partial``, ``failed`` or ``not_modified``."""
    last_error: Mapped[str | None] = mapped_column(Text)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    full_text: Mapped[str | None] = mapped_column(String(8))
    """When its entries' pages are fetched: ``auto``, ``always``, ``never``; None: the crawl's."""
    content_selectors: Mapped[list[str] | None] = mapped_column(JSON)
    """The source's own site rule: where its pages keep the article (CSS or XPath)."""
    remove_selectors: Mapped[list[str] | None] = mapped_column(JSON)


class Article(Base):
    """One archived article: what was published, byte for byte, beside its normalized form."""

    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("source_id", "guid"),
        Index("ix_articles_published", "published"),
        Index("ix_articles_source_id_published", "source_id", "published"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    guid: Mapped[str] = mapped_column(String(2048))
    """The identity within the source: the stable guid, else the canonical URL, else a hash."""
    guid_raw: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(2048))
    canonical_url: Mapped[str | None] = mapped_column(String(2048), unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    title_raw: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(default=list)
    authors_raw: Mapped[list[str]] = mapped_column(default=list)
    published: Mapped[datetime | None]
    published_raw: Mapped[str | None] = mapped_column(Text)
    updated: Mapped[datetime | None]
    updated_raw: Mapped[str | None] = mapped_column(Text)
    timezone_rule: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str | None] = mapped_column(Text)
    summary_html: Mapped[str | None] = mapped_column(Text)
    content_html: Mapped[str | None] = mapped_column(Text)
    content_text: Mapped[str | None] = mapped_column(Text)
    headimg: Mapped[str | None] = mapped_column(String(2048))
    thumbnail: Mapped[str | None] = mapped_column(String(2048))
    language: Mapped[str | None] = mapped_column(String(35))
    language_raw: Mapped[str | None] = mapped_column(String(64))
    origin: Mapped[str | None] = mapped_column(Text)
    origin_url: Mapped[str | None] = mapped_column(String(2048))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    """The digest of what is archived (the page's body, when it was merged in)."""
    entry_hash: Mapped[str | None] = mapped_column(String(64))
    """The digest of the feed's entry as published: an unchanged one needs no page fetch."""
    content_source: Mapped[str | None] = mapped_column(String(32))
    """``feed``, ``page:extractor``, ``page:rule`` or ``page:body``."""
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Where each front-matter field came from (field -> ``feed``, ``page:json-ld``...)."""
    page_status: Mapped[str | None] = mapped_column(String(16))
    """How the article's page was last fetched: ``fetched`` or ``failed``; None: never."""
    page_error: Mapped[str | None] = mapped_column(Text)
    page_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Failed page fetches in a row, for the back-off."""
    page_attempted_at: Mapped[datetime | None]
    page_url: Mapped[str | None] = mapped_column(String(2048))
    """Where the page was fetched from, after redirects."""
    page_etag: Mapped[str | None] = mapped_column(String(512))
    page_last_modified: Mapped[str | None] = mapped_column(String(128))
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Everything else the source said that has no column: media, feed title, parse errors."""
    first_seen: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    last_seen: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    story_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """The story of copies it is one of (``stories.id``), or None when it stands alone. No
    foreign key: ``stories.origin_id`` points back here, and stories are rebuilt at will."""
    first_listing_capture_id: Mapped[int | None] = mapped_column(Integer)
    """The capture (``captures.id``) of the feed (or sitemap) response that first gave the
    article; None when none was indexed. No foreign key: ``captures.article_id`` points
    back here."""
    last_listing_capture_id: Mapped[int | None] = mapped_column(Integer)
    """The capture of the latest response of that feed (or sitemap) that still held the
    article: the article's feed records are the feed's between the two."""

    source: Mapped[Source] = relationship()


class Revision(Base):
    """An earlier version of an article, kept when its content changed."""

    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    title_raw: Mapped[str | None] = mapped_column(Text)
    summary_html: Mapped[str | None] = mapped_column(Text)
    content_html: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    published_raw: Mapped[str | None] = mapped_column(Text)
    updated_raw: Mapped[str | None] = mapped_column(Text)
    seen_from: Mapped[datetime]
    """When this version was first archived."""
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(500), unique=True)


class ArticleCategory(Base):
    __tablename__ = "article_categories"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(500), unique=True)


class ArticleTag(Base):
    __tablename__ = "article_tags"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), index=True)


class Image(Base):
    """An image URL and what fetching it gave: the file (by sha256) or the reason it failed.

    One row per URL; the same bytes seen at several URLs share one sha256 and one file.
    """

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(4096), unique=True)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    path: Mapped[str | None] = mapped_column(String(512))
    media_type: Mapped[str | None] = mapped_column(String(100))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    last_attempt: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Failed attempts in a row (0 once it is downloaded): a failed image is fetched again
    only when ``last_attempt`` is far enough behind (``ARCHIVER_IMAGE_RETRY_DELAY``)."""


class ArticleImage(Base):
    """Which images an article shows, in body order, with the ``src`` as written."""

    __tablename__ = "article_images"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id"), index=True)
    src: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16), default="body")


class HostPolicy(Base):
    """The Referer strategy that got images from a host past its hot-link protection."""

    __tablename__ = "host_policies"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    referer_strategy: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class CrawlRun(Base):
    """One crawl: when, what, how it ended, and its counts (per source in ``sources``)."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    finished_at: Mapped[datetime | None]
    command: Mapped[str] = mapped_column(String(32))
    """``crawl`` (ad hoc), ``run`` (scheduled), ``worker``."""
    status: Mapped[str] = mapped_column(String(16), default="running")
    """``running``, ``ok``, ``partial`` (some source failed), ``failed``, ``interrupted``."""
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)
    images: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sources: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Per source URL: kind, status, counts, error text."""
    error: Mapped[str | None] = mapped_column(Text)


class Capture(Base):
    """A response kept as a WARC record: where to read it, and what it was of."""

    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    fetched_at: Mapped[datetime]
    status: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(255))
    payload_digest: Mapped[str] = mapped_column(String(64), index=True)
    """``sha1:<base32>``, as the record's ``WARC-Payload-Digest``."""
    warc_file: Mapped[str] = mapped_column(String(255))
    """Relative to the capture directory."""
    offset: Mapped[int] = mapped_column(BigInteger)
    length: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    """What was fetched: ``feed``, ``sitemap`` (a sitemap, an index, a robots.txt naming
    them) or ``page`` (an article's page, a page crawled itself or a sitemap lists)."""
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), index=True)
    """The article the response served (a page's); None for a feed's or a sitemap's."""
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    record_type: Mapped[str] = mapped_column(
        String(16), default="response", server_default="response"
    )
    """``response``, or ``revisit`` (same payload as an earlier ``response`` of the URL)."""
    source_url: Mapped[str | None] = mapped_column(String(2048), index=True)
    """The source it was fetched for, as the crawl named it (a source is a row only once
    it gave an article or was recorded, after its response was indexed)."""
    run_id: Mapped[int | None] = mapped_column(Integer)
    """The ``crawl_runs`` row of the crawl that fetched it (no foreign key: a capture is
    indexed before its run may be, and outlives nothing but the file)."""

    __table_args__ = (
        Index("ix_captures_warc_file_offset", "warc_file", "offset"),
        # A URL's records, and an article's span of its feed's records (by id) in one range.
        Index("ix_captures_url_id", "url", "id"),
    )


class Fingerprint(Base):
    """An article text's fingerprint: the MinHash band keys its copies are looked up by."""

    __tablename__ = "fingerprints"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    """The article's ``content_hash`` the fingerprint was made from: unchanged, not made again."""
    size: Mapped[int] = mapped_column(Integer)
    """Distinct shingles in the text."""
    band_0: Mapped[int] = mapped_column(BigInteger, index=True)
    band_1: Mapped[int] = mapped_column(BigInteger, index=True)
    band_2: Mapped[int] = mapped_column(BigInteger, index=True)
    band_3: Mapped[int] = mapped_column(BigInteger, index=True)
    band_4: Mapped[int] = mapped_column(BigInteger, index=True)
    band_5: Mapped[int] = mapped_column(BigInteger, index=True)
    band_6: Mapped[int] = mapped_column(BigInteger, index=True)
    band_7: Mapped[int] = mapped_column(BigInteger, index=True)
    band_8: Mapped[int] = mapped_column(BigInteger, index=True)
    band_9: Mapped[int] = mapped_column(BigInteger, index=True)
    band_10: Mapped[int] = mapped_column(BigInteger, index=True)
    band_11: Mapped[int] = mapped_column(BigInteger, index=True)
    band_12: Mapped[int] = mapped_column(BigInteger, index=True)
    band_13: Mapped[int] = mapped_column(BigInteger, index=True)
    band_14: Mapped[int] = mapped_column(BigInteger, index=True)
    band_15: Mapped[int] = mapped_column(BigInteger, index=True)


class Story(Base):
    """Copies of one text (the articles whose ``story_id`` it is) and which one is the origin."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    origin_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    """The copy chosen as the origin (see ``archiver.stories.origin``)."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class StoryOverride(Base):
    """A person's word on two articles: ``apart`` (never one story) or ``together`` (always).

    Kept apart from the stories, which are derived and rebuilt: every linking obeys them.
    The pair is stored with the smaller id first."""

    __tablename__ = "story_overrides"
    __table_args__ = (UniqueConstraint("article_id", "other_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    other_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    """``apart`` or ``together``."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
