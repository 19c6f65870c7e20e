"""Exports: the seed's Hexo post byte for byte, Jekyll, Hugo, JSON Lines; safe names;
incremental and deterministic re-exports; copied images."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from archiver.errors import ConfigurationError
from archiver.export.frontmatter import plain_or_quoted, seed_quoted
from archiver.export.hexo import BODY_END, BODY_START
from archiver.export.paths import PathAllocator, safe_name, slugify
from archiver.export.site import MANIFEST, export_site
from archiver.items import ArticleItem, ImageRef
from archiver.storage import Archive, SearchFilters
from tests.conftest import SHARED, run_archiver
from tests.test_storage import make_item, store

SEED = SHARED / "seed" / "000_c534944dd18d71d7.txt"


def everything(archive: Archive) -> list[dict[str, object]]:
    return list(archive.articles.export(SearchFilters(limit=None)))


def store_seed(archive: Archive) -> None:
    """The seed's article as a crawl of 36kr would have archived it."""
    text = SEED.read_text("utf-8")
    body = text[text.index(BODY_START) + len(BODY_START) : -len(BODY_END)]
    source = archive.sources.ensure(
        "https://rsshub.app/36kr/news/latest",
        kind="rsshub",
        categories=["新媒体", "36kr", "资讯"],
        title="36kr",
    )
    headimg = "https://img.36krcdn.com/20210402/v2_5b7db72ab3464b2f86e3c4ff166a252c_img_000"
    item = ArticleItem(
        url="https://36kr.com/p/1176581079180551",
        source_url=source.url,
        guid="https://36kr.com/p/1176581079180551",
        title_raw="Keras，亡于谷歌？",
        title="Keras，亡于谷歌？",
        published=datetime(2021, 4, 2, 6, 27, 15, tzinfo=UTC),
        published_raw="Fri, 02 Apr 2021 06:27:15 GMT",
        content_html=body,
        content_text="Keras 谷歌",
        categories=["新媒体", "36kr", "资讯"],
        headimg=headimg,
        thumbnail=headimg,
    )
    archive.articles.store(item, source.id, item.guid or item.url)


def test_the_seed_comes_out_byte_for_byte(archive: Archive, tmp_path: Path) -> None:
    """The seed's post, byte for byte, but for its body, which leaves sanitized (issue 14:
    no export carries a feed's markup unchecked into the user's site); the archive keeps the
    body as published."""
    from archiver.render import sanitize_html

    store_seed(archive)
    report = export_site(everything(archive), tmp_path, "hexo")
    assert report.written == 1
    post = tmp_path / "source" / "_posts" / "新媒体" / "36kr" / "资讯" / "Keras，亡于谷歌？.md"
    seed = SEED.read_text("utf-8")
    published = seed[seed.index(BODY_START) + len(BODY_START) : -len(BODY_END)]
    expected = seed.replace(published, sanitize_html(published))
    assert post.read_bytes() == expected.encode("utf-8")
    assert archive.articles.get(1)["content_html"] == published


def test_reexport_is_incremental_and_byte_identical(archive: Archive, tmp_path: Path) -> None:
    for n in range(1, 4):
        store(archive, make_item(n))
    first = export_site(everything(archive), tmp_path, "hexo")
    assert (first.articles, first.written, first.unchanged) == (3, 3, 0)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    again = export_site(everything(archive), tmp_path, "hexo")
    assert (again.written, again.unchanged, again.removed) == (0, 3, 0)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    store(archive, make_item(2, content_html="<p>changed</p>"))
    changed = export_site(everything(archive), tmp_path, "hexo")
    assert (changed.written, changed.unchanged) == (1, 2)
    narrowed = export_site(
        archive.articles.export(SearchFilters(query="title:1", limit=None)), tmp_path, "hexo"
    )
    assert (narrowed.articles, narrowed.removed) == (1, 2)
    manifest = json.loads((tmp_path / MANIFEST).read_text("utf-8"))
    assert len(manifest["files"]) == 1
    edited = next((tmp_path / "source").rglob("*.md"))
    edited.write_text("my own notes", "utf-8")
    nothing = export_site(
        archive.articles.export(SearchFilters(query="nothing-matches", limit=None)),
        tmp_path,
        "hexo",
    )
    assert (nothing.removed, nothing.kept_edited) == (0, 1)
    assert edited.read_text("utf-8") == "my own notes"


def test_names_are_safe_everywhere() -> None:
    assert safe_name('a<b>c:d"e/f\\g|h?i*j\x01k', suffix=".md") == "a_b_c_d_e_f_g_h_i_j_k.md"
    assert safe_name("CON", suffix=".md") == "_CON.md"
    assert safe_name("trailing. ") == "trailing"
    assert safe_name('"quoted"', portable=False) == '"quoted"'
    long = "区块链" * 60  # 540 bytes of UTF-8
    name = safe_name(long, suffix=".md")
    assert len(name.encode("utf-8")) <= 255
    assert name.endswith(".md")
    assert name.removesuffix(".md") == "区块链" * 28  # cut at a character boundary
    assert slugify("Keras，亡于谷歌？ Hello World!") == "keras-亡于谷歌-hello-world"
    allocator = PathAllocator()
    assert allocator.allocate("d", "Title", ".md", 1) == "d/Title.md"
    assert allocator.allocate("d", "title", ".md", 7) == "d/title~7.md"  # case-insensitive FS
    assert allocator.allocate("d", "Other", ".md", 3) == "d/Other.md"


def test_yaml_scalars_read_back_as_written() -> None:
    for value in ["36kr", "新媒体", "true", "null", "2021-04-02", "a: b", "- x", "#x", "1e3", ""]:
        assert yaml.safe_load(f"k: {plain_or_quoted(value)}") == {"k": value or None} or (
            value == "" and plain_or_quoted(value) == "''"
        )
    assert plain_or_quoted("36kr") == "36kr"
    assert seed_quoted("it's") == '"it\'s"'
    mixed = 'say "hi" it\'s'
    assert yaml.safe_load("k: " + seed_quoted(mixed))["k"] == mixed


def test_jekyll_hugo_and_jsonl(archive: Archive, tmp_path: Path) -> None:
    store(archive, make_item(1, title="Keras，亡于谷歌？", tags=["AI"]))
    store(archive, make_item(2, title="Keras，亡于谷歌？", published=None))
    jekyll = tmp_path / "jekyll"
    export_site(everything(archive), jekyll, "jekyll")
    names = sorted(p.name for p in (jekyll / "_posts").iterdir())
    assert names[0] == "2021-04-03-keras-亡于谷歌.html"
    assert len(names) == 2
    text = (jekyll / "_posts" / names[0]).read_text("utf-8")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["title"] == "Keras，亡于谷歌？"
    assert str(front["date"]).startswith("2021-04-03 06:27:15")
    assert front["categories"] == ["新媒体", "36kr"]
    assert front["tags"] == ["AI"]

    hugo = tmp_path / "hugo"
    export_site(everything(archive), hugo, "hugo")
    bundles = sorted(p.name for p in (hugo / "content" / "posts").iterdir())
    assert bundles == ["keras-亡于谷歌", "keras-亡于谷歌~2"]
    front = yaml.safe_load(
        (hugo / "content/posts/keras-亡于谷歌/index.html").read_text().split("---\n")[1]
    )
    assert front["date"] == datetime(2021, 4, 3, 6, 27, 15, tzinfo=UTC)

    dump = tmp_path / "dump"
    export_site(everything(archive), dump, "jsonl")
    lines = (dump / "articles.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == 2
    record = json.loads(lines[0])
    for key in ("id", "title", "content_html", "published_raw", "raw", "source_info", "images"):
        assert key in record
    assert export_site(everything(archive), dump, "jsonl").unchanged == 1


def test_images_are_copied_and_pointed_at(archive: Archive, tmp_path: Path) -> None:
    media = tmp_path / "media"
    sha = "ab" * 32
    (media / "images" / "ab").mkdir(parents=True)
    (media / "images" / "ab" / f"{sha}.png").write_bytes(b"png bytes")
    image = ImageRef(
        url="https://img.example.com/a.png",
        src="https://img.example.com/a.png",
        position=0,
        sha256=sha,
        path=f"images/ab/{sha}.png",
        size=9,
        status="downloaded",
    )
    store(
        archive,
        make_item(
            1,
            content_html='<p><img src="https://img.example.com/a.png"></p><p>{x}</p>',
            headimg="https://img.example.com/a.png",
            images=[image],
        ),
    )
    site = tmp_path / "site"
    report = export_site(everything(archive), site, "hexo", images="copy", media_dir=media)
    assert report.images_copied == 1
    assert (site / "source" / "images" / "ab" / f"{sha}.png").read_bytes() == b"png bytes"
    post = next((site / "source" / "_posts").rglob("*.md")).read_text("utf-8")
    assert f'src="/images/ab/{sha}.png"' in post
    assert f"headimg: '/images/ab/{sha}.png'" in post
    assert "&#123;x&#125;" in post
    remote = export_site(everything(archive), tmp_path / "remote", "hexo")
    assert remote.images_copied == 0
    assert "https://img.example.com/a.png" in next((tmp_path / "remote").rglob("*.md")).read_text()


def test_hexo_dates_follow_the_sites_timezone(archive: Archive, tmp_path: Path) -> None:
    """A Hexo site with ``timezone`` set reads front-matter dates as its wall-clock time:
    the export writes them so (the real Hexo reads them back in test_static_sites)."""
    store_seed(archive)
    site = tmp_path / "site"
    site.mkdir()

    def date_line() -> str:
        post = next(site.rglob("*.md")).read_text("utf-8")
        return next(line for line in post.splitlines() if line.startswith("date:"))

    (site / "_config.yml").write_text("title: x\ntimezone: Asia/Shanghai\n")
    export_site(everything(archive), site, "hexo")
    assert date_line() == "date: 2021-04-02 14:27:15"
    export_site(everything(archive), site, "hexo", site_timezone="America/New_York")
    assert date_line() == "date: 2021-04-02 02:27:15"  # the option over the file
    for unset in ("timezone: ''\n", "title: x\n", "timezone:\n"):
        (site / "_config.yml").write_text(unset)
        export_site(everything(archive), site, "hexo")
        assert date_line() == "date: Fri, 02 Apr 2021 06:27:15 GMT"  # the seed's form
    (site / "_config.yml").write_text("timezone: Mars/Base\n")
    with pytest.raises(ConfigurationError, match=r"_config.yml: timezone 'Mars/Base'"):
        export_site(everything(archive), site, "hexo")
    (site / "_config.yml").write_text("timezone: [unclosed\n")
    with pytest.raises(ConfigurationError, match=r"cannot read .*_config.yml"):
        export_site(everything(archive), site, "hexo")
    with pytest.raises(ConfigurationError, match="Hexo exports only"):
        export_site(everything(archive), tmp_path / "j", "jekyll", site_timezone="UTC")


def test_export_site_timezone_option(db_url: str, tmp_path: Path) -> None:
    archive = Archive(db_url)
    try:
        store_seed(archive)
    finally:
        archive.close()
    site = tmp_path / "site"
    base = ("--db", db_url, "--media", str(tmp_path / "media"), "export", str(site))
    done = run_archiver(*base, "--format", "hexo", "--site-timezone", "Asia/Shanghai")
    assert done.returncode == 0, done.stderr
    assert "date: 2021-04-02 14:27:15\n" in next(site.rglob("*.md")).read_text("utf-8")
    wrong = run_archiver(*base, "--format", "jekyll", "--site-timezone", "Asia/Shanghai")
    assert wrong.returncode == 2
    assert "--site-timezone" in wrong.stderr
    assert "hexo only" in wrong.stderr
    unknown = run_archiver(*base, "--format", "hexo", "--site-timezone", "Mars/Base")
    assert unknown.returncode == 2
    assert "unknown time zone 'Mars/Base'" in unknown.stderr
    (site / "_config.yml").write_text("timezone: Mars/Base\n")
    bad = run_archiver(*base, "--format", "hexo")
    assert bad.returncode == 2
    assert "timezone 'Mars/Base' is not a time zone" in bad.stderr
    assert "Traceback" not in bad.stderr
