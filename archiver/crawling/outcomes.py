"""How a source went, read from what it answered: the ``SourceOutcome`` the spider reports."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from archiver.crawling.policy import parse_cache_control, parse_retry_after
from archiver.crawling.signals import SourceOutcome
from archiver.readers.rsshub import hide_secrets, is_route, without_secrets

if TYPE_CHECKING:
    from archiver.items import ArticleItem
    from archiver.readers.feeds import ParsedFeed

FEED_KINDS = frozenset({"rss", "rdf", "atom", "json", "rsshub"})
"""Source kinds that are feeds: such a known source answering with an HTML page has failed."""

NOT_PAGE_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
    "application/json",
)
"""A document served as one of these that is not a feed is a broken feed, not a page."""


def response_outcome(
    source_url: str,
    url: str,
    status: int,
    header: Callable[[str], str | None],
    redirect_reasons: Iterable[int] = (),
) -> SourceOutcome:
    """What a source's response says before its body is read (``header`` gives a header's
    value by name, None when absent).

    Where it led (``final_url``), and ``moved_to`` when only permanent redirects (301, 308)
    led there, unless the source is an RSSHub route: the source moved for good, and is
    fetched there from now on. Its status, validators and ``Cache-Control: max-age``. A 304
    is ``not_modified``; a 429 ``failed``, with its ``Retry-After`` and no validators
    (nothing was read). Any other status is ``ok`` so far: its body decides.
    """
    outcome = SourceOutcome(url=source_url)
    if url != source_url:
        outcome.final_url = url
    reasons = list(redirect_reasons)
    if reasons and all(r in (301, 308) for r in reasons) and not is_route(source_url):
        outcome.moved_to = url  # moved for good: fetched there from now on
    outcome.http_status = status
    outcome.etag = header("ETag")
    outcome.last_modified = header("Last-Modified")
    outcome.max_age = parse_cache_control(header("Cache-Control"))
    if status == 304:
        outcome.status = "not_modified"
    elif status == 429:
        outcome.status = "failed"
        outcome.retry_after = parse_retry_after(header("Retry-After"))
        outcome.error = f"HTTP 429 (too many requests) from {url}"
        outcome.etag = outcome.last_modified = None
    return outcome


def record_feed(outcome: SourceOutcome, feed: ParsedFeed) -> None:
    """Write what the source's feed held on its outcome: its kind (``rsshub`` for a route),
    ``<ttl>``, title, link and entries, all of them still to store; ``partial`` with the
    reader's errors when the feed was not well-formed."""
    outcome.kind = "rsshub" if is_route(outcome.url) else feed.kind
    outcome.ttl_minutes = feed.ttl
    outcome.title = feed.title
    outcome.link = feed.link
    outcome.entries = len(feed.entries)
    outcome.empty_entries = feed.skipped_empty
    outcome.pending_items = len(feed.entries)
    if feed.errors:
        outcome.status = "partial"
        outcome.error = "; ".join(feed.errors)


def record_page(outcome: SourceOutcome, item: ArticleItem) -> None:
    """Write on its outcome that the source is one article page, read as ``item`` (still to
    store); ``partial`` with the reader's errors when the page was read with some."""
    outcome.kind = "page"
    outcome.title = item.title_raw
    outcome.entries = outcome.pending_items = 1
    if item.parse_errors:
        outcome.status = "partial"
        outcome.error = "; ".join(item.parse_errors)


def may_be_article_page(
    content_type: str | None, *, known_kind: str | None, discovered: bool
) -> bool:
    """Whether a document that is not a feed may be read as an article page: not when it
    answers a feed's discovered link (``discovered``), when the source is known to be a feed
    (``known_kind``), or when it is served as a feed (HTML in a feed's clothes is a broken
    feed)."""
    if discovered or known_kind in FEED_KINDS:
        return False
    media_type = (content_type or "").split(";")[0].strip().lower()
    return media_type not in NOT_PAGE_TYPES


def fetch_failed_outcome(
    source_url: str, error: str, status: int | None, retry_after: str | None
) -> SourceOutcome:
    """The outcome of a source that could not be fetched: ``failed`` with ``error``, and the
    status and ``Retry-After`` of the error response, if there was one (``status`` None)."""
    outcome = SourceOutcome(url=source_url, status="failed", error=error)
    if status is not None:
        outcome.http_status = status
        outcome.retry_after = parse_retry_after(retry_after)
    return outcome


def hide_outcome_secrets(outcome: SourceOutcome, rsshub_instance: str | None) -> None:
    """Take an RSSHub instance's access key out of what is kept and printed of an outcome:
    its error text and where it led."""
    if outcome.error:
        outcome.error = hide_secrets(outcome.error, rsshub_instance)
    if outcome.final_url:
        outcome.final_url = without_secrets(outcome.final_url, rsshub_instance)
