"""Stories of copies: the fingerprint's variations, the origin rule, the mock site's copies
crawled through the real command (pair precision and recall), --collapse, the overrides."""

from __future__ import annotations

import itertools
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archiver.items import ArticleItem
from archiver.storage import Archive, SearchFilters
from archiver.stories.fingerprint import (
    COPY_RESEMBLANCE,
    are_copies,
    fingerprint,
    resemblance,
    shingles,
)
from archiver.stories.origin import Copy, choose_origin
from tests.conftest import run_archiver
from tests.mocksite import copies as mock

SEED = (
    Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_c534944dd18d71d7.txt"
).read_text("utf-8")
KERAS = "\n".join(
    line.strip() for line in SEED.split("---", 2)[2].splitlines() if line.strip()
)  # the seed's body: HTML, one block a line


def text_of(html: str) -> str:
    from archiver.normalize.text import html_to_text

    return html_to_text(html) or ""


ORIGINAL = text_of(KERAS)
ENGLISH = "\n".join(mock.ENGLISH["orchestra"][1])


# -- the fingerprint, variation by variation --------------------------------------------------


def shared_band(first: str, second: str) -> bool:
    a, b = fingerprint(first), fingerprint(second)
    assert a is not None
    assert b is not None
    return any(x == y for x, y in zip(a.bands, b.bands, strict=True))


@pytest.mark.parametrize(
    ("variation", "text"),
    [
        (
            "editor's note",
            "编者按：本文来自微信公众号“机器之心”（ID:almosthuman2014），作者：编辑部，36氪经授权发布。\n"
            + ORIGINAL,
        ),
        (
            "boilerplate and ads",
            ORIGINAL.replace("\n", "\n【广告】扫码领取新人专享礼包，名额有限！\n", 1)
            + "\n关注我们，获取更多科技资讯。本文版权归原作者所有，如有侵权请联系删除。"
            + "\n新用户首月仅需9.9元，立即下载APP体验全部功能。",
        ),
        ("images re-hosted", text_of(KERAS.replace("img.36krcdn.com", "cdn.mirror.example"))),
        (
            "markup rewritten",
            text_of(
                KERAS.replace("<p>", '<div class="x"><span>')
                .replace("</p>", "</span><br></div>")
                .replace("\n", "")
            ),
        ),
        ("traditional characters", __import__("opencc").OpenCC("s2t").convert(ORIGINAL)),
        (
            "full-width and case",
            ORIGINAL.replace("Keras", "ＫＥＲＡＳ").replace("2015", "２０１５"),
        ),
        ("a paragraph dropped", "\n".join(ORIGINAL.splitlines()[:-2])),
    ],
)
def test_a_copy_survives_each_variation(variation: str, text: str) -> None:
    # re-hosted images and rewritten markup leave the text as it was: html_to_text sees to it
    assert text != ORIGINAL or variation in ("images re-hosted", "markup rewritten")
    assert are_copies(shingles(ORIGINAL), shingles(text)), variation
    assert resemblance(shingles(ORIGINAL), shingles(text)) >= 0.8, variation
    assert shared_band(ORIGINAL, text), variation


def test_english_copies_and_their_notes() -> None:
    noted = (
        "Editor's note: This article was originally published by Origin News and is "
        "republished here with permission.\n" + ENGLISH + "\nAll rights reserved."
    )
    assert resemblance(shingles(ENGLISH), shingles(noted)) == 1.0
    assert shared_band(ENGLISH, noted)


def test_the_title_is_no_part_of_the_fingerprint() -> None:
    from archiver.normalize.article import normalize_article

    items = []
    for title in ("Keras，亡于谷歌？", "深度｜谷歌杀死了Keras？"):
        item = ArticleItem(url="https://a.example/1", source_url="https://a.example/feed")
        item.title_raw, item.content_html = title, KERAS
        normalize_article(item)
        items.append(item)
    assert fingerprint(items[0].content_text) == fingerprint(items[1].content_text)


def test_look_alikes_stay_apart() -> None:
    flash = "\n".join(mock.FLASH_EN[1])
    feature = "\n".join(mock.FEATURE_EN[1])
    assert not are_copies(shingles(flash), shingles(feature))
    feature_zh = "\n".join(mock.FEATURE_ZH[1])
    flash_zh = (
        "10月份，中国制造业采购经理指数（PMI）为49.2%，比上月下降0.4个百分点，继续低于临界点，"
        "制造业景气度有所减弱。非制造业商务活动指数为52.4%，比上月下降0.8个百分点，但仍高于"
        "临界点，非制造业继续保持扩张。（证券时报）"
    )
    assert not are_copies(shingles(flash_zh), shingles(feature_zh))
    # the feature holds the newsflash's lead: containment is high, resemblance is not
    assert resemblance(shingles(flash_zh), shingles(feature_zh)) < COPY_RESEMBLANCE / 2


def test_a_text_too_short_has_no_fingerprint() -> None:
    assert fingerprint("Photo of the day") is None
    assert fingerprint("") is None
    assert fingerprint(None) is None
    assert fingerprint(ORIGINAL) is not None


def test_unrelated_real_texts_share_no_band() -> None:
    texts = [
        text_of(path.read_text("utf-8").split("---", 2)[2])
        for path in mock.HEXO_POSTS.rglob("*.md")
    ]
    texts += ["\n".join(paragraphs) for _, paragraphs in mock.ENGLISH.values()]
    prints = [fingerprint(t) for t in texts]
    for (i, a), (j, b) in itertools.combinations(enumerate(prints), 2):
        assert a is not None
        assert b is not None
        assert not set(enumerate(a.bands)) & set(enumerate(b.bands)), (i, j)


# -- the origin rule -----------------------------------------------------------------------------

T0 = datetime(2021, 4, 2, tzinfo=UTC)


def copy(id: int, url: str, **fields: Any) -> Copy:
    values: dict[str, Any] = {
        "canonical_url": None,
        "origin_url": None,
        "published": T0 + timedelta(hours=id),
        "first_seen": T0,
    }
    values.update(fields)
    return Copy(id, url, **values)


def test_the_origin_is_the_declared_one_then_the_canonical_then_the_earliest() -> None:
    original = copy(3, "https://mp.example/s/abc")
    republished = copy(1, "https://36kr.example/p/1", origin_url="https://mp.example/s/abc/")
    mirror = copy(2, "https://mirror.example/1", canonical_url="https://36kr.example/p/1")
    assert choose_origin([original, republished, mirror]) == 3  # declared, though latest
    assert choose_origin([republished, mirror]) == 1  # named canonical by the mirror
    undated = copy(4, "https://d.example/1", published=None)
    assert choose_origin([undated, copy(5, "https://e.example/1")]) == 5
    assert choose_origin([copy(7, "https://f.example/1", published=T0)] * 1) == 7
    with pytest.raises(ValueError):
        choose_origin([])


# -- the archive: linking, overrides, rebuild ----------------------------------------------------


def store(archive: Archive, source: str, text: str, **fields: Any) -> int:
    record = archive.sources.ensure(f"https://{source}/feed", kind="rss")
    item = ArticleItem(
        url=f"https://{source}/{len(text)}",
        source_url=record.url,
        title=fields.pop("title", source),
        content_html="".join(f"<p>{line}</p>" for line in text.splitlines()),
        content_text=text,
        **fields,
    )
    return archive.articles.store(item, record.id, item.url).article_id


def test_linking_splitting_and_merging_are_remembered(archive: Archive) -> None:
    first = store(archive, "a.example", ORIGINAL, published=T0)
    second = store(archive, "b.example", "编者按：本文来自微信公众号。\n" + ORIGINAL)
    alone = store(archive, "c.example", "\n".join(mock.FEATURE_ZH[1]))
    third = store(archive, "d.example", ORIGINAL + "\n关注我们。")
    stories = archive.stories.link([first, second, alone, third])
    assert stories[alone] is None
    assert stories[first] is not None
    assert stories[first] == stories[second] == stories[third]
    story = archive.articles.get(second)["story"]
    assert story["origin"] == first
    assert story["copies"][0]["id"] == first
    assert {c["id"] for c in story["copies"]} == {first, second, third}

    left = archive.stories.split(second)["left"]
    assert {c["id"] for c in left["copies"]} == {first, third}
    assert archive.articles.get(second)["story"] is None
    archive.stories.link([second])  # linking again obeys the split
    assert archive.articles.get(second)["story"] is None
    archive.stories.merge(alone, first)
    report = archive.stories.rebuild()
    assert (report.articles, report.fingerprinted, report.stories) == (4, 4, 1)
    assert archive.articles.get(second)["story"] is None  # the split survives a rebuild
    rebuilt = archive.articles.get(alone)["story"]
    assert {c["id"] for c in rebuilt["copies"]} == {first, third, alone}  # so does the merge

    archive.stories.merge(second, third)  # the person changes their mind: merge undoes split
    assert archive.articles.get(second)["story"]["id"] == rebuilt["id"]
    archive.stories.rebuild()
    assert len(archive.articles.get(first)["story"]["copies"]) == 4


def test_a_changed_text_leaves_its_story(archive: Archive) -> None:
    first = store(archive, "a.example", ORIGINAL)
    record = archive.sources.ensure("https://b.example/feed", kind="rss")
    item = ArticleItem(url="https://b.example/1", source_url=record.url, content_text=ORIGINAL)
    item.content_html = KERAS
    second = archive.articles.store(item, record.id, "b-1").article_id
    assert archive.stories.link([first, second])[second] is not None
    item.content_html = "".join(f"<p>{p}</p>" for p in mock.FEATURE_EN[1])
    item.content_text = "\n".join(mock.FEATURE_EN[1])
    assert archive.articles.store(item, record.id, "b-1").outcome == "updated"
    assert archive.stories.link([second])[second] is None
    assert archive.articles.get(first)["story"] is None  # a story of one is no story


def test_a_batch_that_merges_two_stories_links_its_later_copies_rightly(
    archive: Archive,
) -> None:
    # A text between two others, a copy of each though they are no copies of each other,
    # makes their stories one; SQLite then gives the id of the story merged away to the next
    # story made in the same batch, whose copies must not follow the old id into the first.
    lines = ORIGINAL.splitlines()
    before, between, after = ("\n".join(lines[start : start + 12]) for start in (0, 4, 8))
    assert are_copies(shingles(before), shingles(between))
    assert are_copies(shingles(between), shingles(after))
    assert not are_copies(shingles(before), shingles(after))
    first = [store(archive, f"{name}.example", text) for name, text in (
        ("a", before), ("b", before + "\n关注我们。"), ("c", after), ("d", after + "\n关注我们。")
    )]  # fmt: skip
    stories = archive.stories.link(first)
    assert stories[first[0]] == stories[first[1]] != stories[first[2]] == stories[first[3]]
    other = "\n".join(mock.FEATURE_EN[1])
    second = [store(archive, "e.example", between)] + [
        store(archive, f"{name}.example", other + note)
        for name, note in (("f", ""), ("g", "\nThe end."), ("h", "\nMore soon."))
    ]
    stories = archive.stories.link(second)
    together = {stories[id_] for id_ in second[1:]}
    assert len(together) == 1
    assert None not in together
    merged = archive.articles.get(first[0])["story"]
    assert {copy["id"] for copy in merged["copies"]} == {*first, second[0]}
    apart = archive.articles.get(second[1])["story"]
    assert {copy["id"] for copy in apart["copies"]} == set(second[1:])


@pytest.mark.postgres
def test_stories_on_postgresql(postgres_url: str) -> None:
    archive = Archive(postgres_url)
    try:
        ids = [
            store(archive, "a.example", ORIGINAL),
            store(archive, "b.example", "编者按：本文来自微信公众号。\n" + ORIGINAL),
            store(archive, "c.example", "\n".join(mock.FEATURE_ZH[1])),
        ]
        stories = archive.stories.link(ids)
        assert stories[ids[0]] == stories[ids[1]] is not None
        assert stories[ids[2]] is None
        collapsed = archive.articles.search(SearchFilters(collapse=True))
        assert sorted(row["id"] for row in collapsed) == [ids[0], ids[2]]
    finally:
        archive.close()


# -- the mock site's copies, through the real command --------------------------------------------


@pytest.fixture(scope="module")
def crawled(mock_site: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of every copies feed of the mock site, crawled once for the module."""
    directory = tmp_path_factory.mktemp("copies")
    urls = [
        mock_site.url(f"/copies/{name}.xml")
        for name in ("origin", "noted", "mirror", "traditional", "rsshub")
    ]
    result = run_archiver(
        "--db",
        str(directory / "archive.db"),
        "--media",
        str(directory / "media"),
        "crawl",
        *urls,
        "--no-images",
        "--full-text",
        "never",
    )
    assert result.returncode == 0, result.stderr
    return directory / "archive.db"


def archiver_on(db: Path, *args: str) -> Any:
    result = run_archiver("--db", str(db), "--media", str(db.parent / "media"), *args)
    assert result.returncode == 0, result.stderr
    return result


def listing(db: Path, *args: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = archiver_on(
        db, "search", "--limit", "1000", "--format", "json", *args
    ).json()
    return rows


def pair_scores(rows: list[dict[str, Any]], truth: dict[str, str]) -> tuple[float, float]:
    """Pair precision and recall of the archive's stories against the truth."""
    found = {
        (a["url"], b["url"])
        for a, b in itertools.combinations(rows, 2)
        if a["story"] and a["story"] == b["story"]
    }
    true = {
        (a["url"], b["url"])
        for a, b in itertools.combinations(rows, 2)
        if truth[a["url"]] == truth[b["url"]]
    }
    hits = len(found & true)
    return (hits / len(found) if found else 1.0), (hits / len(true) if true else 1.0)


def test_copies_across_feeds_are_one_story(crawled: Path, mock_site: Any) -> None:
    truth = {row["url"]: row["story"] for row in mock_site.get("/copies/truth.json").json()}
    rows = listing(crawled)
    assert {row["url"] for row in rows} == set(truth)
    precision, recall = pair_scores(rows, truth)
    assert precision >= 0.99, precision
    assert recall >= 0.95, recall
    by_url = {row["url"]: row for row in rows}
    for story in {row["story"] for row in mock_site.get("/copies/truth.json").json()}:
        members = [by_url[u] for u, s in truth.items() if s == story]
        assert len({m["story"] for m in members}) == 1, story  # every variation linked
        assert all(m["copies"] == len(members) for m in members), story
    flash = by_url[mock_site.url("/copies/origin/flash-en.html")]
    feature = by_url[mock_site.url("/copies/origin/feature-en.html")]
    assert flash["story"] != feature["story"]


def test_show_gives_the_story_with_its_origin(crawled: Path, mock_site: Any) -> None:
    noted = mock_site.url("/copies/noted/post-3.html")
    detail = archiver_on(crawled, "show", noted, "--format", "json").json()
    story = detail["story"]
    origin = next(c for c in story["copies"] if c["id"] == story["origin"])
    assert origin["url"] == mock_site.url("/copies/origin/post-3.html")  # declared by the note
    assert story["copies"][0]["id"] == story["origin"]
    assert len({c["source"] for c in story["copies"]}) == len(story["copies"]) == 5
    assert set(story["copies"][0]) >= {"id", "source", "url", "published"}
    english = archiver_on(crawled, "show", mock_site.url("/copies/mirror/bees.html")).json()
    origin = next(c for c in english["story"]["copies"] if c["id"] == english["story"]["origin"])
    assert origin["url"] == mock_site.url("/copies/origin/bees.html")  # the earliest


def test_collapse_gives_one_row_and_one_post_per_story(
    crawled: Path, mock_site: Any, tmp_path: Path
) -> None:
    truth = {row["url"]: row["story"] for row in mock_site.get("/copies/truth.json").json()}
    collapsed = listing(crawled, "--collapse")
    assert len(collapsed) == len(set(truth.values()))
    assert len({truth[row["url"]] for row in collapsed}) == len(collapsed)
    noted_stories = {
        s for u, s in truth.items() if "/copies/noted/" in u and not u.endswith(("-en.html",))
    }
    for row in collapsed:
        if truth[row["url"]] in noted_stories and row["url"].rsplit("/", 1)[1].startswith("post-"):
            assert "/copies/origin/" in row["url"], row["url"]  # the origin's row
    query = listing(crawled, "Copilot", "--collapse")
    assert len(query) == 1
    assert query[0]["copies"] == 5
    assert len(listing(crawled, "Copilot")) == 5
    limited = archiver_on(
        crawled, "search", "--collapse", "--limit", "3", "--format", "json"
    ).json()
    assert len(limited) == 3
    assert len({row["story"] or row["id"] for row in limited}) == 3

    out = tmp_path / "dump"
    archiver_on(crawled, "export", str(out), "--format", "jsonl", "--collapse")
    posts = [json.loads(line) for line in next(out.glob("*.jsonl")).read_text("utf-8").splitlines()]
    assert len(posts) == len(set(truth.values()))
    assert all(
        p["story"] is None or p["story"]["origin"] == p["id"]
        for p in posts
        if "/copies/origin/" in p["url"]
    )
    full = tmp_path / "full"
    archiver_on(crawled, "export", str(full), "--format", "jsonl")
    assert len(next(full.glob("*.jsonl")).read_text("utf-8").splitlines()) == len(truth)


def test_the_stories_commands(crawled: Path, mock_site: Any, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    shutil.copy(crawled, db)
    stories = archiver_on(db, "stories", "list", "--format", "json").json()
    assert stories
    assert all(s["copies"] >= 2 for s in stories)
    noted = archiver_on(db, "show", mock_site.url("/copies/noted/post-3.html")).json()
    story_id, article_id = noted["story"]["id"], noted["id"]
    shown = archiver_on(db, "stories", "show", str(story_id), "--format", "json").json()
    assert shown["id"] == story_id
    assert len(shown["copies"]) == 5
    split = archiver_on(db, "stories", "split", str(article_id))
    assert f"article {article_id} stands alone" in split.stdout
    rebuilt = archiver_on(db, "stories", "rebuild", "--json").json()
    assert rebuilt["articles"] == len(mock_site.get("/copies/truth.json").json())
    assert archiver_on(db, "show", str(article_id)).json()["story"] is None
    alone = run_archiver("--db", str(db), "stories", "split", str(article_id))
    assert alone.returncode == 1
    assert "in no story" in alone.stderr
    other = next(c["id"] for c in shown["copies"] if c["id"] != article_id)
    merged = archiver_on(
        db, "stories", "merge", str(article_id), str(other), "--format", "json"
    ).json()
    assert len(merged["copies"]) == 5  # merge undoes the split (rebuilds keep both: see above)

    unknown = run_archiver("--db", str(db), "stories", "split", str(article_id + 10_000))
    assert unknown.returncode == 1
    assert len(unknown.stderr.strip().splitlines()) == 1
    same = run_archiver("--db", str(db), "stories", "merge", "1", "1")
    assert same.returncode == 2
    assert "two different articles" in same.stderr
