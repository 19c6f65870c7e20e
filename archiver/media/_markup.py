"""The image tags of an HTML body and which URL each one shows, shared by discovery and rewriting.

The standard library's tokenizer is used, not lxml: it keeps ``data-*`` attributes as written,
accepts any text, and gives each tag's offsets in the source, so a rewrite can replace just
those tags and leave every other byte of the published markup as it was.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

MAX_HTML_CHARS = 4_000_000
"""Bodies longer than this are scanned up to this length only (no article is that long)."""

LAZY_SRC_ATTRIBUTES = (
    "data-original",
    "data-src",
    "data-actualsrc",
    "data-lazy-src",
    "data-lazyload",
    "data-lazyload-src",
    "data-original-src",
    "data-url",
    "data-echo",
    "data-hi-res-src",
    "data-lazy",
    "data-img",
    "data-image",
    "data-srcurl",
    "data-croporisrc",
    "data-backsrc",
    "file",
    "zoomfile",
)
"""Attributes that lazy-loading scripts copy into ``src``, best first. ``data-original`` comes
first because where a site carries both (Zhihu), it names the full-size file. ``file`` and
``zoomfile`` are Discuz forums' lazy attributes."""

LAZY_SRCSET_ATTRIBUTES = ("data-srcset", "data-lazy-srcset", "data-lazyload-srcset")
"""Attributes that lazy-loading scripts copy into ``srcset``."""

_UNUSABLE_PREFIXES = ("data:", "about:", "javascript:", "blob:", "#", "{{", "%7b%7b")
_URL_NOISE = re.compile(r"[\t\n\r]")


def clean_url_value(value: str) -> str:
    """An attribute value as a URL reader sees it: trimmed, tabs and newlines removed.

    WHATWG URL standard, "basic URL parser": leading/trailing C0 controls and spaces are
    stripped and ASCII tab or newline removed anywhere.
    """
    return _URL_NOISE.sub("", value.strip(" \t\n\r\f\x00"))


def is_usable(value: str | None) -> bool:
    """Whether an attribute value names a fetchable image rather than a placeholder.

    Placeholders are what lazy-loading pages put in ``src`` until a script runs: ``data:``
    URIs (usually a 1x1 GIF), ``about:blank``, ``#``, empty strings, template leftovers.
    """
    if value is None:
        return False
    value = clean_url_value(value)
    return bool(value) and not value.lower().startswith(_UNUSABLE_PREFIXES)


@functools.lru_cache(maxsize=4096)
def absolute_http_url(value: str, base: str) -> str | None:
    """``value`` resolved against ``base``, if that gives an http(s) URL with a host.

    A ``file:`` URL counts only when ``base`` is one too (a feed read from disk shows its
    images from disk); a document fetched from the web never gets a local file read.
    Remembered for the last few thousand pairs: a feed's articles show the same images and
    links, resolved against the same base, again and again.
    """
    try:
        url = urljoin(base, clean_url_value(value))
        parts = urlsplit(url)
        base_scheme = urlsplit(base).scheme.lower()
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme == "file" and base_scheme == "file" and parts.path:
        return url
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


@dataclass
class Tag:
    """One start tag of interest, where it is in the source and what encloses it."""

    name: str
    attrs: list[tuple[str, str | None]]
    start: int
    end: int
    self_closing: bool
    picture: int | None
    """Index of the enclosing ``<picture>``, if any."""
    in_noscript: bool

    def get(self, name: str) -> str | None:
        """The first value of attribute ``name`` (None when absent or valueless)."""
        for key, value in self.attrs:
            if key == name:
                return value
        return None

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.attrs)


@dataclass(frozen=True)
class Candidate:
    """One URL an image element could show, with its ``srcset`` descriptor if any."""

    value: str
    """The URL as written (trimmed)."""
    attribute: str
    """The attribute it was written in: ``src``, ``data-src``, ``srcset``..."""
    tag: Tag = field(compare=False)
    width: int | None = None
    """The ``w`` descriptor, when given."""
    density: float = 1.0
    """The ``x`` descriptor (1 when none is given)."""
    descriptor: str = ""
    """The descriptor as written (``800w``, ``2x``), kept when a ``srcset`` is rewritten."""


@dataclass
class ImageGroup:
    """An image as the reader sees it: an ``<img>``, or a ``<picture>`` with its sources."""

    img: Tag
    sources: list[Tag] = field(default_factory=list)


@dataclass
class Scan:
    """What scanning a body found: the image groups in document order and the ``<base>``."""

    groups: list[ImageGroup]
    base_href: str | None


class _Scanner(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self._text = text
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._pictures: list[int] = []
        self._picture_count = 0
        self._noscript = 0
        self.tags: list[Tag] = []
        self.base_href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=True)

    def handle_endtag(self, tag: str) -> None:
        if tag == "picture" and self._pictures:
            self._pictures.pop()
        elif tag == "noscript" and self._noscript:
            self._noscript -= 1

    def _start(self, name: str, attrs: list[tuple[str, str | None]], *, self_closing: bool) -> None:
        if name == "picture" and not self_closing:
            self._pictures.append(self._picture_count)
            self._picture_count += 1
            return
        if name == "noscript" and not self_closing:
            self._noscript += 1
            return
        if name == "base" and self.base_href is None:
            href = dict(attrs).get("href")
            if href:
                self.base_href = href
            return
        if name not in ("img", "source"):
            return
        picture = self._pictures[-1] if self._pictures else None
        if name == "source" and picture is None:
            return  # <video>/<audio> sources are not images
        raw = self.get_starttag_text() or ""
        line, column = self.getpos()
        start = self._line_starts[line - 1] + column
        end = start + len(raw)
        if self._text[start:end] != raw:
            return  # offsets do not match the source: never rewrite what we cannot locate
        self.tags.append(
            Tag(name, attrs, start, end, self_closing, picture, in_noscript=self._noscript > 0)
        )


def scan(text: str | None) -> Scan:
    """The image groups of ``text`` in document order (each ``<picture>`` counts once)."""
    if not text:
        return Scan([], None)
    text = text[:MAX_HTML_CHARS]
    scanner = _Scanner(text)
    try:
        scanner.feed(text)
        scanner.close()
    except (AssertionError, ValueError):  # pragma: no cover - html.parser is forgiving
        pass
    groups: list[ImageGroup] = []
    pending_sources: dict[int, list[Tag]] = {}
    for tag in scanner.tags:
        if tag.name == "source" and tag.picture is not None:
            pending_sources.setdefault(tag.picture, []).append(tag)
        elif tag.name == "img":
            sources = pending_sources.pop(tag.picture, []) if tag.picture is not None else []
            groups.append(ImageGroup(tag, sources))
    return Scan(groups, scanner.base_href)


def parse_srcset(value: str, attribute: str, tag: Tag) -> list[Candidate]:
    """The candidates of a ``srcset`` value (WHATWG HTML, "parse a srcset attribute").

    URLs may contain commas (``w_100,h_100`` image CDNs): a candidate's URL runs to the next
    whitespace, and only a comma after it (or at its very end) separates candidates.
    """
    candidates: list[Candidate] = []
    pos, size = 0, len(value)
    while pos < size:
        while pos < size and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        if pos >= size:
            break
        start = pos
        while pos < size and not value[pos].isspace():
            pos += 1
        url = value[start:pos]
        descriptor = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            start = pos
            depth = 0
            while pos < size and (depth or value[pos] != ","):
                if value[pos] == "(":
                    depth += 1
                elif value[pos] == ")" and depth:
                    depth -= 1
                pos += 1
            descriptor = value[start:pos].strip()
        if not is_usable(url):
            continue
        width: int | None = None
        density = 1.0
        for token in descriptor.split():
            number, unit = token[:-1], token[-1:].lower()
            try:
                if unit == "w":
                    width = int(float(number))
                elif unit == "x":
                    density = float(number)
            except ValueError:
                continue
        candidates.append(Candidate(url, attribute, tag, width, density, descriptor))
    return candidates


def single_candidate(tag: Tag) -> Candidate | None:
    """The one URL an ``<img>`` shows without ``srcset``: a lazy attribute, else ``src``."""
    for attribute in (*LAZY_SRC_ATTRIBUTES, "src"):
        value = tag.get(attribute)
        if value is not None and is_usable(value):
            return Candidate(clean_url_value(value), attribute, tag)
    return None


def srcset_attribute(tag: Tag) -> str | None:
    """Which attribute holds the tag's effective ``srcset`` (a lazy one wins), if any."""
    for attribute in (*LAZY_SRCSET_ATTRIBUTES, "srcset"):
        value = tag.get(attribute)
        if value is not None and parse_srcset(value, attribute, tag):
            return attribute
    return None


def srcset_candidates(tag: Tag) -> list[Candidate]:
    attribute = srcset_attribute(tag)
    if attribute is None:
        return []
    return parse_srcset(tag.get(attribute) or "", attribute, tag)


def group_candidates(group: ImageGroup) -> list[Candidate]:
    """Every URL the group could show: its sources' first, then the image's own."""
    candidates: list[Candidate] = []
    for source in group.sources:
        candidates.extend(srcset_candidates(source))
    single = single_candidate(group.img)
    if single is not None:
        candidates.append(single)
    candidates.extend(srcset_candidates(group.img))
    return candidates


def choose(group: ImageGroup) -> Candidate | None:
    """The largest candidate: widest ``w`` descriptor if any are given, else highest density.

    Ties go to the first in document order.
    """
    candidates = group_candidates(group)
    if not candidates:
        return None
    widths = [c for c in candidates if c.width is not None]
    if widths:
        return max(widths, key=lambda c: c.width or 0)
    return max(candidates, key=lambda c: c.density)


def render_tag(tag: Tag, attrs: list[tuple[str, str | None]]) -> str:
    """A start tag with ``attrs``, quoted and escaped, closing as the original did."""
    parts = [f"<{tag.name}"]
    for name, value in attrs:
        parts.append(f" {name}" if value is None else f' {name}="{html.escape(value)}"')
    parts.append(" />" if tag.self_closing else ">")
    return "".join(parts)
