"""The images pipeline: unit checks, then real Scrapy crawls against the mock site.

Crawls run in a subprocess (Twisted's reactor cannot be restarted in one process): a tiny
spider yields prepared ``ArticleItem``s, the pipeline fetches their images from the mock site,
and the items are collected through the ``item_scraped`` signal.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError, TimeoutError

from archiver.items import ArticleItem, ImageRef, MediaRef
from archiver.media import find_images, local_image_map, rewrite_images, sniff_image
from archiver.media.referers import host_key
from archiver.media.selection import article_images
from archiver.storage import Archive
from pipelines.images import ArticleImagesPipeline, ImageFailed
from pipelines.stores import AtomicFSFilesStore
from tests.conftest import ROOT

PLACEHOLDER = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"

# -- the crawl runner --------------------------------------------------------------------------

RUNNER = r"""
import dataclasses, json, sys
from collections import Counter
from scrapy import Spider, signals
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings
from archiver.items import ArticleItem, MediaRef

config = json.load(open(sys.argv[1]))

class Articles(Spider):
    name = "articles"

    async def start(self):
        for fields in config["articles"]:
            fields = dict(fields)
            fields["media"] = [MediaRef(**m) for m in fields.get("media", [])]
            yield ArticleItem(**fields)

settings = get_project_settings()
settings.setdict(config["settings"], priority="cmdline")
process = CrawlerProcess(settings, install_root_handler=True)
crawler = process.create_crawler(Articles)
items, received = [], Counter()

def collect(item):
    items.append(item)

crawler.signals.connect(collect, signal=signals.item_scraped)

def count(data, request, spider=None):
    received[request.url] += len(data)

crawler.signals.connect(count, signal=signals.bytes_received)
process.crawl(crawler)
process.start()
stats = {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, (int, float, str))}
with open(config["output"], "w") as out:
    json.dump({"items": [dataclasses.asdict(i) for i in items], "stats": stats,
               "received": received}, out, default=str)
"""


@dataclass
class Crawl:
    items: list[dict[str, Any]]
    stats: dict[str, Any]
    received: dict[str, int]
    log: str
    media: Path

    def item(self, url: str) -> dict[str, Any]:
        return next(i for i in self.items if i["url"] == url)

    def image(self, url: str) -> dict[str, Any]:
        """The first ImageRef (as a dict) of any item with this URL."""
        return next(ref for i in self.items for ref in i["images"] if ref["url"] == url)

    def files(self) -> list[Path]:
        return sorted(p for p in (self.media / "images").rglob("*") if p.is_file())


def run_crawl(
    tmp: Path,
    articles: list[dict[str, Any]],
    *,
    db: str,
    media: Path,
    pipelines: dict[str, int] | None = None,
    settings: dict[str, Any] | None = None,
) -> Crawl:
    tmp.mkdir(parents=True, exist_ok=True)
    config = {
        "articles": articles,
        "output": str(tmp / "result.json"),
        "settings": {
            "ITEM_PIPELINES": pipelines or {"pipelines.images.ArticleImagesPipeline": 400},
            "ARCHIVER_DATABASE_URL": db,
            "ARCHIVER_MEDIA_DIR": str(media),
            "AUTOTHROTTLE_ENABLED": False,
            "LOG_LEVEL": "DEBUG",
            # These articles' images sit on local servers of several ports, some of them
            # hosts that are not their source's: private addresses the guard would refuse
            # (it has a test of its own here, which turns it back on).
            "ARCHIVER_ALLOW_PRIVATE_ADDRESSES": "true",
            **(settings or {}),
        },
    }
    (tmp / "config.json").write_text(json.dumps(config))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ARCHIVER_MEDIA_DIR", None)
    env.pop("ARCHIVER_DATABASE_URL", None)
    completed = subprocess.run(
        [sys.executable, "-c", RUNNER, str(tmp / "config.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-5000:]
    result = json.loads((tmp / "result.json").read_text())
    return Crawl(result["items"], result["stats"], result["received"], completed.stderr, media)


def article(url: str, body: str | None, **fields: Any) -> dict[str, Any]:
    return {"url": url, "source_url": url.rsplit("/", 1)[0] + "/feed.xml", "content_html": body,
            **fields}  # fmt: skip


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def crawler_requests(site: Any, path: str) -> list[dict[str, Any]]:
    """The requests the crawl made for ``path`` (not the test's own checks)."""
    return [
        entry
        for entry in site.requests(path)
        if "feed-archiver" in entry["headers"].get("user-agent", "")
    ]


def no_errors_logged(log: str) -> None:
    """No error from the pipeline or the scraper; Scrapy's retry and robots.txt middlewares
    log a given-up retry (5xx, dead host) at ERROR, as they do for pages."""
    errors = [
        line
        for line in log.splitlines()
        if "] ERROR:" in line
        and "[scrapy.downloadermiddlewares.retry]" not in line
        and "[scrapy.downloadermiddlewares.robotstxt]" not in line
    ]
    assert not errors, "\n".join(errors[:20])
    for module in ("images", "known_images", "image_requests", "stores"):
        assert f"pipelines/{module}.py" not in log


# -- a server that counts what it managed to send before the client hung up ---------------------


class CountingServer:
    """Serves one huge PNG (valid header, then filler) and records bytes sent per request."""

    TOTAL = 60 * 1024 * 1024

    def __init__(self, *, chunked: bool) -> None:
        self.chunked = chunked
        self.sent: list[int] = []
        self.finished: list[bool] = []
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/huge.png"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        sent, finished = 0, False
        with connection:
            if b"/robots.txt" in connection.recv(65536).split(b"\r\n", 1)[0]:
                connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                return
            head = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n"
            head += (
                "Transfer-Encoding: chunked\r\n\r\n"
                if self.chunked
                else f"Content-Length: {self.TOTAL}\r\n\r\n"
            )
            piece = b"\x89PNG\r\n\x1a\n" + b"\x00" * (256 * 1024 - 8)
            try:
                connection.sendall(head.encode())
                while sent < self.TOTAL:
                    data = piece if sent == 0 else b"\x00" * len(piece)
                    if self.chunked:
                        connection.sendall(f"{len(data):X}\r\n".encode() + data + b"\r\n")
                    else:
                        connection.sendall(data)
                    sent += len(data)
                if self.chunked:
                    connection.sendall(b"0\r\n\r\n")
                finished = True
            except OSError:
                pass
        self.sent.append(sent)
        self.finished.append(finished)

    def close(self) -> None:
        self._socket.close()


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Iterator[Any]:
    from tests.mocksite import running_site

    with running_site() as running:
        yield running


@pytest.fixture(scope="module")
def counting_servers() -> Iterator[tuple[CountingServer, CountingServer]]:
    servers = (CountingServer(chunked=False), CountingServer(chunked=True))
    yield servers
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def main_crawl(
    site: Any,
    counting_servers: tuple[CountingServer, CountingServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> Crawl:
    """One crawl over articles that show every kind of image, good and bad."""
    tmp = tmp_path_factory.mktemp("main")
    db = f"sqlite:///{tmp / 'archive.db'}"
    Archive(db).close()  # the store pipeline is not in this crawl: make the schema here
    u = site.url
    fixed_size, chunked = counting_servers
    body_a = f"""
        <p>Lead paragraph.</p>
        <img src="{u("/images/photo.png")}" alt="plain">
        <img class="lazy" src="{PLACEHOLDER}" data-src="/images/alpha.png">
        <noscript><img src="/images/animated.gif"></noscript>
        <picture>
          <source type="image/webp" srcset="/images/gen/5.webp 100w, /images/photo.webp 800w">
          <img src="/images/gen/6.jpg">
        </picture>
        <img src="/images/gen/7.jpg" srcset="/images/gen/7.jpg 100w, /images/photo.jpg 900w">
        <img src="/images/same/a.png"><img src="/images/same/b.png">
        <img src="/images/cdn/v2_5b7db72ab3464b2f86e3c4ff166a252c_img_000">
        <img src="/images/octet-stream.png">
        <img src="/images/fake.jpg"><img src="/images/missing.png"><img src="/images/bomb.png">
        <img src="/images/huge.png"><img src="/images/huge-chunked.png">
        <img src="{fixed_size.url}"><img src="{chunked.url}?chunked">
        <img src="/redirect/loop.xml"><img src="/broken/500.xml">
        <img src="/broken/truncated.xml">
        <img src="http://127.0.0.1:9/refused.png">
    """
    articles = [
        article(
            u("/articles/a.html"),
            body_a,
            headimg=u("/images/photo.png"),
            thumbnail=u("/images/gen/9.png"),
            media=[
                {
                    "url": u("/images/gen/10.webp"),
                    "role": "media:content",
                    "media_type": "image/webp",
                },
                {"url": u("/audio/episode.mp3"), "role": "enclosure", "media_type": "audio/mpeg"},
                {"url": u("/video/clip.mp4"), "role": "enclosure"},
            ],
        ),
        article(
            u("/articles/b.html"),
            f'<img src="{u("/images/photo.png")}"><img src="gen/11.png">',
            base_url=u("/images/"),
        ),
        article(u("/articles/c.html"), None),
        article(u("/articles/d.html"), "<p>No images.</p>", headimg="data:image/png;base64,xx"),
    ]
    return run_crawl(
        tmp,
        articles,
        db=db,
        media=tmp / "media",
        settings={"ARCHIVER_IMAGE_RETRIES": 1},
    )


# -- crawl tests -------------------------------------------------------------------------------


def test_every_article_goes_on_whatever_its_images_did(main_crawl: Crawl, site: Any) -> None:
    assert sorted(i["url"] for i in main_crawl.items) == [
        site.url(f"/articles/{name}.html") for name in "abcd"
    ]
    assert main_crawl.item(site.url("/articles/c.html"))["images"] == []
    assert main_crawl.item(site.url("/articles/d.html"))["images"] == []  # data: head image
    no_errors_logged(main_crawl.log)


@pytest.mark.parametrize(
    "path",
    ["/images/photo.png", "/images/alpha.png", "/images/animated.gif", "/images/photo.webp"],
)
def test_gif_png_webp_are_stored_byte_for_byte(main_crawl: Crawl, site: Any, path: str) -> None:
    published = site.get(path).body
    ref = main_crawl.image(site.url(path))
    assert ref["status"] in ("downloaded", "cached")  # photo.png is in two articles
    assert ref["sha256"] == sha256(published)
    stored = main_crawl.media / ref["path"]
    assert stored.read_bytes() == published
    info = sniff_image(published)
    assert info is not None
    assert ref["path"] == f"images/{ref['sha256'][:2]}/{ref['sha256']}.{info.extension}"
    assert (ref["media_type"], ref["width"], ref["height"], ref["size"]) == (
        info.media_type,
        info.width,
        info.height,
        len(published),
    )


def test_body_images_in_order_with_the_src_as_written(main_crawl: Crawl, site: Any) -> None:
    refs = main_crawl.item(site.url("/articles/a.html"))["images"]
    body = [r for r in refs if r["role"] == "body"]
    assert [r["position"] for r in refs] == list(range(len(refs)))
    assert [r["src"] for r in body[:6]] == [
        site.url("/images/photo.png"),
        "/images/alpha.png",  # lazy data-src over the placeholder
        "/images/animated.gif",  # noscript fallback
        "/images/photo.webp",  # the largest <picture> candidate
        "/images/photo.jpg",  # the largest srcset candidate
        "/images/same/a.png",
    ]
    assert [(r["role"], r["url"]) for r in refs if r["role"] != "body"] == [
        ("headimg", site.url("/images/photo.png")),
        ("thumbnail", site.url("/images/gen/9.png")),
        ("media", site.url("/images/gen/10.webp")),  # audio and video enclosures are no images
    ]
    assert main_crawl.image(site.url("/images/gen/10.webp"))["status"] == "downloaded"


def test_relative_urls_use_the_items_base_url(main_crawl: Crawl, site: Any) -> None:
    refs = main_crawl.item(site.url("/articles/b.html"))["images"]
    assert refs[1]["url"] == site.url("/images/gen/11.png")
    assert refs[1]["status"] == "downloaded"


def test_the_same_bytes_at_two_urls_are_one_file(main_crawl: Crawl, site: Any) -> None:
    a = main_crawl.image(site.url("/images/same/a.png"))
    b = main_crawl.image(site.url("/images/same/b.png"))
    assert a["path"] == b["path"]
    assert sorted([a["status"], b["status"]]) == ["cached", "downloaded"]
    shas = [p.name.split(".")[0] for p in main_crawl.files()]
    assert len(shas) == len(set(shas))  # every distinct image stored exactly once
    assert not list(main_crawl.media.rglob("*.part"))  # no temporary file left


def test_an_image_seen_again_in_the_same_crawl_is_fetched_once(
    main_crawl: Crawl, site: Any
) -> None:
    refs = [
        ref
        for item in main_crawl.items
        for ref in item["images"]
        if ref["url"] == site.url("/images/photo.png")
    ]
    assert len(refs) == 3  # body of a, head image of a, body of b
    assert {r["path"] for r in refs} == {refs[0]["path"]}
    assert len(crawler_requests(site, "/images/photo.png")) == 1


def test_the_extension_comes_from_the_bytes(main_crawl: Crawl, site: Any) -> None:
    jpeg = main_crawl.image(site.url("/images/cdn/v2_5b7db72ab3464b2f86e3c4ff166a252c_img_000"))
    assert jpeg["path"].endswith(".jpg")
    assert jpeg["media_type"] == "image/jpeg"
    octet = main_crawl.image(site.url("/images/octet-stream.png"))
    assert octet["path"].endswith(".png")
    assert octet["media_type"] == "image/png"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/images/fake.jpg", "not-an-image: an HTML page served as image/jpeg"),
        ("/images/missing.png", "http-404"),
        ("/images/bomb.png", "too-many-pixels: 100000x100000"),
        ("/images/huge.png", "too-large"),
        ("/images/huge-chunked.png", "too-large"),
        ("/redirect/loop.xml", "redirect-loop"),
        ("/broken/500.xml", "http-500"),
        ("/broken/truncated.xml", "truncated"),
    ],
)
def test_bad_images_are_refused_with_a_reason(
    main_crawl: Crawl, site: Any, path: str, reason: str
) -> None:
    ref = main_crawl.image(site.url(path))
    assert ref["status"] == "failed"
    assert ref["error"].startswith(reason), ref["error"]
    assert ref["path"] is None
    assert ref["sha256"] is None


def test_an_unreachable_host_is_a_recorded_failure(main_crawl: Crawl) -> None:
    ref = main_crawl.image("http://127.0.0.1:9/refused.png")
    assert ref["status"] == "failed"
    assert ref["error"].startswith("connection-refused")


def test_nothing_refused_is_stored(main_crawl: Crawl, site: Any) -> None:
    stored = {p.read_bytes() for p in main_crawl.files()}
    for path in ("/images/fake.jpg", "/images/bomb.png"):
        assert site.get(path).body not in stored


def test_5xx_is_retried_a_bounded_number_of_times(main_crawl: Crawl, site: Any) -> None:
    assert len(site.requests("/broken/500.xml")) == 2  # ARCHIVER_IMAGE_RETRIES = 1


def test_redirect_loops_stop(main_crawl: Crawl, site: Any) -> None:
    hops = site.requests("/redirect/loop.xml") + site.requests("/redirect/loop-2.xml")
    assert 2 <= len(hops) <= 7  # ARCHIVER_IMAGE_MAX_REDIRECTS = 5, not REDIRECT_MAX_TIMES


def test_a_slow_image_times_out_sooner_than_a_page(site: Any, tmp_path: Path) -> None:
    slow = site.url("/images/gen/31.png?delay=8")
    crawl = run_crawl(
        tmp_path,
        [article(site.url("/articles/slow.html"), f'<img src="{slow}">')],
        db=f"sqlite:///{tmp_path / 'archive.db'}",
        media=tmp_path / "media",
        settings={"ARCHIVER_IMAGE_TIMEOUT": 1, "ARCHIVER_IMAGE_RETRIES": 0},
    )
    assert crawl.image(slow)["error"].startswith("timeout")
    assert crawl.items[0]["url"] == site.url("/articles/slow.html")


def test_a_huge_image_is_cut_off_not_read_to_the_end(
    main_crawl: Crawl, site: Any, counting_servers: tuple[CountingServer, CountingServer]
) -> None:
    limit = 20 * 1024 * 1024
    for server in counting_servers:
        ref = main_crawl.image(server.url + ("?chunked" if server.chunked else ""))
        assert ref["error"].startswith("too-large"), ref["error"]
        assert server.finished == [False]  # the client hung up mid-body
        assert server.sent[0] < server.TOTAL
    # Content-Length announced the size: nothing of the body was read. Chunked: the
    # download stopped soon after the limit.
    received = main_crawl.received
    assert received.get(counting_servers[0].url, 0) < 1024 * 1024
    assert limit < received[counting_servers[1].url + "?chunked"] < limit + 4 * 1024 * 1024
    assert received.get(site.url("/images/huge.png"), 0) < 1024 * 1024
    assert received[site.url("/images/huge-chunked.png")] < limit + 4 * 1024 * 1024


def test_stats_count_images_and_bytes(main_crawl: Crawl) -> None:
    stats = main_crawl.stats
    files = main_crawl.files()
    assert stats["archiver/images/downloaded"] == len(files)
    assert stats["archiver/images/bytes"] == sum(p.stat().st_size for p in files)
    assert stats["archiver/images/failed"] == 11
    assert stats["archiver/images/failed/too-large"] == 4
    assert stats["archiver/images/cached"] >= 1


def test_the_rewritten_body_shows_only_local_files_except_failures(
    main_crawl: Crawl, site: Any
) -> None:
    item = main_crawl.item(site.url("/articles/a.html"))
    refs = [ImageRef(**ref) for ref in item["images"]]
    out = rewrite_images(item["content_html"], local_image_map(refs, "media"), base_url=item["url"])
    found = {f.url for f in find_images(out, "file:///archive/")}
    remaining = {url for url in found if not url.startswith("file:///archive/media/")}
    failed = {r.url for r in refs if r.status == "failed" and r.role == "body"}
    assert remaining == failed
    for ref in refs:
        if ref.status in ("downloaded", "cached") and ref.role == "body":
            assert f'src="media/{ref.path}"' in out


# -- Referer strategies, remembered across crawls ------------------------------------------------


def test_an_article_cannot_send_the_crawler_to_private_addresses(site: Any, tmp_path: Path) -> None:
    """Its source's host is the user's; this server under another name is a private address
    of another host, refused before any request, unless the setting allows it."""
    private = f"http://localhost:{site.port}/images/photo.png"
    body = f'<img src="{private}"><img src="/images/gen/40.png">'
    items = [article(site.url("/articles/guarded.html"), body)]
    site.reset_log()
    guarded = run_crawl(
        tmp_path / "1",
        items,
        db=f"sqlite:///{tmp_path / 'a.db'}",
        media=tmp_path / "m1",
        settings={"ARCHIVER_ALLOW_PRIVATE_ADDRESSES": "false"},
    )
    refs = guarded.items[0]["images"]
    assert [r["status"] for r in refs] == ["failed", "downloaded"]
    assert refs[0]["error"].startswith("private-address: private address: localhost (")
    assert crawler_requests(site, "/images/photo.png") == []
    allowed = run_crawl(  # the setting, as the other tests here have it
        tmp_path / "2", items, db=f"sqlite:///{tmp_path / 'b.db'}", media=tmp_path / "m2"
    )
    assert [r["status"] for r in allowed.items[0]["images"]] == ["downloaded", "downloaded"]


def test_referer_strategies_are_tried_and_remembered(site: Any, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    Archive(db).close()
    port = site.port
    syndicated = "https://syndicator.example.net/post/1"
    hotlink = f"http://127.0.0.1:{port}/images/hotlink.jpg"
    no_referrer = f"http://localhost:{port}/images/no-referrer.jpg"
    own_page = f"http://localhost:{port}/articles/own.html"
    site.reset_log()
    first = run_crawl(
        tmp_path / "first",
        [
            article(syndicated, f'<img src="{hotlink}">'),
            article(own_page, f'<img src="{no_referrer}">'),
        ],
        db=db,
        media=tmp_path / "media-1",
    )
    assert first.image(hotlink)["status"] == "downloaded"
    assert first.image(no_referrer)["status"] == "downloaded"
    tries = site.requests("/images/hotlink.jpg")
    assert [(t["headers"].get("referer"), t["status"]) for t in tries] == [
        (None, 403),  # no Referer: refused
        (syndicated, 403),  # the article's (another site's): refused
        (f"http://127.0.0.1:{port}/", 200),  # the image site's root
    ]
    assert [t["headers"].get("referer") for t in site.requests("/images/no-referrer.jpg")] == [None]
    archive = Archive(db)
    try:
        assert archive.host_policies.all() == {f"127.0.0.1:{port}": "root"}
    finally:
        archive.close()

    site.reset_log()
    second = run_crawl(
        tmp_path / "second",
        [article(syndicated, f'<img src="{hotlink}?again">')],
        db=db,
        media=tmp_path / "media-2",
    )
    assert second.image(hotlink + "?again")["status"] == "downloaded"
    tries = site.requests("/images/hotlink.jpg")
    assert [(t["headers"].get("referer"), t["status"]) for t in tries] == [
        (f"http://127.0.0.1:{port}/", 200)  # straight to what worked last time
    ]


# -- with the store: images archived once are not fetched again ---------------------------------


def test_images_already_archived_are_not_downloaded_again(site: Any, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    media = tmp_path / "media"
    pipelines = {
        "pipelines.images.ArticleImagesPipeline": 400,
        "pipelines.store.StorePipeline": 500,
    }
    body = (
        '<img src="/images/gen/21.png"><img src="/images/same/a.png"><img src="/images/x404.png">'
    )
    items = [article(site.url("/articles/again.html"), body)]
    first = run_crawl(tmp_path / "1", items, db=db, media=media, pipelines=pipelines)
    assert [r["status"] for r in first.items[0]["images"]] == ["downloaded", "downloaded", "failed"]
    no_errors_logged(first.log)

    site.reset_log()
    second = run_crawl(tmp_path / "2", items, db=db, media=media, pipelines=pipelines)
    refs = second.items[0]["images"]
    assert [r["status"] for r in refs] == ["cached", "cached", "deferred"]
    assert [r["path"] for r in refs[:2]] == [r["path"] for r in first.items[0]["images"][:2]]
    assert refs[0]["width"] == 48
    assert refs[2]["error"] == first.items[0]["images"][2]["error"]  # the recorded reason
    assert site.requests("/images/gen/21.png") == []
    assert site.requests("/images/same/a.png") == []
    assert site.requests("/images/x404.png") == []  # failed an hour ago: not due yet

    # The same bytes at a new URL are fetched (to learn their hash) but not written again.
    (media / first.items[0]["images"][1]["path"]).touch()
    before = {p: p.stat().st_mtime_ns for p in media.rglob("*.png")}
    third = run_crawl(
        tmp_path / "3",
        [article(site.url("/articles/other.html"), '<img src="/images/same/b.png">')],
        db=db,
        media=media,
        pipelines=pipelines,
    )
    assert third.items[0]["images"][0]["status"] == "cached"
    assert {p: p.stat().st_mtime_ns for p in media.rglob("*.png")} == before

    archive = Archive(db)
    try:
        shown = archive.articles.get(site.url("/articles/again.html"))
    finally:
        archive.close()
    assert [(i["status"], i["bytes"] is not None) for i in shown["images"]] == [
        ("downloaded", True),
        ("downloaded", True),
        ("failed", False),
    ]
    assert shown["images"][2]["failures"] == 1


def test_failed_images_back_off_and_a_later_success_is_recorded(site: Any, tmp_path: Path) -> None:
    """An unchanged article's failed images are tried again only when due; when one then
    arrives, the archive records it although the article itself did not change."""
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    media = tmp_path / "media"
    pipelines = {
        "pipelines.images.ArticleImagesPipeline": 400,
        "pipelines.store.StorePipeline": 500,
    }
    url = site.url("/articles/backoff.html")
    items = [article(url, '<img src="/images/fails-once.png"><img src="/images/missing.png">')]
    site.reset()  # /images/fails-once.png answers 404 to its first request only

    def crawl(name: str, delay: int | None = None) -> list[dict[str, Any]]:
        settings = {} if delay is None else {"ARCHIVER_IMAGE_RETRY_DELAY": delay}
        done = run_crawl(
            tmp_path / name, items, db=db, media=media, pipelines=pipelines, settings=settings
        )
        no_errors_logged(done.log)
        return [(ref["status"], ref["failures"]) for ref in done.items[0]["images"]]

    def archived() -> list[tuple[str, int, str]]:
        archive = Archive(db)
        try:
            images = archive.articles.get(url)["images"]
        finally:
            archive.close()
        return [(i["status"], i["failures"], i["last_attempt"]) for i in images]

    assert crawl("1") == [("failed", 1), ("failed", 1)]
    first = archived()
    assert [(status, failures) for status, failures, _ in first] == [("failed", 1), ("failed", 1)]

    site.reset_log()
    assert crawl("2") == [("deferred", 1), ("deferred", 1)]
    assert crawler_requests(site, "/images/fails-once.png") == []
    assert crawler_requests(site, "/images/missing.png") == []
    assert archived() == first  # nothing learnt, nothing written

    site.reset_log()
    assert crawl("3", delay=0) == [("downloaded", 0), ("failed", 2)]  # due at once
    assert len(crawler_requests(site, "/images/fails-once.png")) == 1
    assert len(crawler_requests(site, "/images/missing.png")) == 1
    third = archived()
    assert [(status, failures) for status, failures, _ in third] == [
        ("downloaded", 0),
        ("failed", 2),
    ]
    assert third[1][2] > first[1][2]  # the attempt is recorded
    files = [p for p in (media / "images").rglob("*") if p.is_file()]
    assert [f.read_bytes() for f in files] == [site.get("/images/photo.png").body]


def test_the_back_off_doubles_up_to_its_maximum(tmp_path: Path) -> None:
    crawler = get_crawler(
        settings_dict={
            "ARCHIVER_MEDIA_DIR": str(tmp_path / "media"),
            "ARCHIVER_IMAGE_RETRY_DELAY": 60,
            "ARCHIVER_IMAGE_RETRY_MAX_DELAY": 600,
        }
    )
    pipeline = ArticleImagesPipeline.from_crawler(crawler)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    retry_after = pipeline.retry_policy.retry_after
    waits = [(retry_after(n, now) - now).total_seconds() for n in (1, 2, 3, 4, 5, 99)]
    assert retry_after(0, now) == now + timedelta(seconds=60)  # as the first failure
    assert waits == [60, 120, 240, 480, 600, 600]


def test_no_images_turns_the_pipeline_off(site: Any, tmp_path: Path) -> None:
    crawl = run_crawl(
        tmp_path,
        [article(site.url("/articles/off.html"), '<img src="/images/gen/30.png">')],
        db=f"sqlite:///{tmp_path / 'archive.db'}",
        media=tmp_path / "media",
        settings={"ARCHIVER_IMAGES_ENABLED": False},
    )
    assert crawl.items[0]["images"] == []
    assert not (tmp_path / "media").exists()


# -- unit checks, no crawl -----------------------------------------------------------------------


@pytest.fixture
def pipeline(tmp_path: Path) -> ArticleImagesPipeline:
    crawler = get_crawler(settings_dict={"ARCHIVER_MEDIA_DIR": str(tmp_path / "media")})
    return ArticleImagesPipeline.from_crawler(crawler)


def test_article_images_lists_body_then_head_thumbnail_and_image_media() -> None:
    item = ArticleItem(
        url="https://site.example/post/1",
        source_url="https://site.example/feed",
        content_html='<img src="a.png"><img data-src="/b.png" src="data:,">',
        headimg="https://site.example/post/a.png",
        thumbnail="ftp://site.example/t.png",
        media=[
            MediaRef("https://cdn.example/m.jpg", "media:content", "image/jpeg"),
            MediaRef("https://cdn.example/podcast.mp3", "enclosure"),
            MediaRef("https://cdn.example/clip", "enclosure", "video/mp4"),
            MediaRef("https://cdn.example/noext", "media:thumbnail"),
            MediaRef("https://site.example/post/a.png", "image"),
        ],
    )
    refs = article_images(item)
    assert [(r.position, r.role, r.url, r.status) for r in refs] == [
        (0, "body", "https://site.example/post/a.png", "pending"),
        (1, "body", "https://site.example/b.png", "pending"),
        (2, "headimg", "https://site.example/post/a.png", "pending"),
        (3, "thumbnail", "ftp://site.example/t.png", "skipped"),
        (4, "media", "https://cdn.example/m.jpg", "pending"),
        (5, "media", "https://cdn.example/noext", "pending"),
    ]


def prepared(pipeline: ArticleImagesPipeline, item: ArticleItem) -> list[Request]:
    """The item's requests as they leave ``media_to_download`` (Referer strategy applied)."""
    requests = pipeline.get_media_requests(item, None)  # type: ignore[arg-type]
    for request in requests:
        fetch = request.meta["archiver_image"]
        pipeline.requests.use_strategy(
            request, fetch, pipeline.known_images.first_strategy(fetch.url)
        )
    return requests


def test_one_request_per_distinct_url_with_the_limits(pipeline: ArticleImagesPipeline) -> None:
    item = ArticleItem(
        url="https://site.example/post/1",
        source_url="https://site.example/feed",
        content_html='<img src="a.png"><img src="http://[bad/x.png">',
        headimg="https://site.example/post/a.png",
    )
    requests = prepared(pipeline, item)
    assert [r.url for r in requests] == ["https://site.example/post/a.png"]
    meta = requests[0].meta
    assert meta["download_maxsize"] == 20 * 1024 * 1024
    assert meta["download_timeout"] == 30
    assert meta["max_retry_times"] == 2
    assert meta["redirect_ttl"] == 5
    assert meta["allow_offsite"] is True
    assert meta["referrer_policy"] == "no-referrer"
    assert b"Referer" not in requests[0].headers
    assert requests[0].headers[b"Accept"] == b"image/*,*/*;q=0.8"


def test_a_host_policy_decides_the_first_referer(pipeline: ArticleImagesPipeline) -> None:
    pipeline.known_images.host_policies = {"cdn.example": "root", "img.example:8080": "article"}
    item = ArticleItem(
        url="https://site.example/post/1",
        source_url="https://site.example/feed",
        content_html='<img src="https://cdn.example/a.png"><img src="http://img.example:8080/b">',
    )
    requests = prepared(pipeline, item)
    assert [r.headers.get(b"Referer") for r in requests] == [
        b"https://cdn.example/",
        b"https://site.example/post/1",
    ]
    assert [r.meta["archiver_image"].tried for r in requests] == [["root"], ["article"]]


def test_a_strategy_sending_a_header_already_refused_is_passed_over() -> None:
    from archiver.media.referers import ImageFetch

    fetch = ImageFetch(url="https://cdn.example/a.png", article_url="https://cdn.example/")
    assert fetch.use(fetch.next_strategy("article") or "") == "https://cdn.example/"
    assert fetch.next_strategy("article") == "none"
    fetch.use("none")
    assert fetch.next_strategy("article") is None  # "root" would send the article's header
    assert (fetch.tried, fetch.referers) == (
        ["article", "none", "root"],
        ["https://cdn.example/", None, "https://cdn.example/"],
    )


def response(body: bytes, status: int = 200, content_type: str = "image/png") -> Response:
    return Response(
        "https://cdn.example/x",
        status=status,
        body=body,
        headers={"Content-Type": content_type},
        request=Request("https://cdn.example/x"),
    )


def test_check_image_refusals(pipeline: ArticleImagesPipeline) -> None:
    from tests.mocksite.images import bomb_png, gradient_png

    good = gradient_png().data
    assert pipeline.check_image(response(good)).media_type == "image/png"
    cases = [
        (response(good, 403), "http-403", True),
        (response(good, 404), "http-404", False),
        (response(b""), "empty", False),
        (response(b"<!DOCTYPE html><p>denied", content_type="image/jpeg"), "not-an-image", True),
        (response(bomb_png().data), "too-many-pixels", False),
        (response(good[:20]), "unreadable", False),
    ]
    for resp, reason, refused in cases:
        with pytest.raises(ImageFailed) as raised:
            pipeline.check_image(resp)
        assert (raised.value.reason, raised.value.refused) == (reason, refused)
    pipeline.max_bytes = 100
    with pytest.raises(ImageFailed, match="too-large"):
        pipeline.check_image(response(good))
    pipeline.max_bytes = 0  # no limit
    html = HtmlResponse("https://cdn.example/x", body=good, headers={"Content-Type": "text/html"})
    assert pipeline.check_image(html).extension == "png"  # the bytes decide


def test_failure_reasons(pipeline: ArticleImagesPipeline) -> None:
    request = Request("https://cdn.example/x", meta={"download_maxsize": 10})
    assert pipeline.failure_reason(TimeoutError(), request).reason == "timeout"
    assert pipeline.failure_reason(DNSLookupError(), request).reason == "dns"
    assert (
        pipeline.failure_reason(IgnoreRequest("max redirections reached"), request).reason
        == "redirect-loop"
    )
    assert pipeline.failure_reason(IgnoreRequest("Forbidden by robots.txt")).reason == "filtered"
    assert pipeline.failure_reason(RuntimeError("boom")).reason == "download-error"
    failed = ImageFailed("http-404")
    assert pipeline.failure_reason(failed) is failed


def test_item_completed_fills_refs_and_marks_later_deliveries_cached(
    pipeline: ArticleImagesPipeline,
) -> None:
    from twisted.python.failure import Failure

    def item() -> ArticleItem:
        return ArticleItem(
            url="https://s.example/p",
            source_url="https://s.example/f",
            content_html='<img src="/a.png"><img src="/b.png">',
            headimg="https://s.example/a.png",
        )

    done = {"url": "https://s.example/a.png", "path": "images/ab/" + "ab" * 32 + ".png",
            "checksum": "ab" * 32, "status": "downloaded", "media_type": "image/png",
            "width": 2, "height": 3, "size": 40}  # fmt: skip
    results: list[Any] = [(True, done), (False, Failure(ImageFailed("http-404")))]
    first = item()
    first.images = article_images(first)
    pipeline.item_completed(results, first, None)  # type: ignore[arg-type]
    assert [(r.url, r.status, r.error, r.width) for r in first.images] == [
        ("https://s.example/a.png", "downloaded", None, 2),
        ("https://s.example/b.png", "failed", "http-404", None),
        ("https://s.example/a.png", "downloaded", None, 2),
    ]
    second = item()
    second.images = article_images(second)
    pipeline.item_completed(results, second, None)  # type: ignore[arg-type]
    assert second.images[0].status == "cached"


def test_a_failure_says_when_it_was_tried_and_results_are_forgotten_in_time(
    pipeline: ArticleImagesPipeline,
) -> None:
    """A failure another article of the crawl already met keeps the time of the one real
    attempt (a worker must not push the back-off on with every article), and what a crawl
    remembers of its images is forgotten after CACHE_SECONDS (a worker lives for days)."""
    from types import SimpleNamespace

    from twisted.python.failure import Failure

    import pipelines.known_images as known_images

    item = ArticleItem(url="https://s.example/p", source_url="https://s.example/f",
                       content_html='<img src="/b.png">')  # fmt: skip
    item.images = article_images(item)
    tried = datetime(2026, 1, 1, tzinfo=UTC)
    pipeline.known_images.attempted["https://s.example/b.png"] = tried
    pipeline.item_completed([(False, Failure(ImageFailed("http-404")))], item, None)  # type: ignore[arg-type]
    assert (item.images[0].status, item.images[0].last_attempt) == ("failed", tried)

    info = SimpleNamespace(downloaded={"fingerprint": "result"})
    pipeline.item_completed([], ArticleItem(url="u", source_url="s"), info)  # type: ignore[arg-type]
    assert info.downloaded  # not yet
    pipeline.known_images.remembered_since -= known_images.CACHE_SECONDS + 1
    pipeline.item_completed([], ArticleItem(url="u", source_url="s"), info)  # type: ignore[arg-type]
    assert (info.downloaded, pipeline.known_images.attempted) == ({}, {})


def test_the_filesystem_store_writes_atomically(tmp_path: Path) -> None:
    store = AtomicFSFilesStore(str(tmp_path / "media"))
    path = "images/ab/" + "ab" * 32 + ".png"
    assert store.stat_file(path, None) == {}  # type: ignore[arg-type]
    store.write(path, b"first")
    store.write(path, b"second")
    assert (tmp_path / "media" / path).read_bytes() == b"second"
    assert [p.name for p in (tmp_path / "media" / "images" / "ab").iterdir()] == [Path(path).name]
    assert "last_modified" in store.stat_file(path, None)  # type: ignore[arg-type]


def test_the_store_follows_the_media_setting(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"ARCHIVER_MEDIA_DIR": str(tmp_path / "m")})
    pipeline = ArticleImagesPipeline.from_crawler(crawler)
    assert isinstance(pipeline.store, AtomicFSFilesStore)
    assert (tmp_path / "m").is_dir()
    with pytest.raises(NotConfigured):
        ArticleImagesPipeline.from_crawler(
            get_crawler(settings_dict={"ARCHIVER_IMAGES_ENABLED": False})
        )


def test_file_path_is_the_content_name(pipeline: ArticleImagesPipeline) -> None:
    from tests.mocksite.images import gradient_png

    data = gradient_png().data
    request = Request("https://cdn.example/x")
    path = pipeline.file_path(request, response(data))
    assert path == f"images/{sha256(data)[:2]}/{sha256(data)}.png"
    with pytest.raises(ValueError):
        pipeline.file_path(request)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://CDN.Example.com/a.png", "cdn.example.com"),
        ("http://cdn.example.com:80/a.png", "cdn.example.com"),
        ("http://127.0.0.1:8080/a.png", "127.0.0.1:8080"),
    ],
)
def test_host_keys(url: str, key: str) -> None:
    assert host_key(url) == key


class FakePillowImage:
    """Just enough of ``PIL.Image`` to follow the thumbnail code path without Pillow."""

    def __init__(self, size: tuple[int, int], mode: str = "RGBA") -> None:
        self.size, self.mode = size, mode

    def __enter__(self) -> FakePillowImage:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def thumbnail(self, size: tuple[int, int]) -> None:
        scale = min(size[0] / self.size[0], size[1] / self.size[1], 1)
        self.size = (round(self.size[0] * scale), round(self.size[1] * scale))

    def convert(self, mode: str) -> FakePillowImage:
        return FakePillowImage(self.size, mode)

    def getchannel(self, name: str) -> str:
        return name

    def paste(self, image: FakePillowImage, mask: str) -> None:
        pass

    def save(self, out: Any, kind: str, quality: int) -> None:
        out.write(f"{kind} {self.size[0]}x{self.size[1]} {self.mode}".encode())


class FakePillow:
    @staticmethod
    def open(buffer: Any) -> FakePillowImage:
        return FakePillowImage((64, 48))

    @staticmethod
    def new(mode: str, size: tuple[int, int], color: tuple[int, int, int]) -> FakePillowImage:
        return FakePillowImage(size, mode)


def test_thumbnails_are_made_off_the_reactor_and_stored_by_content(tmp_path: Path) -> None:
    import asyncio

    crawler = get_crawler(
        settings_dict={
            "ARCHIVER_MEDIA_DIR": str(tmp_path / "media"),
            "ARCHIVER_THUMBNAILS": {"small": (32, 32), "medium": [128, 128]},
        }
    )
    pipeline = ArticleImagesPipeline.from_crawler(crawler)
    pipeline.thumbnails.sizes = {"small": (32, 32), "medium": (128, 128)}  # as if Pillow were there
    pipeline.thumbnails.pillow = FakePillow()
    digest = "cd" * 32
    path = f"images/cd/{digest}.png"
    asyncio.run(pipeline.thumbnails.write(pipeline.store, b"png bytes", path, None))  # type: ignore[arg-type]
    small = tmp_path / "media" / "thumbs" / "small" / "cd" / f"{digest}.jpg"
    medium = tmp_path / "media" / "thumbs" / "medium" / "cd" / f"{digest}.jpg"
    assert small.read_bytes() == b"JPEG 32x24 RGB"
    assert medium.read_bytes() == b"JPEG 64x48 RGB"  # never enlarged


def test_real_thumbnails_with_pillow(tmp_path: Path) -> None:
    pytest.importorskip("PIL.Image")
    from archiver.media.thumbnails import make_thumbnail
    from tests.mocksite.images import alpha_png

    data = make_thumbnail(__import__("PIL.Image").Image, alpha_png().data, (16, 16))
    info = sniff_image(data)
    assert info is not None
    assert (info.media_type, info.width, info.height) == ("image/jpeg", 16, 16)


def test_thumbnails_without_pillow_are_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if Pillow were not installed
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    crawler = get_crawler(
        settings_dict={
            "ARCHIVER_MEDIA_DIR": str(tmp_path / "media"),
            "ARCHIVER_THUMBNAILS": {"small": (32, 32)},
        }
    )
    pipeline = ArticleImagesPipeline.from_crawler(crawler)
    assert pipeline.thumbnails.sizes == {}
    assert "pip install Pillow" in caplog.text


def test_bad_thumbnail_settings_are_named(tmp_path: Path) -> None:
    from archiver.errors import ConfigurationError

    crawler = get_crawler(
        settings_dict={
            "ARCHIVER_MEDIA_DIR": str(tmp_path / "media"),
            "ARCHIVER_THUMBNAILS": {"small": 320},
        }
    )
    with pytest.raises(ConfigurationError, match="ARCHIVER_THUMBNAILS"):
        ArticleImagesPipeline.from_crawler(crawler)


def test_a_store_that_raises_on_a_missing_file_means_missing(
    pipeline: ArticleImagesPipeline,
) -> None:
    import asyncio

    class RaisingStore:
        def stat_file(self, path: str, info: Any) -> Any:
            raise RuntimeError("404 Not Found (HeadObject)")

    pipeline.store = RaisingStore()  # type: ignore[assignment]
    exists = pipeline.known_images.in_store(pipeline.store, "images/ab/x.png", None)  # type: ignore[arg-type]
    assert asyncio.run(exists) is False
