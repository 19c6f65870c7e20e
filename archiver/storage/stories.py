"""Stories: copies of one text linked together, their origins, and the overrides people gave.

``archive.stories.link(article_ids)`` is the step that runs after articles are committed (the
store pipeline calls it for every new or changed article, and so can any reprocessing): it
fingerprints each article's text (:mod:`archiver.stories.fingerprint`), looks its candidates
up by their band keys (one indexed column per band), checks each candidate's text, and links
the copies into one story, never against an ``apart`` override and always along a
``together`` one. Every method blocks: call it off the reactor thread.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from archiver.errors import ConfigurationError, NotFoundError
from archiver.storage.models import Article, Fingerprint, Source, Story, StoryOverride
from archiver.storage.records import iso_utc
from archiver.storage.sql import Transaction, chunks
from archiver.stories.fingerprint import BANDS, Shingles, are_copies, fingerprint_of, shingles
from archiver.stories.origin import Copy, choose_origin

BAND_COLUMNS = tuple(getattr(Fingerprint, f"band_{band}") for band in range(BANDS))

# The statements of linking's common path, built once: building them costs more than
# running them (SQLAlchemy caches their SQL, not the Python objects).
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_TEXTS = (
    select(
        Article.id,
        Article.content_text,
        Article.summary,
        Article.content_hash,
        Article.story_id,
        Fingerprint.article_id,
        Fingerprint.content_hash,
    )
    .outerjoin(Fingerprint, Fingerprint.article_id == Article.id)
    .where(Article.id.in_(_IDS))
    .order_by(Article.id)
)
_CANDIDATES = select(Fingerprint.article_id, *BAND_COLUMNS).where(
    or_(*(column.in_(bindparam(column.key, expanding=True)) for column in BAND_COLUMNS))
)
"""Every fingerprint sharing a band key with any article of a batch: one statement."""
_CANDIDATE_TEXTS = select(Article.id, Article.content_text, Article.summary).where(
    Article.id.in_(_IDS)
)
_TOGETHER = select(StoryOverride.article_id, StoryOverride.other_id).where(
    StoryOverride.kind == "together",
    or_(StoryOverride.article_id.in_(_IDS), StoryOverride.other_id.in_(_IDS)),
)
_INSERT = insert(Fingerprint)
_ANY_APART = select(StoryOverride.article_id).where(StoryOverride.kind == "apart").limit(1)


@dataclass(frozen=True)
class RebuildReport:
    """What ``archiver stories rebuild`` did."""

    articles: int
    fingerprinted: int
    stories: int
    copies: int
    """Articles that are in a story (of two or more)."""


class Stories:
    """The stories of the archive (``archive.stories``)."""

    def __init__(self, session: Transaction) -> None:
        self.session = session

    def link(self, article_ids: Sequence[int]) -> dict[int, int | None]:
        """Fingerprint each article and link it with its copies; its story id, or None when
        it stands alone (or its text is too short to tell). Idempotent: an article whose
        text has not changed since its fingerprint was made costs one lookup."""
        ids = list(dict.fromkeys(article_ids))
        batches = list(chunks(ids, 200))
        stories: dict[int, int] = {}
        for number, batch in enumerate(batches, 1):
            with self.session() as session:
                link_articles(session, batch)
                if number == len(batches):  # a later article may have joined an earlier one
                    stories = _story_ids(session, ids)
        return {article_id: stories.get(article_id) for article_id in ids}

    def rebuild(
        self, *, batch_size: int = 500, progress: Callable[[int], None] | None = None
    ) -> RebuildReport:
        """Every fingerprint and story made again from the articles' texts, obeying the
        overrides: for archives from before stories, and after the fingerprint changes."""
        with self.session() as session:
            session.execute(
                update(Article).where(Article.story_id.is_not(None)).values(story_id=None)
            )
            session.execute(delete(Story))
            session.execute(delete(Fingerprint))
            ids = list(session.scalars(select(Article.id).order_by(Article.id)))
        done = 0
        for batch in chunks(ids, batch_size):
            self.link(batch)
            done += len(batch)
            if progress is not None:
                progress(done)
        with self.session() as session:
            fingerprinted = session.scalar(select(func.count()).select_from(Fingerprint)) or 0
            stories = session.scalar(select(func.count()).select_from(Story)) or 0
            copies = (
                session.scalar(
                    select(func.count()).select_from(Article).where(Article.story_id.is_not(None))
                )
                or 0
            )
        return RebuildReport(len(ids), fingerprinted, stories, copies)

    def split(self, article_id: int) -> dict[str, Any]:
        """Take the article out of its story, for good: it is never linked with the story's
        other copies again (``apart`` overrides), whatever is rebuilt. Returns the story it
        left, as :func:`story_detail` gives it (None when the story is gone)."""
        with self.session() as session:
            article = _article(session, article_id)
            if article.story_id is None:
                raise NotFoundError(f"article {article_id} is in no story: nothing to split")
            story_id = article.story_id
            others = [m for m in _members(session, story_id) if m != article_id]
            for other in others:
                _remember(session, article_id, other, "apart")
            article.story_id = None
            session.flush()
            _settle(session, story_id)
            return {"article": article_id, "left": story_detail(session, story_id)}

    def merge(self, first_id: int, second_id: int) -> dict[str, Any]:
        """Make the stories of two articles one, for good (a ``together`` override); the
        ``apart`` overrides between the two stories' copies are dropped. Returns the story."""
        if first_id == second_id:
            raise ConfigurationError("merge takes two different articles")
        with self.session() as session:
            first, second = _article(session, first_id), _article(session, second_id)
            firsts = _component(session, (first.id, first.story_id))
            seconds = _component(session, (second.id, second.story_id))
            session.execute(
                delete(StoryOverride).where(
                    StoryOverride.kind == "apart",
                    or_(
                        StoryOverride.article_id.in_(firsts) & StoryOverride.other_id.in_(seconds),
                        StoryOverride.article_id.in_(seconds) & StoryOverride.other_id.in_(firsts),
                    ),
                )
            )
            _remember(session, first_id, second_id, "together")
            story_id = _join(session, first, second, set())
            _settle(session, story_id)
            return story_detail(session, story_id) or {}

    def get(self, story_id: int) -> dict[str, Any]:
        """One story, as :func:`story_detail` gives it."""
        with self.session() as session:
            detail = story_detail(session, story_id)
            if detail is None:
                raise NotFoundError(f"no story {story_id} in the archive")
            return detail

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        """The stories with the most recently changed first: ``id``, ``origin``, ``title``,
        ``copies`` (how many), ``sources`` (their names), ``updated``."""
        with self.session() as session:
            stories = session.scalars(
                select(Story).order_by(Story.updated_at.desc(), Story.id.desc()).limit(limit)
            ).all()
            ids = [story.id for story in stories]
            members: dict[int, list[tuple[str | None, str]]] = {}
            rows = session.execute(
                select(Article.story_id, Article.id, Article.title, Source.name)
                .join(Source, Source.id == Article.source_id)
                .where(Article.story_id.in_(ids))
                .order_by(Article.id)
            )
            titles: dict[int, str | None] = {}
            for story_id, article_id, title, source in rows:
                members.setdefault(story_id or 0, []).append((title, source))
                titles[article_id] = title
            return [
                {
                    "id": story.id,
                    "origin": story.origin_id,
                    "title": titles.get(story.origin_id or 0),
                    "copies": len(members.get(story.id, [])),
                    "sources": sorted({s for _, s in members.get(story.id, [])}),
                    "updated": iso_utc(story.updated_at),
                }
                for story in stories
            ]


# -- inside a transaction -------------------------------------------------------------------


def link_articles(session: Session, article_ids: Sequence[int]) -> None:
    """Fingerprint the articles and link each with its copies, in *session*'s transaction.

    Core statements on the session's connection (the ORM's own cost per statement was most
    of the cost), a handful whatever the batch's size: the articles' texts with their old
    fingerprints, the new fingerprints, the candidates of the whole batch by band, their
    texts, the ``together`` overrides. Only articles with copies cost more."""
    connection = session.connection()
    linked: list[tuple[int, Shingles, dict[str, int]]] = []
    changed: list[int] = []
    new_rows: list[dict[str, Any]] = []
    for row in connection.execute(_TEXTS, {"ids": list(article_ids)}):
        article_id, text, summary, digest, story_id, _, known_digest = row
        known = cast("int | None", row[5])  # None when it has no fingerprint (the outer join)
        if known is not None and digest is not None and known_digest == digest:
            continue  # the same text as when it was linked
        changed.append(article_id)
        hashes = shingles(text or summary)
        made = fingerprint_of(hashes)
        if story_id is not None:  # another text: its old copies may no longer be copies
            _detach(session, article_id, story_id)
        if made is None:
            if known is not None:
                connection.execute(delete(Fingerprint).where(Fingerprint.article_id == known))
            continue
        bands = {column.key: band for column, band in zip(BAND_COLUMNS, made.bands, strict=True)}
        values = {"article_id": article_id, "content_hash": digest, "size": made.size, **bands}
        if known is None:
            new_rows.append(values)
        else:
            connection.execute(
                update(Fingerprint).where(Fingerprint.article_id == known).values(**values)
            )
        linked.append((article_id, hashes, bands))
    if new_rows:
        connection.execute(_INSERT, new_rows)
    texts = _CandidateTexts(connection)
    # Overrides are a person's word on a few pairs: most archives have none to obey.
    apart = connection.execute(_ANY_APART).first() is not None
    unsettled: set[int] = set()
    # A few articles at a time: an article of a story of thousands has thousands of
    # candidates, and a hundred such sets at once were most of a crawl's memory.
    for part in chunks(linked, 50):
        candidates = _candidates(session, part)
        # Their story ids now, after the joins of the articles before them.
        asked = {o for found in candidates.values() for o in found} | {a for a, _, _ in part}
        stories = _StoryIds(connection, sorted(asked))
        for article_id, hashes, _ in part:
            others = sorted(candidates.get(article_id, ()))
            if others:
                _join_copies(session, article_id, hashes, others, texts, stories, unsettled, apart)
    if changed:
        _obey_together(session, changed, unsettled)
    for story_id in sorted(unsettled):  # each story's origin chosen once, from all its copies
        _settle(session, story_id)


class _CandidateTexts:
    """The candidates' shingles, read and made only for those checked, a few at a time: a
    new copy of a story of thousands is checked against its first copy, not all of them.
    A text is let go of once its shingles are made."""

    AHEAD = 16

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.texts: dict[int, str | None] = {}
        """Texts read, their shingles not made yet."""
        self.made: dict[int, Shingles] = {}

    def shingles(self, other_id: int, upcoming: Sequence[int]) -> Shingles:
        """*other_id*'s shingles (none when it is gone or has no text); the texts of the
        next few of *upcoming* are read with it."""
        if other_id in self.made:
            return self.made[other_id]
        if other_id not in self.texts:
            ahead = (o for o in upcoming if o not in self.made and o not in self.texts)
            wanted = [other_id, *itertools.islice(ahead, self.AHEAD - 1)]
            self.texts.update(dict.fromkeys(wanted))
            for found, text, summary in self.connection.execute(_CANDIDATE_TEXTS, {"ids": wanted}):
                self.texts[found] = text or summary
        made = self.made[other_id] = shingles(self.texts.pop(other_id))
        return made


class _StoryIds:
    """The candidates' story ids as the batch's joins change them: read once (Core rows),
    then changed with each join instead of asked again."""

    def __init__(self, connection: Connection, article_ids: Sequence[int]) -> None:
        self.of: dict[int, int | None] = {}
        for part in chunks(list(article_ids)):
            for article_id, story_id in connection.execute(
                select(Article.id, Article.story_id).where(Article.id.in_(part))
            ):
                self.of[article_id] = story_id

    def story(self, article_id: int) -> int | None:
        """Its story now, as read and then joined; None when it is in none."""
        return self.of.get(article_id)

    def joined(
        self, first_id: int, second_id: int, story_id: int, before: Sequence[int | None]
    ) -> None:
        """After the join of two articles, whose stories were *before*, into *story_id*.

        The copies of a story merged into another move with it at once: its id is gone,
        and may be given to a story made later in the batch (SQLite reuses the highest)."""
        gone = {old for old in before if old is not None and old != story_id}
        if gone:
            for article_id, old in self.of.items():
                if old in gone:
                    self.of[article_id] = story_id
        self.of[first_id] = self.of[second_id] = story_id


def _candidates(
    session: Session, linked: Sequence[tuple[int, Shingles, dict[str, int]]]
) -> dict[int, set[int]]:
    """For each article of *linked*, the others whose fingerprint shares a band key with
    its own: the keys of them all looked up at once."""
    found: dict[int, set[int]] = {}
    for part in chunks(list(linked), 100):
        owners: list[dict[int, list[int]]] = [{} for _ in BAND_COLUMNS]
        for article_id, _, bands in part:
            for number, column in enumerate(BAND_COLUMNS):
                owners[number].setdefault(bands[column.key], []).append(article_id)
        keys = {column.key: list(owners[n]) for n, column in enumerate(BAND_COLUMNS)}
        for row in session.connection().execute(_CANDIDATES, keys):
            other_id = row[0]
            for number in range(len(BAND_COLUMNS)):
                for article_id in owners[number].get(row[number + 1], ()):
                    if article_id != other_id:
                        found.setdefault(article_id, set()).add(other_id)
    return found


def _join_copies(
    session: Session,
    article_id: int,
    hashes: Shingles,
    others: Sequence[int],
    texts: _CandidateTexts,
    stories: _StoryIds,
    unsettled: set[int],
    apart: bool,
) -> None:
    """Join the article's story with that of each of *others* whose text is a copy of its
    own (*hashes*), but across an ``apart`` override (looked for only when the archive has
    any: *apart*); the stories joined are added to *unsettled*, for their origins to be
    chosen. A candidate already in the article's story is passed over unread: joining it
    would change nothing. Story ids come from *stories*, not from rows read again."""
    for number, other_id in enumerate(others):
        mine, theirs = stories.story(article_id), stories.story(other_id)
        if mine is not None and mine == theirs:
            continue
        if not are_copies(hashes, texts.shingles(other_id, others[number + 1 :])):
            continue
        if apart and _kept_apart(session, (article_id, mine), (other_id, theirs)):
            continue
        story_id = _join_ids(session, (article_id, mine), (other_id, theirs), unsettled)
        stories.joined(article_id, other_id, story_id, (mine, theirs))


def story_detail(session: Session, story_id: int | None) -> dict[str, Any] | None:
    """A story as ``show`` gives it: ``id``, ``origin`` (an article id) and ``copies``, the
    origin first, then by publication: each ``id``, ``source``, ``url``, ``published``,
    ``title``. None when there is no such story."""
    if story_id is None:
        return None
    story = session.get(Story, story_id)
    if story is None:
        return None
    rows = session.execute(
        select(Article.id, Source.name, Article.url, Article.published, Article.title)
        .join(Source, Source.id == Article.source_id)
        .where(Article.story_id == story_id)
        .order_by(Article.published.is_(None), Article.published, Article.id)
    ).all()
    copies = [
        {"id": i, "source": source, "url": url, "published": iso_utc(when), "title": title}
        for i, source, url, when, title in rows
    ]
    copies.sort(key=lambda copy: copy["id"] != story.origin_id)
    return {"id": story.id, "origin": story.origin_id, "copies": copies}


def story_counts(session: Session, article_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """``{article id: (story id, copies in it)}`` for those of *article_ids* in a story."""
    stories = _story_ids(session, article_ids)
    sizes: dict[int, int] = {}
    for chunk in chunks(sorted(set(stories.values()))):
        for story_id, count in session.execute(
            select(Article.story_id, func.count())
            .where(Article.story_id.in_(chunk))
            .group_by(Article.story_id)
        ):
            sizes[story_id or 0] = count
    return {a: (s, sizes.get(s, 1)) for a, s in stories.items()}


def collapse(session: Session, article_ids: Sequence[int]) -> list[int]:
    """*article_ids* with one per story: the story's origin when it is among them (in the
    place of the story's first), else the story's first; order otherwise kept."""
    stories = _story_ids(session, article_ids)
    origins: dict[int, int | None] = {}
    for chunk in chunks(sorted(set(stories.values()))):
        for story_id, origin_id in session.execute(
            select(Story.id, Story.origin_id).where(Story.id.in_(chunk))
        ):
            origins[story_id] = origin_id
    present = set(article_ids)
    kept: list[int] = []
    seen: set[int] = set()
    for article_id in article_ids:
        story = stories.get(article_id)
        if story is None:
            kept.append(article_id)
            continue
        if story in seen:
            continue
        seen.add(story)
        origin = origins.get(story)
        kept.append(origin if origin in present and origin is not None else article_id)
    return kept


def _story_ids(session: Session, article_ids: Iterable[int]) -> dict[int, int]:
    """``{article id: story id}`` for those of *article_ids* in a story."""
    stories: dict[int, int] = {}
    for chunk in chunks(list(article_ids)):
        for article_id, story_id in session.execute(
            select(Article.id, Article.story_id).where(
                Article.id.in_(chunk), Article.story_id.is_not(None)
            )
        ):
            if story_id is not None:
                stories[article_id] = story_id
    return stories


def _article(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None:
        raise NotFoundError(f"no article {article_id} in the archive")
    return article


def _members(session: Session, story_id: int) -> list[int]:
    return list(
        session.scalars(select(Article.id).where(Article.story_id == story_id).order_by(Article.id))
    )


def _component(session: Session, article: tuple[int, int | None]) -> list[int]:
    """The article (its id and story id) and the other copies of its story."""
    article_id, story_id = article
    return [article_id] if story_id is None else _members(session, story_id)


def _kept_apart(
    session: Session, first: tuple[int, int | None], second: tuple[int, int | None]
) -> bool:
    """Whether an ``apart`` override stands between a copy of *first*'s story (or *first*
    alone) and one of *second*'s.

    The overrides of the smaller side are read (an article alone, most often), and the other
    side's members only when there are any: a new copy of a story of thousands costs one
    indexed lookup, not two lists of thousands in one statement."""
    if first[1] is not None and second[1] is None:
        first, second = second, first
    small = _component(session, first)
    partners: set[int] = set()
    for part in chunks(small):
        for low, high in session.execute(
            select(StoryOverride.article_id, StoryOverride.other_id).where(
                StoryOverride.kind == "apart",
                or_(StoryOverride.article_id.in_(part), StoryOverride.other_id.in_(part)),
            )
        ):
            partners.update((low, high))
    return bool(partners) and not partners.isdisjoint(_component(session, second))


def _join(session: Session, first: Article, second: Article, unsettled: set[int]) -> int:
    """:func:`_join_ids` of two loaded articles: the articles the session holds are changed
    with the rows (the ORM's bulk update, which costs more)."""
    first_ids, second_ids = (first.id, first.story_id), (second.id, second.story_id)
    return _join_ids(session, first_ids, second_ids, unsettled, loaded=True)


_NEW_STORY = insert(Story)
_INTO_STORY = update(Article).where(Article.id.in_(_IDS)).values(story_id=bindparam("story"))
_STORY_INTO_STORY = (
    update(Article).where(Article.story_id == bindparam("gone")).values(story_id=bindparam("story"))
)
_DROP_STORY = delete(Story).where(Story.id == bindparam("gone"))
_SYNCED = {"synchronize_session": "fetch"}


def _join_ids(
    session: Session,
    first: tuple[int, int | None],
    second: tuple[int, int | None],
    unsettled: set[int],
    *,
    loaded: bool = False,
) -> int:
    """One story of two articles' stories (each an article id and its story id; the older
    story id stays); its id, added to *unsettled*: the caller chooses the origins of those
    (:func:`_settle`) once it has made all its joins, so a batch that joins a thousand
    copies chooses an origin once, not a thousand times over a growing story.

    Statements on ids, not loaded rows; *loaded*: the session holds articles, which are
    changed with them (else plain statements on its connection: linking's common path)."""

    connection = session.connection()

    def execute(statement: Any, parameters: dict[str, Any]) -> Any:
        if loaded:
            return session.execute(statement, parameters, execution_options=_SYNCED)
        return connection.execute(statement, parameters)

    (first_id, first_story), (second_id, second_story) = first, second
    if first_story is None and second_story is None:
        made = connection.execute(_NEW_STORY, {"updated_at": datetime.now(UTC)})
        assert made.inserted_primary_key is not None
        keep = cast(int, made.inserted_primary_key[0])
        execute(_INTO_STORY, {"ids": [first_id, second_id], "story": keep})
    elif first_story is None or second_story is None:
        keep = cast(int, first_story if second_story is None else second_story)
        alone = first_id if first_story is None else second_id
        execute(_INTO_STORY, {"ids": [alone], "story": keep})
    else:
        keep, gone = sorted((first_story, second_story))
        if keep != gone:
            execute(_STORY_INTO_STORY, {"gone": gone, "story": keep})
            execute(_DROP_STORY, {"gone": gone})
            unsettled.discard(gone)
    unsettled.add(keep)
    return keep


def _detach(session: Session, article_id: int, story_id: int) -> None:
    """Take the article out of its story, as if it had never been linked."""
    session.execute(
        update(Article)
        .where(Article.id == article_id)
        .values(story_id=None)
        .execution_options(synchronize_session="fetch")
    )
    _settle(session, story_id)


def _settle(session: Session, story_id: int) -> None:
    """After a change of members: a story of one is no story; else choose its origin.

    Core rows of what the rule reads, not ORM objects: a story may hold thousands of copies."""
    session.flush()
    members = session.execute(
        select(
            Article.id,
            Article.url,
            Article.canonical_url,
            Article.origin_url,
            Article.published,
            Article.first_seen,
        ).where(Article.story_id == story_id)
    ).all()
    story = session.get(Story, story_id)
    if len(members) < 2:
        if members:
            session.execute(
                update(Article)
                .where(Article.story_id == story_id)
                .values(story_id=None)
                .execution_options(synchronize_session="fetch")
            )
        if story is not None:
            session.delete(story)
        session.flush()
        return
    assert story is not None
    story.origin_id = choose_origin([Copy(*member) for member in members])
    story.updated_at = datetime.now(UTC)
    session.flush()


def _remember(session: Session, first_id: int, second_id: int, kind: str) -> None:
    """Keep an override for the pair (smaller id first), replacing any other for it."""
    low, high = sorted((first_id, second_id))
    found = session.scalars(
        select(StoryOverride).where(StoryOverride.article_id == low, StoryOverride.other_id == high)
    ).first()
    if found is None:
        session.add(StoryOverride(article_id=low, other_id=high, kind=kind))
    else:
        found.kind = kind
    session.flush()


def _obey_together(session: Session, article_ids: Sequence[int], unsettled: set[int]) -> None:
    """Join each of the articles with every article a ``together`` override pairs it with."""
    partners = session.connection().execute(_TOGETHER, {"ids": list(article_ids)}).all()
    for low, high in partners:
        first, second = session.get(Article, low), session.get(Article, high)
        if first is None or second is None:
            continue
        if first.story_id is None or first.story_id != second.story_id:
            _join(session, first, second, unsettled)
