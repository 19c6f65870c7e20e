"""Pointing an article body's images at their archived files, leaving the rest as published."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from archiver.items import ImageRef
from archiver.media._markup import (
    LAZY_SRC_ATTRIBUTES,
    LAZY_SRCSET_ATTRIBUTES,
    Candidate,
    ImageGroup,
    Tag,
    absolute_http_url,
    choose,
    clean_url_value,
    group_candidates,
    render_tag,
    scan,
    single_candidate,
    srcset_attribute,
    srcset_candidates,
)

_LAZY = frozenset((*LAZY_SRC_ATTRIBUTES, *LAZY_SRCSET_ATTRIBUTES))
_ARCHIVED = frozenset(("downloaded", "cached"))


def shows_lazy_images(html: str) -> bool:
    """Whether *html* has an image that only a lazy-loading attribute names (``data-src``...):
    without a mapping, :func:`rewrite_images` changes only those; a cheap test, so the scan
    runs only when it can change something."""
    lowered = html.lower()
    return any(f"{name}=" in lowered for name in _LAZY)


def rewrite_images(html: str, mapping: Mapping[str, str], *, base_url: str | None = None) -> str:
    """``html`` with every archived image pointing at its local file.

    ``mapping`` maps an image's URL (as written in the body, or absolute) to what the
    rewritten body should show instead: a path relative to the page, a ``/media/...`` path, a
    ``file:`` URI. :func:`local_image_map` builds it from the images of an article. Give
    ``base_url`` (the article's URL) so relative URLs in the body also match absolute keys,
    and so images that stay remote get absolute URLs that work wherever the copy is shown.

    For each ``<img>`` (and ``<picture>``), the largest candidate that has a local file wins:

    - ``src`` gets the local file, lazy-loading attributes (``data-src``, ``data-srcset``...)
      are resolved and removed, ``srcset`` keeps only its local candidates (or goes);
    - ``<source>`` elements keep only their local candidates, and go when none is left,
      so a browser never prefers a remote source over the local image;
    - an image without a local file (its download failed) keeps its remote URL, with the
      lazy attribute moved into ``src`` so it shows without the page's scripts.

    Only the image tags that change are re-written; every other byte stays as published.
    Pure: no I/O.
    """
    if not html:
        return html
    result = scan(html)
    base = base_url
    if base_url and result.base_href:
        base = absolute_http_url(result.base_href, base_url) or base_url
    rewriter = _Rewriter(mapping, base)
    replacements: list[tuple[int, int, str]] = []
    for group in result.groups:
        replacements.extend(rewriter.group(group))
    if not replacements:
        return html
    parts: list[str] = []
    last = 0
    for start, end, text in sorted(replacements):
        parts.append(html[last:start])
        parts.append(text)
        last = end
    parts.append(html[last:])
    return "".join(parts)


def local_image_map(
    images: Iterable[ImageRef | Mapping[str, Any]], prefix: str = ""
) -> dict[str, str]:
    """The ``mapping`` for :func:`rewrite_images` from an article's images.

    ``images`` are ``ImageRef`` objects or dicts with ``url``, ``src``, ``path`` and
    ``status`` (as ``archiver show --format json`` lists them). Each archived image maps both
    its URL and its ``src`` as written to ``prefix + path``: ``prefix`` is how the page that
    shows the body reaches the media directory (``"media/"``, ``"/media/"``, ``"../media/"``,
    or a ``file:`` URI ending in ``/``). Failed images are left out, so they stay remote.
    """
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    mapping: dict[str, str] = {}
    for image in images:
        url: object
        src: object
        path: object
        status: object
        if isinstance(image, ImageRef):
            url, src, path, status = image.url, image.src, image.path, image.status
        else:
            url, src = image.get("url"), image.get("src")
            path, status = image.get("path"), image.get("status")
        if status not in _ARCHIVED or not isinstance(path, str) or not path:
            continue
        for key in (url, src):
            if isinstance(key, str) and key:
                mapping.setdefault(key, prefix + path)
    return mapping


class _Rewriter:
    def __init__(self, mapping: Mapping[str, str], base: str | None) -> None:
        self._mapping = mapping
        self._base = base

    def local(self, value: str) -> str | None:
        """The local file for a URL as written, looked up as written and resolved."""
        cleaned = clean_url_value(value)
        for key in (value, cleaned):
            if key in self._mapping:
                return self._mapping[key]
        if self._base:
            absolute = absolute_http_url(cleaned, self._base)
            if absolute is not None and absolute in self._mapping:
                return self._mapping[absolute]
        return None

    def remote(self, value: str) -> str:
        """A URL that stays remote: absolute when the article's URL is known."""
        cleaned = clean_url_value(value)
        if self._base:
            return absolute_http_url(cleaned, self._base) or cleaned
        return cleaned

    def group(self, group: ImageGroup) -> list[tuple[int, int, str]]:
        chosen = choose(group)
        if chosen is None:
            return []
        # The chosen (largest) candidate first, then the others, so a smaller file that was
        # archived on an earlier crawl still beats a remote URL.
        ordered = [chosen, *(c for c in group_candidates(group) if c is not chosen)]
        local = next((path for c in ordered if (path := self.local(c.value))), None)
        replacements = [self._img(group.img, chosen, local)]
        replacements.extend(self._source(source, local is not None) for source in group.sources)
        return [r for r in replacements if r is not None]

    def _srcset(self, candidates: list[Candidate], *, archived: bool) -> str | None:
        entries: list[str] = []
        for candidate in candidates:
            if archived:
                path = self.local(candidate.value)
                if path is None:
                    continue
            else:
                path = self.remote(candidate.value)
            entries.append(f"{path} {candidate.descriptor}".strip())
        return ", ".join(entries) or None

    def _img(self, img: Tag, chosen: Candidate, local: str | None) -> tuple[int, int, str] | None:
        srcset_source = srcset_attribute(img)
        srcset = self._srcset(srcset_candidates(img), archived=local is not None)
        if local is not None:
            src = local
        else:
            single = single_candidate(img)
            src = self.remote((single or chosen).value)
        keep_srcset = local is None and srcset_source is None  # nothing usable to replace
        attrs: list[tuple[str, str | None]] = []
        placed = {"src": False, "srcset": False}
        for name, value in img.attrs:
            if name == "src":
                if not placed["src"]:
                    attrs.append(("src", src))
                    placed["src"] = True
            elif name == "srcset":
                if keep_srcset:
                    attrs.append((name, value))
                elif srcset is not None and not placed["srcset"]:
                    attrs.append(("srcset", srcset))
                    placed["srcset"] = True
            elif name not in _LAZY:
                attrs.append((name, value))
        if not placed["src"]:
            attrs.append(("src", src))
        if srcset is not None and not placed["srcset"] and not keep_srcset:
            attrs.append(("srcset", srcset))
        return _replacement(img, attrs)

    def _source(self, source: Tag, archived: bool) -> tuple[int, int, str] | None:
        if srcset_attribute(source) is None:
            # Only placeholders: harmless while the image is remote, but it must not win over
            # a local file.
            return (source.start, source.end, "") if archived else None
        srcset = self._srcset(srcset_candidates(source), archived=archived)
        if srcset is None:
            return source.start, source.end, ""
        attrs: list[tuple[str, str | None]] = []
        placed = False
        for name, value in source.attrs:
            if name == "srcset" or name in LAZY_SRCSET_ATTRIBUTES:
                if not placed:
                    attrs.append(("srcset", srcset))
                    placed = True
            elif name not in _LAZY:
                attrs.append((name, value))
        return _replacement(source, attrs)


def _replacement(tag: Tag, attrs: list[tuple[str, str | None]]) -> tuple[int, int, str] | None:
    if attrs == tag.attrs:
        return None
    return tag.start, tag.end, render_tag(tag, attrs)
