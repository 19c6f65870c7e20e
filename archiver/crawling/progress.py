"""A progress line for crawls on a terminal (a Scrapy extension)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from twisted.internet import task


class ProgressReporter:
    """Redraws one status line on stderr every half second while a crawl runs.

    Enabled by ``archiver crawl`` when stderr is a terminal; it writes nothing else and
    erases its line at the end, so the summary that follows stands alone.
    """

    INTERVAL = 0.5

    def __init__(self, crawler: Crawler, stream: TextIO | None = None) -> None:
        self.crawler = crawler
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.draw)
        self.width = 0
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressReporter:
        return cls(crawler)

    def spider_opened(self) -> None:
        self.loop.start(self.INTERVAL, now=False)

    def spider_closed(self) -> None:
        if self.loop.running:
            self.loop.stop()
        self.stream.write("\r" + " " * self.width + "\r")
        self.stream.flush()

    def draw(self) -> None:
        stats = self.crawler.stats

        def value(key: str) -> int:
            return int(stats.get_value(key, 0) or 0)

        sources = sum(
            value(f"archiver/sources/{s}") for s in ("ok", "partial", "failed", "not_modified")
        )
        text = (
            f"{sources} sources, {value('archiver/articles/new')} new, "
            f"{value('archiver/articles/updated')} updated, "
            f"{value('archiver/articles/unchanged')} unchanged, "
            f"{value('archiver/articles/failed')} failed, "
            f"{value('archiver/images/downloaded')} images, "
            f"{time.monotonic() - self.started:.0f}s"
        )
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)
