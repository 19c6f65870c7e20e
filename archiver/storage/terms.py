"""Terms: the categories and tags articles are filed under, and their links, in order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from archiver.storage.models import ArticleCategory, ArticleTag, Category, Tag
from archiver.storage.sql import insert_ignore

TermModel = type[Category] | type[Tag]
LinkModel = type[ArticleCategory] | type[ArticleTag]


class TermIds:
    """The ids of the terms the archive has seen, by table and name. Terms are few and never
    deleted, so their ids are remembered for the Archive's life; one instance is shared by
    every writer of one Archive, which must :meth:`forget` them when a transaction that may
    have made some rolls back."""

    def __init__(self) -> None:
        self._known: dict[str, dict[str, int]] = {}

    def ids(self, session: Session, term: TermModel, names: Iterable[str]) -> dict[str, int]:
        """The ids of the terms *names* (made where missing), by name (and others known)."""
        known = self._known.setdefault(term.__tablename__, {})
        missing = sorted(set(names) - known.keys())
        if missing:
            insert_ignore(session, term, [{"name": n} for n in missing])
            known.update(
                session.execute(select(term.name, term.id).where(term.name.in_(missing))).all()
            )
        return known

    def forget(self) -> None:
        """Drop what was learnt: ids made in a rolled-back transaction are void."""
        self._known.clear()

    def link(
        self,
        session: Session,
        article_id: int,
        names: Sequence[str],
        term: TermModel,
        link: LinkModel,
        *,
        new: bool = False,
    ) -> None:
        """File *article_id* under the terms *names*, in order, replacing its links unless
        it is *new* (it has none yet)."""
        if not new:
            session.execute(delete(link).where(link.article_id == article_id))
        names = list(dict.fromkeys(names))
        if not names:
            return
        known = self.ids(session, term, names)
        key = "category_id" if link is ArticleCategory else "tag_id"
        session.add_all(
            link(article_id=article_id, position=i, **{key: known[n]}) for i, n in enumerate(names)
        )


def names_by_article(
    session: Session, article_ids: Sequence[int], term: TermModel, link: LinkModel
) -> dict[int, list[str]]:
    """The names of the terms each of *article_ids* is filed under, in order (articles
    without any are left out)."""
    if not article_ids:
        return {}
    key = link.category_id if link is ArticleCategory else link.tag_id  # type: ignore[union-attr]
    rows = session.execute(
        select(link.article_id, term.name)
        .join(term, term.id == key)
        .where(link.article_id.in_(article_ids))
        .order_by(link.article_id, link.position)
    )
    result: dict[int, list[str]] = {}
    for article_id, name in rows:
        result.setdefault(article_id, []).append(name)
    return result
