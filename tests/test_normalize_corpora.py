"""The normalizers against real data: the seed post, the hexo posts, feedparser's date tests.

The corpora live in the shared folder beside the project (never copied in); tests skip when
it is missing.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archiver.normalize.dates import parse_date
from archiver.normalize.images import choose_head_image, is_meaningful_image_url
from archiver.normalize.people import parse_authors
from archiver.normalize.provenance import Origin, detect_origin
from archiver.normalize.text import clean_terms, clean_title, detect_language, html_to_text

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seed" / "000_c534944dd18d71d7.txt"
HEXO_POSTS = SHARED / "corpora" / "hexo_posts" / "source" / "_posts"
FEEDPARSER = SHARED / "corpora" / "feedparser" / "wellformed"


@dataclass
class Post:
    """A hexo post in the seed's format: its front-matter fields and its body."""

    path: Path
    title: str
    categories: list[str]
    headimg: str
    thumbnail: str
    author: str
    date: str
    body: str


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def read_post(path: Path) -> Post:
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---", 2)
    fields: dict[str, str] = {}
    categories: list[str] = []
    for line in front.splitlines():
        if line.startswith(" - "):
            categories.append(line[3:].strip())
        elif ":" in line:
            key, value = line.split(":", 1)
            fields[key.strip()] = _unquote(value)
    return Post(
        path,
        fields["title"],
        categories,
        fields["headimg"],
        fields["thumbnail"],
        fields["author"],
        fields["date"],
        body,
    )


def hexo_posts() -> list[Path]:
    return sorted(HEXO_POSTS.rglob("*.md")) if HEXO_POSTS.is_dir() else []


POSTS = pytest.mark.parametrize(
    "path",
    hexo_posts() or [pytest.param(None, marks=pytest.mark.skip("no shared corpora"))],
    ids=lambda p: p.stem[:24] if p else "missing",
)


# -- the seed --


@pytest.fixture(scope="module")
def seed() -> Post:
    if not SEED.is_file():
        pytest.skip(f"{SEED} is not there")
    return read_post(SEED)


def test_seed_front_matter(seed: Post) -> None:
    parsed = parse_date(seed.date, language="zh-cn")
    assert parsed.value == datetime(2021, 4, 2, 6, 27, 15, tzinfo=UTC)
    assert parsed.rule == "explicit"
    assert clean_title(seed.title, source_name="36氪") == "Keras，亡于谷歌？"
    assert clean_terms(seed.categories) == ["新媒体", "36kr", "资讯"]
    assert detect_language(None, html_to_text(seed.body)) == "zh"
    assert parse_authors([]) == []  # the generator's "author: 36kr" was the source, not a person


def test_seed_head_image(seed: Post) -> None:
    head, thumbnail = choose_head_image(
        media=[], content_html=seed.body, base_url="https://36kr.com/p/1170000"
    )
    assert head == seed.headimg
    assert thumbnail == seed.thumbnail


def test_seed_provenance(seed: Post) -> None:
    origin = detect_origin(seed.body, url="https://36kr.com/p/1170000", canonical_url=None)
    assert origin == Origin(
        name="机器之心",
        url="https://mp.weixin.qq.com/s/PqXmFPi0qdSQWu-1hOREXw",
        account_id="almosthuman2014",
        evidence="本文来自",
    )


# -- the hexo posts --


@POSTS
def test_hexo_post_date(path: Path) -> None:
    post = read_post(path)
    parsed = parse_date(post.date, language="zh-cn", now=datetime(2023, 1, 1, tzinfo=UTC))
    assert parsed.raw == post.date
    if post.date == "Invalid Date":
        assert (parsed.value, parsed.flags) == (None, ("unparseable",))
    else:
        assert parsed.value == email.utils.parsedate_to_datetime(post.date)
        assert parsed.flags == ()


@POSTS
def test_hexo_post_title_survives(path: Path) -> None:
    post = read_post(path)
    assert clean_title(post.title, source_name=post.categories[1]) == post.title


@POSTS
def test_hexo_post_head_image(path: Path) -> None:
    post = read_post(path)
    placeholder = post.headimg.startswith("https://picsum.photos/")
    assert is_meaningful_image_url(post.headimg) is not placeholder
    head, thumbnail = choose_head_image(media=[], content_html=post.body, base_url=None)
    first_img = re.search(r'<img\b[^>]*\bsrc="([^"]+)"', post.body)
    if placeholder:
        assert (head, thumbnail) == (None, None)  # these bodies have no image of their own
    else:
        assert first_img is not None
        assert head == thumbnail == post.headimg == first_img.group(1)
        assert head.startswith("https://img.36krcdn.com/")


def test_the_wrongly_resolved_head_image_is_rejected() -> None:
    assert not is_meaningful_image_url("https://www.jianshu.com/p/undefined")
    html = '<img src="undefined"><img src="https://img.36krcdn.com/x_img_000">'
    head, _ = choose_head_image(media=[], content_html=html, base_url="https://www.jianshu.com/p/")
    assert head == "https://img.36krcdn.com/x_img_000"


@POSTS
def test_hexo_post_text_and_provenance(path: Path) -> None:
    post = read_post(path)
    text = html_to_text(post.body)
    assert text
    assert not re.search(r"</?(?:p|div|img|a|br)\b", text)
    origin = detect_origin(post.body, url="https://36kr.com/p/1", canonical_url=None)
    if "本文来自" in post.body:
        assert origin is not None
        assert origin.evidence == "本文来自"
        assert origin.url is not None
        assert origin.url.startswith("https://mp.weixin.qq.com/s/")


# -- feedparser's date tests --

_EXPECT = re.compile(r"Expect:\s*(.*)")
_PARSED_CHECK = re.compile(r"\['(\w+)_parsed'\]\s*==\s*\((\d+(?:,\s*\d+){8})\)")
_ELEMENTS = {
    "updated": ("updated", "modified", "dc:date", "dcterms:modified", "lastBuildDate"),
    "published": ("published", "issued", "pubDate", "dcterms:issued"),
    "created": ("created", "dcterms:created"),
    "expired": ("expirationDate", "expired"),
}


@dataclass
class DateCase:
    path: Path
    raw: str
    expected: datetime | None


def _date_source(document: str, key: str) -> str | None:
    """The raw date the checked key is read from: the last matching element or attribute."""
    if key.startswith("validity_"):
        match = re.search(r"<dcterms:valid>([^<]*)</dcterms:valid>", document)
        part = key.removeprefix("validity_")
        found = re.search(rf"{part}=([^;]*)", match.group(1)) if match else None
        return found.group(1) if found else None
    names = "|".join(re.escape(n) for n in _ELEMENTS.get(key, ()))
    values = re.findall(rf"<(?:{names})\b[^>]*>([^<]*)</", document)
    values += re.findall(r'LASTMOD="([^"]*)"', document) if key == "updated" else []
    return values[-1] if values else None


def feedparser_date_cases() -> list[DateCase]:
    cases: list[DateCase] = []
    if not FEEDPARSER.is_dir():
        return cases
    for path in sorted(FEEDPARSER.rglob("*.xml")):
        document = path.read_text(encoding="utf-8", errors="replace")
        expect = _EXPECT.search(document)
        if not expect or "_parsed" not in expect.group(1):
            continue
        header = re.search(r"Header:\s*Last-Modified:\s*(.*)", document)
        if header and re.search(r"\bmodified_parsed\b", expect.group(1)):
            cases.append(DateCase(path, header.group(1).strip(), None))  # only "is read"
        for key, fields in _PARSED_CHECK.findall(expect.group(1)):
            raw = _date_source(document, key)
            if raw is None:
                continue  # a timedelta (podlove chapters), not a date
            year, month, day, hour, minute, second = (int(f) for f in fields.split(",")[:6])
            cases.append(
                DateCase(path, raw, datetime(year, month, day, hour, minute, second, tzinfo=UTC))
            )
    return cases


FEEDPARSER_CASES = feedparser_date_cases()


@pytest.mark.parametrize(
    "case",
    FEEDPARSER_CASES or [pytest.param(None, marks=pytest.mark.skip("no shared corpora"))],
    ids=lambda c: f"{c.path.parent.name}/{c.path.stem}" if c else "missing",
)
def test_feedparser_dates(case: DateCase) -> None:
    parsed = parse_date(case.raw)
    assert parsed.value is not None, case
    if case.expected is not None:
        assert parsed.value == case.expected, case.raw


def test_feedparser_date_corpus_is_found() -> None:
    if not FEEDPARSER.is_dir():
        pytest.skip("no shared corpora")
    assert len(FEEDPARSER_CASES) >= 29
