"""Scheduled crawls: which sources are due, leases so runs never overlap, the forever loop."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from urllib.parse import urlsplit

from archiver import __version__
from archiver.crawling.runner import (
    CrawlOptions,
    CrawlResult,
    SourceConfig,
    check_source_url,
    project_settings,
    rsshub_url,
    run_crawl,
)
from archiver.errors import ArchiverError, ConfigurationError, FeedParseError, PageParseError
from archiver.readers.rsshub import is_route
from archiver.storage import Archive, SourceRecord

logger = logging.getLogger(__name__)

FOREVER_POLL_SECONDS = 60
"""The longest ``run --forever`` sleeps before it looks for due sources again."""
PROBE_MAX_BYTES = 20 * 1024 * 1024
"""The most of a source that ``sources add`` reads (and unzips) to check it."""


@dataclass(frozen=True)
class Probe:
    """What a URL turned out to be when a source was added."""

    kind: str
    title: str | None
    entries: int


def probe_source(url: str, timeout: float = 20) -> Probe:
    """Fetch *url* once and say what kind of source it is, or why it cannot be one."""
    from archiver.readers.feeds import parse_feed
    from archiver.readers.pages import announced_feeds

    try:
        url = check_source_url(url)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc
    route = is_route(url)
    fetched = rsshub_url(project_settings(), url) if route else url
    shown = f"{url} ({fetched})" if route else url
    headers = {"User-Agent": f"feed-archiver/{__version__}"}
    request = urllib.request.Request(fetched, headers=headers)  # noqa: S310
    try:
        # The scheme was checked above: http, https or file, as for crawls.
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(PROBE_MAX_BYTES)
            content_type = response.headers.get("Content-Type")
            final_url = response.geturl()
    except OSError as exc:
        raise ArchiverError(f"cannot fetch {shown}: {exc}") from exc
    if route:  # an RSSHub route answers a feed, or an error page
        try:
            feed = parse_feed(body, final_url, content_type=content_type)
        except FeedParseError as exc:
            raise ArchiverError(f"{shown} did not answer a feed: {exc}") from None
        return Probe(kind="rsshub", title=feed.title, entries=len(feed.entries))
    sitemap = _probe_sitemap(body, final_url)
    if sitemap is not None:
        return sitemap
    try:
        feed = parse_feed(body, final_url, content_type=content_type)
    except FeedParseError:
        # Not a feed: a page that announces one is not the source to add (a crawl would
        # follow the link); any other article page is a source too.
        announced = announced_feeds(body, final_url)
        if announced:
            raise ArchiverError(
                f"{url} is a page that announces feeds; add one of them: " + ", ".join(announced)
            ) from None
        page = _probe_page(body, final_url, content_type)
        if page is None:
            raise
        return page
    return Probe(kind=feed.kind, title=feed.title, entries=len(feed.entries))


def _probe_sitemap(body: bytes, url: str) -> Probe | None:
    """A sitemap (or a robots.txt naming sitemaps), with the number of entries it lists."""
    from archiver.readers.sitemaps import read_sitemap

    robots = urlsplit(url).path.endswith("/robots.txt")
    try:
        sitemap = read_sitemap(body, url, max_size=PROBE_MAX_BYTES, robots=robots)
    except FeedParseError:
        return None
    if sitemap is None:
        return None
    return Probe(kind="sitemap", title=None, entries=len(sitemap.entries))


def _probe_page(body: bytes, url: str, content_type: str | None) -> Probe | None:
    from archiver.readers.pages import parse_article_page

    try:
        item = parse_article_page(body, url, content_type=content_type)
    except PageParseError:
        return None
    return Probe(kind="page", title=item.title_raw, entries=1)


def select_sources(
    archive: Archive, *, due: bool, every: bool, names: Sequence[str]
) -> list[SourceRecord]:
    """The sources a ``run`` is asked for: named ones, all scheduled ones, or the due ones."""
    if names:
        return [archive.sources.get(name) for name in names]
    if every:
        return [s for s in archive.sources.all(scheduled_only=True) if s.enabled]
    return archive.sources.due()


def lease_owner() -> str:
    """A name for leases that no other process, here or on another machine, can have."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def source_config(source: SourceRecord, *, lease: str | None = None) -> SourceConfig:
    """What a crawl needs of a scheduled source: its settings and stored validators."""
    return SourceConfig(
        url=source.url,
        categories=tuple(source.categories),
        timezone=source.timezone,
        etag=source.etag,
        last_modified=source.last_modified,
        kind=source.kind,
        lease_owner=lease,
        fetch_url=source.fetch_url,
        full_text=source.full_text,
        content_selectors=tuple(source.content_selectors),
        remove_selectors=tuple(source.remove_selectors),
    )


def run_sources(
    archive: Archive,
    sources: Sequence[SourceRecord],
    options: CrawlOptions,
) -> tuple[list[SourceRecord], CrawlResult | None]:
    """Lease *sources* (for ``ARCHIVER_LEASE_SECONDS``, renewed while the crawl runs:
    ``archiver.crawling.leases``), crawl those won in one Scrapy process, release the leases.

    Returns the sources skipped because another run holds them, and the crawl's result
    (None when nothing was left to crawl: then not a single request is made).
    """
    owner = lease_owner()
    lease_seconds = project_settings(**options.settings).getint("ARCHIVER_LEASE_SECONDS")
    won = set(archive.leases.acquire([s.id for s in sources], owner, lease_seconds))
    skipped = [s for s in sources if s.id not in won]
    mine = [s for s in sources if s.id in won]
    if not mine:
        return skipped, None
    options.sources = [source_config(s) for s in mine]
    options.command = "run"
    options.settings = {
        **options.settings,
        "ARCHIVER_LEASE_OWNER": owner,
        "ARCHIVER_LEASE_SECONDS": lease_seconds,
    }
    try:
        return skipped, run_crawl(options)
    finally:
        archive.leases.release(owner)


class ForeverLoop:
    """``archiver run --forever``: run the due sources, sleep until the next is due, repeat.

    Each round is a child ``archiver run --due`` process (Twisted's reactor cannot restart
    inside one process). SIGTERM or SIGINT stops the loop: a running round is asked to stop
    (Scrapy finishes its in-flight requests and records the run), then the loop exits 0.
    """

    def __init__(self, archive: Archive, child_args: Sequence[str]) -> None:
        self.archive = archive
        self.child_args = list(child_args)
        self.stopping = False
        self.child: subprocess.Popen[bytes] | None = None

    def stop(self, signum: int, _frame: FrameType | None) -> None:
        logger.info("Received signal %s; stopping after the current round", signum)
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        while not self.stopping:
            if self.archive.sources.due():
                self.child = subprocess.Popen([sys.executable, "-m", "archiver", *self.child_args])
                self.child.wait()
                self.child = None
            self.sleep(self.seconds_until_due())
        return 0

    def seconds_until_due(self) -> float:
        upcoming = [
            s.next_due_at for s in self.archive.sources.all(scheduled_only=True) if s.enabled
        ]
        if not upcoming or any(when is None for when in upcoming):
            return 1.0 if upcoming else FOREVER_POLL_SECONDS
        soonest = min(when for when in upcoming if when is not None)
        wait = (soonest - datetime.now(UTC)).total_seconds()
        return max(1.0, min(FOREVER_POLL_SECONDS, wait))

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.5, deadline - time.monotonic()))
