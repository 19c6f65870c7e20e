"""One allow-list for every output (nh3): what an article may carry to its reader.

The archive stores what was published, byte for byte; this runs on the way out only
(``show --format html|markdown``, the static-site exports, the web reader and its feeds).
Kept: text formatting, headings, lists, tables, figures, images (relative, ``http``/``https``,
``file`` and ``data:image/*``) and links (relative, ``http``, ``https``, ``mailto``). Dropped:
scripts and styles with their content, event attributes, ``javascript:`` and other schemes,
forms, and iframes, except those whose ``src`` is on a host listed in
``ARCHIVER_IFRAME_HOSTS`` (video embeds), which keep only their ``src`` and size.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import nh3

TAGS = frozenset(
    {
        # text and its formatting
        "p", "br", "hr", "span", "div", "section", "article", "header", "footer", "aside",
        "blockquote", "q", "cite", "pre", "code", "kbd", "samp", "var", "tt",
        "b", "strong", "i", "em", "u", "s", "strike", "del", "ins", "mark", "small", "big",
        "sub", "sup", "abbr", "dfn", "time", "bdi", "bdo", "ruby", "rt", "rp", "wbr",
        "h1", "h2", "h3", "h4", "h5", "h6", "address", "center", "font",
        # lists
        "ul", "ol", "li", "dl", "dt", "dd",
        # tables
        "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td",
        # figures, images, links, disclosure
        "figure", "figcaption", "picture", "img", "a", "details", "summary",
    }
)  # fmt: skip

_GLOBAL = {"title", "lang", "dir"}
ATTRIBUTES: dict[str, set[str]] = {
    "*": _GLOBAL,
    "a": {"href", "hreflang", "name"},
    "img": {"src", "alt", "width", "height", "loading"},
    "abbr": {"title"},
    "time": {"datetime"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope", "abbr"},
    "col": {"span"},
    "colgroup": {"span"},
    "details": {"open"},
    "bdo": {"dir"},
}
IFRAME_ATTRIBUTES = {"src", "width", "height", "title", "allowfullscreen"}

# Script-bearing containers go with everything inside them; the rest are unwrapped.
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "noscript", "template", "object", "embed", "applet", "form", "select",
     "textarea", "button", "svg", "math", "iframe", "frame", "frameset", "noembed"}
)  # fmt: skip

SCHEMES = frozenset({"http", "https", "mailto", "file", "data"})
_LINK_SCHEMES = frozenset({"http", "https", "mailto", ""})
_IMAGE_SCHEMES = frozenset({"http", "https", "file", ""})
_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})


def iframe_hosts_from_env() -> frozenset[str]:
    """The hosts whose iframes an output keeps: ``ARCHIVER_IFRAME_HOSTS``, comma-separated."""
    raw = os.environ.get("ARCHIVER_IFRAME_HOSTS", "")
    return frozenset(host.strip().lower() for host in raw.split(",") if host.strip())


def sanitize_html(html: str, *, iframe_hosts: Iterable[str] | None = None) -> str:
    """``html`` as the reader may see it; ``iframe_hosts`` defaults to the environment's."""
    if not html:
        return ""
    hosts = iframe_hosts_from_env() if iframe_hosts is None else frozenset(iframe_hosts)
    clean = _cleaner(hosts).clean(html)
    # An iframe from a host not listed has lost its src: it goes whole (nh3 keeps the tag).
    return _IFRAME_WITHOUT_SRC.sub("", clean) if hosts else clean


@functools.lru_cache(maxsize=8)
def _cleaner(hosts: frozenset[str]) -> nh3.Cleaner:
    """The allow-list built once per set of iframe hosts (half the cost of a call)."""
    tags = set(TAGS)
    attributes = {tag: set(names) for tag, names in ATTRIBUTES.items()}
    dropped = set(DROPPED_WITH_CONTENT)
    if hosts:
        tags.add("iframe")
        attributes["iframe"] = set(IFRAME_ATTRIBUTES)
        dropped.discard("iframe")

    def allowed(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in _URL_ATTRIBUTES:
            return value
        return value if _url_allowed(tag, attribute, value, hosts) else None

    return nh3.Cleaner(
        tags=tags,
        clean_content_tags=dropped,
        attributes=attributes,
        attribute_filter=allowed,
        url_schemes=set(SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


_IFRAME_WITHOUT_SRC = re.compile(r"<iframe(?![^>]*\ssrc=)[^>]*>.*?</iframe>", re.DOTALL)


def _url_allowed(tag: str, attribute: str, value: str, iframe_hosts: frozenset[str]) -> bool:
    url = value.strip()
    scheme = url.split(":", 1)[0].lower() if ":" in url.split("/", 1)[0] else ""
    if tag == "img" and attribute == "src":
        if scheme == "data":
            return url[5:].lstrip().lower().startswith("image/") and "svg" not in url[:40].lower()
        return scheme in _IMAGE_SCHEMES
    if tag == "iframe":
        host = (urlsplit(url).hostname or "").lower()
        return scheme in {"http", "https"} and any(
            host == allowed or host.endswith("." + allowed) for allowed in iframe_hosts
        )
    return scheme in _LINK_SCHEMES
