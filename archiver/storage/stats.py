"""Statistics: counts over the whole archive, and by source and by month (``archiver stats``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from archiver.storage.models import (
    Article,
    ArticleImage,
    Base,
    CrawlRun,
    Image,
    Revision,
    Source,
)
from archiver.storage.records import iso_utc
from archiver.storage.sql import Transaction, published_month


class Stats:
    """What the archive holds, counted (``archive.stats``)."""

    def __init__(self, session: Transaction) -> None:
        self.session = session

    def totals(self) -> dict[str, Any]:
        """Counts over the whole archive."""
        with self.session() as session:
            files = (
                select(Image.sha256, func.max(Image.size).label("size"))
                .where(Image.status == "downloaded", Image.sha256.is_not(None))
                .group_by(Image.sha256)
                .subquery()
            )
            image_count, image_bytes = session.execute(
                select(func.count(), func.coalesce(func.sum(files.c.size), 0))
            ).one()

            def count(model: type[Base]) -> int:
                return session.scalar(select(func.count()).select_from(model)) or 0

            failed_images = session.scalar(
                select(func.count()).select_from(Image).where(Image.status == "failed")
            )
            return {
                "articles": count(Article),
                "sources": count(Source),
                "images": int(image_count),
                "image_bytes": int(image_bytes),
                "images_failed": failed_images or 0,
                "revisions": count(Revision),
                "runs": count(CrawlRun),
                "oldest": iso_utc(session.scalar(select(func.min(Article.published)))),
                "newest": iso_utc(session.scalar(select(func.max(Article.published)))),
            }

    def breakdown(self) -> dict[str, Any]:
        """``by_source`` (articles, oldest, newest, images, image bytes per source) and
        ``by_month`` (articles per ``YYYY-MM`` of publication, UTC), for ``archiver stats``."""
        with self.session() as session:
            by_source: dict[str, dict[str, Any]] = {}
            for name, count, oldest, newest in session.execute(
                select(
                    Source.name,
                    func.count(Article.id),
                    func.min(Article.published),
                    func.max(Article.published),
                )
                .join(Article, Article.source_id == Source.id, isouter=True)
                .group_by(Source.id, Source.name)
                .order_by(Source.name)
            ):
                by_source[name] = {
                    "articles": count,
                    "oldest": iso_utc(oldest),
                    "newest": iso_utc(newest),
                    "images": 0,
                    "image_bytes": 0,
                }
            files = (
                select(
                    Article.source_id,
                    Image.sha256,
                    func.max(Image.size).label("size"),
                )
                .join(ArticleImage, ArticleImage.article_id == Article.id)
                .join(Image, Image.id == ArticleImage.image_id)
                .where(Image.status == "downloaded", Image.sha256.is_not(None))
                .group_by(Article.source_id, Image.sha256)
                .subquery()
            )
            for name, count, size in session.execute(
                select(Source.name, func.count(), func.coalesce(func.sum(files.c.size), 0))
                .join(files, files.c.source_id == Source.id)
                .group_by(Source.name)
            ):
                by_source[name].update({"images": int(count), "image_bytes": int(size)})
            month = published_month(session)
            rows = session.execute(
                select(month, func.count()).where(Article.published.is_not(None)).group_by(month)
            )
            by_month = {str(m): int(n) for m, n in rows}
            return {"by_source": by_source, "by_month": dict(sorted(by_month.items()))}
