"""A Datasette plugin (entry point ``datasette: archiver``): the search box of ``articles`` and
``article_list`` searches through the archive's own search.

Datasette finds no full-text table for ``articles``: the FTS5 index's content is a view
(``articles_fts_source``), which it does not detect, and its own ``MATCH`` would miss what the
trigram index answers only through the archive's code (one- and two-character words, common
ones by scanning). So ``?_search=`` on those two is answered by
:meth:`Articles.matching_ids <archiver.storage.articles.Articles.matching_ids>` on the same
file, with the query language of ``archiver search``, and the rows are those ids.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.utils.asgi import BadRequest

from archiver.datasette.metadata import SEARCHABLE
from archiver.errors import ArchiverError
from archiver.storage import Archive, SearchFilters

MAX_RESULTS = 10_000
"""The most articles one search lists (the archive ranks within the newest 10,000 matches)."""

_archives: dict[str, Archive] = {}
_lock = threading.Lock()


def _archive(path: str) -> Archive:
    """One :class:`Archive` per file, never migrated: Datasette only reads."""
    with _lock:
        archive = _archives.get(path)
        if archive is None:
            archive = _archives[path] = Archive(f"sqlite:///{path}", migrate=False)
        return archive


def search_ids(path: str, query: str) -> list[int]:
    """The ids of the articles in the archive at *path* that *query* finds."""
    return _archive(path).articles.matching_ids(SearchFilters(query=query, limit=MAX_RESULTS))


@hookimpl(trylast=True)  # type: ignore[untyped-decorator]  # pluggy marks it, unchanged
def filters_from_request(request: Any, database: str, table: str, datasette: Any) -> Any:
    """``?_search=`` on ``articles`` and ``article_list`` of an archive; the search box shown.
    Last of the hooks, so that its ``supports_search`` is the one that counts."""
    column = SEARCHABLE.get(table)
    if column is None:
        return None

    async def inner() -> FilterArguments | None:
        db = datasette.get_database(database)
        if not db.path or not await db.table_exists("articles_fts"):
            return None
        query = (request.args.get("_search") or "").strip()
        if not query:
            return FilterArguments([], extra_context={"supports_search": True})
        try:
            ids = await asyncio.to_thread(search_ids, db.path, query)
        except ArchiverError as exc:
            raise BadRequest(str(exc)) from exc
        return FilterArguments(
            [f"[{column}] in (select value from json_each(:archiver_search))"],
            {"archiver_search": json.dumps(ids)},
            [f'search matches "{query}"'],
            {"supports_search": True, "search": query},
        )

    return inner
