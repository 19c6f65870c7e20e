"""A hostile feed crawled for real, then shown and exported through every output: nothing of
its scripts reaches a reader, and the archive keeps it as published."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_archiver
from tests.mocksite.edges import HOSTILE_BODY, HOSTILE_KEPT, HOSTILE_MARKS


def assert_clean(text: str, where: str, *, kept: bool = True) -> None:
    lowered = text.lower()
    found = [mark for mark in HOSTILE_MARKS if mark in lowered]
    assert not found, f"{where} carries {found}"
    if kept:
        missing = [mark for mark in HOSTILE_KEPT if mark not in text]
        assert not missing, f"{where} lost {missing}"


@pytest.fixture(scope="module")
def hostile_archive(mock_site: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("hostile")
    db, media = str(root / "archive.db"), str(root / "media")
    result = run_archiver(
        "--db", db, "--media", media, "crawl", mock_site.url("/edges/hostile.xml"),
        "--no-images", "--full-text", "never",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return {"db": db, "media": media, "root": str(root)}


def test_show_json_keeps_the_body_as_published(hostile_archive: dict[str, str]) -> None:
    shown = run_archiver("--db", hostile_archive["db"], "show", "1", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert shown.json()["content_html"] == HOSTILE_BODY


@pytest.mark.parametrize("fmt", ["html", "markdown"])
def test_show_renderings_are_sanitized(hostile_archive: dict[str, str], fmt: str) -> None:
    shown = run_archiver(
        "--db", hostile_archive["db"], "--media", hostile_archive["media"],
        "show", "1", "--format", fmt,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert_clean(shown.stdout, f"show --format {fmt}")


def test_an_iframe_host_listed_in_the_setting_is_kept(hostile_archive: dict[str, str]) -> None:
    shown = run_archiver(
        "--db", hostile_archive["db"], "show", "1", "--format", "html",
        env={"ARCHIVER_IFRAME_HOSTS": "youtube.com"},
    )  # fmt: skip
    embed = '<iframe src="https://www.youtube.com/embed/xyz"></iframe>'
    assert shown.stdout.count("<iframe") == 1
    assert embed in shown.stdout  # its onload gone, the other host's iframe too
    assert_clean(shown.stdout.replace(embed, ""), "show with ARCHIVER_IFRAME_HOSTS")


@pytest.mark.parametrize("fmt", ["hexo", "jekyll", "hugo"])
def test_static_site_exports_are_sanitized(
    hostile_archive: dict[str, str], fmt: str, tmp_path: Path
) -> None:
    site = tmp_path / fmt
    result = run_archiver(
        "--db", hostile_archive["db"], "--media", hostile_archive["media"],
        "export", str(site), "--format", fmt,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    posts = [p for p in site.rglob("*") if p.is_file() and p.name != ".archiver-export.json"]
    assert posts, f"{fmt} wrote nothing"
    for post in posts:
        assert_clean(post.read_text("utf-8"), f"{fmt} {post.name}", kept=post.suffix == ".md")


def test_json_lines_rendered_fields_are_sanitized(
    hostile_archive: dict[str, str], tmp_path: Path
) -> None:
    result = run_archiver(
        "--db", hostile_archive["db"], "export", str(tmp_path), "--format", "jsonl"
    )
    assert result.returncode == 0, result.stderr
    (line,) = (tmp_path / "articles.jsonl").read_text("utf-8").splitlines()
    row = json.loads(line)
    assert row["content_html"] == HOSTILE_BODY  # the dump keeps what was published
    assert_clean(row["content_html_sanitized"], "jsonl content_html_sanitized")
    assert_clean(row["summary_html_sanitized"], "jsonl summary_html_sanitized")


def test_as_published_export_is_the_archived_body(
    hostile_archive: dict[str, str], tmp_path: Path
) -> None:
    result = run_archiver(
        "--db", hostile_archive["db"], "export", str(tmp_path), "--format", "hugo",
        "--as-published",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (post,) = tmp_path.rglob("index.html")
    assert "<script>alert(6)</script>" in post.read_text("utf-8")


def test_front_matter_urls_that_would_run_are_left_out() -> None:
    from archiver.export.site import safe_links

    article = {"headimg": " JavaScript:alert(1)", "thumbnail": "https://a.example/t.png"}
    assert safe_links(article) == {"headimg": "", "thumbnail": "https://a.example/t.png"}
    assert safe_links({"headimg": "/images/a.png"})["headimg"] == "/images/a.png"


def test_an_export_removes_what_a_killed_export_left(
    hostile_archive: dict[str, str], tmp_path: Path
) -> None:
    left = tmp_path / "source" / "_posts" / ".export-k1ll3d"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"half a post")
    result = run_archiver(
        "--db", hostile_archive["db"], "export", str(tmp_path), "--format", "hexo"
    )
    assert result.returncode == 0, result.stderr
    assert not list(tmp_path.rglob(".export-*"))
