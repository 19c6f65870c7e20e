"""Where a re-published article first appeared (WeChat account, original site)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_WECHAT = re.compile(
    r"本文来自(?:<[^>]*>|[^<“])*?公众号(?:<[^>]*>)*\s*"
    r"(?:<a\b[^>]*href=\"(?P<url>[^\"]*)\"[^>]*>)?\s*“(?P<name>[^”]+)”\s*[（(]ID[:：]\s*(?P<id>[\w-]+)"
)


@dataclass(frozen=True)
class Origin:
    """The original publisher of a re-published article."""

    name: str | None
    url: str | None
    account_id: str | None
    evidence: str


def detect_origin(
    content_html: str | None, *, url: str | None, canonical_url: str | None
) -> Origin | None:
    """The original publisher named in the body or implied by the canonical URL, if any."""
    if isinstance(content_html, str):
        match = _WECHAT.search(content_html)
        if match:
            return Origin(match.group("name"), match.group("url"), match.group("id"), "本文来自")
    if isinstance(url, str) and isinstance(canonical_url, str):
        try:
            here, there = urlsplit(url).hostname, urlsplit(canonical_url).hostname
        except ValueError:
            return None
        if here and there and here != there:
            return Origin(there, canonical_url, None, "canonical-host")
    return None
