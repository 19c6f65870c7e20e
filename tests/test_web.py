"""The web reader (``archiver serve``), driven in-process: pages, the JSON API in the CLI's
shapes, images by sha256 only, the safety headers, the token, errors as pages."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from archiver.items import ArticleItem
from archiver.storage import Archive
from archiver.web import ReaderConfig, create_app
from tests.conftest import run_archiver
from tests.webreader import CrawledArchive, crawl_for_reader


@pytest.fixture(scope="module")
def crawled(mock_site: Any, tmp_path_factory: pytest.TempPathFactory) -> CrawledArchive:
    return crawl_for_reader(mock_site, tmp_path_factory.mktemp("reader"))


@pytest.fixture(scope="module")
def client(crawled: CrawledArchive) -> Iterator[TestClient]:
    app = create_app(ReaderConfig(database_url=crawled.db_url, media_dir=crawled.media))
    with TestClient(app) as test_client:
        yield test_client


def _keras(client: TestClient) -> dict[str, Any]:
    rows = client.get("/api/search", params={"q": "谷歌"}).json()
    return next(row for row in rows if "Keras" in (row["title"] or ""))


# -- pages ----------------------------------------------------------------------------------


def test_search_page_finds_a_two_character_chinese_word_and_marks_it(client: TestClient) -> None:
    response = client.get("/", params={"q": "谷歌"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "Keras，亡于<mark>谷歌</mark>？" in page
    assert re.search(r'class="snippet">[^<]*<mark>谷歌</mark>', page)
    # facets with counts, and the search offered as feeds
    assert re.search(
        r'<a href="/\?q=%E8%B0%B7%E6%AD%8C&amp;source=[^"]+">[^<]+</a> <span class="count">\d+',
        page,
    )
    assert 'type="application/atom+xml"' in page
    assert "/feed.json?q=%E8%B0%B7%E6%AD%8C" in page


def test_search_page_takes_every_operator_of_archiver_search(
    client: TestClient, crawled: CrawledArchive
) -> None:
    for query in ('"tf.keras"', "keras -谷歌", "title:keras", "category:资讯", "since:2021-04-03"):
        cli_ids = [row["id"] for row in crawled.cli("search", query, "--format", "json")]
        api_ids = [row["id"] for row in client.get("/api/search", params={"q": query}).json()]
        assert api_ids == cli_ids, query
        page = client.get("/", params={"q": query}).text
        assert all(f'href="/articles/{ident}"' in page for ident in cli_ids), query


def test_filters_narrow_the_list(client: TestClient) -> None:
    everything = client.get("/api/search", params={"limit": 200}).json()
    source = everything[0]["source"]
    by_source = client.get("/api/search", params={"source": source, "limit": 200}).json()
    assert by_source
    assert {row["source"] for row in by_source} == {source}
    assert len(by_source) < len(everything)
    category = next(c for row in everything for c in row["categories"])
    in_category = client.get("/api/search", params={"category": category, "limit": 200}).json()
    assert in_category
    assert all(category in row["categories"] for row in in_category)
    since = client.get("/api/search", params={"since": "2021-04-03", "limit": 200}).json()
    assert since
    assert all(row["published"] >= "2021-04-03" for row in since)


@pytest.mark.parametrize("query", [None, "e", "的", "-keras"])
def test_keyset_pages_walk_every_match_once_in_order(client: TestClient, query: str | None) -> None:
    whole = client.get("/api/search", params={"q": query, "limit": 200}).json()
    assert len(whole) >= 2
    seen: list[int] = []
    params: dict[str, Any] = {"q": query, "limit": 1}
    for _ in range(len(whole) + 2):
        response = client.get("/api/search", params=params)
        seen.extend(row["id"] for row in response.json())
        link = response.headers.get("link")
        if not link:
            break
        target = re.fullmatch(r'<([^>]+)>; rel="next"', link)
        assert target is not None
        params = {k: v[0] for k, v in parse_qs(urlsplit(target.group(1)).query).items()}
    assert seen == [row["id"] for row in whole]
    # the HTML page links the same next page
    first = client.get("/", params={"q": query, "limit": 1}).text
    assert 'rel="next"' in first


def test_article_page_shows_its_images_from_the_archive(client: TestClient) -> None:
    keras = _keras(client)
    page = client.get(f"/articles/{keras['id']}").text
    detail = client.get(f"/api/articles/{keras['id']}").json()
    sources = re.findall(r'<img src="([^"]+)"', page)
    archived = [i for i in detail["images"] if i["status"] == "downloaded"]
    assert archived
    assert sources
    assert all(src.startswith("/media/") for src in sources)
    for src in set(sources):
        image = client.get(src)
        assert image.status_code == 200
        assert image.headers["content-type"].startswith("image/")
        assert hashlib.sha256(image.content).hexdigest() == src.removeprefix("/media/")
    assert "亡于谷歌" in page
    assert f'href="{detail["url"]}"' in page  # the original
    assert "2021-04-02 06:27 UTC" in page
    assert "as written:" in page


def test_an_article_of_a_source_with_a_zone_shows_its_local_time(
    crawled: CrawledArchive, mock_site: Any
) -> None:
    db = crawled.directory / "zoned.db"
    feed = mock_site.url("/rsshub/36kr/news/latest")
    result = run_archiver(
        "--db", str(db), "--media", str(crawled.directory / "zoned-media"),
        "crawl", "--no-images", "--timezone", "Asia/Shanghai", feed,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    archive = Archive(f"sqlite:///{db}")
    try:
        with TestClient(create_app(ReaderConfig(), archive)) as client:
            row = next(r for r in client.get("/api/search").json() if r["published"])
            page = client.get(f"/articles/{row['id']}").text
    finally:
        archive.close()
    assert "+08:00 Asia/Shanghai" in page


def test_revisions_page_shows_what_changed(client: TestClient) -> None:
    revised = [
        row
        for row in client.get("/api/search", params={"limit": 200}).json()
        if client.get(f"/api/articles/{row['id']}").json()["revisions"]
    ]
    assert len(revised) == 1
    ident = revised[0]["id"]
    assert f'href="/articles/{ident}/revisions"' in client.get(f"/articles/{ident}").text
    page = client.get(f"/articles/{ident}/revisions").text
    # version 2 of the changing feed adds a paragraph and retitles the article
    assert re.search(r'<span class="added">\+ [^<]*Revision 2\.</span>', page)
    assert 'class="removed"' not in page
    assert re.search(r"<del>[^<]+</del> → <ins>[^<]+（更新 2）</ins>", page)


def test_sources_runs_and_stats_pages(client: TestClient) -> None:
    sources = client.get("/sources").text
    assert "<svg" in sources
    assert "articles per month" in sources
    assert "rss2.xml" in sources
    runs = client.get("/api/runs").json()
    assert len(runs) == 3
    listing = client.get("/runs").text
    assert all(f'href="/runs/{run["id"]}"' in listing for run in runs)
    run = client.get(f"/runs/{runs[0]['id']}").text  # the newest: the feeds
    assert "rss2.xml" in run
    assert 'class="status ok"' in run
    stats = client.get("/stats").text
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in stats
    assert "<rect" in stats


# -- the JSON API is the CLI's JSON ------------------------------------------------------------


def test_api_answers_in_the_cli_shapes(client: TestClient, crawled: CrawledArchive) -> None:
    keras = _keras(client)
    assert client.get("/api/search", params={"q": "谷歌"}).json() == crawled.cli(
        "search", "谷歌", "--format", "json"
    )
    assert client.get(f"/api/articles/{keras['id']}").json() == crawled.cli(
        "show", str(keras["id"]), "--format", "json"
    )
    assert client.get("/api/stats").json() == crawled.cli("stats", "--format", "json")
    assert client.get("/api/sources").json() == crawled.cli(
        "sources", "list", "--all", "--format", "json"
    )
    assert client.get("/api/runs").json() == crawled.cli("runs", "--format", "json")


def test_facets_count_the_matches(client: TestClient) -> None:
    facets = client.get("/api/facets").json()
    rows = client.get("/api/search", params={"limit": 200}).json()
    assert facets["matches"] == len(rows)
    assert not facets["capped"]
    by_source: dict[str, int] = {}
    for row in rows:
        by_source[row["source"]] = by_source.get(row["source"], 0) + 1
    assert {f["value"]: f["count"] for f in facets["source"]} == by_source
    some = facets["category"][0]
    narrowed = client.get("/api/search", params={"category": some["value"], "limit": 200})
    assert len(narrowed.json()) == some["count"]


def test_openapi_document_describes_the_api(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for path in ("/api/search", "/api/articles/{article_id}", "/api/sources", "/api/runs",
                 "/api/stats", "/feed.atom", "/feed.json"):  # fmt: skip
        assert path in document["paths"], path
    assert "/" not in document["paths"]  # the pages are not the API


# -- safety ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/articles/1", "/api/stats", "/feed.atom", "/nothing"])
def test_every_answer_carries_the_safety_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "img-src 'self' data:" in csp
    assert "script" not in csp  # no script source at all: default-src 'none' forbids them
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    "name",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e",
        "images%2F00%2Fabc.png",
        "0" * 64,  # a digest the archive does not have
        "A" * 64,  # not lower-case hex
        "0" * 63,
        "0" * 64 + "/..",
    ],
)
def test_media_answers_only_archived_digests(client: TestClient, name: str) -> None:
    response = client.get(f"/media/{name}")
    assert response.status_code == 404
    assert not response.headers["content-type"].startswith("image/")


def test_media_is_cached_and_revalidated(client: TestClient) -> None:
    keras = client.get(f"/api/articles/{_keras(client)['id']}").json()
    digest = next(i["sha256"] for i in keras["images"] if i["status"] == "downloaded")
    first = client.get(f"/media/{digest}")
    assert first.headers["etag"] == f'"{digest}"'
    assert "immutable" in first.headers["cache-control"]
    again = client.get(f"/media/{digest}", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_a_hostile_body_is_shown_sanitized(tmp_path: Path) -> None:
    archive = Archive(f"sqlite:///{tmp_path / 'hostile.db'}")
    source = archive.sources.ensure("https://evil.example/feed", kind="rss", name="evil")
    body = (
        '<p onclick="steal()">Hello</p><script>alert(1)</script>'
        '<img src="https://evil.example/track.gif" onerror="alert(2)">'
        '<a href="javascript:alert(3)">click</a><iframe src="https://evil.example/"></iframe>'
        "<style>body{display:none}</style>"
    )
    item = ArticleItem(
        url="https://evil.example/p/1",
        source_url="https://evil.example/feed",
        guid="p1",
        key="p1",
        title="<b>hostile</b>",
        title_raw="<b>hostile</b>",
        content_html=body,
        content_text="Hello",
    )
    archive.bulk.store([(item, source.id, "p1")])
    try:
        with TestClient(create_app(ReaderConfig(media_dir=tmp_path), archive)) as client:
            ident = client.get("/api/search").json()[0]["id"]
            page = client.get(f"/articles/{ident}").text
            stored = client.get(f"/api/articles/{ident}").json()["content_html"]
    finally:
        archive.close()
    body_html = page.split('<div class="body">', 1)[1].split("</div>", 1)[0]
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "<style", "alert("):
        assert bad not in body_html, bad
    assert "Hello" in body_html
    # the remote image is not loaded: it becomes a link, so the CSP has nothing to block
    assert "<img" not in body_html
    assert 'class="remote-image"' in body_html
    assert "&lt;b&gt;hostile&lt;/b&gt;" in page  # the title is text
    assert stored == body  # what was published is stored as published


def test_nothing_writes(client: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        for path in ("/", "/api/articles/1", "/api/search", "/media/" + "0" * 64):
            response = client.request(method, path)
            assert response.status_code == 405, (method, path)


def test_errors_are_pages_never_tracebacks(client: TestClient) -> None:
    missing = client.get("/articles/999999")
    assert missing.status_code == 404
    assert '<h1 class="error">404</h1>' in missing.text
    bad_date = client.get("/", params={"since": "2021-02-31"})
    assert bad_date.status_code == 400
    assert "since:2021-02-31 is not a date" in bad_date.text
    not_a_date = client.get("/", params={"since": "yesterday-ish"})
    assert not_a_date.status_code == 400
    assert "since: String should match pattern" in not_a_date.text
    bad_cursor = client.get("/api/search", params={"after": "not-a-cursor"})
    assert bad_cursor.status_code == 400
    assert bad_cursor.json() == {"error": "not a page cursor: 'not-a-cursor'"}
    assert client.get("/api/articles/999999").json()["error"].startswith("no article")
    for response in (missing, bad_date, not_a_date, bad_cursor):
        assert "Traceback" not in response.text


def test_the_token_guards_every_page_but_login(crawled: CrawledArchive) -> None:
    app = create_app(
        ReaderConfig(database_url=crawled.db_url, media_dir=crawled.media, token="s3cret")
    )
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/").status_code == 303
        assert client.get("/").headers["location"] == "/login"
        refused = client.get("/api/stats")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert client.get("/feed.atom").status_code == 401
        assert (
            client.get("/api/stats", headers={"Authorization": "Bearer wrong"}).status_code == 401
        )
        assert (
            client.get("/api/stats", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        )
        assert client.get("/login").status_code == 200
        assert client.get("/static/style.css").status_code == 200
        for icon in ("/static/icon.svg", "/favicon.ico"):
            answer = client.get(icon)
            assert answer.status_code == 200
            assert answer.headers["content-type"] == "image/svg+xml"
            assert answer.content.lstrip().startswith(b"<svg")
        assert client.get("/static/pages.py").status_code == 303  # not an open path
        assert client.post("/login", data={"token": "nope"}).status_code == 401
        assert "archiver_session" not in client.cookies
        login = client.post("/login", data={"token": "s3cret"})
        assert login.status_code == 303
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "s3cret" not in cookie
        assert client.get("/").status_code == 200
        assert client.get("/api/stats").status_code == 200
        assert client.get("/static/pages.py").status_code == 404  # names from a fixed list


def test_serve_refuses_the_network_without_a_token(crawled: CrawledArchive) -> None:
    result = run_archiver("--db", crawled.db_url, "serve", "--host", "0.0.0.0")
    assert result.returncode == 2
    assert "ARCHIVER_SERVE_TOKEN" in result.stderr
    assert "--public" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_without_an_archive_says_so(tmp_path: Path) -> None:
    result = run_archiver("--db", str(tmp_path / "none.db"), "serve")
    assert result.returncode == 2
    assert "no archive at" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_the_search_form_empty_fields_mean_no_filter(client: TestClient) -> None:
    """What the browser sends when only the query box is filled."""
    empty = {"source": "", "category": "", "author": "", "since": "", "until": ""}
    response = client.get("/", params={"q": "谷歌", **empty})
    assert response.status_code == 200
    assert "亡于<mark>谷歌</mark>" in response.text


def test_the_readme_sample_archive_reads_with_its_images(tmp_path: Path) -> None:
    """The README's first command, then the reader over what it archived."""
    from tests.conftest import ROOT

    db, media = tmp_path / "archive.db", tmp_path / "media"
    sample = ROOT / "archiver" / "samples" / "sample-feed.xml"
    result = run_archiver("--db", str(db), "--media", str(media), "crawl", str(sample))
    assert result.returncode == 0, result.stderr
    app = create_app(ReaderConfig(database_url=f"sqlite:///{db}", media_dir=media))
    with TestClient(app) as client:
        listing = client.get("/").text
        rows = client.get("/api/search").json()
        assert len(rows) == 3
        shown = 0
        for row in rows:
            assert f'href="/articles/{row["id"]}"' in listing
            page = client.get(f"/articles/{row['id']}").text
            for src in re.findall(r'<img src="(/media/[0-9a-f]{64})"', page):
                assert client.get(src).status_code == 200
                shown += 1
        assert shown >= 2  # the sample's two images, from the media directory
