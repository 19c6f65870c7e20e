"""Article URLs: one canonical form, tracking parameters removed, and the archive's key.

The canonical form follows RFC 3986 section 6 (syntax- and scheme-based normalization): scheme
and host in lower case, the host in IDNA (punycode), the scheme's default port dropped, dot
segments removed, an empty path as ``/``, percent-escapes in upper case and non-ASCII characters
percent-encoded as UTF-8. Beyond that the fragment is dropped (except an AJAX ``#!`` route,
which names the page) and tracking parameters are removed; the other parameters keep their
order and spelling. Credentials (``user:password@``) are dropped.

Hosts are converted with Python's ``idna`` codec (IDNA 2003, as the standard library has it):
``ß`` maps to ``ss`` there, where IDNA 2008 would keep it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

from archiver.normalize._safe import collapse, fold, never_raises, scrub

DEFAULT_TRACKING_PARAMS: tuple[str, ...] = (
    # Each entry is a parameter name, a prefix ending in "*", or "name=value" to remove the
    # parameter only with that value (compared case-insensitively).
    "utm_*",  # Google Analytics campaign tags: utm_source, utm_medium, utm_campaign, ...
    "ktm_*",  # 36kr's campaign tags: ktm_source, ktm_medium, ...
    "spm",  # Alibaba/Taobao/Youku click position ("super position model")
    "from",  # share and feed origin: from=rss, from=timeline, from=singlemessage (WeChat)
    "f=rss",  # feed marker some sites add to links in their RSS
    "f=atom",  # the same, in Atom feeds
    "ref=rss",  # the same, another spelling
    "source=rss",  # the same, another spelling
    "rss=1",  # the same, another spelling
    "isappinstalled",  # WeChat share links: whether the reader had the app
    "share_token",  # share links of several Chinese apps
    "fbclid",  # Facebook click id
    "gclid",  # Google Ads click id
    "gclsrc",  # Google Ads click source
    "dclid",  # Google Display & Video click id
    "gbraid",  # Google Ads click id for iOS app campaigns
    "wbraid",  # Google Ads click id for web-to-app campaigns
    "_ga",  # Google Analytics cross-domain linker
    "_gl",  # Google tag cross-domain linker
    "msclkid",  # Microsoft Advertising click id
    "yclid",  # Yandex click id
    "twclid",  # Twitter/X click id
    "ttclid",  # TikTok click id
    "igshid",  # Instagram share id
    "mc_cid",  # Mailchimp campaign id
    "mc_eid",  # Mailchimp subscriber id
    "_hsenc",  # HubSpot e-mail tracking
    "_hsmi",  # HubSpot e-mail tracking
    "mkt_tok",  # Marketo e-mail tracking
    "oly_anon_id",  # Omeda reader tracking
    "oly_enc_id",  # Omeda reader tracking
    "vero_id",  # Vero e-mail tracking
    "wt.mc_id",  # Webtrends campaign id
    "cmpid",  # campaign id (Washington Post, Telegraph, ...)
    "ncid",  # Yahoo/AOL news campaign id
    "sr_share",  # Facebook share tracking
    "ref_src",  # Twitter/X share tracking
    "ref_url",  # Twitter/X share tracking
)


def tracking_params(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The parameters canonical URLs drop: the built-in list, then *extra* (the setting
    ``ARCHIVER_TRACKING_PARAMS``). The spider's page keys and the front-matter's canonical
    URLs must use the same, so both ask here."""
    return (*DEFAULT_TRACKING_PARAMS, *extra)


_UNUSABLE = frozenset(("undefined", "null", "none", "nil", "nan", "#", "about:blank", "false"))
# A path segment with these names comes from a script that built a URL out of a missing value
# ("https://www.jianshu.com/p/undefined"): the URL names no article.
_MISSING_VALUE_SEGMENTS = frozenset(("undefined", "null", "[object object]", "nan"))
_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|[0-9a-f:.]*:[0-9a-f:.]*")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = "/?:@!$&'()*+,;=-._~%[]|{}^`\""
_LOWER_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
# Parameters that only make a URL differ between fetches (a guid that carries one is unstable).
_CACHE_BUSTERS = frozenset(
    ("_", "t", "ts", "_t", "_ts", "timestamp", "time", "nocache", "no_cache", "cachebuster")
).union(("cache_buster", "cb", "rnd", "rand", "random", "_dc", "_r"))
_EPOCH_VALUE = re.compile(r"\d{10}(?:\d{3})?")
MAX_GUID_CHARS = 1000
"""A longer guid is archived under its hash (``guid-sha256:...``) to keep keys indexable."""


def _matches(name: str, value: str, patterns: Iterable[str]) -> bool:
    name, value = name.lower(), value.lower()
    for pattern in patterns:
        lowered = pattern.lower()
        if "=" in lowered:
            wanted_name, wanted_value = lowered.split("=", 1)
            if name == wanted_name and value == wanted_value:
                return True
        elif lowered.endswith("*"):
            if name.startswith(lowered[:-1]):
                return True
        elif name == lowered:
            return True
    return False


def _host(hostname: str) -> str | None:
    """The host in lower case and IDNA (punycode), or None if it cannot be a host."""
    host = hostname.rstrip(".").lower()
    if not host or any(c in host for c in " <>\"'{}|\\^`%"):
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host if _HOST.fullmatch(host) else None


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4."""
    if "." not in path:
        return path
    output: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(output) > 1:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if path.endswith(("/.", "/..")):
        output.append("")
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def _encode(text: str, safe: str) -> str:
    encoded = quote(text, safe=safe, errors="replace")
    return _LOWER_ESCAPE.sub(lambda m: m.group(0).upper(), encoded)


def _clean_input(url: str) -> str:
    return collapse(scrub(url[:10_000])).strip("<>\"' ")


@never_raises(lambda url, **_: None)
def canonicalize_url(
    url: str | None,
    *,
    base: str | None = None,
    tracking_params: Iterable[str] = DEFAULT_TRACKING_PARAMS,
) -> str | None:
    """The canonical absolute form of ``url``, or None when it cannot be used.

    Relative URLs are resolved against ``base``. None is returned for empty input, ``undefined``
    and similar placeholders (also as a path segment), non-HTTP schemes (``javascript:``,
    ``data:``, ``mailto:``), a relative URL with no usable base, and malformed hosts or ports.
    ``tracking_params`` (names, ``prefix*`` or ``name=value``) are removed from the query.
    """
    if not isinstance(url, str):
        return None
    try:
        return _canonicalize(url, base, tracking_params)
    except ValueError:  # urllib's verdict on a malformed IPv6 host or a port out of range
        return None


def _canonicalize(url: str, base: str | None, tracking_params: Iterable[str]) -> str | None:
    text = _clean_input(url)
    if not text or text.lower() in _UNUSABLE:
        return None
    if text.startswith("//"):  # scheme-relative: the base's scheme, else https
        base_scheme = urlsplit(_clean_input(base)).scheme if isinstance(base, str) else ""
        text = f"{base_scheme or 'https'}:{text}"
    parts = urlsplit(text)
    if not parts.scheme:
        base_url = canonicalize_url(base, tracking_params=()) if isinstance(base, str) else None
        if base_url is None:
            return None
        parts = urlsplit(urljoin(base_url, text))
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = _host(parts.hostname)
    if host is None:
        return None
    port = parts.port
    if ":" in host:
        host = f"[{host}]"  # IPv6
    # Credentials ("user:pass@") are dropped: an archive must not keep them.
    netloc = host if port in {None, _DEFAULT_PORTS[scheme]} else f"{host}:{port}"

    path = _remove_dot_segments(_encode(parts.path, _PATH_SAFE)) or "/"
    segments = {unquote(s).lower() for s in path.split("/")}
    if segments & _MISSING_VALUE_SEGMENTS:
        return None
    patterns = [p for p in tracking_params if isinstance(p, str)]
    kept = []
    for pair in parts.query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if not _matches(unquote(name.replace("+", " ")), unquote(value), patterns):
            kept.append(_encode(pair, _QUERY_SAFE))
    fragment = parts.fragment if parts.fragment.startswith("!") else ""
    return urlunsplit((scheme, netloc, path, "&".join(kept), _encode(fragment, _QUERY_SAFE)))


def _has_cache_buster(url: str) -> bool:
    query = urlsplit(url).query
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name.lower() in _CACHE_BUSTERS or _EPOCH_VALUE.fullmatch(value):
            return True
    return False


def is_stable_guid(guid: str | None) -> bool:
    """Whether a guid can identify an article across fetches.

    Not empty, not a placeholder (``undefined``, ``null``, ``0``), and, when it is a URL, one
    without a cache-buster (``?t=1617344835``, ``?_=...``, ``?nocache=1``).
    """
    if not isinstance(guid, str):
        return False
    text = collapse(scrub(guid))
    if not text or fold(text) in _UNUSABLE | {"0", "-1", "[object object]", "true"}:
        return False
    if re.match(r"(?i)https?://", text):
        try:
            return not _has_cache_buster(text)
        except ValueError:
            return False
    return True


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _identity_fallback(guid: str | None, **_: object) -> str:
    return "sha256:" + _sha256(repr(guid))


@never_raises(_identity_fallback)
def article_identity(
    guid: str | None,
    *,
    canonical_url: str | None,
    url: str | None,
    title: str | None,
    published: datetime | None,
    published_raw: str | None,
) -> str:
    """The stable key an article is archived under within its source.

    A guid that looks stable (:func:`is_stable_guid`), trimmed; else the canonical URL
    (``canonical_url``, else ``url``, through :func:`canonicalize_url`); else ``"sha256:"``
    and the hex digest of the normalized title (case-folded, whitespace collapsed) and the date
    (the UTC ISO instant, or the trimmed raw string when it could not be read).
    """
    if is_stable_guid(guid):
        assert guid is not None
        text = collapse(scrub(guid))
        return text if len(text) <= MAX_GUID_CHARS else "guid-sha256:" + _sha256(text)
    for candidate in (canonical_url, url):
        canonical = canonicalize_url(candidate)
        if canonical:
            return canonical
    title_key = fold(title) if isinstance(title, str) else ""
    if isinstance(published, datetime):
        aware = published if published.tzinfo else published.replace(tzinfo=UTC)
        date_key = aware.astimezone(UTC).isoformat()
    else:
        date_key = collapse(scrub(published_raw)) if isinstance(published_raw, str) else ""
    return "sha256:" + _sha256(f"{title_key}\n{date_key}")
