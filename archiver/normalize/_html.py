"""A forgiving HTML reader (stdlib ``html.parser``) for article bodies: blocks, links, images.

The standard library's parser is used rather than lxml because it accepts any text (NUL bytes,
lone surrogates, broken markup) and keeps ``data-*`` attributes as written.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from archiver.normalize._safe import scrub

MAX_HTML_CHARS = 4_000_000
"""Bodies longer than this are read up to this length only: no article is that long, and the
parser's cost on pathological markup grows faster than linearly."""

BLOCK_TAGS = frozenset(
    (
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    )
)
"""Elements whose start and end break the text into lines."""

DROPPED_TAGS = frozenset(
    (
        "script",
        "style",
        "template",
        "noscript",
        "head",
        "title",
        "svg",
        "math",
        "iframe",
        "object",
        "select",
    )
)
"""Elements whose text is never article text (code, styles, fallbacks for old browsers)."""

IMAGE_TAGS = frozenset({"img", "amp-img", "source", "image"})
"""Elements that name an image: ``<img>``, AMP's ``<amp-img>``, ``<picture><source>``, SVG."""

_VOID_TAGS = frozenset(
    (
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    )
)
_SPACES = re.compile(r"\s+")
_SOFT_HYPHEN = "\u00ad"
"""Where a line may break, written into words by hyphenating sites: not text to search."""


@dataclass
class Anchor:
    """A link in the body: its target, its text, and the block its text ends in."""

    href: str
    text: str
    block: int


@dataclass
class ImageTag:
    """An image element's attributes as written, in document order."""

    tag: str
    attrs: dict[str, str]
    in_noscript: bool = False


@dataclass
class Document:
    """What an HTML body says: its lines of text, its links and its images."""

    blocks: list[str] = field(default_factory=list)
    anchors: list[Anchor] = field(default_factory=list)
    images: list[ImageTag] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The body's text, one block a line."""
        return "\n".join(self.blocks)


class _BodyReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.document = Document()
        self._pieces: list[str] = []
        self._dropped: list[str] = []
        self._noscript = 0
        self._pre = 0
        self._anchors: list[tuple[str, list[str]]] = []

    # -- text --
    def flush(self) -> None:
        if self._pieces:
            line = _SPACES.sub(" ", "".join(self._pieces).replace(_SOFT_HYPHEN, "")).strip()
            self._pieces = []
            if line:
                self.document.blocks.append(line)

    def handle_data(self, data: str) -> None:
        if self._dropped:
            return
        if self._pre:
            first, *rest = data.split("\n")
            self._add(first)
            for line in rest:
                self.flush()
                self._add(line)
        else:
            self._add(data)

    def _add(self, text: str) -> None:
        self._pieces.append(text)
        for _, anchor_text in self._anchors:
            anchor_text.append(text)

    def unknown_decl(self, data: str) -> None:
        if data[:6].upper() == "CDATA[":
            self.handle_data(data[6:])

    # -- elements --
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and "head" in self._dropped:
            self._dropped.clear()  # a <head> left open ends where the body starts
        if tag in IMAGE_TAGS:
            values = {name: value or "" for name, value in attrs}
            self.document.images.append(ImageTag(tag, values, self._noscript > 0))
        if tag == "noscript":
            self._noscript += 1
        if tag in DROPPED_TAGS:
            self._dropped.append(tag)
            return
        if self._dropped:
            return
        if tag in BLOCK_TAGS or tag == "br":
            self.flush()
        elif tag in {"td", "th"}:
            self._add(" ")
        if tag == "pre":
            self._pre += 1
        elif tag == "a":
            href = next((value for name, value in attrs if name == "href" and value), "")
            self._anchors.append((href, []))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "noscript" and self._noscript:
            self._noscript -= 1
        if tag in DROPPED_TAGS:
            if tag in self._dropped:
                del self._dropped[len(self._dropped) - 1 - self._dropped[::-1].index(tag) :]
            return
        if self._dropped:
            return
        if tag in BLOCK_TAGS:
            self.flush()
        if tag == "pre" and self._pre:
            self._pre -= 1
        elif tag == "a" and self._anchors:
            href, text = self._anchors.pop()
            self.document.anchors.append(
                Anchor(href, _SPACES.sub(" ", "".join(text)).strip(), len(self.document.blocks))
            )

    def finish(self) -> Document:
        self.close()
        self.flush()
        return self.document


_TAG = re.compile(r"<[^>]*>")
_DROPPED_REGION = re.compile(r"(?is)<(script|style|template|noscript)\b.*?</\1\s*>")
_BREAK = re.compile(r"(?i)<(?:br|/?(?:p|div|li|h[1-6]|tr|blockquote|section|article))\b[^>]*>")


def _read_roughly(markup: str) -> Document:
    """The fallback when the parser gives up: regular expressions, text only."""
    text = _BREAK.sub("\n", _DROPPED_REGION.sub("", markup))
    text = html.unescape(_TAG.sub("", text))
    text = text.replace(_SOFT_HYPHEN, "")
    lines = (_SPACES.sub(" ", line).strip() for line in scrub(text).split("\n"))
    return Document(blocks=[line for line in lines if line])


def _defuse(markup: str) -> str:
    """``markup`` with constructs that never end escaped as text.

    html.parser rescans the rest of the input for each ``<`` that opens a tag or comment it
    cannot close, which is quadratic; a browser would read them as text, and so do we.
    """
    last_close = markup.rfind(">")
    if markup.find("<", last_close + 1) != -1:
        markup = markup[: last_close + 1] + markup[last_close + 1 :].replace("<", "&lt;")
    last_comment_end = markup.rfind("-->")
    if markup.find("<!--", last_comment_end + 1) != -1:
        head, tail = markup[: last_comment_end + 1], markup[last_comment_end + 1 :]
        markup = head + tail.replace("<!--", "&lt;!--")
    return markup


def read_html(markup: str | Document | None) -> Document:
    """Read an HTML fragment or document; any text is accepted, nothing raises. A body
    already read (a ``Document``) is itself: the normalizers that take a body take either,
    so a caller that needs several things of one body reads it once."""
    if isinstance(markup, Document):
        return markup
    if not isinstance(markup, str) or not markup:
        return Document()
    markup = _defuse(scrub(markup[:MAX_HTML_CHARS]))
    reader = _BodyReader()
    try:
        reader.feed(markup)
        document = reader.finish()
    except Exception:  # html.parser still asserts on a few malformed declarations
        return _read_roughly(markup)
    document.blocks = [scrub(block) for block in document.blocks]
    return document
