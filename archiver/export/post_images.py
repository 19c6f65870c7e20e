"""A post's images: files beside the post or in its site copied into the media directory,
remote ones recorded, not fetched."""

from __future__ import annotations

import hashlib
import html
import re
import shutil
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from archiver.export.posts import Post
from archiver.items import ArticleItem, ImageRef

IMAGE_SUFFIXES = frozenset((".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".avif", ".bmp"))

_IMG_SRC = re.compile(r"""<img\b[^>]*?\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def post_images(post: Post, item: ArticleItem, media_dir: Path) -> tuple[list[ImageRef], int]:
    """The post's images: local files copied into *media_dir* (downloaded), remote ones
    recorded as not fetched. Returns them and how many files were copied."""
    refs: list[ImageRef] = []
    copied = 0
    sources: list[tuple[str, str]] = [
        (html.unescape(next(g for g in m.groups() if g is not None)), "body")
        for m in _IMG_SRC.finditer(item.content_html or "")
    ]
    if item.headimg:
        sources.append((item.headimg, "headimg"))
    if item.thumbnail and item.thumbnail != item.headimg:
        sources.append((item.thumbnail, "thumbnail"))
    seen: set[str] = set()
    for position, (written, role) in enumerate(sources):
        src = written.strip()
        if not src or src.startswith("data:") or src in seen:
            continue
        seen.add(src)
        scheme = urlsplit(src).scheme
        if scheme in ("http", "https"):
            refs.append(
                ImageRef(
                    url=src,
                    src=src,
                    position=position,
                    role=role,
                    status="skipped",
                    error="remote image, not fetched on import",
                )
            )
            continue
        local = _local_file(post, src)
        if local is None:
            continue
        ref, was_copied = _archive_file(local, src, position, role, media_dir)
        refs.append(ref)
        copied += was_copied
    return refs, copied


def _local_file(post: Post, src: str) -> Path | None:
    path = unquote(urlsplit(src).path)
    if not path or PurePosixPath(path).suffix.lower() not in IMAGE_SUFFIXES:
        return None
    candidates = []
    if path.startswith("/"):
        if post.site_root is not None:
            candidates.append(post.site_root / path.lstrip("/"))
    else:
        candidates += [post.path.parent / path, post.path.parent / post.path.stem / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _archive_file(
    local: Path, src: str, position: int, role: str, media_dir: Path
) -> tuple[ImageRef, int]:
    from archiver.media.paths import image_path

    data = local.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    extension = local.suffix.lstrip(".").lower() or "bin"
    relative = image_path(sha256, extension)
    target = media_dir / relative
    copied = 0
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, target)
        copied = 1
    media_type = {"jpg": "image/jpeg", "svg": "image/svg+xml"}.get(extension, f"image/{extension}")
    ref = ImageRef(
        url=local.resolve().as_uri(),
        src=src,
        position=position,
        role=role,
        sha256=sha256,
        path=relative,
        media_type=media_type,
        size=len(data),
        status="downloaded",
    )
    return ref, copied
