"""Datasette, the real application in-process: the archive with the metadata ``archiver
datasette-metadata`` writes and the plugin feed-archiver registers. Its search box on
``articles`` and ``article_list`` finds text in any script, one and two characters included,
with the archive's query language; the views carry their titles; the index is hidden."""

from __future__ import annotations

import asyncio
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from archiver.storage import Archive
from tests.conftest import ROOT, run_archiver
from tests.test_export import store_seed
from tests.test_storage import make_item, store

datasette_app = pytest.importorskip(
    "datasette.app", reason="pip install 'feed-archiver[datasette]'"
)


@pytest.fixture
def archive_file(tmp_path: Path) -> Path:
    path = tmp_path / "archive.db"
    archive = Archive(f"sqlite:///{path}")
    try:
        store_seed(archive)  # Keras，亡于谷歌？
        store(archive, make_item(1, title="The quiet return of RSS", content_text="Feeds are back"))
        store(archive, make_item(2, title="WAL 模式", content_text="读和写可以并发 SQLite"))
    finally:
        archive.close()
    return path


def datasette(path: Path) -> Any:
    from datasette.plugins import pm

    import archiver.datasette.plugin as plugin

    # Installed feed-archiver registers it by its entry point; a checkout on PYTHONPATH does not.
    if not pm.is_registered(plugin):
        pm.register(plugin, name="archiver")
    result = run_archiver("--db", str(path), "datasette-metadata")
    assert result.returncode == 0, result.stderr
    metadata = json.loads(result.stdout)
    assert "archive" in metadata["databases"]
    return datasette_app.Datasette([str(path)], metadata=metadata)


def get(app: Any, url: str) -> Any:
    async def fetch() -> Any:
        return await app.client.get(url)

    return asyncio.run(fetch())


def titles(app: Any, table: str, query: str) -> list[str]:
    response = get(app, f"/archive/{table}.json?_shape=objects&_search={query}")
    assert response.status_code == 200, response.text
    return sorted(row["title"] for row in response.json()["rows"])


def test_the_search_box_finds_any_script_and_short_terms(archive_file: Path) -> None:
    app = datasette(archive_file)
    for table in ("article_list", "articles"):
        assert titles(app, table, "谷歌") == ["Keras，亡于谷歌？"]  # two characters
        assert titles(app, table, "谷") == ["Keras，亡于谷歌？"]  # one
        assert titles(app, table, "并发") == ["WAL 模式"]
        assert titles(app, table, "KERAS") == ["Keras，亡于谷歌？"]
        assert titles(app, table, "feeds") == ["The quiet return of RSS"]
        # The archive's query language: operators, phrases.
        assert titles(app, table, "sqlite -并发") == []
        assert titles(app, table, 'title:"quiet return"') == ["The quiet return of RSS"]
        assert titles(app, table, "nothing-like-this") == []
    page = get(app, "/archive/article_list?_search=谷歌")
    assert page.status_code == 200
    assert 'name="_search"' in page.text  # the search box is shown...
    assert 'value="谷歌"' in page.text  # ...with the query in it
    assert "1 row" in page.text
    assert "search matches &#34;谷歌&#34;" in page.text
    # A query the archive refuses is a bad request, not an error page.
    assert get(app, "/archive/articles.json?_search=since:garbage").status_code == 400


def test_the_views_are_labelled_and_the_index_hidden(archive_file: Path) -> None:
    app = datasette(archive_file)
    page = get(app, "/archive/article_list")
    assert "Articles, newest first" in page.text
    assert "any script" in page.text
    rows = get(app, "/archive/article_list.json?_shape=objects").json()["rows"]
    newest_first = ["WAL 模式", "The quiet return of RSS", "Keras，亡于谷歌？"]
    assert [r["title"] for r in rows] == newest_first
    database = get(app, "/archive.json").json()
    hidden = {t["name"] for t in database["tables"] if t["hidden"]}
    assert {"articles_fts", "articles_fts_data", "alembic_version"} <= hidden
    assert "articles" not in hidden


def test_the_plugin_is_declared_for_datasette_to_load() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    module = project["entry-points"]["datasette"]["archiver"]
    assert module == "archiver.datasette.plugin"
    assert "datasette" in project["optional-dependencies"]
