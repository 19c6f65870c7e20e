"""Whole articles through the real command: feeds that fall short, their pages, the merge."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from tests.conftest import Result, run_archiver
from tests.mocksite.whole import PAGES, PARAGRAPHS, main_text

BOILERPLATE = ("Share on Twitter", "Related stories", "First! Great article", "About us")


def crawl(tmp_path: Path, *urls: str, extra: tuple[str, ...] = (), **env: str) -> Result:
    result = run_archiver(
        "--db", str(tmp_path / "archive.db"), "--media", str(tmp_path / "media"),
        "crawl", *extra, *urls, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result


def articles(tmp_path: Path) -> dict[str, dict[str, Any]]:
    """Every archived article as ``show --format json`` gives it, by URL path."""
    db = str(tmp_path / "archive.db")
    rows = run_archiver("--db", db, "search", "--limit", "1000", "--format", "json").json()
    shown = {}
    for row in rows:
        article = run_archiver("--db", db, "show", str(row["id"]), "--format", "json").json()
        shown["/" + article["url"].split("/", 3)[3]] = article
    return shown


def page_requests(mock_site: Any, path: str) -> int:
    return len([r for r in mock_site.requests(path) if r["method"] == "GET"])


def test_summary_only_entries_are_archived_whole(mock_site: Any, tmp_path: Path) -> None:
    mock_site.reset_log()
    first = crawl(tmp_path, mock_site.url("/whole/summary.atom"))
    assert " 4 new," in first.stdout
    shown = articles(tmp_path)
    assert len(shown) == len(PAGES)
    expected_dates = {
        "ld": ("page:json-ld", "2021-04-01T00:00:00Z"),
        "og": ("page:og", "2021-04-02T09:30:00Z"),
        "time": ("feed", "2021-04-03T10:00:00Z"),  # the entry's <updated> beats a <time>
        "none": ("feed", "2021-04-04T11:00:00Z"),  # the entry's <updated>: no page date at all
    }
    for page in PAGES:
        article = shown[f"/whole/pages/{page.slug}.html"]
        assert article["content_source"] == "page:extractor", page.slug
        for paragraph in main_text(page):
            assert paragraph.split(":", 1)[1].strip()[:60] in article["content_text"], page.slug
        for boilerplate in BOILERPLATE:
            assert boilerplate not in article["content_html"], (page.slug, boilerplate)
        assert article["summary_html"].startswith("<p>")  # the feed's teaser, as it was
        assert article["summary_html"].endswith("…</p>")
        origin, published = expected_dates[page.metadata]
        assert (article["provenance"].get("published"), article["published"]) == (
            origin, published), page.slug  # fmt: skip
        assert article["provenance"]["content"] == "page:extractor"
        assert article["provenance"]["title"] == "feed"
        # both images of the body, the lazy one and the extension-less one, are archived
        body_images = [i for i in article["images"] if i["role"] == "body"]
        assert len(body_images) == 2, page.slug
        assert all(i["status"] == "downloaded" for i in body_images), body_images
        assert article["page"]["status"] == "fetched"
        # the page's one capture, beside the feed's record that gave the entry
        kinds = sorted(c["kind"] for c in article["captures"])
        assert kinds == ["feed", "page"], article["captures"]
        (capture,) = [c for c in article["captures"] if c["kind"] == "page"]
        assert capture["status"] == 200
        assert page_requests(mock_site, f"/whole/pages/{page.slug}.html") == 1

    again = crawl(tmp_path, mock_site.url("/whole/summary.atom"))
    assert " 0 new, 0 updated, 4 unchanged," in again.stdout
    for page in PAGES:  # an unchanged re-crawl fetches no page
        assert page_requests(mock_site, f"/whole/pages/{page.slug}.html") == 1

    # the page as it was fetched, from its WARC record, with the headers it came with
    (capture,) = [
        c for c in shown["/whole/pages/budget-ld.html"]["captures"] if c["kind"] == "page"
    ]
    with (tmp_path / "captures" / capture["warc_file"]).open("rb") as stream:
        stream.seek(capture["offset"])
        record = next(iter(ArchiveIterator(stream)))
        payload = record.content_stream().read()
    assert payload == mock_site.get("/whole/pages/budget-ld.html").body
    assert record.http_headers.get_header("Content-Type") == "text/html; charset=utf-8"


def test_a_page_two_feeds_name_is_fetched_once_and_a_whole_feed_costs_none(
    mock_site: Any, tmp_path: Path
) -> None:
    mock_site.reset_log()
    crawl(
        tmp_path,
        mock_site.url("/whole/summary.atom"),
        mock_site.url("/whole/truncated.xml"),
        mock_site.url("/whole/full.xml"),
    )
    assert page_requests(mock_site, "/whole/pages/budget-og.html") == 1
    assert page_requests(mock_site, "/whole/pages/full.html") == 0
    shown = articles(tmp_path)
    whole = shown["/whole/pages/full.html"]
    assert whole["content_source"] == "feed"
    assert whole["page"] is None
    assert "Whole: " + PARAGRAPHS[-1][:40] in whole["content_text"]


def test_full_text_never_and_always(mock_site: Any, tmp_path: Path) -> None:
    mock_site.reset_log()
    crawl(tmp_path, mock_site.url("/whole/summary.atom"), extra=("--full-text", "never"))
    assert all(page_requests(mock_site, f"/whole/pages/{page.slug}.html") == 0 for page in PAGES)
    assert {a["content_source"] for a in articles(tmp_path).values()} == {"feed"}
    crawl(tmp_path, mock_site.url("/whole/full.xml"), extra=("--full-text", "always"))
    assert page_requests(mock_site, "/whole/pages/full.html") == 1  # answers 404
    whole = articles(tmp_path)["/whole/pages/full.html"]
    assert whole["content_source"] == "feed"
    assert whole["page"]["error"] == "HTTP 404"


def test_a_site_rule_that_matches_and_one_that_no_longer_does(
    mock_site: Any, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('["127.0.0.1"]\ncontent = "div.story-text"\nremove = [".ad"]\n')
    crawl(tmp_path, mock_site.url("/whole/ruled.xml"), ARCHIVER_SITE_RULES=str(rules))
    shown = articles(tmp_path)
    ruled = shown["/whole/pages/ruled.html"]
    assert ruled["content_source"] == "page:rule"
    assert "Ruled: " + PARAGRAPHS[0][:40] in ruled["content_text"]
    assert "ADVERTISEMENT" not in ruled["content_html"]
    redesigned = shown["/whole/pages/redesigned.html"]
    assert redesigned["content_source"] == "page:extractor"  # the extractor took over
    assert "Ruled: " + PARAGRAPHS[0][:40] in redesigned["content_text"]
    db = str(tmp_path / "archive.db")
    (run,) = run_archiver("--db", db, "runs", "--format", "json").json()
    outcome = run["sources"][mock_site.url("/whole/ruled.xml")]
    assert outcome["rule_misses"] == [
        f"site rule for 127.0.0.1 ({rules}) matched nothing: div.story-text"
    ]
    assert outcome["pages"] == {"fetched": 2, "failed": 0, "kept": 0, "deferred": 0}


def test_a_failing_page_loses_nothing_and_is_tried_again_later(
    mock_site: Any, tmp_path: Path
) -> None:
    mock_site.reset_log()
    teaser_start = "<p>A teaser of some length"
    first = crawl(tmp_path, mock_site.url("/whole/failing.xml"))
    assert " 3 new," in first.stdout
    shown = articles(tmp_path)
    errors = {
        "/whole/pages/missing.html": "HTTP 404",
        "/whole/pages/broken.html": "HTTP 500",
        "/whole/pages/consent.html": "the page's text is no longer than the feed's",
    }
    for path, error in errors.items():
        article = shown[path]
        assert article["content_html"].startswith(teaser_start), path
        assert article["content_source"] == "feed"
        assert (article["page"]["status"], article["page"]["error"]) == ("failed", error)
        assert article["page"]["failures"] == 1
    assert page_requests(mock_site, "/whole/pages/missing.html") == 1

    crawl(tmp_path, mock_site.url("/whole/failing.xml"))  # within the back-off: left alone
    assert page_requests(mock_site, "/whole/pages/missing.html") == 1
    crawl(tmp_path, mock_site.url("/whole/failing.xml"), ARCHIVER_PAGE_RETRY_DELAY="0")
    assert page_requests(mock_site, "/whole/pages/missing.html") == 2
    assert articles(tmp_path)["/whole/pages/missing.html"]["page"]["failures"] == 2


def test_scheduled_runs_fetch_pages_too(mock_site: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "archive.db")
    media = str(tmp_path / "media")
    added = run_archiver("--db", db, "sources", "add", mock_site.url("/whole/summary.atom"))
    assert added.returncode == 0, added.stderr
    ran = run_archiver("--db", db, "--media", media, "run", "--all")
    assert ran.returncode == 0, ran.stderr
    assert {a["content_source"] for a in articles(tmp_path).values()} == {"page:extractor"}


def test_the_feeds_own_body_is_kept_when_the_pages_replaces_it(
    mock_site: Any, tmp_path: Path
) -> None:
    crawl(tmp_path, mock_site.url("/whole/truncated.xml"))
    article = articles(tmp_path)["/whole/pages/budget-og.html"]
    assert article["content_source"] == "page:extractor"
    feed = mock_site.get("/whole/truncated.xml").body
    feed = gzip.decompress(feed) if feed[:2] == b"\x1f\x8b" else feed
    assert article["feed_content_html"] is not None
    assert article["feed_content_html"].encode() in feed.replace(b"&lt;", b"<").replace(
        b"&gt;", b">"
    ).replace(b"&quot;", b'"')


def test_a_page_crawled_itself_is_extracted_and_captured(mock_site: Any, tmp_path: Path) -> None:
    crawl(tmp_path, mock_site.url("/whole/pages/budget-ld.html"))
    (article,) = articles(tmp_path).values()
    assert article["content_source"] == "page:extractor"
    assert main_text(PAGES[0])[-1] in article["content_text"]
    for boilerplate in BOILERPLATE:
        assert boilerplate not in article["content_html"]
    assert article["provenance"]["published"] == "page:json-ld"
    assert article["published"] == "2021-04-01T00:00:00Z"
    assert [c["kind"] for c in article["captures"]] == ["page"]


def test_a_sources_own_page_settings(mock_site: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "archive.db")
    media = str(tmp_path / "media")
    mock_site.reset_log()
    for url, options in (
        (mock_site.url("/whole/summary.atom"), ("--full-text", "never")),
        (
            mock_site.url("/whole/ruled.xml"),
            ("--content-selector", "div.story-text", "--remove-selector", ".ad"),
        ),
    ):
        added = run_archiver("--db", db, "sources", "add", url, "--no-check", *options)
        assert added.returncode == 0, added.stderr
    listed = run_archiver("--db", db, "sources", "list", "--format", "json").json()
    settings = {s["url"].rsplit("/", 1)[1]: s for s in listed}
    assert settings["summary.atom"]["full_text"] == "never"
    assert settings["ruled.xml"]["content_selectors"] == ["div.story-text"]
    assert settings["ruled.xml"]["remove_selectors"] == [".ad"]
    ran = run_archiver("--db", db, "--media", media, "run", "--all")
    assert ran.returncode == 0, ran.stderr
    assert all(page_requests(mock_site, f"/whole/pages/{p.slug}.html") == 0 for p in PAGES)
    shown = articles(tmp_path)
    assert shown["/whole/pages/ruled.html"]["content_source"] == "page:rule"
    assert "ADVERTISEMENT" not in shown["/whole/pages/ruled.html"]["content_html"]
    bad = run_archiver("--db", db, "sources", "add", "https://example.com/feed.xml",
                       "--no-check", "--content-selector", "div[[")  # fmt: skip
    assert bad.returncode == 2
    (last,) = bad.stderr.strip().splitlines()  # one line
    assert last.startswith("Error: source: [example.com] not a CSS or XPath selector: 'div[['")
    assert "Traceback" not in bad.stderr


def test_a_feed_read_from_disk_fetches_pages_only_when_asked(
    mock_site: Any, tmp_path: Path
) -> None:
    saved = tmp_path / "summary.atom"
    saved.write_bytes(mock_site.get("/whole/summary.atom").body)
    mock_site.reset_log()
    quiet = crawl(tmp_path, saved.as_uri())
    assert "Traceback" not in quiet.stderr
    assert all(page_requests(mock_site, f"/whole/pages/{p.slug}.html") == 0 for p in PAGES)
    crawl(tmp_path, saved.as_uri(), extra=("--full-text", "always"))
    assert all(page_requests(mock_site, f"/whole/pages/{p.slug}.html") == 1 for p in PAGES)


def test_any_setting_for_one_run_with_dash_s(mock_site: Any, tmp_path: Path) -> None:
    mock_site.reset_log()
    crawl(tmp_path, mock_site.url("/whole/summary.atom"), extra=("-s", "ARCHIVER_FULL_TEXT=never"))
    assert all(page_requests(mock_site, f"/whole/pages/{p.slug}.html") == 0 for p in PAGES)
    bad = run_archiver("--db", str(tmp_path / "archive.db"), "crawl", "-s", "NOEQUALS", "x.xml")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "Error: Invalid value for '-s' / '--set': 'NOEQUALS' is not NAME=VALUE"
        " (see 'archiver crawl -h')"
    ]
