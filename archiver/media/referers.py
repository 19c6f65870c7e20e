"""The Referer an image request sends, against hot-link protection: which to try, in what order."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

REFERER_STRATEGIES = ("none", "article", "root")
"""Referer headers to try against hot-link protection, in order: none at all, the article's
URL, the root of the image's own site. What worked is remembered per host."""


def host_key(url: str) -> str:
    """The host a Referer strategy is remembered for: lowercase, with its port unless the
    scheme's default (``cdn.example``, ``127.0.0.1:8080``)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        port = None
    return host if port in (None, default) else f"{host}:{port}"


def strategy_order(known: str | None) -> list[str]:
    """Every strategy in the order to try them: the one that worked for the host before
    (``known``, if it is one) first, then the rest in :data:`REFERER_STRATEGIES` order."""
    first = [known] if known in REFERER_STRATEGIES else []
    return first + [s for s in REFERER_STRATEGIES if s != known]


@dataclass
class ImageFetch:
    """State of one image download: which Referer strategies it tried, and what they sent."""

    url: str
    """The image URL as the article names it (``ImageRef.url``)."""
    article_url: str
    source_url: str | None = None
    """The article's source: its host is one the user asked for (``archiver.crawling.guard``)."""
    tried: list[str] = field(default_factory=list)
    """Referer strategies tried so far, in order."""
    referers: list[str | None] = field(default_factory=list)
    """The Referer header each of those sent."""

    @property
    def strategy(self) -> str | None:
        """The strategy of the latest attempt, None before the first."""
        return self.tried[-1] if self.tried else None

    def referer(self, strategy: str) -> str | None:
        """The Referer header ``strategy`` sends for this image (None: no header at all)."""
        if strategy == "article":
            return self.article_url
        if strategy == "root":
            parts = urlsplit(self.url)
            return f"{parts.scheme}://{parts.netloc}/"
        return None

    def use(self, strategy: str) -> str | None:
        """Record an attempt with ``strategy``; the Referer header it sends."""
        referer = self.referer(strategy)
        self.tried.append(strategy)
        self.referers.append(referer)
        return referer

    def next_strategy(self, known: str | None) -> str | None:
        """The next strategy worth trying after a refusal, None when all are spent. One that
        would send the same header as an attempt already refused is passed over (and
        recorded as tried). ``known`` is the strategy remembered for the image's host."""
        for strategy in strategy_order(known):
            if strategy in self.tried:
                continue
            if self.referer(strategy) in self.referers:
                self.use(strategy)  # same header as one already refused
                continue
            return strategy
        return None
