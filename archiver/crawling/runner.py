"""Running crawls from code and from the command line, with the project's Scrapy settings."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scrapy.settings import Settings

from archiver.crawling.heap import limit_malloc_arenas
from archiver.errors import ArchiverError, ConfigurationError
from archiver.readers.rsshub import check_instance, is_route, normalize_route, resolve_route
from archiver.storage import Archive, RunRecord
from archiver.storage.db import resolve_database_url

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceConfig:
    """A known source's settings and validators, for a scheduled crawl."""

    url: str
    categories: tuple[str, ...] = ()
    timezone: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    kind: str | None = None
    """What the source was last time (``rss``, ``sitemap``, ``page``...), if known: a known
    feed that answers with an HTML page has failed, it is not archived as a page."""
    archived_pages: Mapping[str, datetime] = field(default_factory=dict, compare=False, hash=False)
    """For a sitemap source: when each page it archived was last fetched, by the article's
    URL and canonical URL. A page the sitemap lists with a ``lastmod`` no newer costs no
    request (filled by ``run_crawl`` from ``archive.articles.archived_pages``)."""
    lease_owner: str | None = None
    """``archiver worker``: the lease this source is fetched under (one per source)."""
    fetch_url: str | None = None
    """Where the source moved for good (a permanent redirect): fetched instead of ``url``."""
    full_text: str | None = None
    """When its entries' pages are fetched; None: the crawl's ``ARCHIVER_FULL_TEXT``."""
    content_selectors: tuple[str, ...] = ()
    """Its own site rule for its pages (``sources add --content-selector``)."""
    remove_selectors: tuple[str, ...] = ()


@dataclass
class CrawlOptions:
    """What an ad-hoc crawl was asked to do."""

    urls: Sequence[str]
    categories: Sequence[str] = ()
    timezone: str | None = None
    images: bool = True
    full_text: str | None = None
    """``auto``, ``always`` or ``never`` (``--full-text``); None: ``ARCHIVER_FULL_TEXT``."""
    refresh_pages: bool = False
    database_url: str | None = None
    media_dir: str | None = None
    log_level: str = "WARNING"
    progress: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    """Any further Scrapy or ``ARCHIVER_*`` settings, highest priority."""
    sources: Sequence[SourceConfig] = ()
    """Known sources to crawl with their own categories, zone and validators."""
    command: str = "crawl"
    """Recorded in ``crawl_runs.command``."""


@dataclass
class CrawlResult:
    run: RunRecord
    seconds: float
    stats: dict[str, Any] = field(default_factory=dict)
    """The crawl's Scrapy stats (``archiver/...`` keys among them)."""

    @property
    def failed_sources(self) -> dict[str, dict[str, Any]]:
        return {u: s for u, s in self.run.sources.items() if s.get("status") == "failed"}


SUPPORTED_SCHEMES = ("http", "https", "file")


def check_source_url(url: str) -> str:
    """*url* if it can be crawled (an RSSHub route in the form the archive keeps:
    ``rsshub:/36kr/news``), else a ValueError that says why, in one line."""
    if is_route(url):
        return normalize_route(url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SUPPORTED_SCHEMES:
        if not scheme:
            raise ValueError(
                f"{url!r} is not a URL: give http://, https://, file:// or an RSSHub route "
                "(rsshub:/namespace/route)"
            )
        raise ValueError(
            f"unsupported URL scheme {scheme!r} in {url!r} (use http, https, file or rsshub)"
        )
    if scheme != "file" and not parts.hostname:
        raise ValueError(f"{url!r} has no host")
    return url


def check_rsshub_instance(settings: Settings) -> None:
    """A ConfigurationError when ``ARCHIVER_RSSHUB_URL`` is no http(s) URL."""
    try:
        check_instance(settings.get("ARCHIVER_RSSHUB_URL"))
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc


def rsshub_url(settings: Settings, route: str) -> str:
    """The URL that fetches the RSSHub *route* from the instance ``ARCHIVER_RSSHUB_URL``;
    a ConfigurationError when that setting is no URL."""
    try:
        return resolve_route(route, settings.get("ARCHIVER_RSSHUB_URL"))
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc


def check_timezone(name: str | None) -> str | None:
    """*name* if it is an IANA time zone, else a ConfigurationError saying so."""
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(
            f"unknown time zone {name!r} (use an IANA name like Asia/Shanghai)"
        ) from exc
    return name


def project_settings(**overrides: Any) -> Settings:
    """The archiver's Scrapy settings (``archiver.settings``), with *overrides* on top."""
    settings = Settings()
    settings.setmodule("archiver.settings", priority="project")
    settings.setdict(overrides, priority="cmdline")
    return settings


class _OneLineRobotsErrors(logging.Filter):
    """Scrapy logs a robots.txt it could not fetch (a host that does not resolve) as an
    error with its traceback; for the archiver that is the page's or source's failure, which
    is recorded and named in the summary: one line, at INFO (``-v``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.exc_info:
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True  # the handler, at LOG_LEVEL, keeps it or not


def quiet_robots_errors() -> None:
    """Install :class:`_OneLineRobotsErrors` on Scrapy's robots.txt middleware's logger."""
    robots = logging.getLogger("scrapy.downloadermiddlewares.robotstxt")
    if not any(isinstance(f, _OneLineRobotsErrors) for f in robots.filters):
        robots.addFilter(_OneLineRobotsErrors())


def crawl_settings(options: CrawlOptions) -> Settings:
    overrides: dict[str, Any] = {
        "ARCHIVER_DATABASE_URL": resolve_database_url(options.database_url),
        "ARCHIVER_CATEGORIES": list(options.categories),
        "ARCHIVER_TIMEZONE": options.timezone,
        "ARCHIVER_IMAGES_ENABLED": options.images,
        "LOG_LEVEL": options.log_level,
        "ARCHIVER_RUN_COMMAND": options.command,
    }
    if options.media_dir:
        overrides["ARCHIVER_MEDIA_DIR"] = options.media_dir
    if options.full_text:
        overrides["ARCHIVER_FULL_TEXT"] = options.full_text
    if options.refresh_pages:
        overrides["ARCHIVER_REFRESH_PAGES"] = True
    overrides.update(options.settings)
    settings = project_settings(**overrides)
    if options.progress:
        extensions = {
            **settings.getdict("EXTENSIONS"),
            "archiver.crawling.progress.ProgressReporter": 500,
        }
        settings.set("EXTENSIONS", extensions, priority="cmdline")
    if not settings.getbool("ARCHIVER_IMAGES_ENABLED"):
        pipelines = dict(settings.getdict("ITEM_PIPELINES"))
        pipelines = {k: v for k, v in pipelines.items() if not k.startswith("pipelines.images.")}
        settings.set("ITEM_PIPELINES", pipelines, priority="cmdline")
    return settings


def run_crawl(options: CrawlOptions) -> CrawlResult:
    """Crawl every URL of *options* in this process and return the recorded run.

    Twisted's reactor runs once per process: call this once, from a command or a script.
    """
    for url in options.urls:
        try:
            check_source_url(url)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from exc
    check_timezone(options.timezone)
    settings = crawl_settings(options)
    quiet_robots_errors()
    if any(is_route(u) for u in [*options.urls, *(s.url for s in options.sources)]):
        check_rsshub_instance(settings)  # before any fetch
    # Open (and create or upgrade) the archive first, so a bad URL fails before any fetch.
    archive = Archive(settings.get("ARCHIVER_DATABASE_URL"))
    try:
        sources = with_archived_pages(archive, options)
    finally:
        archive.close()

    from scrapy.crawler import CrawlerProcess

    limit_malloc_arenas(settings.getint("ARCHIVER_MALLOC_ARENAS"))
    started = time.monotonic()
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("feed")  # by name: spiders import the runner, never back
    process.crawl(
        crawler,
        url=list(options.urls),
        category=list(options.categories),
        sources=sources,
    )
    process.start()
    seconds = time.monotonic() - started
    run_id = crawler.stats.get_value("archiver/run_id")
    if run_id is None:
        raise ArchiverError("the crawl stopped before it could open the archive (see the log)")
    archive = Archive(settings.get("ARCHIVER_DATABASE_URL"), migrate=False)
    try:
        return CrawlResult(
            run=archive.runs.get(run_id), seconds=seconds, stats=crawler.stats.get_stats()
        )
    finally:
        archive.close()


def with_archived_pages(archive: Archive, options: CrawlOptions) -> list[SourceConfig]:
    """The crawl's source configurations, each sitemap source given the pages it archived
    (the spider never reads the database). An ad-hoc URL that is a known sitemap source gets
    a configuration of its own, with the crawl's categories and zone."""
    known = {config.url: config for config in options.sources}
    urls = [*known, *(u for u in options.urls if u not in known)]
    pages = archive.articles.archived_pages(urls)
    sources = [replace(c, archived_pages=pages.get(c.url, {})) for c in options.sources]
    sources.extend(
        SourceConfig(
            url=url,
            categories=tuple(options.categories),
            timezone=options.timezone,
            kind="sitemap",
            archived_pages=pages[url],
        )
        for url in options.urls
        if url not in known and url in pages
    )
    return sources


def summary_line(result: CrawlResult) -> str:
    """The one line every crawl ends with."""
    run = result.run
    sources = len(run.sources)
    line = (
        f"{sources} source{'s' if sources != 1 else ''} in {result.seconds:.1f}s: "
        f"{run.new} new, {run.updated} updated, {run.unchanged} unchanged, {run.failed} failed, "
        f"{run.images} images ({format_bytes(run.bytes)})"
    )
    if run.not_modified:
        line += f", {run.not_modified} not modified"
    skipped = int(result.stats.get("archiver/pages/unchanged", 0))
    if skipped:
        line += (
            f", {skipped} page{'s' if skipped != 1 else ''} unchanged since archived (not fetched)"
        )
    images_failed = int(result.stats.get("archiver/images/failed", 0))
    if images_failed:
        line += f", {images_failed} image{'s' if images_failed != 1 else ''} not archived"
    deferred = int(result.stats.get("archiver/images/deferred", 0))
    if deferred:
        line += f", {deferred} failed image{'s' if deferred != 1 else ''} not due again yet"
    unreadable = int(result.stats.get("archiver/dates/unparseable", 0))
    if unreadable:
        line += f", {unreadable} unreadable date{'s' if unreadable != 1 else ''} (kept raw)"
    failed = result.failed_sources
    if failed:
        named = "; ".join(f"{url} ({s.get('error') or 'failed'})" for url, s in failed.items())
        line += f"; {len(failed)} source{'s' if len(failed) != 1 else ''} failed: {named}"
    if run.status == "interrupted":
        line += f"; interrupted ({run.error})"
    return line


def format_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
