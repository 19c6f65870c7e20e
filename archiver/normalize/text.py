"""Titles, plain text, summaries, categories and language of an article."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

from archiver.normalize._html import Document, read_html
from archiver.normalize._safe import collapse, fold, never_raises, scrub

# -- titles --

_HTML_ELEMENTS = (
    "a|abbr|b|big|blink|br|cite|code|del|dfn|div|em|font|h[1-6]|i|img|ins|kbd|mark|nobr|p|q|"
    "s|samp|small|span|strike|strong|sub|sup|time|tt|u|var|wbr"
)
# Only real inline HTML elements count as markup in a title: "Vector<int>" or "<T>" is text.
_TITLE_TAG = re.compile(rf"(?i)</?(?:{_HTML_ELEMENTS})(?:\s[^<>]*)?/?>|<!--.*?-->")
_CDATA = re.compile(r"<!\[CDATA\[(.*?)(?:\]\]>|$)", re.DOTALL)
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
# What sites put between an article's title and their own name.
_SUFFIX_SEPARATOR = r"\s*(?:[-|_–—·•:：｜丨/]|\s-\s)\s*"
_ELLIPSIS = "…"
_MAX_SOURCE_VARIANT = 200


def _unescape_title(text: str) -> str:
    text = html.unescape(text)
    # Feeds that escape twice leave "&amp;amp;" -> "&amp;": take one more step, only for that.
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
    return text


def _strip_source_suffix(title: str, names: Iterable[str]) -> str:
    variants = sorted(
        {collapse(n) for n in names if isinstance(n, str) and 0 < len(collapse(n)) <= 200},
        key=len,
        reverse=True,
    )
    if not variants:
        return title
    alternatives = "|".join(re.escape(v).replace(r"\ ", r"\s*") for v in variants)
    suffix = re.compile(rf"{_SUFFIX_SEPARATOR}(?:{alternatives})\s*$", re.IGNORECASE)
    prefix = re.compile(rf"^\s*[【\[(（]?(?:{alternatives})[】\])）]?\s*[|｜丨:：\-–—]\s*", re.I)
    for _ in range(3):  # "Title - 36氪 | 36Kr"
        shorter = suffix.sub("", title)
        if shorter == title:
            shorter = prefix.sub("", title)
        if shorter == title or not shorter.strip():
            break
        title = shorter.strip()
    return title


def truncate(text: str, max_length: int) -> str:
    """``text`` cut to at most ``max_length`` characters with "…", never inside a grapheme."""
    if max_length <= 0:
        return ""
    if len(text) <= max_length:
        return text
    if max_length == 1:
        return _ELLIPSIS
    cut = max_length - 1
    # Back off combining marks, joiners and variation selectors so no character loses its
    # accent or an emoji sequence its tail.
    while cut > 0 and (
        unicodedata.combining(text[cut])
        or text[cut] in "\u200d\ufe0e\ufe0f"
        or "\U0001f3fb" <= text[cut] <= "\U0001f3ff"
        or text[cut - 1] == "\u200d"
    ):
        cut -= 1
    return text[:cut].rstrip() + _ELLIPSIS


def _clean_title_fallback(
    raw: str | None, *, source_name: str | None = None, max_length: int = 500, **_: object
) -> str | None:
    if not isinstance(raw, str):
        return None
    return collapse(raw)[: max(max_length, 0)] or None


@never_raises(_clean_title_fallback)
def clean_title(
    raw: str | None,
    *,
    source_name: str | None = None,
    max_length: int = 500,
    source_aliases: Iterable[str] = (),
) -> str | None:
    """A title fit for display, or None when nothing is left.

    Entities are unescaped (a second time only for ``&amp;``-escaped entities), inline HTML
    tags and CDATA markers removed, whitespace and line breaks collapsed, and a trailing
    ``" - Site"``, ``" | Site"``, ``"_Site"`` removed when ``Site`` is ``source_name`` or one
    of ``source_aliases`` (compared case-insensitively; ``36Kr`` and ``36氪`` match each other
    only if both are given), or the first part of a ``source_name`` like ``"36氪 - 资讯"``.
    Titles longer than ``max_length`` characters end in "…".
    """
    if not isinstance(raw, str):
        return None
    text = _CDATA.sub(r"\1", scrub(raw[: max(max_length, 0) * 20 + 10_000]))
    text = _TITLE_TAG.sub("", text)
    text = _TITLE_TAG.sub("", _unescape_title(text))
    title = collapse(text)
    names = [n for n in (source_name, *source_aliases) if isinstance(n, str)]
    if isinstance(source_name, str):
        # A feed's title often names the site first: "36氪 - 资讯", "机器之心 | 微信公众号".
        names.append(re.split(r"\s+[-|–—·]\s+|\s*[|｜丨_]\s*", source_name.strip())[0])
    title = _strip_source_suffix(title, names)
    return truncate(title, max_length) or None


# -- body text and summary --


@never_raises(lambda html_text: "")
def html_to_text(html_text: str | Document | None) -> str:
    """The plain text of a body, for search and summaries.

    Block elements (``p``, ``div``, ``li``, ``h1``..., ``br``) become line breaks, scripts,
    styles, ``noscript`` and similar are dropped, entities decoded, whitespace collapsed within
    lines; empty lines are left out.
    """
    return read_html(html_text).text


_SENTENCE_END = re.compile(r"(?<=[。！？!?…])[”’」』）)\"']*\s*|(?<=\.)[”’\"')]*\s+(?=\S)")
_NOTE_LINE = re.compile(
    r"(?i)(?:【?编者按】?|本文(?:来自|转载自|转自|首发于)|(?:文章)?来源\s*[:：]|原标题\s*[:：]"
    r"|editor['’]?s\s+note|this\s+(?:article|post|story)\s+(?:was\s+)?(?:first|originally))"
)
_CJK_END = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]$")


def _one_line(text: str) -> str:
    """Lines joined into one: CJK lines join without a space, others with one."""
    out = ""
    for line in text.splitlines():
        line = collapse(line)  # noqa: PLW2901 - the loop variable is only cleaned here
        if not line:
            continue
        if out and not (_CJK_END.search(out) and _CJK_END.search(line[0])):
            out += " "
        out += line
    return out


def _shorten(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    sentences = [s for s in _SENTENCE_END.split(text) if s]
    kept = ""
    for sentence in sentences:
        joined = f"{kept} {sentence}" if kept and not _CJK_END.search(kept) else kept + sentence
        if len(joined) > max_chars:
            break
        kept = joined
    if kept:
        return kept.strip()
    cut = text[: max_chars - 1]
    space = cut.rfind(" ")
    if space > max_chars // 2:  # words: end at a word boundary
        return cut[:space].rstrip(" ,;:，、；：") + _ELLIPSIS
    return truncate(text, max_chars)


@never_raises(lambda summary_html, text, **_: None)
def make_summary(summary_html: str | None, text: str | None, *, max_chars: int = 280) -> str | None:
    """A short plain-text summary, or None.

    The feed's summary as text when it has any, else the first whole sentences of ``text``
    (sentences end with ``.!?`` and the Chinese ``。！？``) up to ``max_chars`` characters; a
    single over-long sentence is cut at a word boundary with "…".
    """
    if max_chars <= 0:
        return None
    summary = _one_line(html_to_text(summary_html)) if isinstance(summary_html, str) else ""
    if not summary and isinstance(text, str):
        lines = text[: max_chars * 20 + 10_000].splitlines()
        while len(lines) > 1 and _NOTE_LINE.match(lines[0].strip()):
            lines.pop(0)  # an editor's note says where the article came from, not what it says
        summary = _one_line("\n".join(lines))
    if not summary:
        return None
    return _shorten(summary, max_chars) or None


# -- categories and tags --


@never_raises(lambda values: [])
def clean_terms(values: Iterable[str | None]) -> list[str]:
    """Categories or tags: entities decoded, trimmed, whitespace collapsed, empties dropped,
    de-duplicated case-insensitively (full-width and half-width alike; the first spelling
    wins), in their original order."""
    if isinstance(values, str):
        values = [values]
    seen: set[str] = set()
    terms: list[str] = []
    for value in values:
        if not isinstance(value, str):
            continue
        term = collapse(html.unescape(value[:10_000]) if "&" in value else value[:10_000])
        key = fold(term)
        if term and key not in seen:
            seen.add(key)
            terms.append(term)
    return terms


# -- language --

_LANGUAGE_NAMES = {
    "english": "en",
    "chinese": "zh",
    "中文": "zh",
    "简体中文": "zh-cn",
    "繁體中文": "zh-tw",
    "japanese": "ja",
    "日本語": "ja",
    "korean": "ko",
    "한국어": "ko",
    "french": "fr",
    "german": "de",
    "spanish": "es",
    "russian": "ru",
    "portuguese": "pt",
    "italian": "it",
}
_TAG_SHAPE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$")
_NOT_A_LANGUAGE = {"und", "mul", "zxx", "mis", "x-default", "undefined", "null", "none"}
# Chinese scripts imply a region when none is given: zh-hans -> zh-cn, zh-hant -> zh-tw.
_SCRIPT_REGIONS = {"hans": "cn", "hant": "tw"}

_STOPWORDS = frozenset(
    (
        "the",
        "of",
        "and",
        "to",
        "a",
        "in",
        "is",
        "that",
        "for",
        "it",
        "with",
        "as",
        "was",
        "on",
        "be",
        "by",
        "this",
        "are",
        "at",
        "from",
        "or",
        "an",
        "have",
        "not",
        "but",
        "his",
        "they",
        "which",
        "you",
        "has",
        "were",
        "their",
        "been",
        "we",
        "will",
        "one",
        "all",
        "would",
        "there",
        "what",
        "so",
        "can",
        "its",
        "more",
        "about",
        "when",
        "who",
        "into",
        "than",
        "also",
    )
)


def normalize_language(declared: str | None) -> str | None:
    """A declared language as a lower-case BCP 47 tag (``zh_CN`` -> ``zh-cn``), or None."""
    if not isinstance(declared, str):
        return None
    tag = collapse(declared[:200]).lower()
    tag = re.split(r"[,;\s]", tag, maxsplit=1)[0]  # "zh-CN,zh;q=0.9" (an Accept-Language)
    tag = tag.split(".")[0].split("@")[0].replace("_", "-")  # "zh_CN.UTF-8" (a locale)
    tag = _LANGUAGE_NAMES.get(tag, tag)
    if tag in _NOT_A_LANGUAGE or not _TAG_SHAPE.match(tag):
        return None
    parts = tag.split("-")
    if len(parts) >= 2 and len(parts[1]) == 4:  # a script subtag: zh-hans-cn -> zh-cn
        script = parts.pop(1)
        if len(parts) == 1 and parts[0] == "zh" and script in _SCRIPT_REGIONS:
            parts.append(_SCRIPT_REGIONS[script])
    return "-".join(parts)


_HAN_CHARS = "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff"
_KANA_CHARS = "\u3040-\u30ff\u31f0-\u31ff"
_HANGUL_CHARS = "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
_HAN = re.compile(f"[{_HAN_CHARS}]")
_KANA = re.compile(f"[{_KANA_CHARS}]")
_HANGUL = re.compile(f"[{_HANGUL_CHARS}]")
_LATIN = re.compile("[A-Za-z]")
_OTHER_LETTER = re.compile(f"[^\\W\\d_A-Za-z{_HAN_CHARS}{_KANA_CHARS}{_HANGUL_CHARS}]")
"""A letter of any other script (the regular expressions count in C: a loop over the
characters in Python was a third of the time it takes to import a post)."""


def _guess_language(text: str) -> str | None:
    sample = text[:5000]
    if "<" in sample and ">" in sample:
        sample = re.sub(r"<[^>]*>", " ", sample)
    han, kana, hangul = (len(chars.findall(sample)) for chars in (_HAN, _KANA, _HANGUL))
    latin = len(_LATIN.findall(sample))
    other = len(_OTHER_LETTER.findall(sample))
    cjk = han + kana + hangul
    # A CJK character carries a word's worth of meaning: weigh it against Latin words.
    if cjk >= 2 and cjk * 4 >= latin:
        if hangul > (han + kana) / 2:
            return "ko"
        if kana >= max(2, cjk // 20):
            return "ja"
        return "zh" if han else None
    words = re.findall(r"[a-z']+", sample.lower())
    if len(words) < 8 or other > latin / 20:
        return None
    common = sum(word in _STOPWORDS for word in words)
    return "en" if common / len(words) >= 0.15 else None


@never_raises(lambda declared, text: None)
def detect_language(declared: str | None, text: str | None) -> str | None:
    """The article's language as a lower-case BCP 47 tag, or None.

    The declared language wins (normalized: ``zh_CN`` -> ``zh-cn``, ``zh-Hans`` -> ``zh-cn``).
    Otherwise a cheap guess from the text: mostly CJK characters give ``ja`` (kana present),
    ``ko`` (Hangul) or ``zh``; Latin text gives ``en`` only when common English words make up a
    good share of it; anything else gives None.
    """
    normalized = normalize_language(declared)
    if normalized:
        return normalized
    if not isinstance(text, str) or not text.strip():
        return None
    return _guess_language(scrub(text))
