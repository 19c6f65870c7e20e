"""Images: what each image URL gave when fetched, and which images each article shows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from archiver.items import ImageRef
from archiver.storage.models import ArticleImage, Image
from archiver.storage.records import iso_utc
from archiver.storage.sql import Transaction, chunks, insert_ignore, insert_many, upsert_many


class Images:
    """The images the archive holds (``archive.images``), one row per URL."""

    def __init__(self, session: Transaction) -> None:
        self.session = session

    def known(self, url: str) -> ImageRef | None:
        """What the archive holds of the image at *url*: ``cached`` (downloaded before, so
        not downloaded again) or ``failed`` (with its reason, ``failures`` in a row and
        ``last_attempt``); None when it was never tried."""
        return self.known_many([url]).get(url)

    def known_many(self, urls: Sequence[str]) -> dict[str, ImageRef]:
        """What :meth:`known` tells of each of *urls*, in one query per thousand URLs (one
        per article, not one per image); URLs never tried are left out."""
        found: dict[str, ImageRef] = {}
        table: Any = Image.__table__
        with self.session() as session:
            for part in chunks(list(dict.fromkeys(urls))):
                rows = session.execute(  # Core rows: no ORM object per image
                    select(table).where(
                        table.c.url.in_(part), table.c.status.in_(("downloaded", "failed"))
                    )
                ).mappings()
                for image in rows:
                    if image["url"] in found:
                        continue
                    failed = image["status"] == "failed"
                    found[image["url"]] = ImageRef(
                        url=image["url"],
                        src=image["url"],
                        position=0,
                        sha256=image["sha256"],
                        path=image["path"],
                        media_type=image["media_type"],
                        width=image["width"],
                        height=image["height"],
                        size=image["size"],
                        status="failed" if failed else "cached",
                        error=image["error"],
                        failures=image["failures"],
                        last_attempt=image["last_attempt"],
                    )
        return found


# -- inside the articles' writers' transactions ---------------------------------------------


def link_images(session: Session, article_id: int, images: Sequence[ImageRef]) -> None:
    """Record *images* and make them the ones *article_id* shows, in order."""
    session.execute(delete(ArticleImage).where(ArticleImage.article_id == article_id))
    link_images_in_bulk(session, {article_id: images})


def link_images_in_bulk(session: Session, images: dict[int, Sequence[ImageRef]]) -> None:
    """Record the images and link each article (which shows none yet) to its own."""
    image_ids = save_images(session, [ref for refs in images.values() for ref in refs])
    links = [
        {
            "article_id": article_id,
            "position": ref.position,
            "image_id": image_ids[ref.url],
            "src": ref.src,
            "role": ref.role,
        }
        for article_id, article_images in images.items()
        for ref in _unique_positions(article_images)
    ]
    insert_many(session, ArticleImage, links)


def save_images(
    session: Session, images: Sequence[ImageRef], *, ids: bool = True
) -> dict[str, int]:
    """Record what fetching each image gave (one row per URL) and return the rows' ids
    (none without *ids*).

    A download replaces the row; a failure (with its count in a row and when it was
    tried) or a ``cached`` result (archived before) replaces anything but a download;
    ``deferred`` (not fetched) rows are left as they are. New URLs get a row each.
    """
    refs = {ref.url: ref for ref in images}
    if not refs:
        return {}
    now = datetime.now(UTC)
    kept: list[dict[str, Any]] = []
    fetched: list[dict[str, Any]] = []
    unless_downloaded: list[dict[str, Any]] = []
    for ref in refs.values():
        status = {"cached": "downloaded", "deferred": "failed"}.get(ref.status, ref.status)
        values = {
            "url": ref.url,
            "sha256": ref.sha256,
            "path": ref.path,
            "media_type": ref.media_type,
            "width": ref.width,
            "height": ref.height,
            "size": ref.size,
            "status": status,
            "error": None if status == "downloaded" else ref.error,
            "last_attempt": ref.last_attempt or now,
            "failures": max(ref.failures, 1) if status == "failed" else 0,
        }
        if ref.status == "deferred":
            kept.append(values)
        elif ref.status == "downloaded":
            fetched.append(values)
        else:  # cached, failed, skipped: never over a download (a race between workers)
            unless_downloaded.append(values)
    insert_ignore(session, Image, kept)
    upsert_many(session, Image, fetched, key="url")
    table: Any = Image.__table__
    upsert_many(session, Image, unless_downloaded, key="url", where=table.c.status != "downloaded")
    image_ids: dict[str, int] = {}
    for part in chunks(list(refs)) if ids else ():
        found = session.execute(select(Image.url, Image.id).where(Image.url.in_(part)))
        image_ids.update((url, image_id) for url, image_id in found)
    return image_ids


def image_listing(link: ArticleImage, image: Image) -> dict[str, Any]:
    """An image an article shows, as the ``images`` of ``show`` and the exports list it."""
    return {
        "url": image.url,
        "src": link.src,
        "role": link.role,
        "position": link.position,
        "path": image.path,
        "sha256": image.sha256,
        "media_type": image.media_type,
        "width": image.width,
        "height": image.height,
        "bytes": image.size,
        "status": image.status,
        "error": image.error,
        "failures": image.failures,
        "last_attempt": iso_utc(image.last_attempt),
    }


def _unique_positions(images: Sequence[ImageRef]) -> Iterator[ImageRef]:
    seen: set[int] = set()
    for ref in images:
        if ref.position not in seen:
            seen.add(ref.position)
            yield ref
