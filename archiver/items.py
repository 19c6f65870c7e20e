"""Items that travel through Scrapy: what a source said (raw) beside what we made of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class MediaRef:
    """An image or enclosure that the feed names outside the body.

    Covers RSS ``<enclosure>``, Media RSS ``media:content`` / ``media:thumbnail``,
    Atom ``link rel=enclosure``, JSON Feed ``image`` / ``banner_image`` / attachments.
    """

    url: str
    """Absolute URL, resolved against xml:base or the feed's URL."""
    role: str
    """Where it came from: ``enclosure``, ``media:content``, ``media:thumbnail``, ``image``,
    ``banner_image``, ``attachment``, ``og:image``, ``image:image`` (an image sitemap)."""
    media_type: str | None = None
    """The MIME type the source declared, if any."""
    width: int | None = None
    height: int | None = None
    length: int | None = None
    """The size in bytes the source declared, if any."""


@dataclass
class ArticleItem:
    """One article as a spider found it, then normalized by the front-matter pipeline.

    Spiders fill the raw fields only (``url`` and ``source_url`` are required); the
    front-matter pipeline fills the normalized ones. Nothing raw is ever overwritten.
    """

    # -- identity and provenance of the fetch (set by the spider) --
    url: str
    """The entry's link, absolute. Falls back to the feed URL plus guid when an entry has none."""
    source_url: str
    """The URL of the feed (or page, or sitemap) this article was found in."""
    source_kind: str = "rss"
    """``rss``, ``atom``, ``json``, ``sitemap``, ``page`` or ``rsshub``."""
    fetched_at: datetime | None = None
    """When the source document was fetched (UTC); relative dates are read against it."""
    base_url: str | None = None
    """What relative URLs in the entry's content resolve against: its xml:base, else the
    feed's URL (RFC 4287 §2 / XML Base). None means the article's own URL."""
    listing_capture_id: int | None = None
    """The capture index row of the feed (or sitemap) response the entry was read from, when
    it was captured and indexed: the store keeps the span of them that held the article."""

    # -- raw, as the source said it --
    guid: str | None = None
    """The entry's id/guid as published, or None when it has none."""
    title_raw: str | None = None
    """The title exactly as published (entities and markup included)."""
    authors_raw: list[str] = field(default_factory=list)
    """Author strings as published: names, ``a@b.c (Name)``, ``作者：X``..."""
    published_raw: str | None = None
    """The publication date string as published."""
    updated_raw: str | None = None
    """The last-modified date string as published."""
    summary_html: str | None = None
    """The entry's summary/description markup, byte for byte (decoded to text)."""
    content_html: str | None = None
    """The full content markup exactly as the feed carried it (``content:encoded``, Atom
    ``content``, JSON ``content_html``), or the summary when the feed carries nothing else.
    Never sanitized or re-serialized."""
    content_text_raw: str | None = None
    """JSON Feed ``content_text``, when given."""
    categories_raw: list[str] = field(default_factory=list)
    """The entry's own categories/tags as published, in order."""
    media: list[MediaRef] = field(default_factory=list)
    """Enclosures and media images named outside the body, in document order."""
    language_raw: str | None = None
    """The declared language (entry, else feed): ``zh-cn``, ``en-US``..."""
    og_image: str | None = None
    """An article page's Open Graph image (``og:image``, else its JSON-LD or Twitter card
    image), absolute, as the page named it; a head image candidate after the feed's media."""
    feed_title: str | None = None
    """The title of the feed the entry came from (for a page: its ``og:site_name``)."""
    feed_link: str | None = None
    """The site link of the feed the entry came from."""
    parse_errors: list[str] = field(default_factory=list)
    """Problems met while reading this entry or its feed (recorded, never fatal)."""
    feed_content_html: str | None = None
    """The feed's own body, byte for byte, when the page's replaced it in ``content_html``
    (kept unless it is the summary, which ``summary_html`` keeps)."""
    content_source: str | None = None
    """Where ``content_html`` came from: ``feed``; for a page, ``page:extractor`` (the
    extractor's main content), ``page:rule`` (a site rule's selectors) or ``page:body`` (the
    page's body element as written)."""
    page_metadata: dict[str, str] = field(default_factory=dict)
    """What the article's page said that has no field of its own: its declared
    ``canonical_url``, ``license``, ``site_name``, ``description``."""
    provenance: dict[str, str] = field(default_factory=dict)
    """Where each front-matter field came from, by field: ``feed``, ``page:json-ld``,
    ``page:og``, ``page:meta``, ``page:microdata``, ``page:html``, ``page:extractor``,
    ``page:htmldate``, ``page:rule`` or ``derived``."""

    # -- set by the crawl's configuration --
    source_categories: list[str] = field(default_factory=list)
    """Categories given to the source (``--category``), in order; they come first."""
    source_timezone: str | None = None
    """IANA zone configured for the source (``--timezone``), used for naive dates."""
    source_full_text: str | None = None
    """The source's own ``full_text`` (``auto``, ``always``, ``never``), over the crawl's."""
    source_content_selectors: list[str] = field(default_factory=list)
    """The source's own site rule for its pages: where they keep the article."""
    source_remove_selectors: list[str] = field(default_factory=list)

    # -- normalized (set by the front-matter pipeline) --
    key: str | None = None
    """The identity the article is archived under within its source: the guid when it is
    stable, else the canonical URL, else a hash of title and date."""
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    """Aware datetime in UTC, or None when the raw value could not be read."""
    updated: datetime | None = None
    timezone_rule: str | None = None
    """Which rule placed the published date in time: ``explicit``, ``source``, ``language``,
    ``utc``, ``relative``, ``epoch``."""
    date_flags: list[str] = field(default_factory=list)
    """What was odd about the dates: ``unparseable``, ``future``, ``before-1990``."""
    categories: list[str] = field(default_factory=list)
    """Source categories first, then the entry's, trimmed and de-duplicated."""
    tags: list[str] = field(default_factory=list)
    canonical_url: str | None = None
    """The article's canonical URL. A page spider sets it from ``<link rel=canonical>``
    (absolute, as written); the front-matter pipeline canonicalizes it, else uses ``url``."""
    summary: str | None = None
    content_text: str | None = None
    headimg: str | None = None
    thumbnail: str | None = None
    language: str | None = None
    origin: str | None = None
    """The original publisher of a re-published article, when named."""
    origin_url: str | None = None
    content_hash: str | None = None
    """sha256 of the published content, for change detection."""
    images: list[ImageRef] = field(default_factory=list)
    """Images found in the article (body order, then head image), filled by the images
    pipeline; the store links them to the article."""
    entry_hash: str | None = None
    """sha256 of the feed's entry as published (``content_hash`` before a page was merged
    in): an entry that did not change does not fetch its page again."""
    page: PageFetch | None = None
    """How the article's page went in this crawl, when it was wanted (pages pipeline)."""


@dataclass
class ImageRef:
    """An image an article shows, as the images pipeline found and fetched it."""

    url: str
    """Absolute URL the image was fetched from."""
    src: str
    """The attribute value as written in the body (or the media URL)."""
    position: int
    """Order in the body; head image and thumbnail come after the body's images."""
    role: str = "body"
    """``body``, ``headimg``, ``thumbnail`` or ``media``."""
    sha256: str | None = None
    path: str | None = None
    """Path relative to the media directory, e.g. ``images/ab/abcd...ef.png``."""
    media_type: str | None = None
    width: int | None = None
    height: int | None = None
    size: int | None = None
    status: str = "pending"
    """``downloaded``, ``cached``, ``failed``, ``deferred`` (failed before and not due for
    another attempt yet: not fetched, the archive keeps its record) or ``skipped``."""
    error: str | None = None
    failures: int = 0
    """Failed attempts in a row, this one included (``failed``, ``deferred``)."""
    last_attempt: datetime | None = None
    """When the archive last tried to fetch it (as ``archive.images.known`` tells)."""


@dataclass(frozen=True)
class CaptureRecord:
    """Where one response was kept as a WARC record: what the capture index holds."""

    url: str
    fetched_at: datetime
    status: int
    content_type: str | None
    payload_digest: str
    """``sha1:<base32>`` of the payload, as in the record's ``WARC-Payload-Digest``."""
    warc_file: str
    """The file's name, relative to the capture directory."""
    offset: int
    length: int
    """The record's compressed length in the file."""
    record_type: str = "response"
    """``response``, or ``revisit`` (the payload is the one of an earlier record of the URL
    with the same digest: only the headers are in this one)."""
    capture_id: int | None = None
    """The record's row in the capture index, once indexed."""


@dataclass
class PageFetch:
    """An article's page in this crawl: why it was wanted and how it went."""

    status: str
    """``fetched``; ``failed``; ``kept`` (archived before for the same entry: not fetched
    again); ``deferred`` (failed before, and not due for another attempt yet)."""
    reason: str
    """Why the page was wanted: ``always``, ``refresh``, ``no body``, ``short``, ``cut off``,
    ``links to the page``."""
    url: str | None = None
    """Where it was fetched from, after redirects."""
    error: str | None = None
    attempted_at: datetime | None = None
    failures: int = 0
    """Failed fetches in a row, this one included."""
    etag: str | None = None
    last_modified: str | None = None
    capture: CaptureRecord | None = None
