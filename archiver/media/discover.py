"""Finding the images an article body shows, as a reader's browser would after its scripts ran."""

from __future__ import annotations

from dataclasses import dataclass

from archiver.media._markup import absolute_http_url, choose, scan


@dataclass(frozen=True)
class FoundImage:
    """One distinct image of a body, in the order the reader sees them."""

    url: str
    """Absolute http(s) URL of the chosen candidate: lazy attribute over placeholder ``src``,
    the largest of ``srcset``/``<picture>`` candidates."""
    src: str
    """The chosen value as written in the body (relative URLs stay relative)."""
    position: int
    """0, 1, 2... in body order, over distinct URLs."""
    attribute: str
    """The attribute the URL was taken from: ``src``, ``data-src``, ``srcset``..."""
    element: str = "img"
    """``img``, or ``source`` when a ``<picture>`` source had the largest candidate."""
    in_noscript: bool = False
    """Found only in a ``<noscript>`` fallback."""


def find_images(html: str | None, base_url: str) -> list[FoundImage]:
    """The distinct images ``html`` shows, in body order, with absolute URLs.

    - ``<img src>``; lazy-loading attributes (``data-src``, ``data-original``,
      ``data-actualsrc``, ``data-lazy-src``, ``data-lazyload``, ``data-url``, ``data-echo``,
      ``data-srcset``...) win over ``src``, which such pages fill with a placeholder
      (a ``data:`` URI, ``about:blank``) until a script runs;
    - ``srcset`` and ``<picture><source srcset>``: the largest candidate (widest ``w``,
      else highest ``x``), one image per ``<img>`` or ``<picture>``;
    - ``<noscript>`` fallbacks, which repeat a lazy image for readers without scripts
      (a repeated URL is listed once, where it first appears);
    - relative URLs resolved against ``<base href>`` if the body has one, else ``base_url``.

    Inline ``data:`` images and non-http(s) URLs are not listed: there is nothing to fetch.
    Pure: no I/O.
    """
    found: list[FoundImage] = []
    seen: set[str] = set()
    result = scan(html)
    base = absolute_http_url(result.base_href, base_url) if result.base_href else None
    base = base or base_url
    for group in result.groups:
        candidate = choose(group)
        if candidate is None:
            continue
        url = absolute_http_url(candidate.value, base)
        if url is None or url in seen:
            continue
        seen.add(url)
        found.append(
            FoundImage(
                url=url,
                src=candidate.value,
                position=len(found),
                attribute=candidate.attribute,
                element=candidate.tag.name,
                in_noscript=group.img.in_noscript,
            )
        )
    return found
