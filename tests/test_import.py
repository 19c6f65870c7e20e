"""Importing Hexo, Jekyll and Hugo posts; the seed's corpus round-trips through the archive."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from archiver.cli.options import Context
from archiver.cli.transfer import export_command, import_command
from archiver.export.importer import import_posts
from archiver.export.markdown import markdown_to_html
from archiver.export.posts import split_front_matter
from archiver.export.site import export_site
from archiver.storage import Archive, SearchFilters
from tests.conftest import SHARED

CORPUS = SHARED / "corpora" / "hexo_posts" / "source" / "_posts"
SEED_KEYS = ["title", "categories", "headimg", "author", "comments", "date", "thumbnail"]
QUOTED_NAME = '"爱多纷"宣布完成亿元级Pre-A轮融资.md'


def corpus_posts() -> list[Path]:
    return sorted(CORPUS.rglob("*.md"))


@pytest.fixture
def imported(archive: Archive, tmp_path: Path) -> Archive:
    report = import_posts(archive, [CORPUS], media_dir=tmp_path / "media")
    assert (report.files, report.new, report.failed) == (11, 11, [])
    return archive


def test_the_corpus_round_trips_byte_for_byte(imported: Archive, tmp_path: Path) -> None:
    site = tmp_path / "site"
    export_site(
        imported.articles.export(SearchFilters(limit=None)),
        site,
        "hexo",
        portable_names=False,
        sanitize=False,
    )
    for post in corpus_posts():
        exported = site / "source" / "_posts" / post.relative_to(CORPUS)
        assert exported.read_bytes() == post.read_bytes(), post.name


def test_imported_posts_export_back_to_the_paths_they_came_from(
    imported: Archive, tmp_path: Path
) -> None:
    """Portable names are for new articles: an imported post keeps its site's own name
    (the quotes of QUOTED_NAME included), so exporting into the site it came from leaves one
    file per post."""
    import shutil

    site = tmp_path / "site"
    shutil.copytree(CORPUS, site / "source" / "_posts")
    report = export_site(
        imported.articles.export(SearchFilters(limit=None)), site, "hexo", sanitize=False
    )
    assert (report.articles, report.written, report.unchanged) == (11, 11, 0)
    exported = sorted(p.relative_to(site / "source" / "_posts") for p in site.rglob("*.md"))
    assert exported == [p.relative_to(CORPUS) for p in corpus_posts()]
    assert QUOTED_NAME in {p.name for p in exported}
    for post in corpus_posts():
        assert (site / "source" / "_posts" / post.relative_to(CORPUS)).read_bytes() == (
            post.read_bytes()
        )


def test_new_articles_and_unsafe_imported_paths_keep_the_naming_rule(
    archive: Archive, tmp_path: Path
) -> None:
    posts = tmp_path / "blog" / "source" / "_posts"
    posts.mkdir(parents=True)
    seed = next(CORPUS.rglob("Keras*.md"))
    (posts / "Keras.md").write_bytes(seed.read_bytes())
    import_posts(archive, [posts], media_dir=tmp_path / "media")
    rows = list(archive.articles.export(SearchFilters(limit=None)))
    assert rows[0]["raw"]["import"]["path"] == "Keras.md"
    # As another site's post (jekyll), and as a path that leaves the posts directory.
    elsewhere = {**rows[0], "raw": {"import": {**rows[0]["raw"]["import"], "format": "jekyll"}}}
    escaping = {**rows[0], "raw": {"import": {**rows[0]["raw"]["import"], "path": "../x.md"}}}
    for article in (elsewhere, escaping):
        site = tmp_path / f"site-{id(article)}"
        export_site([article], site, "hexo")
        assert [p.name for p in site.rglob("*.md")] == ["Keras，亡于谷歌？.md"]
    assert not (tmp_path / "x.md").exists()
    # A new article whose title holds what Windows refuses gets the portable name.
    quoted = {**rows[0], "raw": {}, "title": '"爱多纷"宣布'}
    site = tmp_path / "new"
    export_site([quoted], site, "hexo")
    assert [p.name for p in site.rglob("*.md")] == ["_爱多纷_宣布.md"]


def test_front_matter_comes_out_key_for_key(imported: Archive, tmp_path: Path) -> None:
    import yaml

    export_site(imported.articles.export(SearchFilters(limit=None)), tmp_path, "hexo")
    seed = next(CORPUS.rglob("Keras*.md"))
    exported = next(tmp_path.rglob("Keras*.md"))
    front, _, _ = split_front_matter(exported.read_text("utf-8"))
    original, _, _ = split_front_matter(seed.read_text("utf-8"))
    assert front is not None
    assert original is not None
    assert list(yaml.safe_load(front)) == SEED_KEYS
    assert yaml.safe_load(front) == yaml.safe_load(original)


def test_raw_values_are_kept_beside_normalized_ones(imported: Archive) -> None:
    rows = imported.articles.search(SearchFilters(query="Nomad被攻击"))
    assert len(rows) == 1
    article = imported.articles.get(rows[0]["id"])
    assert article["published"] is None
    assert article["published_raw"] == "Invalid Date"
    keras = imported.articles.get(
        imported.articles.search(SearchFilters(query="title:Keras"))[0]["id"]
    )
    assert keras["published"] == "2021-04-02T06:27:15Z"
    assert keras["authors"] == []  # `author: 36kr` names the source, not a person
    assert keras["authors_raw"] == ["36kr"]
    assert keras["categories"] == ["新媒体", "36kr", "资讯"]
    assert keras["headimg"].startswith("https://img.36krcdn.com/")
    assert keras["source"] == "新媒体/36kr/资讯"
    sources = {s.name: s for s in imported.sources.all()}
    assert sources["新媒体/36kr/资讯"].kind == "import"
    assert sources["新媒体/36kr/资讯"].categories == ["新媒体", "36kr", "资讯"]
    placeholder = imported.articles.search(SearchFilters(query="爱多纷"))[0]
    assert placeholder["headimg"] == "https://picsum.photos/400/300?random=5904"


def test_chinese_search_finds_the_imported_posts(imported: Archive) -> None:
    assert [r["title"] for r in imported.articles.search(SearchFilters(query="谷歌"))] == [
        "Keras，亡于谷歌？"
    ]
    assert len(imported.articles.search(SearchFilters(query="闪电贷"))) == 3
    assert len(imported.articles.search(SearchFilters(query="金色财经 category:快讯"))) >= 1


def test_importing_again_changes_nothing(imported: Archive, tmp_path: Path) -> None:
    report = import_posts(imported, [CORPUS], media_dir=tmp_path / "media")
    assert (report.new, report.updated, report.unchanged) == (0, 0, 11)


def test_hugo_and_jekyll_posts_with_local_images(archive: Archive, tmp_path: Path) -> None:
    bundle = tmp_path / "hugo" / "content" / "posts" / "hello"
    bundle.mkdir(parents=True)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
    (bundle / "cover.png").write_bytes(png)
    (bundle / "index.md").write_text(
        '+++\ntitle = "Hello {world}"\ndate = 2021-04-02T14:27:15+08:00\n'
        'tags = ["a", "b"]\nimages = ["cover.png"]\n+++\n\n# Hi\n\nSome **bold** text.\n\n'
        "![cover](cover.png)\n",
        "utf-8",
    )
    posts = tmp_path / "jekyll" / "_posts"
    posts.mkdir(parents=True)
    (posts / "2021-04-02-naive.md").write_text(
        "---\nlayout: post\ntitle: Naive\ndate: 2021-04-02 10:00:00\ncategories: [tech]\n"
        "author: Alice\n---\n<p>Hello 世界</p>\n",
        "utf-8",
    )
    (posts / "broken.md").write_text("no front matter here\n", "utf-8")
    media = tmp_path / "media"
    report = import_posts(
        archive, [tmp_path / "hugo", tmp_path / "jekyll"], media_dir=media, timezone="Asia/Tokyo"
    )
    assert report.new == 2
    assert report.images_copied == 1
    assert [path for path, _ in report.failed] == [str(posts / "broken.md")]
    hugo = archive.articles.get(archive.articles.search(SearchFilters(query="bold"))[0]["id"])
    assert hugo["published"] == "2021-04-02T06:27:15Z"
    assert hugo["title"] == "Hello {world}"
    assert hugo["tags"] == ["a", "b"]
    assert "<strong>bold</strong>" in hugo["content_html"]
    assert hugo["images"][0]["status"] == "downloaded"
    assert (media / hugo["images"][0]["path"]).read_bytes() == png
    jekyll = archive.articles.get(archive.articles.search(SearchFilters(query="世界"))[0]["id"])
    assert jekyll["published"] == "2021-04-02T01:00:00Z"  # naive: --timezone Asia/Tokyo
    assert jekyll["published_raw"] == "2021-04-02 10:00:00"
    assert jekyll["authors"] == ["Alice"]

    site = tmp_path / "site"
    export_site(
        archive.articles.export(SearchFilters(limit=None)), site, "hugo", images="copy",
        media_dir=media,
    )  # fmt: skip
    exported = (site / "content" / "posts" / "hello-world" / "index.html").read_text("utf-8")
    image_name = hugo["images"][0]["path"].rsplit("/", 1)[-1]
    assert f'src="{image_name}"' in exported
    assert (site / "content" / "posts" / "hello-world" / image_name).read_bytes() == png


def test_markdown_subset() -> None:
    html = markdown_to_html(
        "## Title\n\nA [link](https://a.example) and `x<y`.\n\n- one\n- two\n\n```py\n"
        "a < b\n```\n\n> quoted\n"
    )
    assert "<h2>Title</h2>" in html
    assert '<a href="https://a.example">link</a>' in html
    assert "<code>x&lt;y</code>" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html
    assert '<pre><code class="language-py">a &lt; b</code></pre>' in html
    assert "<blockquote><p>quoted</p></blockquote>" in html


def group_with_commands(db_url: str, media: Path) -> click.Group:
    @click.group()
    @click.pass_context
    def group(ctx: click.Context) -> None:
        ctx.obj = Context(db_url, str(media), 0)

    group.add_command(export_command)
    group.add_command(import_command)
    return group


def test_import_and_export_commands(db_url: str, tmp_path: Path) -> None:
    group = group_with_commands(db_url, tmp_path / "media")
    runner = CliRunner()
    result = runner.invoke(group, ["import", str(CORPUS)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("11 files: 11 new, 0 updated, 0 unchanged, 0 failed")
    site = tmp_path / "site"
    args = ["export", str(site), "--format", "hexo", "--category", "金色财经", "--posix-names"]
    result = runner.invoke(group, [*args, "--as-published"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "5 articles" in result.stdout
    posts = sorted((site / "source" / "_posts").rglob("*.md"))
    assert len(posts) == 5
    originals = {p.relative_to(CORPUS): p.read_bytes() for p in corpus_posts()}
    for post in posts:  # as published: the user's own posts back, byte for byte
        assert post.read_bytes() == originals[post.relative_to(site / "source" / "_posts")]
    result = runner.invoke(group, ["import", str(tmp_path / "site" / ".archiver-export.json")])
    assert result.exit_code == 1
    assert "no front-matter" in result.stderr
    result = runner.invoke(group, ["import", str(CORPUS), "--timezone", "Mars/Base"])
    assert result.exit_code == 2


@pytest.mark.postgres
def test_import_and_export_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    archive = Archive(postgres_url)
    try:
        report = import_posts(archive, [CORPUS], media_dir=tmp_path / "media")
        assert (report.new, report.failed) == (11, [])
        assert import_posts(archive, [CORPUS], media_dir=tmp_path / "media").unchanged == 11
        site = tmp_path / "site"
        export_site(
            archive.articles.export(SearchFilters(limit=None)),
            site,
            "hexo",
            portable_names=False,
            sanitize=False,
        )
        for post in corpus_posts():
            exported = site / "source" / "_posts" / post.relative_to(CORPUS)
            assert exported.read_bytes() == post.read_bytes(), post.name
        assert len(archive.articles.search(SearchFilters(query="闪电贷"))) == 3
    finally:
        archive.close()


def test_big_imports_read_files_in_worker_processes(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archiver.export.importer as importer

    monkeypatch.setattr(importer, "PARALLEL_FROM", 2)
    broken = tmp_path / "posts" / "broken.md"
    broken.parent.mkdir()
    broken.write_text("no front matter", "utf-8")
    report = import_posts(archive, [CORPUS, broken.parent], media_dir=tmp_path / "m", workers=2)
    assert (report.files, report.new, len(report.failed)) == (12, 11, 1)
    assert len(archive.articles.search(SearchFilters(query="闪电贷"))) == 3


def test_a_big_import_writes_batches_as_the_readers_go(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    import archiver.export.importer as importer

    monkeypatch.setattr(importer, "PARALLEL_FROM", 2)
    monkeypatch.setattr(importer, "CHUNK", 2)
    monkeypatch.setattr(importer, "EAGER_BATCH", 1)  # write whatever is read when waiting
    written: list[int] = []
    flush = importer._Writer.flush

    def counted(writer: importer._Writer) -> None:
        written.append(len(writer.batch))
        flush(writer)

    monkeypatch.setattr(importer._Writer, "flush", counted)
    report = import_posts(archive, [CORPUS], media_dir=tmp_path / "m", workers=2, batch_size=4)
    assert (report.files, report.new, report.failed) == (11, 11, [])
    assert sum(written) == 11
    assert max(written) <= 4
    assert gc.isenabled()  # paused for the import only
    assert len(archive.articles.search(SearchFilters(query="闪电贷"))) == 3
    again = import_posts(archive, [CORPUS], media_dir=tmp_path / "m", workers=0, batch_size=4)
    assert (again.new, again.unchanged) == (0, 11)
