"""Images served from the media store by the sha256 of their bytes, and article bodies shown
with them.

No path from the request reaches the file system: ``/media/<sha256>`` is checked to be 64 hex
digits, looked up in the archive (a downloaded image with that digest), and the file is the
one the archive recorded, resolved inside the media directory. The files never change (their
name is their content), so they are cached for a year.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, Response

from archiver.export.feeds import archive_images
from archiver.media.rewrite import rewrite_images
from archiver.render import sanitize_html
from archiver.web.context import error_response, reader_of

router = APIRouter(include_in_schema=False)

MEDIA_PREFIX = "/media/"
_NAME = re.compile(r"([0-9a-f]{64})(?:\.[a-z0-9]{1,5})?")


@router.get("/media/{name}")
def media_file(request: Request, name: str) -> Response:
    """The image whose bytes have the sha256 *name* (an extension after it is ignored)."""
    match = _NAME.fullmatch(name)
    if match is None:
        return error_response(request, 404, "No such image.")
    reader = reader_of(request)
    digest = match.group(1)
    etag = f'"{digest}"'
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"ETag": etag, **_CACHE})
    found = reader.archive.browse.image_file(digest)
    if found is None:
        return error_response(request, 404, "No such image in the archive.")
    stored, media_type = found
    root = reader.config.media_dir.resolve()
    path = (root / stored).resolve()
    if root not in path.parents or not path.is_file():
        return error_response(request, 404, "The image is archived but its file is missing.")
    return FileResponse(
        path,
        media_type=media_type
        if (media_type or "").startswith("image/")
        else "application/octet-stream",
        headers={"ETag": etag, **_CACHE},
    )


_CACHE = {"Cache-Control": "public, max-age=31536000, immutable"}


def body_html(
    article: dict[str, Any], iframe_hosts: Iterable[str], prefix: str = MEDIA_PREFIX
) -> str:
    """The article's body (else its summary) as the reader shows it: its archived images at
    *prefix* + sha256, then sanitized."""
    body = article.get("content_html") or article.get("summary_html") or ""
    mapping = archive_images(article, prefix)
    base = article.get("base_url") or article.get("url")
    clean = sanitize_html(rewrite_images(body, mapping, base_url=base), iframe_hosts=iframe_hosts)
    return remote_images_as_links(clean, prefix)


def remote_images_as_links(html: str, prefix: str = MEDIA_PREFIX) -> str:
    """*html* (sanitized) with every image that is not the archive's (its download failed,
    or it was never found) turned into a link to it: the reader loads nothing from
    elsewhere, and says so, rather than leaving a hole its CSP would make."""
    if "<img" not in html:
        return html
    from lxml import html as lxml_html  # type: ignore[import-untyped]  # no type hints

    fragment = lxml_html.fragment_fromstring(html, create_parent="div")
    changed = False
    for image in list(fragment.iter("img")):
        src = image.get("src") or ""
        if src.startswith((prefix, "data:image/")):
            continue
        link = lxml_html.Element("a", {"class": "remote-image", "rel": "noopener noreferrer"})
        if src:
            link.set("href", src)
        link.text = f"[image not archived: {image.get('alt') or src or 'no address'}]"
        link.tail = image.tail
        parent = image.getparent()
        if parent is not None:
            parent.replace(image, link)
            changed = True
    if not changed:
        return html
    from html import escape

    inner = escape(fragment.text or "", quote=False)
    return inner + "".join(lxml_html.tostring(child, encoding="unicode") for child in fragment)
