"""RSSHub routes as sources: ``rsshub:/36kr/news/latest``.

RSSHub (https://docs.rsshub.app) turns sites without feeds into feeds, one route each, served
by an instance: the public ``https://rsshub.app``, which limits how often it may be asked, or
one of the many self-hosted ones. A source given as a route is stored as the route and
resolved against ``ARCHIVER_RSSHUB_URL`` at each crawl, so moving every RSSHub source to
another instance is one setting, and the archive's sources and articles stay the same.

The instance URL may carry a path (an instance served under ``/rsshub``) and a query: its
parameters (RSSHub's access ``key``) are added to every route's own (``limit``, ``format``).
"""

from __future__ import annotations

from urllib.parse import SplitResult, parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

SCHEME = "rsshub"
DEFAULT_INSTANCE = "https://rsshub.app"


def is_route(url: str) -> bool:
    """Whether *url* names an RSSHub route (``rsshub:...``) rather than a URL to fetch."""
    return urlsplit(url.strip()).scheme.lower() == SCHEME


def normalize_route(url: str) -> str:
    """The route as the archive keeps it: ``rsshub:/path?query``.

    ``rsshub:36kr/news``, ``rsshub:/36kr/news`` and ``rsshub://36kr/news`` are one route;
    a ValueError says why when *url* is no route or names none."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != SCHEME:
        raise ValueError(f"{url!r} is not an RSSHub route (rsshub:/namespace/route)")
    path = "/".join(part for part in (parts.netloc, parts.path.strip("/")) if part)
    if not path:
        raise ValueError(f"{url!r} names no route: give one like rsshub:/36kr/news/latest")
    return urlunsplit((SCHEME, "", "/" + path, parts.query, ""))


def resolve_route(url: str, instance: str | None = None) -> str:
    """The URL that fetches the route *url* from *instance* (``ARCHIVER_RSSHUB_URL``;
    :data:`DEFAULT_INSTANCE` when empty). Raises ValueError for a bad route or instance."""
    route = urlsplit(normalize_route(url))
    base = check_instance(instance)
    query = parse_qsl(route.query, keep_blank_values=True)
    given = {name for name, _ in query}
    query += [(k, v) for k, v in parse_qsl(base.query, keep_blank_values=True) if k not in given]
    path = base.path.rstrip("/") + route.path
    return urlunsplit((base.scheme.lower(), base.netloc, path, urlencode(query), ""))


def check_instance(instance: str | None) -> SplitResult:
    """The parts of the instance URL (:data:`DEFAULT_INSTANCE` when empty); a ValueError
    naming ``ARCHIVER_RSSHUB_URL`` when it is no http(s) URL."""
    base = urlsplit((instance or DEFAULT_INSTANCE).strip())
    if base.scheme.lower() not in ("http", "https") or not base.netloc:
        raise ValueError(
            f"ARCHIVER_RSSHUB_URL {instance!r} is not an http(s) URL of an RSSHub instance"
        )
    return base


def without_secrets(url: str, instance: str | None) -> str:
    """*url* without the query parameters that the instance URL adds (its access ``key``)
    when it is on the instance: what the archive keeps and prints of a route's address."""
    base = urlsplit((instance or DEFAULT_INSTANCE).strip())
    secret = {name for name, _ in parse_qsl(base.query, keep_blank_values=True)}
    parts = urlsplit(url)
    if not secret or parts.netloc.lower() != base.netloc.lower():
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in secret]
    return urlunsplit(parts._replace(query=urlencode(query)))


def hide_secrets(text: str, instance: str | None) -> str:
    """*text* (an error message) with the values of the instance URL's query parameters
    replaced by ``***``."""
    base = urlsplit((instance or DEFAULT_INSTANCE).strip())
    for _, value in parse_qsl(base.query):
        if len(value) >= 3:
            text = text.replace(value, "***").replace(quote_plus(value), "***")
    return text
