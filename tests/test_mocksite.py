"""The mock site serves what its index says: right statuses and headers, 304s, a request log,
well-formed feeds (except the broken ones), valid images and a deterministic big site."""

from __future__ import annotations

import gzip
import http.client
import io
import json
import re
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from lxml import etree

from tests.mocksite import ROOT, MockSite, MockSiteError, running_site
from tests.mocksite.bigsite import BIG_FEEDS, BIG_PER_FEED, big_articles, big_feed, big_feed_paths
from tests.mocksite.corpus import fidelity_bodies
from tests.mocksite.feeds import BIG5_TITLE, GBK_ONLY_TITLE, RFC822_DATES
from tests.mocksite.images import huge_png_length, static_images

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "atom03": "http://purl.org/atom/ns#",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rss1": "http://purl.org/rss/1.0/",
    "media": "http://search.yahoo.com/mrss/",
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
}
# Endpoints a plain walk over the index must not fetch whole: slow, 30 MB, or cut short.
NOT_WALKED = ("/slow/", "/images/huge", "/broken/truncated.xml")
INTENTIONALLY_BROKEN = {
    "/broken/not-well-formed.xml",
    "/broken/html-as-feed.xml",
    "/broken/empty.xml",
    "/broken/bad.json",
    "/broken/truncated.xml",
    "/encoding/charset-in-header-only.xml",  # well-formed only once decoded as the header says
    "/encoding/gb2312-with-gbk-chars.xml",  # well-formed only to a GBK-tolerant decoder
}


@pytest.fixture(scope="session")
def site() -> Iterator[MockSite]:
    with running_site() as running:
        yield running


@pytest.fixture(scope="session")
def index(site: MockSite) -> list[dict[str, Any]]:
    return site.index()


def feed_paths(index: list[dict[str, Any]]) -> list[str]:
    groups = {"feeds", "encoding", "fidelity", "broken", "changing", "cache", "big"}
    return [
        entry["path"]
        for entry in index
        if entry["group"] in groups
        and entry["status"] == 200
        and "example" not in entry
        and entry["path"].endswith((".xml", ".rdf", ".atom", ".json", "/latest"))
        and not entry["path"].startswith(NOT_WALKED)
        and entry["path"] != "/fidelity/expected.json"
    ]


def xml(site: MockSite, path: str) -> etree._Element:
    result = site.get(path)
    assert result.status == 200, path
    return etree.fromstring(result.body)


# -- starting and stopping ------------------------------------------------------------------


def test_module_prints_one_ready_line_and_logs_nothing_per_request() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.mocksite",
            "--port",
            "0",
            "--big-feeds",
            "2",
            "--big-per-feed",
            "3",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        match = re.fullmatch(r"READY (http://127\.0\.0\.1:(\d+))\n", line)
        assert match, line
        site = MockSite(match.group(1))
        assert site.get("/feeds/rss2.xml").status == 200
        assert site.get("/no/such/path").status == 404
        assert [entry["path"] for entry in site.index() if entry["group"] == "big"][:2] == [
            "/big/feed-00.xml",
            "/big/feed-01.atom",
        ]
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=10)
    assert stdout == b""
    assert stderr == b""


def test_running_site_reports_a_failed_start_with_stderr() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MockSiteError, match="Address already in use"), running_site(port=port):
            pass


def test_site_url_and_base(site: MockSite) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", site.base)
    assert (
        site.url("/feeds/rss2.xml") == site.url("feeds/rss2.xml") == f"{site.base}/feeds/rss2.xml"
    )


# -- the index ------------------------------------------------------------------------------


def test_index_describes_every_route_and_each_answers_as_described(
    site: MockSite, index: list[dict[str, Any]]
) -> None:
    site.reset()  # /cache/429-once.xml answers 429 only to its first request
    assert len({(entry["method"], entry["path"]) for entry in index}) == len(index)
    home = site.get("/").body.decode()
    for entry in index:
        assert entry["description"], entry
        assert entry["path"] in home
        if entry["group"] == "control" or entry["path"].startswith(NOT_WALKED):
            continue
        result = site.get(entry.get("example", entry["path"]))
        assert result.status == entry["status"], entry
        if entry["content_type"]:
            assert result.headers["content-type"] == entry["content_type"], entry


def test_index_names_the_required_classes_of_content(index: list[dict[str, Any]]) -> None:
    paths = {entry["path"] for entry in index}
    for required in (
        "/feeds/rss2.xml",
        "/feeds/rss1.rdf",
        "/feeds/rss091.xml",
        "/feeds/rss092.xml",
        "/feeds/atom10.xml",
        "/feeds/atom03.xml",
        "/feeds/jsonfeed1.json",
        "/feeds/jsonfeed11.json",
        "/feeds/summary-only.xml",
        "/feeds/relative-links.xml",
        "/feeds/xml-base.atom",
        "/encoding/gbk.xml",
        "/encoding/big5.xml",
        "/broken/not-well-formed.xml",
        "/redirect/loop.xml",
        "/changing/rss.xml",
        "/cache/429.xml",
        "/images/huge.png",
        "/images/bomb.png",
        "/sitemap.xml",
    ):
        assert required in paths
    assert sum(1 for path in paths if path.startswith("/big/feed-")) == BIG_FEEDS


# -- feeds ----------------------------------------------------------------------------------


def test_generated_feeds_are_well_formed(site: MockSite, index: list[dict[str, Any]]) -> None:
    checked = 0
    for path in feed_paths(index):
        if path in INTENTIONALLY_BROKEN:
            continue
        body = site.get(path).body
        if path.endswith(".json"):
            assert json.loads(body)["version"].startswith("https://jsonfeed.org/version/1"), path
        else:
            etree.fromstring(body)
        checked += 1
    assert checked > 40


def test_one_feed_per_format_with_full_content(site: MockSite) -> None:
    rss = xml(site, "/feeds/rss2.xml")
    assert rss.get("version") == "2.0"
    items = rss.findall("channel/item")
    assert len(items) == 5
    assert all(item.findtext("content:encoded", namespaces=NS) for item in items)
    assert all(item.findtext("description") for item in items)
    assert [item.findtext("pubDate") for item in items] == list(RFC822_DATES)
    assert rss.find("channel/item/enclosure").get("type") == "image/jpeg"
    assert rss.find("channel/item/media:thumbnail", NS) is not None
    assert rss.find("channel/item/media:content", NS) is not None
    assert rss.findtext("channel/ttl") == "60"

    rdf = xml(site, "/feeds/rss1.rdf")
    assert rdf.tag == f"{{{NS['rdf']}}}RDF"
    assert len(rdf.findall("rss1:item", NS)) == 4

    assert xml(site, "/feeds/rss091.xml").get("version") == "0.91"
    assert xml(site, "/feeds/rss092.xml").get("version") == "0.92"
    assert xml(site, "/feeds/rss091.xml").find("channel/item/guid") is None

    atom = xml(site, "/feeds/atom10.xml")
    kinds = [content.get("type") for content in atom.iterfind("atom:entry/atom:content", NS)]
    assert set(kinds) == {"html", "xhtml"}
    assert "+0800" in atom.findtext("atom:entry[last()]/atom:published", namespaces=NS)

    atom03 = xml(site, "/feeds/atom03.xml")
    assert atom03.get("version") == "0.3"
    modes = {content.get("mode") for content in atom03.iterfind("atom03:entry/atom03:content", NS)}
    assert modes == {"escaped", "xml"}

    json1 = site.get("/feeds/jsonfeed1.json").json()
    assert json1["version"] == "https://jsonfeed.org/version/1"
    assert json1["items"][1]["id"] == 1188231  # a number: readers must coerce it
    assert "author" in json1["items"][0]
    json11 = site.get("/feeds/jsonfeed11.json").json()
    assert json11["version"] == "https://jsonfeed.org/version/1.1"
    assert len(json11["items"][0]["authors"]) == 2
    assert json11["items"][0]["image"].startswith(site.base)
    assert any("content_text" in item for item in json11["items"])


def test_variants_summary_relative_and_xml_base(site: MockSite) -> None:
    summary = xml(site, "/feeds/summary-only.xml")
    assert summary.find("channel/item/content:encoded", NS) is None

    relative = xml(site, "/feeds/relative-links.xml")
    assert relative.findtext("channel/link") == "/"
    assert relative.findtext("channel/item/link") == "../articles/keras.html"
    assert relative.find("channel/item/enclosure").get("url") == "../images/photo.jpg"

    based = xml(site, "/feeds/xml-base.atom")
    assert based.get("{http://www.w3.org/XML/1998/namespace}base") == f"{site.base}/articles/"
    assert based.find("atom:entry/atom:link", NS).get("href") == "keras.html"

    rsshub = site.get("/rsshub/36kr/news/latest").body.decode()
    assert "<description><![CDATA[<div" in rsshub
    assert "<author><![CDATA[36kr]]></author>" in rsshub


def test_encodings(site: MockSite) -> None:
    gbk = site.get("/encoding/gbk.xml").body
    assert gbk.startswith(b'<?xml version="1.0" encoding="gbk"?>')
    assert etree.fromstring(gbk).findtext("channel/item/title") == GBK_ONLY_TITLE

    gb2312 = site.get("/encoding/gb2312-with-gbk-chars.xml").body
    assert b'encoding="gb2312"' in gb2312
    with pytest.raises(UnicodeDecodeError):
        gb2312.decode("gb2312")
    assert GBK_ONLY_TITLE in gb2312.decode("gbk")

    big5 = site.get("/encoding/big5.xml").body
    assert etree.fromstring(big5).findtext("channel/item/title") == BIG5_TITLE

    bom = site.get("/encoding/utf8-bom.xml").body
    assert bom.startswith(b"\xef\xbb\xbf<?xml")
    etree.fromstring(bom)

    header_only = site.get("/encoding/charset-in-header-only.xml")
    assert header_only.headers["content-type"].endswith("charset=gbk")
    assert header_only.body.startswith(b'<?xml version="1.0"?>')
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(header_only.body)  # read as UTF-8, as the document alone says
    text = header_only.body.decode("gbk")
    assert etree.fromstring(text.encode("utf-8")).findtext("channel/item/title") == GBK_ONLY_TITLE


def test_fidelity_bodies_survive_xml_and_json_byte_for_byte(site: MockSite) -> None:
    expected = site.get("/fidelity/expected.json").json()
    assert expected == {guid: body for guid, (_, body) in fidelity_bodies(site.base).items()}
    joined = "".join(expected.values())
    for feature in (
        "data-src=",
        'src="data:image/gif;base64,',
        "srcset=",
        "<picture>",
        "<source",
        "<iframe",
        'referrerpolicy="no-referrer"',
        "data-img-size-val=",
        "<IMG SRC=",
        "src='",
        "&nbsp;",
        "<!--",
    ):
        assert feature in joined, feature

    rss = xml(site, "/fidelity/rss.xml")
    for item in rss.iterfind("channel/item"):
        assert item.findtext("content:encoded", namespaces=NS) == expected[item.findtext("guid")]
    atom = xml(site, "/fidelity/atom.xml")
    for entry in atom.iterfind("atom:entry", NS):
        assert (
            entry.findtext("atom:content", namespaces=NS)
            == expected[entry.findtext("atom:id", namespaces=NS)]
        )
    for item in site.get("/fidelity/feed.json").json()["items"]:
        assert item["content_html"] == expected[item["id"]]


def test_broken_feeds_are_broken_in_the_intended_way(site: MockSite) -> None:
    not_well_formed = site.get("/broken/not-well-formed.xml").body
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(not_well_formed)
    recovered = etree.fromstring(not_well_formed, etree.XMLParser(recover=True))
    titles = [item.findtext("title") for item in recovered.iterfind("channel/item")]
    assert titles[:2] == ["Keras，亡于谷歌？", "SQLite 的 WAL 模式：为什么读和写可以并发"]

    html_page = site.get("/broken/html-as-feed.xml")
    assert html_page.headers["content-type"].startswith("application/rss+xml")
    assert html_page.body.startswith(b"<!DOCTYPE html>")

    empty = site.get("/broken/empty.xml")
    assert (empty.status, empty.body, empty.headers["content-length"]) == (200, b"", "0")
    assert site.get("/broken/404.xml").status == 404
    assert site.get("/broken/500.xml").status == 500
    with pytest.raises(json.JSONDecodeError):
        site.get("/broken/bad.json").json()

    no_guids = xml(site, "/broken/no-guids.xml").findall("channel/item")
    assert no_guids
    assert all(item.find("guid") is None and item.findtext("link") for item in no_guids)
    no_links = xml(site, "/broken/no-links.xml").findall("channel/item")
    assert no_links
    assert all(item.find("link") is None and item.findtext("guid") for item in no_links)
    guids = [
        item.findtext("guid")
        for item in xml(site, "/broken/duplicate-guids.xml").iterfind("channel/item")
    ]
    assert guids == ["duplicate", "duplicate"]


def test_truncated_body_drops_the_connection(site: MockSite) -> None:
    with pytest.raises(http.client.IncompleteRead):
        site.get("/broken/truncated.xml")


def test_delay_and_trickle(site: MockSite) -> None:
    started = time.monotonic()
    assert site.get("/slow/rss.xml?delay=0.3").status == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    trickled = site.get("/slow/trickle.xml?delay=0.3")
    assert time.monotonic() - started >= 0.25
    assert trickled.body == site.get("/feeds/rss2.xml").body


def test_redirects(site: MockSite) -> None:
    moved = site.get("/redirect/feed.xml")
    assert (moved.status, moved.headers["location"]) == (301, site.url("/feeds/rss2.xml"))
    assert site.get("/redirect/chain.xml").headers["location"] == site.url("/redirect/chain-2.xml")
    relative = site.get("/redirect/chain-2.xml")
    assert (relative.status, relative.headers["location"]) == (307, "../feeds/atom10.xml")
    assert site.get("/redirect/permanent.json").status == 308
    assert site.get("/redirect/loop.xml").headers["location"] == site.url("/redirect/loop-2.xml")
    assert site.get("/redirect/loop-2.xml").headers["location"] == site.url("/redirect/loop.xml")


def test_gzip_when_asked(site: MockSite) -> None:
    plain = site.get("/feeds/gzip.xml")
    zipped = site.get("/feeds/gzip.xml", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == plain.body
    assert zipped.headers["etag"] != plain.headers["etag"]


# -- conditional requests and caching hints -------------------------------------------------


def test_conditional_requests(site: MockSite) -> None:
    first = site.get("/feeds/rss2.xml")
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"')
    assert parsedate_to_datetime(last_modified).year == 2021

    by_etag = site.get("/feeds/rss2.xml", headers={"If-None-Match": etag})
    assert (by_etag.status, by_etag.body, by_etag.headers["etag"]) == (304, b"", etag)
    assert site.get("/feeds/rss2.xml", headers={"If-None-Match": f'"other", {etag}'}).status == 304
    assert site.get("/feeds/rss2.xml", headers={"If-Modified-Since": last_modified}).status == 304
    old = "Mon, 01 Mar 2021 00:00:00 GMT"
    assert site.get("/feeds/rss2.xml", headers={"If-Modified-Since": old}).status == 200
    # If-None-Match decides when both are sent (RFC 9110 13.2.2).
    both = {"If-None-Match": '"stale"', "If-Modified-Since": last_modified}
    assert site.get("/feeds/rss2.xml", headers=both).status == 200
    assert site.get("/feeds/rss2.xml", method="HEAD", headers={"If-None-Match": etag}).status == 304


def test_every_feed_answers_304_to_its_own_validators(
    site: MockSite, index: list[dict[str, Any]]
) -> None:
    for path in feed_paths(index):
        if path.startswith("/cache/"):
            continue
        first = site.get(path)
        assert "etag" in first.headers, path
        assert "last-modified" in first.headers, path
        assert site.get(path, headers={"If-None-Match": first.headers["etag"]}).status == 304, path
        since = {"If-Modified-Since": first.headers["last-modified"]}
        assert site.get(path, headers=since).status == 304, path


def test_validator_variants(site: MockSite) -> None:
    etag_only = site.get("/cache/etag-only.xml")
    assert "etag" in etag_only.headers
    assert "last-modified" not in etag_only.headers
    lm_only = site.get("/cache/last-modified-only.xml")
    assert "etag" not in lm_only.headers
    assert "last-modified" in lm_only.headers
    since = {"If-Modified-Since": lm_only.headers["last-modified"]}
    assert site.get("/cache/last-modified-only.xml", headers=since).status == 304
    none = site.get("/cache/no-validators.xml", headers={"If-None-Match": "*"})
    assert none.status == 200
    assert "etag" not in none.headers
    assert "last-modified" not in none.headers
    weak = site.get("/cache/weak-etag.xml")
    assert weak.headers["etag"].startswith('W/"')
    assert (
        site.get("/cache/weak-etag.xml", headers={"If-None-Match": weak.headers["etag"]}).status
        == 304
    )


def test_caching_hints_and_rate_limits(site: MockSite) -> None:
    max_age = site.get("/cache/max-age.xml")
    assert max_age.headers["cache-control"] == "public, max-age=3600"
    assert etree.fromstring(max_age.body).findtext("channel/ttl") == "60"
    limited = site.get("/cache/429.xml")
    assert (limited.status, limited.headers["retry-after"]) == (429, "120")
    assert site.get("/cache/429.xml?retry_after=7").headers["retry-after"] == "7"
    unavailable = site.get("/cache/503.xml")
    assert unavailable.status == 503
    assert parsedate_to_datetime(unavailable.headers["retry-after"]).tzinfo is not None
    site.reset()
    assert site.get("/cache/429-once.xml").status == 429
    assert site.get("/cache/429-once.xml").status == 200


# -- the request log and the changing feed --------------------------------------------------


def test_request_log(site: MockSite) -> None:
    site.reset_log()
    assert site.requests() == []
    site.get(
        "/feeds/atom10.xml?x=1", headers={"User-Agent": "mocksite-test", "If-None-Match": '"abc"'}
    )
    site.get("/images/photo.png", method="HEAD")
    site.index()  # control paths are not logged
    log = site.requests()
    assert [(entry["method"], entry["path"], entry["status"]) for entry in log] == [
        ("GET", "/feeds/atom10.xml?x=1", 200),
        ("HEAD", "/images/photo.png", 200),
    ]
    assert log[0]["headers"]["user-agent"] == "mocksite-test"
    assert log[0]["headers"]["if-none-match"] == '"abc"'
    assert len(site.requests("/feeds/atom10.xml")) == 1
    assert site.requests("/images/photo.png")[0]["method"] == "HEAD"
    site.reset_log()
    assert site.requests() == []


def test_changing_feed(site: MockSite) -> None:
    site.set_changing_version(1)
    first = site.get("/changing/rss.xml")
    guids = [
        item.findtext("guid") for item in etree.fromstring(first.body).iterfind("channel/item")
    ]
    assert guids == ["changing-a", "changing-b", "changing-c"]
    assert site.bump_changing() == 2
    second = site.get("/changing/rss.xml")
    assert second.headers["etag"] != first.headers["etag"]
    assert (
        site.get("/changing/rss.xml", headers={"If-None-Match": first.headers["etag"]}).status
        == 200
    )

    def content(body: bytes, guid: str) -> str:
        items = etree.fromstring(body).iterfind("channel/item")
        return str(
            next(
                item.findtext("content:encoded", namespaces=NS)
                for item in items
                if item.findtext("guid") == guid
            )
        )

    assert content(first.body, "changing-a") != content(second.body, "changing-a")
    assert content(first.body, "changing-c") == content(second.body, "changing-c")
    third = site.get("/changing/atom.xml?version=3")
    ids = [
        entry.findtext("atom:id", namespaces=NS)
        for entry in etree.fromstring(third.body).iterfind("atom:entry", NS)
    ]
    assert ids == ["changing-d", "changing-a", "changing-c"]
    site.reset()
    assert site.get("/changing/rss.xml").body == first.body


# -- images ---------------------------------------------------------------------------------


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of a PNG, each CRC checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: list[tuple[bytes, bytes]] = []
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append((kind, body))
        offset += 12 + length
    assert chunks[0][0] == b"IHDR"
    assert chunks[-1] == (b"IEND", b"")
    return chunks


def check_png(data: bytes) -> tuple[int, int]:
    chunks = png_chunks(data)
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[0][1][:10])
    channels = {0: 1, 2: 3, 6: 4}[color_type]
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert depth == 8
    assert len(pixels) == height * (1 + width * channels)
    return width, height


def gif_lzw_decode(data: bytes, min_code_size: int) -> list[int]:
    """A plain GIF LZW decoder, to check the encoder against something independent."""
    clear, end = 1 << min_code_size, (1 << min_code_size) + 1
    size, bits, count = min_code_size + 1, 0, 0
    out: list[int] = []
    table: list[list[int]] = []
    previous: list[int] | None = None
    for byte in data:
        bits |= byte << count
        count += 8
        while count >= size:
            code, bits, count = bits & ((1 << size) - 1), bits >> size, count - size
            if code == clear:
                table = [[i] for i in range(clear)] + [[], []]
                size, previous = min_code_size + 1, None
                continue
            if code == end:
                return out
            if code < len(table):
                word = table[code]
                if previous is not None:
                    table.append([*previous, word[0]])
            else:
                assert previous is not None
                assert code == len(table)
                word = [*previous, previous[0]]
                table.append(word)
            out.extend(word)
            previous = word
            if len(table) == 1 << size and size < 12:
                size += 1
    raise AssertionError("no end-of-information code")


def check_gif(data: bytes) -> tuple[int, int, int]:
    assert data[:6] == b"GIF89a"
    assert data[-1:] == b";"
    width, height, flags = struct.unpack("<HHB", data[6:11])
    offset = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    frames = 0

    def sub_blocks(offset: int) -> tuple[bytes, int]:
        payload = b""
        while data[offset]:
            payload += data[offset + 1 : offset + 1 + data[offset]]
            offset += 1 + data[offset]
        return payload, offset + 1

    while data[offset] != 0x3B:
        if data[offset] == 0x21:
            _, offset = sub_blocks(offset + 2)
        else:
            assert data[offset] == 0x2C
            frame_width, frame_height = struct.unpack("<HH", data[offset + 5 : offset + 9])
            min_code_size = data[offset + 10]
            payload, offset = sub_blocks(offset + 11)
            assert len(gif_lzw_decode(payload, min_code_size)) == frame_width * frame_height
            frames += 1
    return width, height, frames


def check_webp(data: bytes) -> tuple[int, int]:
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    assert data[12:16] == b"VP8L"
    payload = data[20 : 20 + struct.unpack("<I", data[16:20])[0]]
    assert payload[0] == 0x2F
    bits = int.from_bytes(payload[1:5], "little")
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1


def check_jpeg(data: bytes) -> tuple[int, int]:
    assert data[:2] == b"\xff\xd8"
    assert data[-2:] == b"\xff\xd9"
    offset, size = 2, None
    while data[offset + 1] != 0xDA:
        assert data[offset] == 0xFF
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        if data[offset + 1] == 0xC0:
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
            size = (width, height)
        offset += 2 + length
    assert size is not None
    return size


@pytest.mark.parametrize("path", sorted(static_images()))
def test_images_are_valid(site: MockSite, path: str) -> None:
    image = static_images()[path]
    result = site.get(
        path, headers={"Referer": site.url("/articles/keras.html")} if "hotlink" in path else {}
    )
    assert result.status == 200
    assert result.body == image.data
    if image.media_type == "image/png":
        assert check_png(result.body) == (image.width, image.height)
    elif image.media_type == "image/gif":
        assert check_gif(result.body) == (image.width, image.height, image.frames)
    elif image.media_type == "image/webp":
        assert check_webp(result.body) == (image.width, image.height)
    else:
        assert check_jpeg(result.body) == (image.width, image.height)


def test_images_decode_with_pillow(site: MockSite) -> None:
    pil_image = pytest.importorskip("PIL.Image")
    for path, image in static_images().items():
        with pil_image.open(io.BytesIO(image.data)) as decoded:
            decoded.load()
            assert decoded.size == (image.width, image.height), path
            assert getattr(decoded, "n_frames", 1) == image.frames, path
    for extension in ("png", "jpg", "webp"):
        with pil_image.open(io.BytesIO(site.get(f"/images/gen/5.{extension}").body)) as decoded:
            decoded.load()
    with pytest.raises(pil_image.DecompressionBombError):
        pil_image.open(io.BytesIO(site.get("/images/bomb.png").body))


def test_generated_images_differ_by_seed(site: MockSite) -> None:
    for extension, check in (("png", check_png), ("jpg", check_jpeg), ("webp", check_webp)):
        bodies = {site.get(f"/images/gen/{seed}.{extension}").body for seed in range(6)}
        assert len(bodies) == 6
        for body in bodies:
            check(body)
    assert site.get("/images/gen/1.gif").status == 404


def test_image_misbehaviours(site: MockSite) -> None:
    fake = site.get("/images/fake.jpg")
    assert fake.headers["content-type"] == "image/jpeg"
    assert fake.body.startswith(b"<!DOCTYPE html>")
    assert site.get("/images/missing.png").status == 404
    octet = site.get("/images/octet-stream.png")
    assert octet.headers["content-type"] == "application/octet-stream"
    check_png(octet.body)

    assert site.get("/images/hotlink.jpg").status == 403
    assert (
        site.get("/images/hotlink.jpg", headers={"Referer": "http://elsewhere.test/"}).status == 403
    )
    assert site.get("/images/hotlink.jpg", headers={"Referer": site.url("/")}).status == 200
    assert site.get("/images/no-referrer.jpg").status == 200
    assert site.get("/images/no-referrer.jpg", headers={"Referer": site.url("/")}).status == 403

    same_a, same_b = site.get("/images/same/a.png"), site.get("/images/same/b.png")
    assert same_a.body == same_b.body
    assert same_a.headers["etag"] == same_b.headers["etag"]

    bomb = site.get("/images/bomb.png")
    assert len(bomb.body) < 2000
    assert struct.unpack(">II", png_chunks(bomb.body)[0][1][:8]) == (100_000, 100_000)


def test_huge_image_is_streamed(site: MockSite) -> None:
    head = site.get("/images/huge.png", method="HEAD")
    assert int(head.headers["content-length"]) == huge_png_length(4000, 2500) > 30_000_000
    small = site.get("/images/huge.png?width=300&height=500")
    assert len(small.body) == int(small.headers["content-length"]) == huge_png_length(300, 500)
    assert check_png(small.body) == (300, 500)
    chunked = site.get("/images/huge-chunked.png?width=200&height=400")
    assert chunked.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in chunked.headers
    assert check_png(chunked.body) == (200, 400)
    # Reading the first bytes and hanging up must not upset the server.
    connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    connection.request("GET", "/images/huge.png")
    response = connection.getresponse()
    assert response.read(8) == b"\x89PNG\r\n\x1a\n"
    connection.close()
    assert site.get("/images/photo.png").status == 200


# -- pages, sitemaps, lists -----------------------------------------------------------------


def test_article_pages(site: MockSite) -> None:
    page = etree.HTML(site.get("/articles/keras.html").body)
    assert page.find(".//link[@rel='canonical']").get("href") == site.url("/articles/keras.html")
    assert page.find(".//meta[@property='og:image']").get("content").startswith(site.base)
    lazy = page.findall(".//img[@data-src]")
    assert lazy
    assert all(img.get("src").startswith("data:image/gif;base64,") for img in lazy)
    alias = etree.HTML(site.get("/p/1188230").body)
    assert alias.find(".//link[@rel='canonical']").get("href") == site.url("/articles/keras.html")
    home = etree.HTML(site.get("/").body)
    assert len(home.findall(".//head/link[@rel='alternate']")) == 3


def test_sitemaps_and_lists(site: MockSite) -> None:
    assert f"Sitemap: {site.base}/sitemap.xml" in site.get("/robots.txt").body.decode()
    locations = [loc.text for loc in xml(site, "/sitemap.xml").iterfind("sm:sitemap/sm:loc", NS)]
    assert locations == [site.url("/sitemaps/articles.xml"), site.url("/sitemaps/news.xml")]
    for location in locations:
        urls = xml(site, location.removeprefix(site.base)).findall("sm:url", NS)
        assert len(urls) == 6
    outlines = xml(site, "/feeds.opml").findall("body/outline")
    assert site.url("/feeds/atom03.xml") in {outline.get("xmlUrl") for outline in outlines}
    big = xml(site, "/big/opml.xml").findall("body/outline")
    assert [outline.get("xmlUrl") for outline in big] == [
        site.url(path) for path in big_feed_paths()
    ]


# -- the big site ---------------------------------------------------------------------------


def test_big_site_serves_a_thousand_unique_articles(site: MockSite) -> None:
    guids: set[str] = set()
    links: set[str] = set()
    for index, path in enumerate(big_feed_paths()):
        result = site.get(path)
        assert result.body == big_feed(index, base=site.base)[1]
        if path.endswith(".json"):
            items = result.json()["items"]
            guids.update(item["id"] for item in items)
            links.update(item["url"] for item in items)
            assert all(re.search(r"[+-]\d\d:\d\d$", item["date_published"]) for item in items)
        elif path.endswith(".atom"):
            entries = etree.fromstring(result.body).findall("atom:entry", NS)
            guids.update(entry.findtext("atom:id", namespaces=NS) for entry in entries)
            links.update(entry.find("atom:link", NS).get("href") for entry in entries)
            assert all(entry.find("atom:category", NS) is not None for entry in entries)
        else:
            items = etree.fromstring(result.body).findall("channel/item")
            guids.update(item.findtext("guid") for item in items)
            links.update(item.findtext("link") for item in items)
            assert all(item.findtext("content:encoded", namespaces=NS) for item in items)
    assert len(guids) == len(links) == BIG_FEEDS * BIG_PER_FEED == 1000
    article = site.get("/big/articles/03/007.html")
    assert article.status == 200
    assert site.get(f"/big/articles/03/{BIG_PER_FEED:03d}.html").status == 404


def test_big_site_generator_is_deterministic_and_scales() -> None:
    assert big_feed(7, base="http://a") == big_feed(7, base="http://a")
    assert (
        big_articles(4, base="http://a", per_feed=3)
        == big_articles(4, base="http://a", per_feed=50)[:3]
    )
    started = time.monotonic()
    paths = big_feed_paths(1000)
    bodies = [big_feed(index, base="http://bench", per_feed=1)[1] for index in range(1000)]
    assert len(set(paths)) == len(set(bodies)) == 1000
    assert time.monotonic() - started < 30
