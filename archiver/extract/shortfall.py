"""When a feed entry falls short of the whole article, so that its page is worth fetching."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal
from urllib.parse import urljoin, urlsplit

from archiver.errors import ConfigurationError
from archiver.normalize import read_html

FullText = Literal["auto", "always", "never"]
FULL_TEXT_MODES: tuple[FullText, ...] = ("auto", "always", "never")
"""``--full-text``: fetch the page when the feed falls short (``auto``), for every entry
(``always``), or never."""

SHORT_TEXT = 600
"""A body whose weighted length is below this is a summary (see :func:`text_weight`): about
100 English words, or 200 Chinese characters."""

WIDE_WEIGHT = 3
"""What one CJK character weighs against one Latin letter: a Chinese sentence says about
as much in a third of the characters (Japanese and Korean likewise)."""

_TRUNCATION_MARKS = re.compile(
    r"(?:…|\.\.\.|\[(?:…|\.\.\.)\]|\(\s*(?:…|\.\.\.)\s*\)"
    r"|\b(?:read|continue|view|see)\s+(?:more|the\s+(?:full|whole|rest)(?:\s+\w+)?|reading)\b"
    r"|\b(?:weiterlesen|lire\s+la\s+suite|leer\s+más|mehr\s+lesen)\b"
    r"|阅读全文|查看全文|继续阅读|阅读原文|点击阅读|展开全文|閱讀全文|查看全文|繼續閱讀)"
    r"[\s.。:：!！»›>→]*$",
    re.IGNORECASE,
)
"""How cut-off entries end: an ellipsis, ``[…]``, "Read more", "阅读全文" and their kin
(arrows and punctuation after them allowed)."""


def full_text_mode(value: str | None, default: FullText = "auto") -> FullText:
    """*value* as a full-text mode; *default* when it is empty. ``ConfigurationError`` names
    the modes when it is none of them."""
    if not value:
        return default
    for mode in FULL_TEXT_MODES:
        if value == mode:
            return mode
    raise ConfigurationError(
        f"full text must be one of {', '.join(FULL_TEXT_MODES)}, not {value!r}"
    )


def text_weight(text: str) -> int:
    """The length of *text* with wide (CJK) characters counted :data:`WIDE_WEIGHT` times and
    whitespace not at all."""
    weight = 0
    for character in text:
        if character.isspace():
            continue
        weight += WIDE_WEIGHT if unicodedata.east_asian_width(character) in "WF" else 1
    return weight


def falls_short(content_html: str | None, page_url: str | None = None) -> str | None:
    """Why an entry's body is not the whole article, or None when it looks whole.

    The reasons, in the words a run's log and the article's record use: ``no body``;
    ``cut off`` (it ends in an ellipsis, ``[…]``, "Read more", "阅读全文"...); ``links to the
    page`` (its last element is a link to *page_url*, the way "continue reading" links are
    written); ``short`` (under :data:`SHORT_TEXT` by :func:`text_weight`). Pure.
    """
    document = read_html(content_html)
    text = document.text.strip()
    if not text and not document.images:
        return "no body"
    if text and _TRUNCATION_MARKS.search(text[-80:]):
        return "cut off"
    if page_url and document.anchors and text:
        last = document.anchors[-1]
        last_line = document.blocks[-1] if document.blocks else ""
        if (
            _same_page(last.href, page_url)
            and last.text.strip()
            and last_line.endswith(last.text.strip())
        ):
            return "links to the page"
    if text_weight(text) < SHORT_TEXT:
        return "short"
    return None


def page_wanted(mode: FullText, content_html: str | None, page_url: str | None) -> str | None:
    """Why the page of an entry should be fetched under *mode*, or None: ``always`` gives
    ``always``, ``never`` None, ``auto`` what :func:`falls_short` finds."""
    if mode == "never" or not page_url or urlsplit(page_url).scheme not in ("http", "https"):
        return None
    if mode == "always":
        return "always"
    return falls_short(content_html, page_url)


def _same_page(href: str, page_url: str) -> bool:
    """Whether a link names the article's page (scheme, ``www.``, a trailing slash and a
    fragment aside)."""

    def key(url: str) -> tuple[str, str, str]:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").removeprefix("www.")
        return host, parts.path.rstrip("/") or "/", parts.query

    try:
        return key(urljoin(page_url, href)) == key(page_url)
    except ValueError:
        return False
