"""The reader in a real browser: Debian's Chromium driven by Playwright (its executable
path; nothing downloaded), against ``archiver serve`` on 127.0.0.1 over an archive crawled
from the mock site. Search 谷歌, open the article: its images load from the archive, and
the console shows no error and no Content-Security-Policy violation. A screenshot of each
page is kept under the test's tmp directory (and in ``artifacts/`` when
``ARCHIVER_TEST_ARTIFACTS`` names a directory)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import start_archiver, wait_until
from tests.webreader import CrawledArchive, crawl_for_reader

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def crawled(mock_site: Any, tmp_path_factory: pytest.TempPathFactory) -> CrawledArchive:
    return crawl_for_reader(mock_site, tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def served(crawled: CrawledArchive) -> Iterator[str]:
    """``archiver serve`` on a free loopback port: its base URL."""
    port = _free_port()
    process = start_archiver(
        "--db", crawled.db_url, "--media", str(crawled.media), "serve", "--port", str(port),
        cwd=crawled.directory,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(base + "/static/style.css", timeout=2).status_code == 200
        except httpx.HTTPError:
            return process.poll() is not None

    try:
        assert wait_until(up, timeout=60), "archiver serve did not start"
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        yield base
    finally:
        process.terminate()
        try:
            process.communicate(timeout=20)  # closes its pipes too
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def test_search_open_and_read_an_article_with_its_images(served: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on(
                "console",
                lambda message: (
                    problems.append(f"console {message.type}: {message.text}")
                    if message.type in ("error", "warning")
                    else None
                ),
            )
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "requestfailed",
                lambda request: problems.append(
                    f"request failed: {request.url} ({request.failure})"
                ),
            )
            # Every page settles (its icon too, which Chromium fetches after load) before
            # the test leaves it, so no request is cancelled and every failure counts.
            page.goto(served + "/", wait_until="networkidle")
            page.fill('input[name="q"]', "谷歌")
            with page.expect_navigation():
                page.press('input[name="q"]', "Enter")
            assert "q=%E8%B0%B7%E6%AD%8C" in page.url
            title = page.locator("li.article a.title", has_text="Keras")
            assert title.count() == 1
            assert page.locator("li.article mark", has_text="谷歌").count() >= 1
            page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
            page.wait_for_load_state("networkidle")  # the icon too, fetched after load

            with page.expect_navigation():
                title.click()
            assert "/articles/" in page.url
            assert "谷歌" in page.locator("article.reading h1").inner_text()
            images = page.locator(".body img, figure.head img")
            assert images.count() >= 2
            page.wait_for_function(
                "() => [...document.images].every((image) => image.complete)", timeout=15000
            )
            for index in range(images.count()):
                image = images.nth(index)
                assert image.get_attribute("src").startswith("/media/")
                width = image.evaluate("(element) => element.naturalWidth")
                assert width > 0, image.get_attribute("src")
            # nothing on the page came from anywhere but the reader
            resources = page.evaluate(
                "() => performance.getEntriesByType('resource').map((entry) => entry.name)"
            )
            assert resources
            assert all(url.startswith(served) for url in resources)
            page.screenshot(path=str(tmp_path / "article.png"), full_page=True)
            page.wait_for_load_state("networkidle")
            # the other pages open without a problem too
            for path in ("/sources", "/runs", "/stats"):
                page.goto(served + path, wait_until="networkidle")
            page.screenshot(path=str(tmp_path / "stats.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
    for name in ("search.png", "article.png", "stats.png"):
        assert (tmp_path / name).stat().st_size > 1000
    keep = os.environ.get("ARCHIVER_TEST_ARTIFACTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for name in ("search.png", "article.png", "stats.png"):
            shutil.copy(tmp_path / name, Path(keep) / name)
