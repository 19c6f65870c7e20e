"""The merge of a feed entry with its page: which source each front-matter field is taken from.

The policy, field by field (the feed first wherever it said something, because it is what
the publisher syndicated; the page fills what the feed left out):

- **content**: the page's (``page:rule``, ``page:extractor``, else ``page:body``) when the
  feed's falls short, unless the page's text is no longer than the feed's (a consent page,
  a paywall, an error page served as 200): then the feed's stays, and the reason is given;
- **published**: the feed's, else what the page declares (JSON-LD, then ``article:*``, then
  other meta tags and microdata), else the feed's ``updated``, else htmldate's reading of
  the page, else its first ``<time>``;
- **title, authors, updated, categories, language**: the feed's, else the page's (as
  :func:`~archiver.extract.engine.extract_article` ranks the page's own sources);
- **head image**: the feed's media, else the page's declared image (``og:image``, JSON-LD),
  else the first image of the content (``derived``, by the front-matter rules).

Nothing the feed published is lost, and no raw field of the entry is rewritten: a body the
page's replaces is kept in ``feed_content_html`` (unless it is the summary, which
``summary_html`` keeps).
"""

from __future__ import annotations

from archiver.extract.shortfall import text_weight
from archiver.items import ArticleItem
from archiver.normalize.text import html_to_text

FEED = "feed"
DERIVED = "derived"
GUESSED = frozenset({"page:htmldate", "page:html"})
"""Origins of a date that the page did not declare as its publication date."""

_FILLED_FROM_PAGE = (
    ("title", "title_raw"),
    ("authors", "authors_raw"),
    ("published", "published_raw"),
    ("updated", "updated_raw"),
    ("categories", "categories_raw"),
    ("language", "language_raw"),
)


def feed_provenance(item: ArticleItem) -> dict[str, str]:
    """``feed`` for every front-matter field a feed entry itself gave."""
    given = {name for name, raw in _FILLED_FROM_PAGE if getattr(item, raw)}
    if item.updated_raw:
        given.add("published")  # an entry's <updated> stands in for a missing <published>
    if item.content_html:
        given.add("content")
    if item.media:
        given.add("headimg")
    return dict.fromkeys(sorted(given), FEED)


def merge_page(entry: ArticleItem, page: ArticleItem) -> str | None:
    """Merge *page* (an extracted article page) into *entry* (a feed's), in place, by the
    policy above; ``entry.provenance`` names each field's origin. Returns why the page's body
    was not taken (its text no longer than the feed's), or None when it was."""
    entry.provenance = {**feed_provenance(entry), **entry.provenance}
    for name, raw in _FILLED_FROM_PAGE:
        value = getattr(page, raw)
        if name == "published" and entry.updated_raw and page.provenance.get(name) in GUESSED:
            continue  # the feed's own <updated> is a better date than a guess from the page
        if value and not getattr(entry, raw):
            setattr(entry, raw, value)
            entry.provenance[name] = page.provenance.get(name, page.content_source or "page")
    if not entry.og_image and page.og_image:
        entry.og_image = page.og_image
        entry.provenance.setdefault("headimg", page.provenance.get("headimg", "page:og"))
    entry.parse_errors.extend(f"page: {error}" for error in page.parse_errors)
    entry.page_metadata = dict(page.page_metadata)

    page_weight = text_weight(html_to_text(page.content_html))
    feed_weight = text_weight(html_to_text(entry.content_html))
    if not page.content_html or page_weight <= feed_weight:
        entry.content_source = entry.content_source or (FEED if entry.content_html else None)
        return "the page's text is no longer than the feed's"
    if entry.content_html and entry.content_html != entry.summary_html:
        entry.feed_content_html = entry.content_html
    entry.content_html = page.content_html
    entry.content_source = page.content_source
    entry.provenance["content"] = page.content_source or "page"
    # The page's markup resolves against the page, not the feed.
    entry.base_url = page.base_url or page.url
    return None


def head_image_provenance(entry: ArticleItem) -> str | None:
    """Where the normalized head image came from, once the front-matter rules chose it."""
    if entry.headimg is None:
        return None
    if any(media.url == entry.headimg for media in entry.media):
        return FEED
    if entry.og_image and entry.headimg == entry.og_image:
        return entry.provenance.get("headimg", "page:og")
    return DERIVED
