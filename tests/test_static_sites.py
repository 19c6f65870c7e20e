"""The static-site exports built by the real programs: Hugo and Jekyll (Debian's packages) and
Hexo (from the npm registry, installed by ``.ci/run`` into ``.tools/hexo``). Each test exports
the mock site's feed, archived by a real crawl, with ``--images copy``, builds the site, and
reads what the program wrote: every article's page with its text, its date as the instant
it was published, its images present in the built site.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin

import lxml.html
import pytest

from archiver.storage import Archive, SearchFilters
from tests.conftest import ROOT, run_archiver

HEXO = ROOT / ".tools" / "hexo" / "node_modules"


@dataclass
class Archived:
    db: Path
    media: Path
    articles: list[dict[str, Any]]


@pytest.fixture(scope="module")
def archived(mock_site: Any, tmp_path_factory: pytest.TempPathFactory) -> Archived:
    """The mock site's RSS 2.0 feed (the seed's article among others, with images), crawled."""
    directory = tmp_path_factory.mktemp("archived")
    db, media = directory / "archive.db", directory / "media"
    crawl = run_archiver(
        "--db", str(db), "--media", str(media), "crawl", mock_site.url("/feeds/rss2.xml")
    )  # fmt: skip
    assert crawl.returncode == 0, crawl.stderr
    archive = Archive(f"sqlite:///{db}")
    try:
        articles = list(archive.articles.export(SearchFilters(limit=None)))
    finally:
        archive.close()
    assert len(articles) >= 5
    assert all(a["published"] for a in articles)
    assert sum(len(a["images"]) for a in articles) >= 5
    return Archived(db, media, articles)


def export(archived: Archived, site: Path, fmt: str, *extra: str) -> None:
    result = run_archiver(
        "--db", str(archived.db), "--media", str(archived.media),
        "export", str(site), "--format", fmt, "--images", "copy", *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def build(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@dataclass
class Page:
    path: Path
    url: str
    title: str
    published: datetime
    content: Any
    """The article's body as the program rendered it (an lxml element)."""


def check_articles(archived: Archived, pages: list[Page], public: Path) -> None:
    """Every archived article has one page with its title, its text, its date as the
    instant it was published, and its images served from the built site."""
    by_title = {page.title: page for page in pages}
    assert len(by_title) == len(pages)
    for article in archived.articles:
        page = by_title.get(article["title"])
        assert page is not None, (article["title"], sorted(by_title))
        assert page.published == instant(article["published"]), page.path
        rendered = squeezed(page.content.text_content())
        assert "rawHTMLomitted" not in squeezed(lxml.html.tostring(page.content, encoding=str))
        text = squeezed(article["content_text"])
        middle = len(text) // 2
        for window in (text[:30], text[middle : middle + 30], text[-30:]):
            assert window in rendered, (page.path, window)
        sources = [img.get("src") for img in page.content.iter("img")]
        downloaded = [i for i in article["images"] if i["status"] == "downloaded"]
        body_images = [i for i in downloaded if i["role"] != "headimg"]
        assert len(sources) >= len({i["sha256"] for i in body_images}), page.path
        for src in sources:
            assert src, page.path
            assert not src.startswith("http"), (page.path, src)
            served = public / unquote(urljoin(page.url, src)).lstrip("/")
            assert served.is_file(), (page.path, src)
            sha = served.name.split(".")[0]
            assert sha in {i["sha256"] for i in downloaded}


UTF8 = lxml.html.HTMLParser(encoding="utf-8")


def parse(path: Path) -> Any:
    return lxml.html.fromstring(path.read_bytes(), parser=UTF8)


def html_pages(public: Path) -> Iterator[tuple[Path, str, Any]]:
    for path in public.rglob("index.html"):
        url = "/" + path.parent.relative_to(public).as_posix() + "/"
        yield path, url, parse(path)


# -- Hugo -------------------------------------------------------------------------------------

HUGO_SINGLE = """<!doctype html><html><head><title>{{ .Title }}</title></head><body>
<h1 class="title">{{ .Title }}</h1>
<time datetime="{{ .Date.UTC.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Date }}</time>
<p class="images">{{ with .Params.images }}{{ index . 0 }}{{ end }}</p>
<p class="featured">{{ .Params.featured_image }}</p>
<p class="cover">{{ with .Params.cover }}{{ .image }}{{ end }}</p>
<ul class="categories">{{ range .Params.categories }}<li>{{ . }}</li>{{ end }}</ul>
<ul class="tags">{{ range .Params.tags }}<li>{{ . }}</li>{{ end }}</ul>
<article>{{ .Content }}</article>
</body></html>
"""
HUGO_LIST = """<!doctype html><html><body><h1 class="list">{{ .Title }}</h1>
<ul>{{ range .Pages }}<li>{{ .Title }}</li>{{ end }}</ul></body></html>
"""


@pytest.mark.skipif(shutil.which("hugo") is None, reason="hugo is not installed (.ci/run does)")
def test_hugo_builds_the_bundles_with_its_default_configuration(
    archived: Archived, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    export(archived, site, "hugo")
    # Hugo's defaults: no markup settings, so raw HTML in Markdown would be dropped.
    (site / "hugo.toml").write_text('baseURL = "http://example.org/"\ntitle = "t"\n')
    layouts = site / "layouts" / "_default"
    layouts.mkdir(parents=True)
    (layouts / "single.html").write_text(HUGO_SINGLE)
    (layouts / "list.html").write_text(HUGO_LIST)
    build(["hugo", "--quiet", "--destination", str(tmp_path / "public")], site)
    public = tmp_path / "public"

    pages = []
    for path, url, tree in html_pages(public):
        titles = tree.xpath("//h1[@class='title']")
        if titles:
            stamp = tree.xpath("//time/@datetime")[0]
            content = tree.xpath("//article")[0]
            pages.append(Page(path, url, titles[0].text_content(), instant(stamp), content))
            head = tree.xpath("//p[@class='images']")[0].text_content()
            assert head, path
            assert tree.xpath("//p[@class='featured']")[0].text_content() == head
            assert tree.xpath("//p[@class='cover']")[0].text_content() == head
            assert (path.parent / head).is_file()  # the head image, copied into the bundle
    check_articles(archived, pages, public)
    seed = next(a for a in archived.articles if a["title"].startswith("Keras"))
    seed_page = next(p for p in pages if p.title == seed["title"])
    tree = parse(seed_page.path)
    assert tree.xpath("//ul[@class='categories']/li/text()") == seed["categories"]
    # The categories are Hugo taxonomies: each has its page listing the article.
    listed = [
        tree.xpath("//li/text()")
        for _, url, tree in html_pages(public)
        if url.startswith("/categories/") and url.count("/") == 3
    ]
    assert len(listed) == len({c for a in archived.articles for c in a["categories"]})
    assert any(seed["title"] in titles for titles in listed)


# -- Jekyll -----------------------------------------------------------------------------------

JEKYLL_POST = """<!doctype html><html><head><title>{{ page.title }}</title></head><body>
<h1 class="title">{{ page.title }}</h1>
<time datetime="{{ page.date | date_to_xmlschema }}"></time>
<p class="image">{{ page.image }}</p>
<article>{{ content }}</article>
</body></html>
"""


@pytest.mark.skipif(shutil.which("jekyll") is None, reason="jekyll is not installed (.ci/run does)")
def test_jekyll_builds_the_posts(archived: Archived, tmp_path: Path) -> None:
    site = tmp_path / "site"
    export(archived, site, "jekyll")
    # A site in another zone: Jekyll shows dates in it, and the instants stay.
    (site / "_config.yml").write_text("title: t\ntimezone: Asia/Shanghai\n")
    (site / "_layouts").mkdir()
    (site / "_layouts" / "post.html").write_text(JEKYLL_POST)
    public = tmp_path / "public"
    build(["jekyll", "build", "--quiet", "--source", str(site), "--destination", str(public)], site)

    pages = []
    for path in public.rglob("*.html"):
        tree = parse(path)
        titles = tree.xpath("//h1[@class='title']")
        if not titles:
            continue
        url = "/" + path.relative_to(public).as_posix()
        stamp = tree.xpath("//time/@datetime")[0]
        assert stamp.endswith("+08:00")
        content = tree.xpath("//article")[0]
        pages.append(Page(path, url, titles[0].text_content(), instant(stamp), content))
        head = tree.xpath("//p[@class='image']")[0].text_content()
        assert (public / head.lstrip("/")).is_file(), head
    check_articles(archived, pages, public)


# -- Hexo -------------------------------------------------------------------------------------

HEXO_PLUGINS = (
    "hexo-generator-index",
    "hexo-renderer-ejs",
    "hexo-renderer-marked",
    "hexo-renderer-stylus",
    "hexo-theme-landscape",
)


@pytest.mark.skipif(
    not (HEXO / "hexo" / "package.json").is_file() or shutil.which("node") is None,
    reason="Hexo is not installed: .ci/run installs it into .tools/hexo (npm ci)",
)
@pytest.mark.parametrize(
    ("site_timezone", "machine_timezone"),
    [("", "UTC"), ("Asia/Shanghai", "UTC"), ("America/New_York", "Asia/Tokyo")],
)
def test_hexo_builds_the_posts_on_their_instants(
    archived: Archived, tmp_path: Path, site_timezone: str, machine_timezone: str
) -> None:
    """Exported into an existing Hexo site (its ``_config.yml`` read for its time zone), built
    by Hexo with the landscape theme on a machine in another zone."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "_config.yml").write_text(
        "title: t\nurl: http://example.com\nlanguage: zh-CN\n"
        f"timezone: '{site_timezone}'\ntheme: landscape\n"
        "permalink: :year/:month/:day/:title/\n"
    )
    version = json.loads((HEXO / "hexo" / "package.json").read_text())["version"]
    dependencies = dict.fromkeys(("hexo", *HEXO_PLUGINS), "*")
    (site / "package.json").write_text(
        json.dumps({"name": "site", "hexo": {"version": version}, "dependencies": dependencies})
    )
    (site / "node_modules").symlink_to(HEXO, target_is_directory=True)
    export(archived, site, "hexo")
    hexo = [shutil.which("node") or "node", str(HEXO / "hexo-cli" / "bin" / "hexo")]
    build([*hexo, "generate", "--silent"], site, env={"TZ": machine_timezone})
    public = site / "public"

    pages = []
    for path, url, tree in html_pages(public):
        articles = tree.xpath("//article")
        if len(articles) != 1 or not tree.xpath("//h1[contains(@class, 'article-title')]"):
            continue
        title = tree.xpath("//h1[contains(@class, 'article-title')]")[0].text_content().strip()
        stamp = tree.xpath("//time[contains(@class, 'dt-published')]/@datetime")[0]
        content = tree.xpath("//div[contains(@class, 'article-entry')]")[0]
        pages.append(Page(path, url, title, instant(stamp), content))
    check_articles(archived, pages, public)
