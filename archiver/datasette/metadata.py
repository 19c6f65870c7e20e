"""The Datasette metadata of an archive: titles and descriptions of its tables and views, the
column that labels their rows, their default order, and the tables that are machinery hidden."""

from __future__ import annotations

from typing import Any

SEARCHABLE = {"articles": "id", "article_list": "id"}
"""The tables and views the plugin searches, with their article id column."""

HIDDEN = (
    "alembic_version",
    "articles_fts",
    "articles_fts_config",
    "articles_fts_data",
    "articles_fts_docsize",
    "articles_fts_idx",
    "articles_fts_source",
    "articles_fts_deferred",
)
"""The full-text index and the schema's version: machinery, not data."""

TABLES: dict[str, dict[str, Any]] = {
    "article_list": {
        "title": "Articles, newest first",
        "description": "One row per article: its date (UTC), source, categories, title, "
        "authors, URL and head image. The search box finds any text in any script, short "
        "words too, with the archive's query language (-word, title:, author:, since:).",
        "label_column": "title",
        "sort_desc": "published",
        "facets": ["source"],
    },
    "articles": {
        "title": "Articles, whole",
        "description": "Every field of every article: the values as published (*_raw, "
        "content_html) beside the normalized ones. Searched as the article list is.",
        "label_column": "title",
        "sort_desc": "published",
    },
    "source_stats": {
        "title": "Sources and their counts",
        "description": "One row per source: articles, oldest and newest, image files and "
        "their bytes, the last crawl.",
        "label_column": "name",
        "sort_desc": "articles",
    },
    "monthly_stats": {
        "title": "Articles per month and source",
        "description": "Months (YYYY-MM, UTC) of publication.",
        "sort_desc": "month",
    },
    "image_stats": {
        "title": "Images by status and type",
        "description": "How many images were downloaded, failed or skipped, and their bytes.",
        "sort_desc": "images",
    },
    "sources": {
        "title": "Sources",
        "description": "Feeds, sitemaps, pages and imports, with their schedule.",
        "label_column": "name",
    },
    "revisions": {"title": "Earlier versions of articles"},
    "images": {"title": "Images", "label_column": "url"},
    "categories": {"title": "Categories", "label_column": "name"},
    "tags": {"title": "Tags", "label_column": "name"},
    "crawl_runs": {"title": "Crawl runs", "sort_desc": "started_at"},
}


def datasette_metadata(database: str) -> dict[str, Any]:
    """Datasette's ``metadata.json`` for an archive that Datasette names *database* (the
    file's name without ``.db``)."""
    tables: dict[str, dict[str, Any]] = {name: dict(table) for name, table in TABLES.items()}
    for name in HIDDEN:
        tables[name] = {"hidden": True}
    return {
        "title": "feed-archiver",
        "description": "Articles archived from feeds, sitemaps and pages, with their images.",
        "databases": {
            database: {
                "title": f"Archive {database}",
                "description": "Start at article_list; search finds text in any script.",
                "tables": tables,
            }
        },
    }
