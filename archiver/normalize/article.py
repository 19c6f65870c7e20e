"""A whole article's front-matter from its raw fields: identity apart from everything else.

The identity (canonical URL, the key it is archived under, the digest of the entry) is made
once, from what the source itself gave; the other fields are made again when a page is
merged in (:func:`normalize_fields`), so a page never changes which article it belongs to.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection
from datetime import UTC, datetime
from urllib.parse import urlsplit

from archiver.items import ArticleItem
from archiver.normalize import read_html
from archiver.normalize.dates import parse_date
from archiver.normalize.images import choose_head_image
from archiver.normalize.people import parse_authors
from archiver.normalize.provenance import detect_origin
from archiver.normalize.text import (
    clean_terms,
    clean_title,
    detect_language,
    html_to_text,
    make_summary,
)
from archiver.normalize.urls import article_identity, canonicalize_url

logger = logging.getLogger(__name__)


def content_hash(item: ArticleItem) -> str:
    """A digest of what the source published for the article: a change means a revision."""
    digest = hashlib.sha256()
    for part in (item.title_raw, item.content_html, item.summary_html):
        digest.update((part or "").encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


DERIVED_TITLE_CHARS = 80
"""The longest title made from an untitled entry's text."""


def normalize_article(item: ArticleItem, *, tracking_params: Collection[str] = ()) -> None:
    """Fill every normalized field of *item* from its raw fields, its identity included.

    Raw fields are never touched, and nothing raises on bad input: a date that cannot be
    read leaves ``published`` empty and keeps the raw string (``date_flags`` says so)."""
    item.url = canonicalize_url(item.url, tracking_params=tracking_params) or item.url
    item.canonical_url = declared_canonical_url(item, tracking_params) or item.url
    normalize_fields(item)
    item.key = article_identity(
        item.guid,
        canonical_url=item.canonical_url,
        url=item.url,
        # A title made from the text would change the identity whenever the text does.
        title=None if item.provenance.get("title") == "derived" else item.title,
        published=item.published,
        published_raw=item.published_raw,
    )
    item.content_hash = item.entry_hash = content_hash(item)


def normalize_fields(item: ArticleItem) -> None:
    """Fill the normalized fields of *item* but its URLs and identity: title, authors,
    dates, text, language, terms, summary, head image and origin."""
    now = item.fetched_at or datetime.now(UTC)
    item.title = clean_title(item.title_raw, source_name=item.feed_title)
    item.authors = parse_authors(item.authors_raw)
    body = read_html(item.content_html)  # read once: for its text, images and provenance
    item.content_text = html_to_text(body) or item.content_text_raw or None
    item.language = detect_language(item.language_raw, item.content_text or item.title)
    published = parse_date(
        item.published_raw, timezone=item.source_timezone, language=item.language, now=now
    )
    updated = parse_date(
        item.updated_raw, timezone=item.source_timezone, language=item.language, now=now
    )
    item.published, item.timezone_rule = published.value, published.rule
    item.updated = updated.value
    if item.published is None and item.updated is not None:
        # Atom requires only <updated>; it is the best date such an entry has.
        item.published, item.timezone_rule = updated.value, updated.rule
    item.date_flags = sorted(
        {flag for date in (published, updated) if date.raw for flag in date.flags}
    )
    item.categories = clean_terms([*item.source_categories, *item.categories_raw])
    item.tags = clean_terms(item.categories_raw)
    item.summary = make_summary(item.summary_html, item.content_text)
    if item.title is None and item.content_text:
        # An untitled entry (RSS 2.0 allows one) is titled from its text, and says so.
        item.title = make_summary(None, item.content_text, max_chars=DERIVED_TITLE_CHARS)
        if item.title:
            item.provenance["title"] = "derived"
    elif item.provenance.get("title") == "derived":
        del item.provenance["title"]  # a page merged since gave a title of its own
    item.headimg, item.thumbnail = choose_head_image(
        media=item.media,
        content_html=body,
        base_url=item.base_url or item.url,
        og_image=item.og_image,
    )
    origin = detect_origin(body, url=item.url, canonical_url=item.canonical_url)
    if origin is not None:
        item.origin, item.origin_url = origin.name, origin.url


def declared_canonical_url(item: ArticleItem, tracking_params: Collection[str] = ()) -> str | None:
    """The canonical form of the URL a page declared canonical (``<link rel=canonical>``),
    or None when it declared none or one that cannot be used: a placeholder, a non-HTTP
    URL, or the site's home page named by a page that is not the home page (a common
    template mistake that would make every page of a site one article)."""
    if not item.canonical_url:
        return None
    canonical = canonicalize_url(
        item.canonical_url,
        base=item.base_url or item.url,
        tracking_params=tracking_params,
    )
    if canonical is None:
        return None
    if urlsplit(canonical).path == "/" and urlsplit(item.url).path not in ("", "/"):
        logger.debug("%s names the home page %s as canonical; ignored", item.url, canonical)
        return None
    return canonical
