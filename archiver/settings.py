"""Scrapy settings for the archiver, and every ``ARCHIVER_*`` setting, documented.

``scrapy crawl`` from the repository root and ``archiver crawl`` both use this module.
Any setting can be overridden on the command line (``-s NAME=VALUE``) or, for the ones read
from the environment below, by an environment variable of the same name.
"""

from __future__ import annotations

import os

from scrapy.settings import default_settings as _scrapy

from archiver import __version__

BOT_NAME = "archiver"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# -- the archive ---------------------------------------------------------------------------

ARCHIVER_DATABASE_URL = os.environ.get("ARCHIVER_DATABASE_URL", "sqlite:///archive.db")
"""Where the archive lives: any SQLAlchemy URL; a bare path is a SQLite file."""

ARCHIVER_MEDIA_DIR = os.environ.get("ARCHIVER_MEDIA_DIR", "media")
"""Where images are stored (``images/<aa>/<sha256>.<ext>`` below it); any Scrapy files
store URI works (``s3://bucket/prefix``)."""

ARCHIVER_CATEGORIES: list[str] = []
"""Categories given to every source of this crawl (``--category``), placed first."""

ARCHIVER_TIMEZONE: str | None = None
"""IANA zone for naive dates of this crawl's sources (``--timezone``)."""

ARCHIVER_RUN_COMMAND = "crawl"
"""What started the crawl, recorded in ``crawl_runs.command``."""

ARCHIVER_TRACKING_PARAMS: list[str] = []
"""Extra query parameters to strip from article URLs, beside the built-in list in
``archiver.normalize.urls.DEFAULT_TRACKING_PARAMS`` (``name`` or ``prefix*``)."""

ARCHIVER_STORE_BATCH = 100
"""Articles committed together (a group commit): an article is counted, and passed on, only
once its group is committed, so a killed crawl loses at most one group in flight."""

ARCHIVER_STORE_BATCH_SECONDS = 0.5
"""The longest an article waits for its group to fill before the group is committed."""

ARCHIVER_MALLOC_ARENAS = 2
"""The most malloc arenas a crawl's process uses (glibc): few, so its peak memory does not grow
with the articles it crawls (``archiver.crawling.heap``). 0: glibc's default (eight per core);
``MALLOC_ARENA_MAX`` in the environment wins."""

ARCHIVER_FEEDS_READ_AT_ONCE = 2
"""Feeds whose entries go into the pipelines at once; the other fetched feeds wait, unread, so
that memory holds the entries of two feeds, not of every feed fetched."""

ARCHIVER_STORIES = True
"""Link each committed group's new and changed articles with their copies (stories) during
the crawl. ``false``: the crawl links none (``archiver stories rebuild`` makes them later),
as a benchmark of what the crawl itself costs may want."""

ARCHIVER_STORIES_PROCESS = False
"""Link copies in a process of its own, on another core, while the crawl goes on (its own
connection to the archive), instead of on the store's writer threads under the crawl's
interpreter lock. For archives whose stories hold thousands of copies, where linking is most
of a crawl's work (a 10,000-article crawl of the mock site's big site: 83 s instead of 110,
and less memory); off by default, since where pages are extracted it cost a crawl more CPU
than it took off the crawl's own process (summary-only feeds, 1,050 articles: 45 s of CPU
instead of 36, 37 s instead of 31)."""

ARCHIVER_STORIES_BEHIND = 2
"""Committed groups that may wait for their links before the store holds back the next
group's acknowledgement, so a linking slower than the crawl slows the crawl rather than
letting its queue grow."""

ARCHIVER_RSSHUB_URL = os.environ.get("ARCHIVER_RSSHUB_URL", "https://rsshub.app")
"""The RSSHub instance that sources given as routes (``rsshub:/36kr/news/latest``) are
fetched from, at each crawl: a self-hosted one (``http://127.0.0.1:1200``), with a path
prefix or its access key (``https://rsshub.example.com/?key=...``) if it has them."""

# -- workers (archiver worker: scrapy-redis) --------------------------------------------------

ARCHIVER_REDIS_URL = os.environ.get("ARCHIVER_REDIS_URL", "")
"""The Redis that ``archiver worker`` processes share (``--redis``): the request queue, the
duplicate filter and the page bookkeeping of sitemap sources. Needs the ``redis`` extra."""

ARCHIVER_REDIS_PREFIX = os.environ.get("ARCHIVER_REDIS_PREFIX", "archiver")
"""The prefix of every Redis key the workers use: one per archive, so two archives can
share one Redis (``<prefix>:requests``, ``<prefix>:dupefilter``, ``<prefix>:sitemap:*``)."""

ARCHIVER_WORKER_POLL_SECONDS = 1.0
"""How often a worker looks for due sources to lease (one cheap query)."""

ARCHIVER_WORKER_BATCH = 50
"""The most sources a worker leases at a time."""

ARCHIVER_WORKER_QUEUE_LOW = 200
"""A worker leases more sources only while the shared queue holds fewer requests than this,
so leased sources are fetched long before their leases (30 minutes) run out."""

ARCHIVER_WORKER_DUPEFILTER_SECONDS = 30 * 60
"""How long the shared duplicate filter remembers a page request (a sitemap's page, per
``lastmod``): long enough for every worker's copy of a round, short enough that a page
that failed is tried again by a later round. Feed requests are never filtered."""

ARCHIVER_WORKER_UNTIL_IDLE = False
"""Stop once nothing is due and the shared queue has been empty ``..._IDLE_SECONDS``."""

ARCHIVER_WORKER_IDLE_SECONDS = 3.0

# -- pages and sitemaps ----------------------------------------------------------------------


def _environment_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() else default


ARCHIVER_SITEMAP_MAX_PAGES = _environment_int("ARCHIVER_SITEMAP_MAX_PAGES", 1000)
"""Pages fetched per sitemap source and crawl, newest ``lastmod`` (or news publication date)
first. Pages already archived and unchanged since do not count, so later crawls go on to
older pages."""

ARCHIVER_SITEMAP_MAX_SITEMAPS = _environment_int("ARCHIVER_SITEMAP_MAX_SITEMAPS", 50)
"""Sitemaps a sitemap index (or robots.txt) is followed to per source and crawl, newest
``lastmod`` first."""

ARCHIVER_LEASE_SECONDS = _environment_int("ARCHIVER_LEASE_SECONDS", 30 * 60)
"""How long ``archiver run`` holds each source it crawls against other runs. A running crawl
renews its leases every third of this; a killed one's sources are free again after it."""

# -- images ----------------------------------------------------------------------------------

ARCHIVER_IMAGES_ENABLED = True
"""Download every image an article shows (``--no-images`` turns it off)."""

ARCHIVER_IMAGE_MAX_BYTES = 20 * 1024 * 1024
"""An image larger than this is cut off mid-download and recorded as failed."""

ARCHIVER_IMAGE_MAX_PIXELS = 100_000_000
"""Images whose header claims more pixels are refused (decompression bombs)."""

ARCHIVER_IMAGE_TIMEOUT = 30
"""Seconds an image download may take (Scrapy's default for pages is 180)."""

ARCHIVER_IMAGE_RETRIES = 2
"""Retries for an image that answered 5xx or timed out."""

ARCHIVER_IMAGE_MAX_REDIRECTS = 5
"""Redirects followed for one image; a redirect loop stops there."""

ARCHIVER_IMAGE_RETRY_DELAY = 3600
"""Seconds before a failed image is fetched again by a later crawl; the delay doubles with
each failure in a row, up to ``ARCHIVER_IMAGE_RETRY_MAX_DELAY``. 0: try at every crawl."""

ARCHIVER_IMAGE_RETRY_MAX_DELAY = 7 * 24 * 3600
"""The longest wait between two attempts at a failed image (seconds)."""

ARCHIVER_THUMBNAILS: dict[str, tuple[int, int]] = {}
"""Thumbnail sizes to make, e.g. ``{"small": (320, 320)}``, stored as
``thumbs/<name>/<aa>/<sha256>.jpg``; needs Pillow (without it: a warning, no thumbnails)."""

# -- whole articles: pages, their extraction, their captures ---------------------------------

ARCHIVER_FULL_TEXT = os.environ.get("ARCHIVER_FULL_TEXT", "auto")
"""When an entry's page is fetched and its article extracted (``--full-text``): ``auto``
when the feed's body is missing, short or cut off; ``always``; ``never``. A source's own
setting (``sources add --full-text``) goes first."""

ARCHIVER_REFRESH_PAGES = False
"""Fetch again (conditionally) the pages already archived for unchanged entries
(``--refresh-pages``)."""

ARCHIVER_SITE_RULES = os.environ.get("ARCHIVER_SITE_RULES", "")
"""A TOML file of per-site rules: where a host's pages keep the article (CSS or XPath), what
to remove (see ``archiver.extract.rules``). Its rules go before the built-in ones."""

ARCHIVER_PAGE_RETRY_DELAY = _environment_int("ARCHIVER_PAGE_RETRY_DELAY", 3600)
"""Seconds before a page that failed (an error, a timeout, a page shorter than the feed's
summary) is fetched again by a later crawl; it doubles with each failure in a row."""

ARCHIVER_PAGE_RETRY_MAX_DELAY = 7 * 24 * 3600
"""The longest wait between two attempts at a failed page (seconds)."""

ARCHIVER_EXTRACT_PROCESSES = _environment_int("ARCHIVER_EXTRACT_PROCESSES", -1)
"""Worker processes that extract pages, off the reactor: -1, one per core but one; 0, a
thread of the crawl's own process instead."""

# -- captures: every response kept as WARC (archiver.crawling.captures) --------------------

ARCHIVER_CAPTURES = os.environ.get("ARCHIVER_CAPTURES", "true")
"""``false``: keep no response as WARC (reprocess and the WARC export then have nothing of the
crawls made meanwhile)."""

ARCHIVER_CAPTURES_DIR = os.environ.get("ARCHIVER_CAPTURES_DIR", "")
"""Where the responses are kept as WARC files: a directory, or the URI of one of Scrapy's
files stores (``s3://bucket/captures/``, ``gs://``, ``ftp://``, ``file://``), where each file
is moved once closed; empty: ``captures`` beside the media."""

ARCHIVER_CAPTURES_SPOOL = os.environ.get("ARCHIVER_CAPTURES_SPOOL", "")
"""With a remote ``ARCHIVER_CAPTURES_DIR``: the local directory the files are written in until
they are closed and moved (empty: ``./captures-spool``)."""

ARCHIVER_CAPTURES_KINDS = ["feed", "sitemap", "page"]
"""What is captured: ``feed`` (a source's feed), ``sitemap`` (its sitemaps, indexes and
robots.txt), ``page`` (articles' pages, pages crawled themselves, a sitemap's pages)."""

ARCHIVER_CAPTURES_MAX_BYTES = _environment_int("ARCHIVER_CAPTURES_MAX_BYTES", 0)
"""A response whose payload (as received) is larger is not kept; 0: no limit but
``DOWNLOAD_MAXSIZE``."""

ARCHIVER_CAPTURES_FILE_BYTES = _environment_int("ARCHIVER_CAPTURES_FILE_BYTES", 1024**3)
"""A WARC file is closed, and another begun, once it passes this size (1 GiB)."""

ARCHIVER_CAPTURES_REQUESTS = True
"""Keep each response's request as a ``request`` record beside it."""

ARCHIVER_CAPTURES_REVISIT_REQUESTS = False
"""Keep a ``request`` record beside each ``revisit`` too (with ``ARCHIVER_CAPTURES_REQUESTS``).
Off: an unchanged feed's poll then costs its revisit alone (about 500 bytes, not 1 KB); the
request that fetched the payload is kept beside the response the revisit refers to."""

ARCHIVER_CAPTURES_REVISITS = True
"""A payload already captured for the URL is written as a ``revisit`` record (its headers,
not its payload): an unchanged feed costs a few hundred bytes."""

# -- politeness and the crawl itself -----------------------------------------------------

USER_AGENT = f"feed-archiver/{__version__} (+https://github.com/feed-archiver/feed-archiver)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = _environment_int("ARCHIVER_MAX_DOCUMENT_BYTES", 64 * 1024 * 1024)
"""The largest feed, sitemap or page fetched (``ARCHIVER_MAX_DOCUMENT_BYTES``; decompressed
size too): a sitemap may be 50 MB, and a server that sends more is refused, not read to the
end (Scrapy's own default is 1 GiB). Images have their own limit."""
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
AUTOTHROTTLE_ENABLED = True
# Components a crawl has no use for are left out of Scrapy's own lists, not turned off in
# ours: a class named there, even with None, is imported to be recognized. Scrapy 2.19's
# remote control (an HTTP server per crawl) imports aiohttp, the cookies middleware (cookies
# are off) tldextract: 0.15-0.4 s of every crawl's start-up.
_UNUSED = {
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
}
EXTENSIONS_BASE = {k: v for k, v in _scrapy.EXTENSIONS_BASE.items() if k not in _UNUSED}
DOWNLOADER_MIDDLEWARES_BASE = {
    k: v for k, v in _scrapy.DOWNLOADER_MIDDLEWARES_BASE.items() if k not in _UNUSED
}
DOWNLOADER_MIDDLEWARES = {
    "archiver.crawling.guard.PrivateAddressGuard": 50,  # before robots.txt and everything else
    "archiver.crawling.captures.CaptureMiddleware": 595,  # outside decompression (590)
    "archiver.crawling.patience.PatientRetryMiddleware": 560,  # beside RetryMiddleware (550)
}
ARCHIVER_ALLOW_PRIVATE_ADDRESSES = os.environ.get("ARCHIVER_ALLOW_PRIVATE_ADDRESSES", "false")
"""``true``: fetch private, loopback and link-local addresses that a document of another host
links to (``archiver.crawling.guard``). Sources on such addresses are always crawled, with what
they link to on their own host."""
EXTENSIONS = {
    "scrapy.extensions.throttle.AutoThrottle": None,
    "archiver.crawling.throttle.ConditionalAutoThrottle": 0,  # a 304 counts as a success
    "archiver.crawling.leases.LeaseKeeper": 0,  # archiver run: its leases last as long as it does
}
REMOTE_CONTROL_ENABLED = False
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
RETRY_TIMES = 2
# A request given up is recorded (a failed source, a failed image) and named in the summary;
# the log line is for -v.
RETRY_GIVE_UP_LOG_LEVEL = "INFO"
# Statuses are retried by archiver.crawling.patience (a short Retry-After waited out, 5xx with
# back-off); Scrapy's RetryMiddleware keeps the network errors, retried at once.
RETRY_HTTP_CODES: list[int] = []
ARCHIVER_RETRY_AFTER_MAX = _environment_int("ARCHIVER_RETRY_AFTER_MAX", 60)
"""The longest ``Retry-After`` of a 429 or 503 waited out within the run, in seconds; a longer
one fails the source for this run, and the schedule comes back after it."""
ARCHIVER_RETRY_BACKOFF = 1.0
"""Seconds before a 5xx is asked again, doubled at each retry (at most ``RETRY_TIMES``)."""
ARCHIVER_RETRY_BACKOFF_MAX = 30.0
"""The longest back-off of a 5xx, in seconds."""
HTTPERROR_ALLOW_ALL = False
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

ITEM_PIPELINES = {
    "pipelines.frontmatter.FrontMatterPipeline": 300,
    "pipelines.pages.ArticlePagesPipeline": 350,
    "pipelines.images.ArticleImagesPipeline": 400,
    "pipelines.store.StorePipeline": 500,
}

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
