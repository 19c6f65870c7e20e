"""An HTML page's bytes as text: the byte order mark, the HTTP charset, then ``<meta charset>``."""

from __future__ import annotations

import re

from archiver.readers.feeds.decoding import decode_document

_HEADER_CHARSET = re.compile(r"charset\s*=", re.IGNORECASE)
# The HTML standard's prescan reads a <meta charset> or http-equiv Content-Type in the first
# 1024 bytes; real pages put it later (after long comments or scripts), so look further.
_META_CHARSET = re.compile(
    rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:+-]+)""", re.IGNORECASE
)
_PRESCAN_BYTES = 16 * 1024
NOT_HTML_TYPES = ("image/", "audio/", "video/", "font/", "application/pdf", "application/zip")
LOOKS_LIKE_HTML = re.compile(
    r"<(?:!doctype\s+html|html|head|body|title|meta|article|main|div|p|h1|section)[\s/>]",
    re.IGNORECASE,
)


def decode_page(body: bytes, content_type: str | None) -> tuple[str, list[str]]:
    """The page as text: ``decode_document`` with the page's ``<meta charset>`` standing in for
    a missing HTTP charset (the byte order mark and the HTTP header still come first)."""
    if not (content_type and _HEADER_CHARSET.search(content_type)):
        meta = _META_CHARSET.search(body, 0, _PRESCAN_BYTES)
        if meta is not None:
            content_type = f"text/html; charset={meta.group(1).decode('ascii')}"
    text, _, errors = decode_document(body, content_type)
    return text, errors
