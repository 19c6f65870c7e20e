"""Read RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed: bytes in, ArticleItems out, no I/O."""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import html
import html.entities
import io
import json
import logging
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urldefrag, urljoin, urlsplit

import feedparser
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints; stubs are not a dependency

from archiver.errors import FeedParseError
from archiver.items import ArticleItem, MediaRef

logger = logging.getLogger(__name__)

_Element = Any
"""An lxml element (lxml has no type hints)."""

__all__ = ["ParsedFeed", "decode_document", "parse_feed", "sniff_feed_kind"]


@dataclass
class ParsedFeed:
    """One feed document as read: its own metadata, its entries and what went wrong."""

    kind: str
    """``rss`` (RSS 0.9x/2.0, also CDF), ``rdf`` (RSS 1.0/0.90), ``atom`` (0.3 and 1.0) or
    ``json`` (JSON Feed 1.0/1.1)."""
    title: str | None
    """The feed's title as published, surrounding whitespace trimmed."""
    link: str | None
    """The site the feed belongs to, absolute."""
    language: str | None
    """The language the feed declares (``<language>``, ``dc:language``, ``xml:lang``)."""
    encoding: str | None
    """The encoding actually used to decode the document."""
    ttl: int | None
    """RSS ``<ttl>``: minutes the feed may be cached, if given."""
    entries: list[ArticleItem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Problems met while reading (bad encoding, not well-formed XML...): recorded, never raised."""


# -- namespaces ------------------------------------------------------------------------------

_XML_NS = "http://www.w3.org/XML/1998/namespace"
_XML_BASE = f"{{{_XML_NS}}}base"
_XML_LANG = f"{{{_XML_NS}}}lang"
_RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"

# Namespace URI (lowercased) -> the prefix an element key gets. "" marks the feed's own
# vocabulary: every published URI of RSS 0.90/0.91/1.0/2.0 and Atom 0.3/1.0 reads the same,
# as in feedparser, so an Atom link inside RSS (or RSS 1.0 in RSS 2.0 clothes) is understood.
_NAMESPACE_PREFIXES: dict[str, str] = {
    "": "",
    "http://backend.userland.com/rss": "",
    "http://backend.userland.com/rss2": "",
    "http://blogs.law.harvard.edu/tech/rss": "",
    "http://purl.org/rss/1.0/": "",
    "http://my.netscape.com/rdf/simple/0.9/": "",
    "http://example.com/newformat#": "",
    "http://example.com/necho": "",
    "http://purl.org/echo/": "",
    "uri/of/echo/namespace#": "",
    "http://purl.org/pie/": "",
    "http://purl.org/atom/ns#": "",
    "http://www.w3.org/2005/atom": "",
    "http://purl.org/rss/1.0/modules/rss091#": "",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/dc/terms/": "dcterms",
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://search.yahoo.com/mrss": "media",
    "http://search.yahoo.com/mrss/": "media",
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    "http://example.com/dtds/podcast-1.0.dtd": "itunes",
    "http://rssnamespace.org/feedburner/ext/1.0": "feedburner",
    "http://www.w3.org/1999/xhtml": "xhtml",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
    "http://www.w3.org/2000/01/rdf-schema#": "rdfs",
    "http://webns.net/mvcb/": "admin",
    "http://purl.org/rss/1.0/modules/syndication/": "sy",
    "http://purl.org/rss/1.0/modules/slash/": "slash",
    "http://purl.org/rss/1.0/modules/taxonomy/": "taxo",
    "http://purl.org/rss/1.0/modules/threading/": "thr",
    "http://wellformedweb.org/commentapi/": "wfw",
    "http://www.georss.org/georss": "georss",
    "http://www.opengis.net/gml": "gml",
    "http://www.w3.org/2003/01/geo/wgs84_pos#": "geo",
    "http://creativecommons.org/ns#license": "cc",
    "http://web.resource.org/cc/": "cc",
    "http://backend.userland.com/creativecommonsrssmodule": "creativecommons",
    "http://podlove.org/simple-chapters": "psc",
    "http://www.w3.org/1999/xlink": "xlink",
    _XML_NS: "xml",
}

# When a recovered document uses a prefix it never declared, lxml keeps "prefix:name" as the
# tag; these conventional prefixes are then read as the namespace they always stand for.
_CONVENTIONAL_PREFIXES = {prefix for prefix in _NAMESPACE_PREFIXES.values() if prefix} | {"atom"}

_FEED_ROOTS = {"rss": "rss", "rdf:rdf": "rdf", "feed": "atom", "channel": "rss"}
_CONTAINERS = frozenset({"rss", "rdf:rdf", "feed", "channel"})
_ENTRY_KEYS = frozenset({"item", "entry"})
_TITLE_KEYS = ("title", "dc:title")
_PUBLISHED_KEYS = (
    "pubdate",
    "published",
    "issued",
    "dc:date",
    "dcterms:issued",
    "dcterms:created",
    "created",
    "dcterms:date",
)
_UPDATED_KEYS = ("updated", "modified", "dcterms:modified")
_SUMMARY_KEYS = ("description", "summary", "abstract", "dc:description", "itunes:summary")
_CONTENT_KEYS = ("content:encoded", "content", "xhtml:body", "xhtml:div", "body")
_AUTHOR_KEYS = frozenset({"author", "dc:creator", "dc:author", "itunes:author"})
_MEDIA_RSS_KEYS = frozenset({"media:content", "media:thumbnail", "media:group"})
# Element key -> the slot an entry's reader looks in. Keys sharing a slot are read in document
# order (the first non-empty title, dc:title or not, wins, as in feedparser).
_ENTRY_SLOTS: dict[str, str] = {
    "title": "title",
    "dc:title": "title",
    "media:title": "media:title",
    "link": "link",
    "guid": "id",
    "id": "id",
    **dict.fromkeys(_AUTHOR_KEYS, "author"),
    **{key: key for key in (*_PUBLISHED_KEYS, *_UPDATED_KEYS, *_SUMMARY_KEYS, *_CONTENT_KEYS)},
    "category": "category",
    "dc:subject": "category",
    "language": "language",
    "dc:language": "language",
    "source": "source",
    "enclosure": "media",
    **dict.fromkeys(_MEDIA_RSS_KEYS, "media"),
}
_HTML_TYPES = frozenset({"html", "xhtml", "text/html", "application/xhtml+xml"})
_ALTERNATE_RELS = frozenset({"alternate", "http://www.iana.org/assignments/relation/alternate"})
_ENCLOSURE_RELS = frozenset({"enclosure", "http://www.iana.org/assignments/relation/enclosure"})


@lru_cache(maxsize=4096)
def _tag_key(tag: str, has_prefix: bool) -> str:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        prefix = _NAMESPACE_PREFIXES.get(namespace.lower())
        if prefix is None:
            # An unknown namespace used as the default one is the feed's own vocabulary (as in
            # feedparser); behind an explicit prefix it is an extension we do not read.
            prefix = "?" if has_prefix else ""
    else:
        prefix, _, local = tag.rpartition(":")
        prefix = prefix.lower()
        if prefix == "atom":
            prefix = ""
        elif prefix and prefix not in _CONVENTIONAL_PREFIXES:
            prefix = "?" + prefix
    local = local.lower()
    return f"{prefix}:{local}" if prefix else local


def _key(element: _Element) -> str:
    """``title``, ``dc:creator``, ``media:content``...: what an element is, case-insensitively."""
    tag = element.tag
    if not isinstance(tag, str):  # comments, processing instructions, entity references
        return ""
    return _tag_key(tag, element.prefix is not None)


# -- decoding --------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?\s*([^"';,\s]+)""", re.IGNORECASE)
_XML_DECL_ENCODING = re.compile(
    r"""\A\s*<\?xml\s[^>]*?\bencoding\s*=\s*["']\s*([^"'\s]*)\s*["']""", re.IGNORECASE
)
_LABEL_ALIASES = {
    "x-gbk": "gbk",
    "x-euc-cn": "gb2312",
    "x-x-big5": "big5",
    "big5-hkscs": "big5hkscs",
    "x-sjis": "shift_jis",
    "x-mac-roman": "mac_roman",
    "unicode-1-1-utf-8": "utf-8",
    "utf8": "utf-8",
}
# A declared charset is usually a subset of what the publisher's software wrote: GB2312 feeds
# contain GBK characters, Big5 feeds contain CP950/HKSCS ones (WHATWG Encoding does the same).
_SUPERSETS: dict[str, tuple[str, ...]] = {
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "big5": ("big5", "cp950", "big5hkscs"),
    "cp950": ("cp950", "big5hkscs"),
    "shift_jis": ("shift_jis", "cp932"),
    "euc_kr": ("euc_kr", "cp949"),
    "ascii": ("ascii", "utf-8", "cp1252"),
}
# Text codecs Python has that no feed is written in, some of them slow on hostile input.
_REFUSED_CODECS = frozenset(
    {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined", "utf-7"}
)
_DISPLAY_NAMES = {
    "ascii": "us-ascii",
    "cp1252": "windows-1252",
    "iso8859-1": "iso-8859-1",
    "latin-1": "iso-8859-1",
}
_C1_CONTROLS = re.compile("[\x80-\x9f]")


def _codec_name(label: str) -> str | None:
    label = label.strip().strip("\"'").strip().lower()
    label = _LABEL_ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):
        return None
    return None if name in _REFUSED_CODECS else name


def _display_name(codec: str) -> str:
    return _DISPLAY_NAMES.get(codec, codec)


def _sniff_unicode_family(body: bytes) -> str | None:
    """UTF-16/32 without a BOM, told by the zero bytes around ``<`` (XML 1.0, Appendix F)."""
    head = body[:4]
    if len(head) < 4:
        return None
    if head[:3] == b"\0\0\0" and head[3]:
        return "utf-32-be"
    if head[0] and head[1:] == b"\0\0\0":
        return "utf-32-le"
    if head[0] == 0 and head[1] and head[2] == 0 and head[3]:
        return "utf-16-be"
    if head[0] and head[1] == 0 and head[2] and head[3] == 0:
        return "utf-16-le"
    return None


def _declared_encoding(body: bytes, family: str | None) -> str | None:
    head = body[:1024].decode(family or "latin-1", "ignore")
    match = _XML_DECL_ENCODING.match(head)
    return match.group(1) if match else None


def _header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CHARSET_PARAM.search(content_type)
    return match.group(1) if match else None


def _try_decode(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError, ValueError):
        return None


def decode_document(body: bytes, content_type: str | None = None) -> tuple[str, str, list[str]]:
    """Decode a feed document to text: ``(text, encoding used, problems met)``.

    The byte order mark wins, then the HTTP ``charset`` (RFC 7303), then the XML declaration,
    then UTF-8. A declared GB2312/GBK is read as GB18030 and Big5 falls back to CP950 and
    HKSCS. When no candidate decodes cleanly, the first one is used with replacement
    characters (or windows-1252 for a document that is mostly not UTF-8) and the problem is
    recorded; a mislabel that another candidate reads cleanly loses nothing and is only
    logged. The BOM is not part of the returned text.
    """
    errors: list[str] = []
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            payload = body[len(bom) :]
            clean = _try_decode(payload, bom_codec)
            if clean is None:
                errors.append(f"invalid {bom_codec} after its byte order mark; bad bytes replaced")
                clean = payload.decode(bom_codec, "replace")
            return clean, bom_codec, errors

    family = _sniff_unicode_family(body)
    labels: list[tuple[str, str]] = []
    header = _header_charset(content_type)
    if header:
        labels.append((header, "HTTP charset"))
    declared = _declared_encoding(body, family)
    if declared:
        labels.append((declared, "XML declaration"))

    candidates: list[str] = []
    for label, origin in labels:
        codec = _codec_name(label)
        if codec is None:
            logger.debug("unknown encoding %r in the %s; ignored", label, origin)
            continue
        is_wide = codec.startswith(("utf-16", "utf-32"))
        if family is not None and codec in ("utf-16", "utf-32") and family.startswith(codec):
            codec = family  # no BOM: the byte order is the one the zero bytes show
        if is_wide != (family is not None):
            # "utf-16" declared in a document whose bytes are plainly 8-bit, or the reverse:
            # the bytes themselves are the better witness.
            logger.debug("%s says %r but the bytes disagree; ignored", origin, label)
            continue
        candidates.append(codec)
    if family is not None:
        candidates.append(family)
    candidates.append("utf-8")

    primary = candidates[0]
    if (
        header
        and primary in ("iso8859-1", "ascii", "cp1252")
        and (declared is None or _codec_name(declared) == "utf-8")
        and not body.isascii()
        and _try_decode(body, "utf-8") is not None
    ):
        # A server default (Apache's AddDefaultCharset) mislabelling a UTF-8 feed: valid
        # UTF-8 with non-ASCII text is almost never really Latin-1. Nothing is lost, so this
        # is not one of the document's errors.
        logger.debug("HTTP charset %r ignored: the document is valid UTF-8", header)
        return body.decode("utf-8"), "utf-8", errors

    if body.isascii() and family is None:
        return body.decode("ascii"), _display_name(primary), errors

    seen: set[str] = set()
    for codec in candidates:
        for attempt in _SUPERSETS.get(codec, (codec,)):
            if attempt in seen:
                continue
            seen.add(attempt)
            text = _try_decode(body, attempt)
            if text is None:
                continue
            used = attempt
            if attempt == "iso8859-1" and _C1_CONTROLS.search(text):
                # C1 controls in "Latin-1" are windows-1252 punctuation (WHATWG Encoding).
                windows = _try_decode(body, "cp1252")
                if windows is not None:
                    text, used = windows, "cp1252"
            if used == "cp1252" and primary not in ("iso8859-1", "cp1252"):
                errors.append(
                    f"the document is not valid {_display_name(primary)} nor UTF-8; "
                    "decoded as windows-1252"
                )
            elif codec != primary or used != attempt:
                # Another declared encoding (or UTF-8) read it cleanly: a mislabel, no loss.
                logger.debug("declared %s, decoded as %s", primary, used)
            return text, _display_name(used), errors

    fallback = _SUPERSETS.get(primary, (primary,))[-1]
    if fallback == "utf-8":
        text = body.decode("utf-8", "replace")
        bad = text.count("\ufffd")
        good = sum(1 for char in text if ord(char) > 127) - bad
        if bad > 4 * good:
            # Mostly not UTF-8 at all (a broken character costs up to 4 replacements): an
            # undeclared legacy single-byte encoding.
            errors.append("the document is not valid UTF-8; decoded as windows-1252")
            return body.decode("cp1252", "replace"), "windows-1252", errors
    else:
        text = body.decode(fallback, "replace")
    errors.append(f"invalid {_display_name(fallback)} bytes replaced")
    return text, _display_name(fallback), errors


# -- reading the XML -------------------------------------------------------------------------

_ERROR_POSITION = re.compile(r",\s*line \d+,\s*column \d+\s*$")
_XML_DECL_START = re.compile(r"<\?xml[\s?]")
_PROLOG = re.compile(
    r"(?:\s+|<!--.*?-->|<\?.*?\?>|<!DOCTYPE(?:[^\[>]++|\[.*?\])*+>)*+", re.DOTALL | re.IGNORECASE
)
_FEED_ROOT_TAG = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(?:rss|feed|rdf|channel)[\s>/]", re.IGNORECASE)
_DOCTYPE_ENTITY = re.compile(r"<!ENTITY\s+([^\s%]+)")
_REPAIRS = re.compile(
    r"""(?P<keep><!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)|<\?.*?(?:\?>|\Z)
           |<!DOCTYPE(?:[^\[>]++|\[.*?\])*+>)
       |&(?:\#(?P<dec>[0-9]{1,10});|\#[xX](?P<hex>[0-9a-fA-F]{1,8});|(?P<name>[A-Za-z_][\w.-]*);)?
       |(?P<bad>[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff])""",
    re.DOTALL | re.VERBOSE,
)
_BINARY_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XML_ENTITIES = frozenset({"lt", "gt", "amp", "quot", "apos"})


def _is_xml_char(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _repair_edits(text: str) -> list[tuple[int, int, str]]:
    """The smallest edits that make a typical broken feed well-formed.

    Junk before the document (a PHP warning, whitespace before ``<?xml``) is dropped; HTML
    entities that XML does not know (``&nbsp;``) become character references; a bare ``&``
    becomes ``&amp;``; characters XML forbids are dropped. CDATA sections, comments and
    processing instructions are left as they are.
    """
    edits: list[tuple[int, int, str]] = []
    root_tag = _FEED_ROOT_TAG.search(text)
    decl = _XML_DECL_START.search(text, 0, root_tag.start() if root_tag else 1 << 16)
    start = 0
    if decl is not None and decl.start() > 0:
        edits.append((0, decl.start(), ""))
        start = decl.start()
    prolog = _PROLOG.match(text, start)
    prolog_end = prolog.end() if prolog else start
    if root_tag is not None and root_tag.start() > prolog_end:
        edits.append((prolog_end, root_tag.start(), ""))
    declared = set(_DOCTYPE_ENTITY.findall(text, 0, 1 << 16)) if "<!DOCTYPE" in text else set()
    for match in _REPAIRS.finditer(text, prolog_end):
        if match.group("keep") is not None:
            continue
        if match.group("bad") is not None:
            edits.append((match.start(), match.end(), ""))
            continue
        number = match.group("dec") or match.group("hex")
        if number is not None:
            code = int(number, 10 if match.group("dec") else 16)
            if not _is_xml_char(code):
                edits.append((match.start(), match.end(), ""))
            elif match.group(0)[2] == "X":  # "&#X41;" is HTML, not XML
                edits.append((match.start(), match.end(), f"&#x{number};"))
            continue
        name = match.group("name")
        if name is None:
            edits.append((match.start(), match.end(), "&amp;"))
        elif name in _XML_ENTITIES or name in declared:
            continue
        else:
            value = html.entities.html5.get(name + ";")
            replacement = (
                "".join(f"&#{ord(char)};" for char in value) if value else "&amp;" + name + ";"
            )
            edits.append((match.start(), match.end(), replacement))
    edits.sort()
    return edits


def _apply_edits(text: str, edits: list[tuple[int, int, str]]) -> tuple[str, list[tuple[int, int]]]:
    """Apply sorted, non-overlapping edits; also return (new offset, original offset) anchors."""
    pieces: list[str] = []
    anchors = [(0, 0)]
    position = 0
    new_length = 0
    for start, end, replacement in edits:
        if start < position:
            continue
        pieces.append(text[position:start])
        pieces.append(replacement)
        new_length += start - position + len(replacement)
        position = end
        anchors.append((new_length, position))
    pieces.append(text[position:])
    return "".join(pieces), anchors


def _syntax_message(error: Exception) -> str:
    message = getattr(error, "msg", None) or str(error)
    message = _ERROR_POSITION.sub("", message.strip())
    line = getattr(error, "lineno", None)
    return f"not well-formed (line {line}): {message}" if line else f"not well-formed: {message}"


_MARKUP_TOKEN = re.compile(
    r"""<(?:!--.*?-->
          |!\[CDATA\[.*?\]\]>
          |\?.*?\?>
          |!DOCTYPE(?:[^\[>]++|\[.*?\])*+>
          |/(?P<end>[^\s>]+)\s*>
          |(?P<start>[^\s/>!?]+)(?:[^>"'/]++|"[^"]*+"|'[^']*+'|/(?!>))*+(?P<empty>/)?>)""",
    re.DOTALL | re.VERBOSE,
)


class _SourceText:
    """The text lxml parsed, to cut an element's inner markup out exactly as it was written.

    Elements are matched to their tags by document order: the k-th start tag in the text is
    the k-th element of the tree. The index is built on first use, and only when the counts
    agree (a well-formed document without entity-borne markup); otherwise callers fall back
    to serializing.
    """

    def __init__(self, root: _Element, parsed: str, original: str, anchors: list[tuple[int, int]]):
        self._root = root
        self._parsed = parsed
        self._original = original
        self._anchor_starts = [new for new, _ in anchors]
        self._anchors = anchors
        self._spans: list[tuple[int, int]] | None = None
        self._index: dict[_Element, int] = {}
        self._usable = True

    def _build(self) -> None:
        spans: list[tuple[int, int]] = []
        open_tags: list[tuple[int, str, int]] = []
        for token in _MARKUP_TOKEN.finditer(self._parsed):
            name = token.group("start")
            if name is not None:
                if token.group("empty"):
                    spans.append((token.end(), token.end()))
                else:
                    open_tags.append((len(spans), name, token.end()))
                    spans.append((token.end(), token.end()))
                continue
            end_name = token.group("end")
            if end_name is not None:
                if not open_tags or open_tags[-1][1] != end_name:
                    self._usable = False
                    return
                position, _, inner_start = open_tags.pop()
                spans[position] = (inner_start, token.start())
        elements = list(self._root.iter(etree.Element))
        if open_tags or len(elements) != len(spans):
            self._usable = False
            return
        self._index = {element: position for position, element in enumerate(elements)}
        self._spans = spans

    def _to_original(self, offset: int) -> int:
        anchor = bisect_right(self._anchor_starts, offset) - 1
        new, old = self._anchors[anchor]
        return old + (offset - new)

    def inner(self, element: _Element) -> str | None:
        """The markup between the element's start and end tags as written, or None."""
        if self._usable and self._spans is None:
            self._build()
        if not self._usable or self._spans is None:
            return None
        position = self._index.get(element)
        if position is None:
            return None
        start, end = self._spans[position]
        return self._original[self._to_original(start) : self._to_original(end)]


@dataclass
class _Document:
    root: _Element | None
    """The document's root element, or None when nothing could be parsed."""
    source: _SourceText | None
    """Set when the tree was parsed strictly (perhaps after repair): complete, and sliceable."""
    errors: list[str]


def _xml_parser(*, recover: bool) -> Any:
    # No DTD loading and no network: a feed is untrusted input (XXE). Internal entities only.
    return etree.XMLParser(
        encoding="utf-8",
        recover=recover,
        no_network=True,
        load_dtd=False,
        resolve_entities="internal",
        huge_tree=False,  # keeps libxml2's limits on depth and entity expansion
        # collect_ids stays on: turning it off makes libxml2 try to fetch the external DTD.
    )


def _load_xml(text: str, utf8: bytes | None) -> _Document:
    """Parse strictly; else repair the usual breakage and retry; else let lxml recover."""
    data = utf8 if utf8 is not None else text.encode("utf-8", "surrogatepass")
    try:
        root = etree.fromstring(data, _xml_parser(recover=False))
    except etree.XMLSyntaxError as error:
        first_error = _syntax_message(error)
    else:
        return _Document(root, _SourceText(root, text, text, [(0, 0)]), [])

    errors = [first_error]
    edits = _repair_edits(text)
    repaired, anchors = _apply_edits(text, edits)
    repaired_data = repaired.encode("utf-8", "surrogatepass") if edits else data
    if edits:
        try:
            root = etree.fromstring(repaired_data, _xml_parser(recover=False))
        except etree.XMLSyntaxError as error:
            second_error = _syntax_message(error)
            if second_error != first_error:
                errors.append(f"after repair: {second_error}")
        else:
            errors.append("repaired: undeclared entities, bare '&' or junk before the document")
            return _Document(root, _SourceText(root, repaired, text, anchors), errors)
    try:
        root = etree.fromstring(repaired_data, _xml_parser(recover=True))
    except (etree.XMLSyntaxError, ValueError):
        root = None
    if root is not None:
        errors.append("read with lxml's recovering parser; some content may be lost")
    return _Document(root, None, errors)


def _find_feed_root(root: _Element) -> _Element | None:
    if _key(root) in _FEED_ROOTS:
        return root
    if _key(root) == "html" or _key(root) == "xhtml:html":
        return None
    for element in root.iter(etree.Element):
        if _key(element) in _FEED_ROOTS:
            return element
    return None


# -- small value helpers ----------------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]{1,18}")
_HTTP_URL = re.compile(r"https?://\S+\Z", re.IGNORECASE)


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if 0 <= value < 1e18 else None
    if isinstance(value, str):
        stripped = value.strip()
        return int(stripped) if _DIGITS.fullmatch(stripped) else None
    return None


_ABSOLUTE_HTTP = re.compile(r"https?://[^\s/?#\\]+(?:[/?#][^\s\\]*)?\Z", re.IGNORECASE)
_PLAIN_PATH = re.compile(r"/(?![/\\])[^\s\\]*\Z")


@lru_cache(maxsize=256)
def _origin(base: str) -> str | None:
    """``scheme://host`` of an http(s) base URL, for joining absolute paths quickly."""
    match = re.match(r"(https?://[^/?#\s\\]+)", base, re.IGNORECASE)
    return match.group(1) if match else None


def _join(base: str, reference: str) -> str:
    """``urljoin``, with fast paths for the two common cases (urljoin is slow per call)."""
    reference = reference.strip()
    if not base or _ABSOLUTE_HTTP.match(reference):
        return reference
    if _PLAIN_PATH.match(reference) and "/." not in reference:
        origin = _origin(base)
        if origin is not None:
            return origin + reference
    try:
        return urljoin(base, reference)
    except ValueError:  # e.g. a malformed IPv6 host
        return reference


def _child_base(element: _Element, parent_base: str) -> str:
    """The base URI at an element whose parent's base is known (XML Base, RFC 3986 §5.1)."""
    value = element.get(_XML_BASE)
    if value is None:
        return parent_base
    joined = _join(parent_base, value)
    # An xml:base never takes a web feed's links off the web (to file:, say).
    scheme, parent_scheme = urlsplit(joined).scheme.lower(), urlsplit(parent_base).scheme.lower()
    if scheme != parent_scheme and scheme not in ("http", "https"):
        return parent_base
    return joined


def _text(element: _Element) -> str:
    """All the character data of an element (markup in it ignored), as lxml decoded it."""
    if len(element) == 0:
        return element.text or ""
    return "".join(part for part in element.itertext() if isinstance(part, str))


def _fallback_url(feed_url: str, guid: str | None, *parts: str | None) -> str:
    """A stable URL for an entry with no link: the feed URL with the guid (or a digest)."""
    page = urldefrag(feed_url)[0]
    if guid:
        return f"{page}#{quote(guid, safe='')}"
    digest = hashlib.sha256("\x1f".join(part or "" for part in parts).encode("utf-8"))
    return f"{page}#entry-{digest.hexdigest()[:16]}"


def _entry_url(
    feed_url: str, link: str | None, guid: str | None, guid_is_permalink: bool | None
) -> str:
    if link:
        return link
    if guid and (guid_is_permalink or (guid_is_permalink is None and _HTTP_URL.match(guid))):
        return _join(feed_url, guid)
    return ""


# -- reading a feed tree ----------------------------------------------------------------------


class _TreeReader:
    """Reads one parsed RSS/RDF/Atom/CDF tree into a ParsedFeed."""

    def __init__(
        self,
        root: _Element,
        kind: str,
        url: str,
        source: _SourceText | None,
        errors: list[str],
        fetched_at: datetime | None,
    ) -> None:
        self.root = root
        self.kind = kind
        self.url = url
        self.source = source
        self.errors = errors
        self.fetched_at = fetched_at
        self._bases: dict[_Element, str] = {}

    # - generic pieces -

    def base(self, element: _Element) -> str:
        """The base URI in effect at an element: nested xml:base resolved against the feed URL.

        Memoized per parent, so the entries of a channel share one walk up the tree.
        """
        parent = element.getparent()
        if parent is None:
            parent_base = self.url
        else:
            cached = self._bases.get(parent)
            parent_base = cached if cached is not None else self.base(parent)
            self._bases[parent] = parent_base
        return _child_base(element, parent_base)

    def inner_markup(self, element: _Element) -> str:
        """The element's content as written; serialized by lxml when it cannot be cut out."""
        exact = self.source.inner(element) if self.source is not None else None
        if exact is not None:
            return exact
        parts = [html.escape(element.text or "", quote=False)]
        parts.extend(etree.tostring(child, encoding="unicode", with_tail=True) for child in element)
        return "".join(parts)

    def construct(self, element: _Element) -> str | None:
        """A text construct (title, summary, content) as markup or text, exactly as carried.

        Escaped HTML and CDATA give the element's text after XML's own decoding; inline markup
        (Atom ``type="xhtml"``, unescaped HTML in RSS) gives the markup as written, without
        Atom's wrapping ``<div>``. Base64 content (RFC 4287 §4.1.3.3, Atom 0.3
        ``mode="base64"``) is decoded when it is text, dropped when it is binary.
        """
        content_type = (element.get("type") or "").strip().lower()
        mode = (element.get("mode") or "").strip().lower()
        is_textual = (
            not content_type
            or content_type in _HTML_TYPES
            or content_type in ("text", "plain")  # "plain": Media RSS
            or content_type.startswith("text/")
            or content_type.endswith(("+xml", "/xml"))
        )
        if mode == "base64" or not is_textual:
            encoded = (element.text or "").strip()
            try:
                decoded = base64.b64decode(encoded).decode("utf-8")
            except (binascii.Error, ValueError):
                return encoded if is_textual else None
            # Binary content (an image) is no markup; text that was base64-encoded is.
            return None if _BINARY_TEXT.search(decoded) else decoded
        if len(element) == 0:
            return element.text or ""
        target = element
        if content_type == "xhtml":
            children = [child for child in element if isinstance(child.tag, str)]
            if (
                len(children) == 1
                and len(element) == 1
                and _key(children[0]).rpartition(":")[2] == "div"
                and not (element.text or "").strip()
                and not (children[0].tail or "").strip()
            ):
                target = children[0]
        return self.inner_markup(target)

    def first_construct(self, candidates: Iterable[_Element]) -> str | None:
        for element in candidates:
            value = self.construct(element)
            if value is not None and (value.strip() or len(element)):
                return value
        return None

    # - the feed -

    def read(self) -> ParsedFeed:
        feed_element = self.root
        if self.kind in ("rss", "rdf") and _key(self.root) != "channel":
            channel = next((c for c in self.root if _key(c) == "channel"), None)
            if channel is not None:
                feed_element = channel
        children = [(_key(child), child) for child in feed_element]
        feed_base = self.base(feed_element)

        title = self.first_construct(c for k, c in children if k in _TITLE_KEYS)
        link = self.link((c for k, c in children if k == "link"), feed_base)
        if link is None and self.kind == "rss":
            href = feed_element.get("HREF") or feed_element.get("href")  # CDF
            if href:
                link = _join(feed_base, href)
        language = next(
            (t for k, c in children if k in ("language", "dc:language") if (t := _text(c).strip())),
            None,
        ) or self.inherited_language(feed_element)
        ttl = next((_int(_text(c)) for k, c in children if k == "ttl"), None)
        feed_authors = (
            self.authors(c for k, c in children if k in _AUTHOR_KEYS) if self.kind == "atom" else []
        )

        feed = ParsedFeed(
            kind=self.kind,
            title=title.strip() if title else None,
            link=link,
            language=language,
            encoding=None,
            ttl=ttl,
            errors=self.errors,
        )
        for entry in self.entry_elements(self.root):
            feed.entries.append(self.entry(entry, feed, feed_authors))
        return feed

    def entry_elements(self, container: _Element) -> Iterator[_Element]:
        for child in container:
            key = _key(child)
            if key in _ENTRY_KEYS:
                yield child
            elif key in _CONTAINERS:
                yield from self.entry_elements(child)

    def inherited_language(self, element: _Element) -> str | None:
        node = element
        while node is not None:
            value = node.get(_XML_LANG)
            if value is not None and value.strip():
                return value.strip()  # type: ignore[no-any-return]
            node = node.getparent()
        return None

    def link(self, links: Iterable[_Element], base: str) -> str | None:
        """RSS ``<link>`` text, else the Atom ``rel="alternate"`` link (HTML preferred)."""
        alternates: list[tuple[bool, str]] = []
        for element in links:
            href = element.get("href")
            if href is None:
                href = element.get("HREF")
            if href is None:
                text = _text(element).strip()
                if text:
                    return _join(_child_base(element, base), text)
                continue
            rel = (element.get("rel") or "alternate").strip().lower()
            if rel in _ALTERNATE_RELS and href.strip():
                link_type = (element.get("type") or "").strip().lower()
                resolved = _join(_child_base(element, base), href)
                alternates.append(
                    (link_type in ("", "text/html", "application/xhtml+xml"), resolved)
                )
        for is_html, href in alternates:
            if is_html:
                return href
        return alternates[0][1] if alternates else None

    def person(self, element: _Element) -> str:
        """An author: RSS text (``a@b.c (Name)``) or an Atom person's name (else email, uri)."""
        if len(element) == 0:
            return (element.text or "").strip()
        parts = {_key(child): _text(child).strip() for child in reversed(element)}
        found = parts.get("name") or parts.get("email") or parts.get("uri") or parts.get("url")
        return found or _text(element).strip()

    def authors(self, elements: Iterable[_Element]) -> list[str]:
        authors: list[str] = []
        for element in elements:
            name = self.person(element)
            if name and name not in authors:
                authors.append(name)
        return authors

    # - one entry -

    def entry(self, entry: _Element, feed: ParsedFeed, feed_authors: list[str]) -> ArticleItem:
        base = self.base(entry)
        # One pass over the children, sorted into slots; each slot keeps document order.
        slots: dict[str, list[_Element]] = {}
        for child in entry:
            key = _key(child)
            slot = _ENTRY_SLOTS.get(key)
            if slot is None:
                continue
            slots.setdefault(slot, []).append(child)
            if key == "link" and (child.get("rel") or "").strip().lower() in _ENCLOSURE_RELS:
                slots.setdefault("media", []).append(child)
        get = slots.get

        title_raw = self.first_construct(get("title", ()))
        if title_raw is None and ("media" in slots or "media:title" in slots):
            title_raw = self.first_construct(self.media_titles(entry))

        link = self.link(get("link", ()), base)
        if link is None:
            href = entry.get("HREF") or entry.get("href")  # CDF
            if href:
                link = _join(base, href)

        guid: str | None = None
        permalink: bool | None = None
        for element in get("id", ()):
            value = _text(element).strip()
            if value:
                guid = value
                flag = (element.get("isPermaLink") or "").strip().lower()
                permalink = True if flag == "true" else False if flag == "false" else None
                break
        if guid is None:
            about = entry.get(_RDF_ABOUT)
            guid = about.strip() if about and about.strip() else None

        authors = self.authors(get("author", ()))
        if not authors and self.kind == "atom":
            source = get("source")
            if source:
                authors = self.authors(c for c in source[0] if _key(c) in _AUTHOR_KEYS)
            authors = authors or list(feed_authors)

        published = self.first_text(slots, _PUBLISHED_KEYS)
        updated = self.first_text(slots, _UPDATED_KEYS)
        if updated is None:
            lastmod = entry.get("LASTMOD") or entry.get("lastmod")  # CDF
            updated = lastmod.strip() if lastmod and lastmod.strip() else None

        categories: list[str] = []
        for element in get("category", ()):
            value = element.get("term")  # Atom: term, else label; RSS and dc:subject: text
            if value is None or not value.strip():
                value = element.get("label")
            if value is None or not value.strip():
                value = _text(element)
            if value.strip():
                categories.append(value.strip())

        summary = self.first_construct(c for key in _SUMMARY_KEYS for c in get(key, ()))
        content = self.content(slots)

        language = entry.get(_XML_LANG)
        if language is not None and language.strip():
            language = language.strip()
        else:
            language = next((t for c in get("language", ()) if (t := _text(c).strip())), None)

        url = _entry_url(self.url, link, guid, permalink) or _fallback_url(
            self.url, guid, title_raw, published, summary, content
        )
        return ArticleItem(
            url=url,
            source_url=self.url,
            source_kind=self.kind,
            fetched_at=self.fetched_at,
            guid=guid,
            title_raw=title_raw,
            authors_raw=authors,
            published_raw=published,
            updated_raw=updated,
            summary_html=summary,
            content_html=content if content is not None else summary,
            categories_raw=categories,
            media=self.media(slots["media"], base) if "media" in slots else [],
            language_raw=language or feed.language,
            feed_title=feed.title,
            feed_link=feed.link,
            parse_errors=list(self.errors),
        )

    def first_text(self, slots: Mapping[str, list[_Element]], keys: tuple[str, ...]) -> str | None:
        for key in keys:
            for element in slots.get(key, ()):
                value = _text(element).strip()
                if value:
                    return value
        return None

    def media_titles(self, container: _Element) -> Iterator[_Element]:
        for child in container:
            key = _key(child)
            if key == "media:title":
                yield child
            elif key in _MEDIA_RSS_KEYS:
                yield from self.media_titles(child)

    def content(self, slots: Mapping[str, list[_Element]]) -> str | None:
        """The full content: ``content:encoded``, Atom ``content`` (HTML first), XHTML body."""
        for key in _CONTENT_KEYS:
            elements = slots.get(key)
            if not elements:
                continue
            if key == "content":
                # Out-of-line content (``src``, RFC 4287 §4.1.3.2) carries no markup here.
                elements = [c for c in elements if not c.get("src") or len(c) or _text(c).strip()]
                elements.sort(
                    key=lambda c: (c.get("type") or "").strip().lower() not in _HTML_TYPES
                )
            value = self.first_construct(elements)
            if value is not None:
                return value
        return None

    def media(self, elements: Iterable[_Element], entry_base: str) -> list[MediaRef]:
        """Enclosures, Atom enclosure links and Media RSS, in document order."""
        found: list[MediaRef] = []
        seen: set[tuple[str, str]] = set()

        def add(element: _Element, href: str | None, role: str, **sizes: int | None) -> None:
            if href is None or not href.strip():
                return
            url = _join(_child_base(element, bases.get(element.getparent(), entry_base)), href)
            if (url, role) in seen:
                return
            seen.add((url, role))
            media_type = (element.get("type") or "").strip() or None
            found.append(MediaRef(url=url, role=role, media_type=media_type, **sizes))

        bases: dict[_Element, str] = {}  # Media RSS groups may carry their own xml:base

        def visit(element: _Element) -> None:
            key = _key(element)
            if key == "enclosure":
                href = element.get("url") or element.get("href")
                add(element, href, "enclosure", length=_int(element.get("length")))
            elif key == "link":
                add(element, element.get("href"), "enclosure", length=_int(element.get("length")))
            elif key == "media:content":
                add(
                    element,
                    element.get("url"),
                    "media:content",
                    width=_int(element.get("width")),
                    height=_int(element.get("height")),
                    length=_int(element.get("fileSize")),
                )
            elif key == "media:thumbnail":
                add(
                    element,
                    element.get("url"),
                    "media:thumbnail",
                    width=_int(element.get("width")),
                    height=_int(element.get("height")),
                )
            if key in _MEDIA_RSS_KEYS and len(element):
                bases[element] = _child_base(element, bases.get(element.getparent(), entry_base))
                for child in element:
                    if _key(child) in _MEDIA_RSS_KEYS:
                        visit(child)

        for element in elements:
            visit(element)
        return found


# -- JSON Feed -------------------------------------------------------------------------------


def _json_str(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _json_authors(container: Mapping[str, Any]) -> list[str]:
    """JSON Feed 1.1 ``authors`` (a list), else 1.0 ``author`` (one object)."""
    people = container.get("authors")
    if not isinstance(people, list):
        people = [container.get("author")]
    names: list[str] = []
    for person in people:
        if isinstance(person, Mapping):
            name = _json_str(person.get("name")) or _json_str(person.get("url"))
        else:
            name = _json_str(person)
        if name and name.strip() and name.strip() not in names:
            names.append(name.strip())
    return names


def _parse_json_feed(
    text: str, url: str, encoding: str, errors: list[str], fetched_at: datetime | None
) -> ParsedFeed:
    """JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/)."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise FeedParseError(f"not a feed: invalid JSON ({error})") from error
    if not isinstance(document, dict):
        raise FeedParseError("not a feed: the JSON document is not an object")
    version = _json_str(document.get("version")) or ""
    items = document.get("items")
    if "jsonfeed.org/version/" not in version:
        if not isinstance(items, list):
            raise FeedParseError("not a feed: JSON without a JSON Feed version or items")
        errors.append("JSON Feed version missing or unknown")
    if not isinstance(items, list):
        errors.append("JSON Feed without an items list")
        items = []

    title = _json_str(document.get("title"))
    home = _json_str(document.get("home_page_url"))
    language = _json_str(document.get("language"))
    feed_authors = _json_authors(document)
    feed = ParsedFeed(
        kind="json",
        title=title.strip() if title and title.strip() else None,
        link=_join(url, home) if home and home.strip() else None,
        language=language.strip() if language and language.strip() else None,
        encoding=encoding,
        ttl=None,
        errors=errors,
    )
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(f"item {position} is not an object; skipped")
            continue
        feed.entries.append(_json_item(item, feed, feed_authors, url, fetched_at))
    for entry in feed.entries:
        entry.parse_errors = list(errors)
    return feed


def _json_item(
    item: Mapping[str, Any],
    feed: ParsedFeed,
    feed_authors: list[str],
    url: str,
    fetched_at: datetime | None,
) -> ArticleItem:
    guid = _json_str(item.get("id"))
    link = _json_str(item.get("url")) or _json_str(item.get("external_url"))
    link = _join(url, link) if link and link.strip() else None
    summary = _json_str(item.get("summary"))
    content_html = _json_str(item.get("content_html"))
    media: list[MediaRef] = []
    for role in ("image", "banner_image"):
        href = _json_str(item.get(role))
        if href and href.strip():
            media.append(MediaRef(url=_join(url, href), role=role))
    attachments = item.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        if not isinstance(attachment, Mapping):
            continue
        href = _json_str(attachment.get("url"))
        if href and href.strip():
            media.append(
                MediaRef(
                    url=_join(url, href),
                    role="attachment",
                    media_type=_json_str(attachment.get("mime_type")),
                    length=_int(attachment.get("size_in_bytes")),
                )
            )
    tags = item.get("tags")
    categories = (
        [t.strip() for t in tags if isinstance(t, str) and t.strip()]
        if isinstance(tags, list)
        else []
    )
    language = _json_str(item.get("language"))
    title = _json_str(item.get("title"))
    published = _json_str(item.get("date_published"))
    return ArticleItem(
        url=_entry_url(url, link, guid, None)
        or _fallback_url(url, guid, title, published, summary, content_html),
        source_url=url,
        source_kind="json",
        fetched_at=fetched_at,
        guid=guid,
        title_raw=title,
        authors_raw=_json_authors(item) or list(feed_authors),
        published_raw=published.strip() if published and published.strip() else None,
        updated_raw=(_json_str(item.get("date_modified")) or "").strip() or None,
        summary_html=summary,
        content_html=content_html if content_html is not None else summary,
        content_text_raw=_json_str(item.get("content_text")),
        categories_raw=categories,
        media=media,
        language_raw=language.strip() if language and language.strip() else feed.language,
        feed_title=feed.title,
        feed_link=feed.link,
    )


# -- feedparser, for documents lxml cannot read whole ---------------------------------------


def _feedparser_read(
    body: bytes, url: str, content_type: str | None, fetched_at: datetime | None
) -> ParsedFeed | None:
    """Read a broken document with feedparser's forgiving parser (markup re-serialized)."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    try:
        # A stream, never bytes: feedparser would open bytes that name a local file.
        result = feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception:  # feedparser's own failure on hostile input must not escape
        logger.debug("feedparser failed on %s", url, exc_info=True)
        return None
    version = str(result.get("version") or "")
    if not version and not result.entries:
        return None
    kind = (
        "atom" if version.startswith("atom") else "rdf" if version in ("rss090", "rss10") else "rss"
    )
    meta = result.feed
    title = meta.get("title")
    feed = ParsedFeed(
        kind=kind,
        title=title.strip() if isinstance(title, str) and title.strip() else None,
        link=_join(url, meta["link"]) if isinstance(meta.get("link"), str) else None,
        language=meta.get("language") if isinstance(meta.get("language"), str) else None,
        encoding=None,
        ttl=_int(meta.get("ttl")),
    )
    for entry in result.entries:
        feed.entries.append(_feedparser_entry(entry, feed, url, fetched_at))
    return feed


def _feedparser_entry(
    entry: Mapping[str, Any], feed: ParsedFeed, url: str, fetched_at: datetime | None
) -> ArticleItem:
    def string(name: str) -> str | None:
        value = entry.get(name)
        return value if isinstance(value, str) else None

    link = string("link")
    link = _join(url, link) if link and link.strip() else None
    guid = string("id")
    guid = guid.strip() if guid and guid.strip() else None
    authors = [
        name.strip()
        for person in entry.get("authors") or []
        if isinstance(person, Mapping)
        if isinstance(name := person.get("name") or person.get("email"), str) and name.strip()
    ]
    categories = [
        term.strip()
        for tag in entry.get("tags") or []
        if isinstance(tag, Mapping)
        if isinstance(term := tag.get("term") or tag.get("label"), str) and term.strip()
    ]
    contents = entry.get("content") or []
    content = next(
        (c.get("value") for c in contents if isinstance(c, Mapping) and c.get("value")), None
    )
    summary = string("summary")
    media: list[MediaRef] = []
    for enclosure in entry.get("enclosures") or []:
        if isinstance(enclosure, Mapping) and isinstance(enclosure.get("href"), str):
            media.append(
                MediaRef(
                    url=_join(url, enclosure["href"]),
                    role="enclosure",
                    media_type=enclosure.get("type") or None,
                    length=_int(enclosure.get("length")),
                )
            )
    for name, role in (("media_content", "media:content"), ("media_thumbnail", "media:thumbnail")):
        for medium in entry.get(name) or []:
            if isinstance(medium, Mapping) and isinstance(medium.get("url"), str):
                media.append(
                    MediaRef(
                        url=_join(url, medium["url"]),
                        role=role,
                        media_type=medium.get("type") or None,
                        width=_int(medium.get("width")),
                        height=_int(medium.get("height")),
                        length=_int(medium.get("fileSize")),
                    )
                )
    published = string("published")
    title = string("title")
    return ArticleItem(
        url=_entry_url(url, link, guid, None)
        or _fallback_url(url, guid, title, published, summary, content),
        source_url=url,
        source_kind=feed.kind,
        fetched_at=fetched_at,
        guid=guid,
        title_raw=title,
        authors_raw=authors,
        published_raw=published,
        updated_raw=string("updated"),
        summary_html=summary,
        content_html=content if isinstance(content, str) else summary,
        categories_raw=categories,
        media=media,
        language_raw=feed.language,
        feed_title=feed.title,
        feed_link=feed.link,
    )


def _match_key(item: ArticleItem) -> tuple[str | None, str | None, str]:
    title = " ".join(html.unescape(item.title_raw or "").split())
    return (item.guid, item.url, title)


def _merge(exact: ParsedFeed, loose: ParsedFeed) -> ParsedFeed:
    """feedparser found more entries than lxml recovered: keep its list, but take each
    entry's exact markup and media from the lxml reading when one matches by id, link or title
    and is not visibly truncated."""
    by_guid = {e.guid: e for e in exact.entries if e.guid}
    by_url = {e.url: e for e in exact.entries}
    by_title = {_match_key(e)[2]: e for e in exact.entries if e.title_raw}
    for entry in loose.entries:
        guid, url, title = _match_key(entry)
        twin = (by_guid.get(guid) if guid else None) or by_url.get(url or "") or by_title.get(title)
        if twin is None:
            continue
        for name in ("content_html", "summary_html"):
            mine, theirs = getattr(twin, name), getattr(entry, name)
            if mine and (not theirs or len(mine) >= 0.9 * len(theirs)):
                setattr(entry, name, mine)
        entry.media = twin.media or entry.media
        entry.guid = entry.guid or twin.guid
    loose.title = loose.title or exact.title
    loose.link = loose.link or exact.link
    loose.language = loose.language or exact.language
    loose.ttl = loose.ttl if loose.ttl is not None else exact.ttl
    return loose


# -- entry points ----------------------------------------------------------------------------

_ENTRY_START_TAG = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(
    r"(?:\s+|<!--.*?-->|<\?.*?\?>|<!DOCTYPE(?:[^\[>]++|\[.*?\])*+>)*+<([^\s/>!?]+)",
    re.DOTALL | re.IGNORECASE,
)


def sniff_feed_kind(body: bytes, content_type: str | None = None) -> str | None:
    """Guess the feed format from the first bytes: ``rss``, ``rdf``, ``atom``, ``json`` or None.

    Cheap (reads at most 64 KiB, parses nothing); ``parse_feed`` decides for real.
    """
    try:
        head = bytes(body[:65536])
        codec = _sniff_unicode_family(head) or "utf-8"
        for bom, bom_codec in _BOMS:
            if head.startswith(bom):
                head, codec = head[len(bom) :], bom_codec
                break
        text = head.decode(codec, "ignore")
        stripped = text.lstrip()
        media_type = (content_type or "").split(";")[0].strip().lower()
        if stripped.startswith("{"):
            if "json" in media_type or "jsonfeed.org" in text or '"items"' in text:
                return "json"
            return None
        match = _FIRST_ELEMENT.match(text)
        if match is None:
            return None
        local = match.group(1).rpartition(":")[2].lower()
        return {"rss": "rss", "rdf": "rdf", "feed": "atom", "channel": "rss"}.get(local)
    except Exception:  # a sniffer answers "don't know", whatever the input
        return None


def parse_feed(
    body: bytes,
    url: str,
    *,
    content_type: str | None = None,
    fetched_at: datetime | None = None,
) -> ParsedFeed:
    """Read a feed document (RSS, RDF, Atom, JSON Feed) into a ParsedFeed of ArticleItems.

    ``url`` is where the document was fetched: the last base for relative links, and every
    item's ``source_url``. ``content_type`` is the HTTP header (its charset is honoured).
    A document that is not well-formed gives what can be recovered, its problems listed in
    ``errors``; ``FeedParseError`` is raised only when nothing can be (an HTML page, an empty
    body, garbage), and it is the only exception this function raises.
    """
    try:
        return _parse_feed(bytes(body), url or "", content_type, fetched_at)
    except FeedParseError:
        raise
    except Exception as error:  # the contract: any input, no exception but FeedParseError
        logger.warning("unexpected failure reading feed %s", url, exc_info=True)
        raise FeedParseError(f"could not read feed {url}: {error!r}") from error


def _parse_feed(
    body: bytes, url: str, content_type: str | None, fetched_at: datetime | None
) -> ParsedFeed:
    if not body.strip():
        raise FeedParseError("not a feed: the document is empty")
    text, encoding, errors = decode_document(body, content_type)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return _parse_json_feed(text, url, encoding, errors, fetched_at)
    if not stripped.startswith("<") and "<" not in stripped[:4096]:
        raise FeedParseError("not a feed: neither XML nor JSON")

    # lxml reads UTF-8 bytes; an ASCII document read as ASCII needs no re-encoding.
    document = _load_xml(text, body if len(body) == len(text) and body.isascii() else None)
    errors.extend(document.errors)
    feed_root = _find_feed_root(document.root) if document.root is not None else None
    exact: ParsedFeed | None = None
    if feed_root is not None:
        kind = _FEED_ROOTS[_key(feed_root)]
        reader = _TreeReader(feed_root, kind, url, document.source, errors, fetched_at)
        exact = reader.read()
        exact.encoding = encoding
    if document.source is not None:  # parsed strictly, perhaps after repair: nothing is missing
        if exact is None:
            name = _key(document.root) if document.root is not None else "?"
            raise FeedParseError(f"not a feed: the document's root element is <{name}>")
        return exact
    if (
        document.root is not None
        and _key(document.root) in ("html", "xhtml:html")
        and exact is None
    ):
        raise FeedParseError("not a feed: an HTML page")

    if exact is not None and len(exact.entries) >= len(_ENTRY_START_TAG.findall(text)):
        return exact  # lxml recovered every entry the text starts; feedparser cannot do better
    # feedparser gets the text as we decoded it, so both readings agree on the characters.
    loose = _feedparser_read(
        text.encode("utf-8", "surrogatepass"), url, "application/xml; charset=utf-8", fetched_at
    )
    if loose is not None and (exact is None or len(loose.entries) > len(exact.entries)):
        feed = _merge(exact, loose) if exact is not None else loose
        feed.encoding = encoding
        feed.errors = errors
        errors.append("entries read with feedparser's loose parser; markup may be re-serialized")
        for entry in feed.entries:
            entry.parse_errors = list(errors)
        return feed
    if exact is None:
        raise FeedParseError("not a feed: nothing could be read from the document")
    return exact
