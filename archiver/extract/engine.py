"""An article out of its page: a site rule or trafilatura for the body, its metadata beside it.

Pure and CPU-bound (no I/O): the crawl runs it in worker processes, off the reactor.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints

from archiver.extract._tree import drop_element, inner_html
from archiver.extract.links import page_links, relink
from archiver.extract.rules import RULE_MISSED, SiteRule, apply_rule, rule_for
from archiver.items import ArticleItem
from archiver.media.discover import find_images
from archiver.readers.pages import PageReading, read_article_page

logger = logging.getLogger(__name__)

_Element = Any
"""An lxml element (lxml has no type hints)."""

_TOKEN_HOST = "image.archiver.invalid"  # noqa: S105  # a host name, not a secret
"""Images are handed to the extractor under stand-in URLs on this host (RFC 2606's
``.invalid``), put back after: trafilatura keeps only images whose URL ends like an image
file, and reads no lazy-loading attribute but ``data-src``."""
_SOURCE_ATTRIBUTES = ("src", "srcset", "sizes", "loading")


def extract_article(
    body: bytes,
    url: str,
    *,
    content_type: str | None = None,
    fetched_at: datetime | None = None,
    rules: Iterable[SiteRule] = (),
) -> ArticleItem:
    """The article of an HTML page as a raw ``ArticleItem`` (``source_kind="page"``).

    The body is the first of: the content of the site's rule (the first of *rules* for the
    page's host), trafilatura's main content (paragraphs, headings, lists, quotes, tables,
    images and links; every image the page shows there, lazy-loaded or not), the page's body
    element as written. ``content_source`` says which (``page:rule``, ``page:extractor``,
    ``page:body``). The metadata is what the page declares (JSON-LD, Open Graph, meta tags,
    microdata), completed by the rule's title, date and author, then by the extractor's
    (htmldate for the date); ``provenance`` names the origin of each field. A rule whose
    selectors match nothing is said in ``parse_errors`` (``site rule ... matched nothing``).
    Raises ``PageParseError`` only, as :func:`~archiver.readers.pages.parse_article_page`.
    """
    reading = read_article_page(body, url, content_type=content_type, fetched_at=fetched_at)
    item = reading.item
    declared = reading.declared
    facts = {
        "canonical_url": declared.canonical_url,
        "description": declared.description[1] if declared.description else None,
    }
    item.page_metadata = {key: value for key, value in facts.items() if value}
    rule = rule_for(url, rules)
    if rule is None or not _apply_site_rule(reading, rule):
        _guarded(_apply_extractor, reading, "the extractor failed ({}); the page's body is kept")
    if item.content_html is None:
        reading.cut_body()
    date_page(reading)
    return item


def date_page(reading: PageReading) -> None:
    """Date the page by the policy, unless it declared its date (or a rule found it): what
    it declares (JSON-LD, ``article:*``, meta tags, microdata), else htmldate's reading,
    else its first ``<time>``. The item's ``published_raw`` and its provenance say which."""
    if reading.item.provenance.get("published") in (None, "page:html"):
        _guarded(_date_by_htmldate, reading, "htmldate failed ({})")


def _guarded(step: Callable[[PageReading], None], reading: PageReading, message: str) -> None:
    """Run an extraction step, whose failure (others' code on others' pages) is recorded
    on the item and leaves what was read before it."""
    try:
        step(reading)
    except Exception as error:
        logger.warning(
            "extraction step %s failed on %s", step.__name__, reading.item.url, exc_info=True
        )
        reading.item.parse_errors.append(message.format(repr(error)))


def _date_by_htmldate(reading: PageReading) -> None:
    """htmldate's reading of the page's date (its oldest), which goes before a first
    ``<time>`` but after what the page declares."""
    from htmldate import find_date

    # Called here rather than taken from the extractor's metadata, which hands htmldate the
    # page's canonical URL (often without the date in its path) instead of its own.
    found = find_date(copy.deepcopy(reading.root), url=reading.item.url, original_date=True)
    time_element = reading.declared.time_element
    if time_element is not None and time_element[1][:10] == found:
        return  # the same day, and the <time> has the time of day too
    if found:
        reading.item.published_raw = found
        reading.item.provenance["published"] = "page:htmldate"


def _apply_site_rule(reading: PageReading, rule: SiteRule) -> bool:
    """Take the rule's fields into the item; whether its content was found."""
    item = reading.item
    result = apply_rule(copy.deepcopy(reading.root), rule)
    if result.missed:
        host = urlsplit(item.url).hostname or ""
        item.parse_errors.append(
            f"site rule for {host} ({rule.origin}) {RULE_MISSED}: {', '.join(result.missed)}"
        )
    for name, raw in (("title", "title_raw"), ("published", "published_raw")):
        value = result.title if name == "title" else result.date
        if value:
            setattr(item, raw, value)
            item.provenance[name] = "page:rule"
    if result.author:
        item.authors_raw = [result.author]
        item.provenance["authors"] = "page:rule"
    if result.content_html is None:
        return False
    item.content_html = result.content_html
    item.content_source = "page:rule"
    return True


def _apply_extractor(reading: PageReading) -> None:
    """Take trafilatura's main content and fill the metadata the page did not declare."""
    from trafilatura import bare_extraction
    from trafilatura.htmlprocessing import convert_to_html

    item = reading.item
    tree = copy.deepcopy(reading.root)
    originals = _stand_in_images(tree, item.base_url or item.url)
    document = bare_extraction(
        tree,
        url=item.url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=True,
        include_links=False,  # put back by relink: trafilatura's cost main text
        include_formatting=True,
    )
    if document is None or isinstance(document, dict):  # a dict only when as_dict=True
        item.parse_errors.append("the extractor found no main text; the body element is kept")
        return
    html_tree = convert_to_html(document.body)
    content = _inner_html(html_tree, originals, reading.root, item.base_url or item.url)
    if content.strip():
        item.content_html = content
        item.content_source = "page:extractor"
    _fill(item, "title", "title_raw", document.title, "page:extractor")
    if not item.authors_raw and document.author:
        item.authors_raw = [a.strip() for a in document.author.split(";") if a.strip()]
        item.provenance["authors"] = "page:extractor"
    if not item.og_image and document.image:
        item.og_image = document.image
        item.provenance["headimg"] = "page:extractor"
    if not item.categories_raw:
        item.categories_raw = [*(document.categories or []), *(document.tags or [])]
    _fill(item, "language", "language_raw", document.language, "page:extractor")
    if not item.feed_title and document.sitename:
        item.feed_title = document.sitename
    facts = {
        "license": document.license,
        "site_name": item.feed_title,
        "description": item.page_metadata.get("description") or document.description,
    }
    item.page_metadata.update({key: value for key, value in facts.items() if value})


def _fill(item: ArticleItem, name: str, raw: str, value: str | None, origin: str) -> None:
    if value and not getattr(item, raw):
        setattr(item, raw, value)
        item.provenance[name] = origin


def _stand_in_images(tree: _Element, base_url: str) -> dict[str, str]:
    """Give every image of *tree* a stand-in URL that the extractor keeps; the real URL
    (chosen as the images pipeline chooses: lazy attribute, largest ``srcset``/``<picture>``
    candidate) by stand-in."""
    originals: dict[str, str] = {}
    for number, image in enumerate(list(tree.iter("img"))):
        # libxml2 knows no void <source>: an <img> after one is read as inside it.
        holder = next((a for a in image.iterancestors() if a.tag == "picture"), image)
        found = find_images(etree.tostring(holder, encoding="unicode", method="html"), base_url)
        if not found:
            continue
        token = f"https://{_TOKEN_HOST}/{number}.png"
        originals[token] = found[0].url
        for name in list(image.attrib):
            if name in _SOURCE_ATTRIBUTES or name.startswith("data-"):
                del image.attrib[name]
        image.set("src", token)
        if holder is not image and holder.getparent() is not None:
            # the extractor reads no <picture>: the image stands alone
            holder.addprevious(image)
            image.tail = holder.tail
            holder.getparent().remove(holder)
    return originals


def _inner_html(html_tree: _Element, originals: dict[str, str], page: _Element, base: str) -> str:
    """The extractor's HTML body as markup, each stand-in image back at its real URL (an
    image repeated by a ``<noscript>`` fallback kept once) and the page's links put back."""
    body = html_tree.find("body")
    container = body if body is not None else html_tree
    relink(container, page_links(page, base, "".join(container.itertext())))
    seen: set[str] = set()
    for image in list(container.iter("img")):
        real = originals.get(image.get("src", ""))
        if real is None or real in seen:
            if real is not None or urlsplit(image.get("src", "")).hostname == _TOKEN_HOST:
                drop_element(image)
            continue
        seen.add(real)
        image.set("src", real)
    return inner_html(container).strip()
