"""Decoding a feed's bytes: byte order marks, HTTP and XML charsets, mislabels and supersets."""

from __future__ import annotations

import codecs
import logging
import re

logger = logging.getLogger(__name__)

# Longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
BOMS = (
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


def sniff_unicode_family(body: bytes) -> str | None:
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
    for bom, bom_codec in BOMS:
        if body.startswith(bom):
            payload = body[len(bom) :]
            clean = _try_decode(payload, bom_codec)
            if clean is None:
                errors.append(f"invalid {bom_codec} after its byte order mark; bad bytes replaced")
                clean = payload.decode(bom_codec, "replace")
            return clean, bom_codec, errors

    family = sniff_unicode_family(body)
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
