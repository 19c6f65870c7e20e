"""Full-text search: the query language, and the SQL for it on SQLite (FTS5) and PostgreSQL.

Every term is a case-insensitive substring of the title or the text, in any script: ``谷歌``
finds ``亡于谷歌？``, ``keras`` finds ``tf.keras``. SQLite answers from an FTS5 table with the
trigram tokenizer (migration 0002); terms of one or two characters, which no trigram can
hold, are expanded to the indexed trigrams that begin with them (the index holds each text
followed by two spaces, so every short string begins some trigram). PostgreSQL answers with
``ILIKE`` over ``pg_trgm`` indexes, and English words also match their stems through the
``search_vector`` column. Results are ranked by relevance (BM25 on SQLite), then date.

The query language (:func:`parse_query`)::

    谷歌 keras                 both words, anywhere in title or text
    "machine learning"         the phrase, as written
    -tensorflow  -"tf 1"       not this word or phrase
    title:keras                in the title
    author:alice  source:36kr  category:资讯      (also -author:... and so on)
    since:2021-04-01  until:2021-05-01           published at or after / before (UTC if naive)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    Float,
    Select,
    String,
    bindparam,
    case,
    cast,
    column,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from archiver.errors import ConfigurationError
from archiver.storage.models import Article, ArticleCategory, Category, Source
from archiver.storage.records import SearchFilters

Field = Literal["any", "title"]

MAX_RANKED = 10_000
"""A query ranks at most this many of its matches, the newest (by archive id); a broader
query is ranked within them (narrow it with operators to reach older articles)."""

COMMON_WINDOW = 2_000
"""How many of the newest articles (by archive id) a one- or two-character term is first
looked for in..."""

COMMON_HITS = 20
"""...and how many of them must hold it for the term to count as common (1%): it is then
scanned for, newest first, instead of expanded through the trigram vocabulary, since
reading the trigrams of a common term costs what reading all its occurrences does. The rule
depends on the archive alone, so a query answers the same way however busy the machine."""

MAX_SHORT_EXPANSION = 400
"""A one- or two-character term expands to at most this many trigrams; a term with more
(a single common character) is matched by scanning the text instead."""

SNIPPET_CHARS = 120
TITLE_WEIGHT = 5.0
"""How much more a match in the title counts than one in the text (BM25 column weight)."""


@dataclass(frozen=True)
class Term:
    """One word or phrase of a query: a substring to find, or to exclude."""

    text: str
    field: Field = "any"
    negated: bool = False


@dataclass
class ParsedQuery:
    """A query string read into terms and filters; see the module docstring."""

    terms: list[Term] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    not_authors: list[str] = field(default_factory=list)
    not_sources: list[str] = field(default_factory=list)
    not_categories: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None

    @property
    def positive(self) -> list[Term]:
        return [t for t in self.terms if not t.negated]


_TOKEN = re.compile(r'(-?)(?:([A-Za-z]+):)?(?:"([^"]*)"?|(\S+))')
_OPERATORS = frozenset(("title", "author", "source", "category", "since", "until"))


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_query(query: str | None) -> ParsedQuery:
    """Read a search query (see the module docstring); unknown ``x:`` prefixes stay words.

    Raises ConfigurationError for a ``since:``/``until:`` that is not a date.
    """
    parsed = ParsedQuery()
    if not query:
        return parsed
    # Control characters are in no archived text (the normalizers drop them) and end an FTS5
    # string early (a NUL is "unterminated string"): they separate words, as spaces do.
    for match in _TOKEN.finditer(_CONTROL.sub(" ", query)):
        minus, operator, quoted, word = match.groups()
        value = quoted if quoted is not None else word or ""
        negated = bool(minus)
        name = (operator or "").lower()
        if operator and name not in _OPERATORS:
            value, name = f"{operator}:{value}", ""
        value = value.strip()
        if not value:
            continue
        if name in ("", "title"):
            if minus and not operator and quoted is None and value == "-":
                continue
            parsed.terms.append(Term(value, "title" if name == "title" else "any", negated))
        elif name in ("since", "until"):
            setattr(parsed, name, parse_query_date(value, name))
        else:
            target = {"author": "authors", "source": "sources", "category": "categories"}[name]
            getattr(parsed, f"not_{target}" if negated else target).append(value)
    return parsed


def parse_query_date(value: str, name: str = "date") -> datetime:
    """An ISO 8601 date or time; naive values are UTC."""
    from dateutil.parser import isoparse

    try:
        when = isoparse(value)
    except ValueError as exc:
        raise ConfigurationError(
            f"{name}:{value} is not a date (use 2021-04-02 or 2021-04-02T14:27+08:00)"
        ) from exc
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


# -- building the query ---------------------------------------------------------------------


@dataclass
class Planned:
    """The filtered query, and the relevance to order by (None without a text query)."""

    query: Select[Any]
    score: ColumnElement[Any] | None
    """Higher is more relevant."""
    parsed: ParsedQuery
    newest_first: ColumnElement[Any] | None = None
    """The order in which the index yields matches newest first: only the first
    :data:`MAX_RANKED` in that order are ranked, so a query that matches half a million
    articles costs what one matching ten thousand does."""


def apply_filters(
    query: Select[Any], filters: SearchFilters, session: Session | None = None
) -> Planned:
    """*query* (over ``Article``) narrowed by *filters* and its query string.

    The dialect comes from *session*; without one the text terms become plain ``LIKE``.
    """
    parsed = parse_query(filters.query)
    sources = [s for s in (filters.source, *parsed.sources) if s]
    categories = [c for c in (filters.category, *parsed.categories) if c]
    authors = [a for a in (filters.author, *parsed.authors) if a]
    if sources:
        query = query.where(Article.source_id.in_(_source_ids(sources)))
    if parsed.not_sources:
        query = query.where(Article.source_id.not_in(_source_ids(parsed.not_sources)))
    for category in categories:
        query = query.where(_in_category(category))
    for category in parsed.not_categories:
        query = query.where(not_(_in_category(category)))
    for author in authors:
        query = query.where(_author_like(author))
    for author in parsed.not_authors:
        query = query.where(not_(_author_like(author)))
    since = max((d for d in (filters.since, parsed.since) if d), default=None)
    until = min((d for d in (filters.until, parsed.until) if d), default=None)
    if since:
        query = query.where(Article.published >= since)
    if until:
        query = query.where(Article.published < until)
    if not parsed.terms:
        return Planned(query, None, parsed)
    dialect = session.get_bind().dialect.name if session is not None else ""
    newest_first: ColumnElement[Any] | None = Article.id.desc()
    if dialect == "sqlite" and session is not None and _has_fts(session):
        query, score = _sqlite_text(session, query, parsed.terms)
        if score is not None:
            newest_first = _FTS.c.rowid.desc()
    elif dialect == "postgresql":
        query, score = _postgresql_text(query, parsed.terms)
    else:
        for term in parsed.terms:
            condition = _like_term(term)
            query = query.where(not_(condition) if term.negated else condition)
        score = None
    return Planned(query, score, parsed, newest_first if score is not None else None)


def _source_ids(names: Sequence[str]) -> Select[Any]:
    return select(Source.id).where(or_(Source.name.in_(names), Source.url.in_(names)))


def _in_category(name: str) -> ColumnElement[bool]:
    # A correlated EXISTS, checked per candidate through the link table's primary key: a
    # category of half the archive costs nothing, where an IN list would be built whole.
    return (
        select(ArticleCategory.article_id)
        .join(Category, Category.id == ArticleCategory.category_id)
        .where(
            ArticleCategory.article_id == Article.id,
            func.lower(Category.name) == name.lower(),
        )
        .exists()
    )


def _author_like(author: str) -> ColumnElement[bool]:
    authors = func.lower(cast(Article.authors, String))
    return authors.like(f"%{escape_like(author.lower())}%", escape="\\")


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like_term(term: Term) -> ColumnElement[bool]:
    pattern = f"%{escape_like(term.text.lower())}%"
    title = func.lower(func.coalesce(Article.title, "")).like(pattern, escape="\\")
    if term.field == "title":
        return title
    body = func.lower(func.coalesce(Article.content_text, "")).like(pattern, escape="\\")
    return or_(title, body)


# -- SQLite: FTS5 with the trigram tokenizer --------------------------------------------------

_FTS = table("articles_fts", column("rowid"), column("title"), column("content_text"))


def _has_fts(session: Session) -> bool:
    found = session.execute(
        text("SELECT 1 FROM sqlite_master WHERE name = 'articles_fts'")
    ).scalar()
    return bool(found)


def fts_phrase(value: str) -> str:
    """*value* as an FTS5 string (a phrase of trigrams: a substring match)."""
    return '"' + value.replace('"', '""') + '"'


def _sqlite_text(
    session: Session, query: Select[Any], terms: Sequence[Term]
) -> tuple[Select[Any], ColumnElement[Any] | None]:
    positives: list[str] = []
    negatives: list[str] = []
    for term in terms:
        expression = _fts_term(session, term)
        if expression is None:  # too short and too common for the index: scan
            condition = _like_term(term)
            query = query.where(not_(condition) if term.negated else condition)
        elif expression == "":  # nothing in the archive holds it
            if not term.negated:
                query = query.where(false())
        else:
            (negatives if term.negated else positives).append(expression)
    if not positives:
        if negatives:
            excluded = (
                select(_FTS.c.rowid)
                .where(literal_column("articles_fts").op("MATCH")(" OR ".join(negatives)))
                .scalar_subquery()
            )
            query = query.where(Article.id.not_in(excluded))
        return query, None
    expression = " AND ".join(positives)
    for negative in negatives:
        expression = f"({expression}) NOT {negative}"
    rank = func.bm25(literal_column("articles_fts"), TITLE_WEIGHT, 1.0)
    query = query.join(_FTS, _FTS.c.rowid == Article.id).where(
        literal_column("articles_fts").op("MATCH")(bindparam("fts_query", expression))
    )
    return query, -rank


def _fts_term(session: Session, term: Term) -> str | None:
    """The FTS5 expression for *term*; "" when no row can match; None to scan instead."""
    prefix = "title : " if term.field == "title" else ""
    if len(term.text) >= 3:
        return prefix + fts_phrase(term.text)
    # One or two characters: every occurrence begins an indexed trigram (the text is indexed
    # with two trailing spaces), so the trigrams that begin with the term find them all.
    session.execute(
        text(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.articles_fts_terms "
            "USING fts5vocab(main, articles_fts, 'row')"
        )
    )
    if _common_among_newest(session, term):
        return None
    low = term.text.lower()
    trigrams = list(
        session.execute(
            text(
                "SELECT term FROM temp.articles_fts_terms "
                "WHERE term >= :low AND term < :high LIMIT :limit"
            ),
            {"low": low, "high": low + "\U0010ffff", "limit": MAX_SHORT_EXPANSION + 1},
        ).scalars()
    )
    if len(trigrams) > MAX_SHORT_EXPANSION:
        return None
    if not trigrams:
        return ""
    alternatives = " OR ".join(fts_phrase(t) for t in trigrams)
    return f"{prefix}({alternatives})" if prefix else f"({alternatives})"


def _common_among_newest(session: Session, term: Term) -> bool:
    """Whether at least :data:`COMMON_HITS` of the newest :data:`COMMON_WINDOW` articles
    hold *term* (a bounded scan: it stops at the count, and reads the window at most)."""
    newest = session.execute(select(func.max(Article.id))).scalar() or 0
    found = (
        select(Article.id)
        .where(Article.id > newest - COMMON_WINDOW, _like_term(term))
        .limit(COMMON_HITS)
        .subquery()
    )
    count = session.execute(select(func.count()).select_from(found)).scalar() or 0
    return count >= COMMON_HITS


# -- PostgreSQL: pg_trgm and tsvector ---------------------------------------------------------

_SEARCH_VECTOR: ColumnElement[Any] = literal_column("articles.search_vector")
_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9'-]*(?:\s+[A-Za-z][A-Za-z0-9'-]*)*")


def _postgresql_text(
    query: Select[Any], terms: Sequence[Term]
) -> tuple[Select[Any], ColumnElement[Any] | None]:
    score: ColumnElement[Any] = literal(0.0, Float)
    body = func.coalesce(Article.content_text, "")
    for term in terms:
        pattern = f"%{escape_like(term.text)}%"
        # The bare columns, as the pg_trgm indexes have them (coalesce() would hide them);
        # LIKE for text without case (Chinese, digits): the same matches, four times faster
        # where the index cannot help (terms under three characters).
        uncased = term.text.lower() == term.text.upper()
        in_title = _contains(Article.title, pattern, uncased)
        condition: ColumnElement[bool] = in_title
        english = term.field == "any" and bool(_WORDS.fullmatch(term.text))
        tsquery = func.plainto_tsquery(literal_column("'english'::regconfig"), term.text)
        if term.field == "any":
            condition = or_(in_title, _contains(Article.content_text, pattern, uncased))
            if english:
                condition = or_(condition, _SEARCH_VECTOR.op("@@")(tsquery))
        if term.negated:  # a NULL column holds no word: coalesce() so that NOT keeps it
            query = query.where(not_(func.coalesce(condition, False)))
            continue
        query = query.where(condition)
        needle = func.lower(literal(term.text))
        occurrences = (
            func.char_length(body) - func.char_length(func.replace(func.lower(body), needle, ""))
        ) / max(len(term.text), 1)
        score = (
            score
            + case((in_title, TITLE_WEIGHT), else_=0.0)
            + occurrences / (1.0 + func.char_length(body) / 2000.0)
        )
        if english:
            score = score + func.ts_rank_cd(_SEARCH_VECTOR, tsquery)
    if not any(not t.negated for t in terms):
        return query, None
    return query, score


def _contains(column: Any, pattern: str, uncased: bool) -> ColumnElement[bool]:
    # The pattern is rendered into the statement, not bound: a plan prepared for a bound
    # pattern (psycopg prepares a statement run five times) cannot know whether the pattern
    # holds a trigram, and would scan the whole trigram index for a two-character one.
    value: BindParameter[str] = bindparam(None, pattern, literal_execute=True)
    if uncased:
        return column.like(value, escape="\\")  # type: ignore[no-any-return]
    return column.ilike(value, escape="\\")  # type: ignore[no-any-return]


# -- migrations, autogenerate -----------------------------------------------------------------

SEARCH_TABLE_PREFIX = "articles_fts"
SEARCH_INDEXES = frozenset(
    ("ix_articles_title_trgm", "ix_articles_content_text_trgm", "ix_articles_search_vector")
)
SEARCH_VIEWS = frozenset(("article_list", "source_stats", "monthly_stats", "image_stats"))
"""The views of migration 0002 (Alembic does not reflect views; listed for include_name)."""


def include_name(name: str | None, type_: Any, parent_names: Any) -> bool:
    """Alembic's ``include_name`` hook: leave the search objects of migration 0002 out of
    autogenerate (no model describes FTS5 tables, trigram indexes or ``search_vector``)."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(SEARCH_TABLE_PREFIX) and name not in SEARCH_VIEWS
    if type_ == "index":
        return name not in SEARCH_INDEXES
    if type_ == "column":
        return name != "search_vector"
    return True


_SQLITE_INDEXED = "coalesce({row}.title, '') || '  ', coalesce({row}.content_text, '') || '  '"
SQLITE_FTS_SOURCE = """CREATE VIEW articles_fts_source AS
SELECT a.id, coalesce(a.title, '') || '  ' AS title,
       coalesce(a.content_text, '') || '  ' AS content_text
FROM articles a"""
"""The FTS table's external content: the text as indexed (see migration 0002)."""
SQLITE_FTS_DEFERRED = "articles_fts_deferred"
"""A table that holds a row only inside a bulk write's own transaction, while the insert
trigger stands aside (see :func:`defer_indexing`; migration 0003); empty at every commit."""
SQLITE_TRIGGERS = {
    "articles_fts_insert": f"""CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles
WHEN NOT EXISTS (SELECT 1 FROM {SQLITE_FTS_DEFERRED}) BEGIN
    INSERT INTO articles_fts(rowid, title, content_text)
    VALUES (new.id, {_SQLITE_INDEXED.format(row="new")});
END""",
    "articles_fts_delete": f"""CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, content_text)
    VALUES ('delete', old.id, {_SQLITE_INDEXED.format(row="old")});
END""",
    "articles_fts_update": f"""CREATE TRIGGER articles_fts_update
AFTER UPDATE OF title, content_text ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, content_text)
    VALUES ('delete', old.id, {_SQLITE_INDEXED.format(row="old")});
    INSERT INTO articles_fts(rowid, title, content_text)
    VALUES (new.id, {_SQLITE_INDEXED.format(row="new")});
END""",
}


def defer_indexing(session: Session) -> bool:
    """Stand the FTS insert trigger aside for the articles this transaction inserts next,
    until :func:`index_articles` indexes them in one statement (SQLite; False elsewhere,
    and nothing changes).

    Why: FTS5 writes its pending terms to disk as a new index segment at every statement
    savepoint, and an ``INSERT`` that fires a trigger opens one: inserting a batch one
    row at a time writes a segment per article, which FTS5 then spends longer merging
    than it spent tokenizing (0.34 ms an article through the trigger, 0.19 ms in one
    ``INSERT ... SELECT``, which writes one segment). The switch is a row of
    ``articles_fts_deferred`` written in this transaction and deleted by
    :func:`index_articles` before it commits: no other connection ever sees it, and a
    crash or a rollback takes the articles with it. Call :func:`index_articles` before
    the transaction commits, always.
    """
    if session.get_bind().dialect.name != "sqlite":
        return False
    # OR REPLACE: a row left by anything else is taken over, and deleted with ours.
    session.execute(text(f"INSERT OR REPLACE INTO {SQLITE_FTS_DEFERRED} (active) VALUES (1)"))
    return True


def index_articles(session: Session, ids: Sequence[int]) -> None:
    """After :func:`defer_indexing`: put the insert trigger back and index the articles
    *ids* (inserted since) as it would have, from ``articles_fts_source``."""
    import json

    session.execute(text(f"DELETE FROM {SQLITE_FTS_DEFERRED}"))
    if ids:
        session.execute(
            text(
                "INSERT INTO articles_fts(rowid, title, content_text) "
                "SELECT id, title, content_text FROM articles_fts_source "
                "WHERE id IN (SELECT value FROM json_each(:ids))"
            ),
            {"ids": json.dumps(list(ids))},
        )


def drop_search_objects(execute: Any, dialect: str) -> None:
    """Before a SQLite batch migration copies ``articles`` (``batch_alter_table`` with a
    change that ALTER cannot make): drop the FTS triggers and the views, which SQLite would
    otherwise refuse the copy for (``error in view article_list: no such table``).

    *execute* is ``op.execute``; *dialect* is ``op.get_bind().dialect.name``. Call
    :func:`create_search_objects` after the batch. The copy keeps the ids, so the FTS index
    stays valid. On PostgreSQL this drops only the views (ALTER works in place there).
    """
    for name in reversed(SEARCH_VIEW_ORDER):
        execute(f"DROP VIEW IF EXISTS {name}")
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            execute(f"DROP TRIGGER IF EXISTS {name}")
        execute("DROP VIEW IF EXISTS articles_fts_source")


def create_search_objects(execute: Any, dialect: str) -> None:
    """After a batch migration: the FTS triggers (SQLite) and the views, as the migrations
    made them (0002; the insert trigger as 0003 changed it)."""
    if dialect == "sqlite":
        execute(SQLITE_FTS_SOURCE)
        for ddl in SQLITE_TRIGGERS.values():
            execute(ddl)
    for ddl in view_ddl(dialect).values():
        execute(ddl)


SEARCH_VIEW_ORDER = ("article_list", "source_stats", "monthly_stats", "image_stats")


def view_ddl(dialect: str) -> dict[str, str]:
    """``CREATE VIEW`` statements of the views that make the archive readable from
    ``sqlite3``, ``psql`` or Datasette (the same as migration 0002's)."""
    if dialect == "postgresql":
        month = "to_char(a.published AT TIME ZONE 'UTC', 'YYYY-MM')"
        categories = (
            "(SELECT string_agg(c.name, ' / ' ORDER BY ac.position) FROM article_categories ac "
            "JOIN categories c ON c.id = ac.category_id WHERE ac.article_id = a.id)"
        )
        authors = "(SELECT string_agg(value, ', ') FROM json_array_elements_text(a.authors))"
    else:
        month = "strftime('%Y-%m', a.published)"
        categories = (
            "(SELECT group_concat(name, ' / ') FROM (SELECT c.name AS name FROM "
            "article_categories ac JOIN categories c ON c.id = ac.category_id "
            "WHERE ac.article_id = a.id ORDER BY ac.position))"
        )
        authors = "(SELECT group_concat(value, ', ') FROM json_each(a.authors))"
    files = (
        "SELECT ai.article_id, i.sha256, max(i.size) AS size FROM article_images ai "
        "JOIN images i ON i.id = ai.image_id WHERE i.status = 'downloaded' "
        "GROUP BY ai.article_id, i.sha256"
    )
    return {
        "article_list": f"""CREATE VIEW article_list AS
SELECT a.id, a.published, s.name AS source, {categories} AS categories, a.title,
       {authors} AS authors, a.url, a.headimg, length(a.content_html) AS html_chars
FROM articles a JOIN sources s ON s.id = a.source_id""",
        "source_stats": f"""CREATE VIEW source_stats AS
SELECT s.id, s.name, s.kind, s.url, count(a.id) AS articles,
       min(a.published) AS oldest, max(a.published) AS newest,
       (SELECT count(*) FROM ({files}) f JOIN articles a2 ON a2.id = f.article_id
        WHERE a2.source_id = s.id) AS images,
       (SELECT coalesce(sum(f.size), 0) FROM ({files}) f JOIN articles a2 ON a2.id = f.article_id
        WHERE a2.source_id = s.id) AS image_bytes,
       s.last_crawled_at, s.last_status
FROM sources s LEFT JOIN articles a ON a.source_id = s.id
GROUP BY s.id, s.name, s.kind, s.url, s.last_crawled_at, s.last_status""",
        "monthly_stats": f"""CREATE VIEW monthly_stats AS
SELECT {month} AS month, s.name AS source, count(*) AS articles
FROM articles a JOIN sources s ON s.id = a.source_id
WHERE a.published IS NOT NULL
GROUP BY {month}, s.name""",
        "image_stats": """CREATE VIEW image_stats AS
SELECT status, media_type, count(*) AS images, coalesce(sum(size), 0) AS bytes
FROM images GROUP BY status, media_type""",
    }


# -- snippets -------------------------------------------------------------------------------


def snippet(text_value: str | None, terms: Sequence[Term], width: int = SNIPPET_CHARS) -> str:
    """A line of *text_value* around the first match of the positive *terms* (plain text)."""
    flat = " ".join((text_value or "").split())
    if not flat:
        return ""
    pattern = _terms_pattern(terms)
    found = pattern.search(flat) if pattern else None
    start = 0 if found is None else max(0, found.start() - width // 4)
    end = min(len(flat), start + width)
    if end - start < width:
        start = max(0, end - width)
    piece = flat[start:end]
    return ("…" if start else "") + piece + ("…" if end < len(flat) else "")


def highlight(text_value: str, terms: Sequence[Term], *, color: bool) -> str:
    """*text_value* with the positive terms in bold (ANSI) when *color*, unchanged otherwise."""
    pattern = _terms_pattern(terms)
    if not color or pattern is None:
        return text_value
    return pattern.sub(lambda m: f"\x1b[1;33m{m.group(0)}\x1b[0m", text_value)


def _terms_pattern(terms: Sequence[Term]) -> re.Pattern[str] | None:
    words = sorted({t.text for t in terms if not t.negated}, key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)


def search_table(
    table_text: str, rows: Sequence[dict[str, Any]], query: str, *, color: bool
) -> str:
    """The search listing as a table, each row followed by its snippet, indented, with the
    query's words highlighted when *color* (a terminal)."""
    terms = parse_query(query).terms
    lines = table_text.split("\n")
    out = lines[:2]
    for line, row in zip(lines[2:], rows, strict=False):
        out.append(line)
        if row.get("snippet"):
            out.append("    " + highlight(row["snippet"], terms, color=color))
    return "\n".join(out)


__all__ = [
    "ParsedQuery",
    "Planned",
    "Term",
    "apply_filters",
    "highlight",
    "include_name",
    "parse_query",
    "search_table",
    "snippet",
]
