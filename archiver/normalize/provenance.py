"""Where a re-published article first appeared: a WeChat account, a newspaper, another site.

Read from the notes publishers put at the top or bottom of a re-published article
(``本文来自微信公众号“机器之心”（ID:almosthuman2014）``, ``来源：证券时报``, ``原标题：...``,
``Originally published at <a href=...>X</a>``, ``This article first appeared on X``), and
from a canonical URL on another site than the article's own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from archiver.normalize._html import Anchor, Document, read_html
from archiver.normalize._safe import collapse, never_raises

EDGE_BLOCKS = 8
"""How many blocks (paragraphs) at each end of the body are searched for a note."""


@dataclass(frozen=True)
class Origin:
    """The original publisher of a re-published article."""

    name: str | None
    """The publisher's name as the note gives it (``机器之心``), or the canonical host."""
    url: str | None
    """The original article's or account's URL, when the note links it."""
    account_id: str | None
    """A WeChat account id (``almosthuman2014``), when given."""
    evidence: str
    """The rule that matched: ``本文来自`` (also ``转载自``, ``首发于``), ``来源``,
    ``原标题``, ``originally-published``, ``first-appeared``, ``republished``,
    ``trailing-source`` or ``canonical-host``."""
    title: str | None = None
    """The original title, when a ``原标题：`` note gives it."""


_QUOTED = r"[“\"「『](?P<quoted>[^”\"」』\n]{1,60})[”\"」』]"
_UNQUOTED = r"(?P<plain>[^\s（(，,。；;：:“\"「『）)】\]|｜、]{1,40})"
_ACCOUNT = (
    r"(?:\s*[（(]\s*(?:微信)?\s*(?:ID|id|Id|微信号|微信ID)\s*[:：]?\s*"
    r"(?P<id>[A-Za-z][\w-]{1,40})\s*[)）])?"
)
_VERBS = {"来自": "本文来自", "来源于": "本文来自", "转载自": "转载自", "转自": "转载自"}
_VERBS |= {"首发于": "首发于", "首发自": "首发于"}
_FROM_NOTE = re.compile(
    r"(?:本文|本篇|文章|此文)(?P<verb>来自|来源于|转载自|转自|首发于|首发自)\s*[:：]?\s*"
    r"(?:微信)?(?:公众号|微信号|订阅号|服务号|头条号|微博)?\s*[:：]?\s*"
    rf"(?:{_QUOTED}|{_UNQUOTED}){_ACCOUNT}"
)
_SOURCE_NOTE = re.compile(
    r"(?:^|(?<=[\s（(【\[|｜，。,;；]))(?:文章|内容|稿件|新闻|信息|转载)?来源\s*[:：]\s*"
    r"(?:微信)?(?:公众号|微信号)?\s*[:：]?\s*"
    rf"(?:{_QUOTED}|{_UNQUOTED}){_ACCOUNT}"
)
_ORIGINAL_TITLE = re.compile(r"原标题\s*[:：]\s*[《“\"]?(?P<title>[^》”\"\n]{1,200}?)[》”\"]?\s*$")
_ORIGINAL_TITLE_INLINE = re.compile(r"原标题\s*[:：]\s*《(?P<title>[^》\n]{1,200})》")
_ENGLISH_NAME = (
    r"(?P<plain>[A-Z0-9][^\n.,;:!?()]{0,60}?)"
    r"(?=\s*(?:[.,;:!?()]|\s(?:under|on|with|and|in|at|by)\s|$))"
)
_ENGLISH_NOTES = (
    (
        "originally-published",
        re.compile(
            r"(?i:originally\s+(?:published|posted)|published\s+originally)"
            r"\s+(?i:at|on|in|by)\s+(?:the\s+)?" + _ENGLISH_NAME
        ),
    ),
    (
        "first-appeared",
        re.compile(
            r"(?i:(?:first|originally)\s+appeared|appeared\s+(?:first|originally))"
            r"\s+(?i:at|on|in)\s+(?:the\s+)?" + _ENGLISH_NAME
        ),
    ),
    (
        "republished",
        re.compile(
            r"(?i:re-?published|reprinted|cross-?posted|syndicated|reposted)"
            r"(?:\s+(?i:here|with\s+(?:kind\s+)?permission))?\s+(?i:from|by)\s+(?:the\s+)?"
            + _ENGLISH_NAME
        ),
    ),
)
_ENGLISH_TRIGGERS = re.compile(
    r"(?i)originally\s+(?:published|posted|appeared)|published\s+originally"
    r"|(?:first|originally)\s+appeared|appeared\s+(?:first|originally)"
    r"|re-?published|reprinted|cross-?posted|syndicated|reposted"
)
# "……（新浪新闻）" closing a newsflash: an outlet's name in brackets at the very end.
_TRAILING_SOURCE = re.compile(r"[（(](?P<plain>[^（）()\s，,。:：]{2,16})[)）]\s*[。.]?$")
_OUTLET_ENDINGS = re.compile(
    r"(?:新闻|日报|时报|晚报|早报|商报|报|网|社|财经|证券|周刊|杂志|电视台|客户端|在线|频道|观察|资讯|快讯)$"
)
_NOT_OUTLETS = re.compile(r"记者|图|完|据|编辑|译|注|摄")
_UNKNOWN_SOURCES = frozenset(
    ("网络", "互联网", "网络图片", "原创", "本站", "未知", "综合", "整理", "网友", "其他", "暂无")
)
_FEED_PROXIES = ("feedproxy.google.com", "feeds.feedburner.com", "feedburner.com")
_SECOND_LEVEL = frozenset(("com", "net", "org", "gov", "edu", "co", "ac", "or", "ne", "go", "gen"))


def site_of(url: str | None) -> str | None:
    """The registrable part of a URL's host, roughly: ``news.36kr.com`` -> ``36kr.com``,
    ``www.bbc.co.uk`` -> ``bbc.co.uk`` (no public-suffix list: two labels, three under a
    country's ``com``/``co``/``org``...)."""
    if not isinstance(url, str):
        return None
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    labels = [label for label in host.split(".") if label]
    if len(labels) < 2:
        return host or None
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _host(url: str | None) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.lower().removeprefix("www.") if host else None


def _name(match: re.Match[str]) -> str | None:
    groups = match.groupdict()
    name = collapse(groups.get("quoted") or groups.get("plain") or "")
    name = name.strip(" “”\"'「」『』《》【】[]")
    return name or None


def _http(href: str) -> str | None:
    href = href.strip()
    return href if re.match(r"(?i)https?://", href) else None


def _anchor_for(
    anchors: Sequence[Anchor], needles: Sequence[str | None], prefer_host: str | None = None
) -> str | None:
    """The href of the anchor whose text holds one of ``needles``, else one on ``prefer_host``."""
    for needle in needles:
        if not needle:
            continue
        for anchor in anchors:
            if needle in anchor.text and _http(anchor.href):
                return _http(anchor.href)
    if prefer_host:
        for anchor in anchors:
            if (_host(anchor.href) or "").endswith(prefer_host) and _http(anchor.href):
                return _http(anchor.href)
    return None


def _edge_blocks(document: Document) -> list[int]:
    count = len(document.blocks)
    head = range(min(EDGE_BLOCKS, count))
    tail = range(max(count - EDGE_BLOCKS, EDGE_BLOCKS), count)
    return [*head, *tail]


def _original_title(document: Document, indices: Sequence[int]) -> str | None:
    for index in indices:
        block = document.blocks[index]
        match = _ORIGINAL_TITLE_INLINE.search(block) or _ORIGINAL_TITLE.search(block)
        if match:
            return collapse(match.group("title")).strip(' 《》“”"') or None
    return None


def _from_notes(document: Document, indices: Sequence[int], own_site: str | None) -> Origin | None:
    def anchors_in(index: int) -> list[Anchor]:
        return [a for a in document.anchors if a.block == index]

    # 1. "本文来自微信公众号“机器之心”（ID:almosthuman2014）", "本文转载自X"
    for index in indices:
        match = _FROM_NOTE.search(document.blocks[index])
        name = _name(match) if match else None
        if match and name and name not in _UNKNOWN_SOURCES:
            account = match.group("id")
            url = _anchor_for(anchors_in(index), [name, account], "mp.weixin.qq.com")
            return Origin(name, url, account, _VERBS[match.group("verb")])
    # 2. "Originally published at <a href=...>X</a>", "This article first appeared on X"
    for index in indices:
        block = document.blocks[index]
        if not _ENGLISH_TRIGGERS.search(block):
            continue
        for evidence, pattern in _ENGLISH_NOTES:
            match = pattern.search(block)
            if not match:
                continue
            after = [a for a in anchors_in(index) if a.text and a.text in block[match.start() :]]
            linked = next((a for a in after if _http(a.href) and a.text in match.group(0)), None)
            name = linked.text if linked else _name(match)
            url = _http(linked.href) if linked else None
            if url and own_site and site_of(url) == own_site:
                continue  # "The post X appeared first on <this very site>"
            if name:
                return Origin(name, url, None, evidence)
    # 3. "来源：证券时报", "（来源：微信公众号“X”）"
    for index in indices:
        match = _SOURCE_NOTE.search(document.blocks[index])
        name = _name(match) if match else None
        if match and name and name not in _UNKNOWN_SOURCES:
            account = match.group("id")
            url = _anchor_for(anchors_in(index), [name, account])
            return Origin(name, url, account, "来源")
    # 4. "……（新浪新闻）" at the very end
    if document.blocks:
        match = _TRAILING_SOURCE.search(document.blocks[-1])
        name = _name(match) if match else None
        if name and _OUTLET_ENDINGS.search(name) and not _NOT_OUTLETS.search(name):
            url = _anchor_for(anchors_in(len(document.blocks) - 1), [name])
            return Origin(name, url, None, "trailing-source")
    return None


def _origin_fallback(content_html: str | None, **_: object) -> Origin | None:
    return None


@never_raises(_origin_fallback)
def detect_origin(
    content_html: str | Document | None, *, url: str | None, canonical_url: str | None
) -> Origin | None:
    """The original publisher of a re-published article, or None when it is the source's own.

    Notes in the first and last paragraphs of the body are read first (see the module
    docstring; a ``原标题`` note alone gives an origin with only ``title`` set), then a
    ``canonical_url`` on another site than ``url`` (``evidence="canonical-host"``, the
    canonical host as name). Feed proxies (FeedBurner) do not count as the article's site.
    """
    document = read_html(content_html)
    indices = _edge_blocks(document)
    own_site = site_of(url)
    origin = _from_notes(document, indices, own_site)
    title = _original_title(document, indices)
    if origin is None and title:
        origin = Origin(None, None, None, "原标题")
    if origin is None:
        canonical_site = site_of(canonical_url)
        url_host = _host(url) or ""
        proxied = any(url_host == h or url_host.endswith("." + h) for h in _FEED_PROXIES)
        if canonical_site and own_site and canonical_site != own_site and not proxied:
            assert canonical_url is not None
            origin = Origin(_host(canonical_url), canonical_url.strip(), None, "canonical-host")
    if origin is not None and title and origin.title is None:
        origin = Origin(origin.name, origin.url, origin.account_id, origin.evidence, title)
    return origin
