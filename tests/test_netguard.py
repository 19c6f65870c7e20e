"""The private-address guard: which addresses are private, and which requests it lets by.

The crawls that show it end to end are in test_sitemaps.py (pages) and
test_images_pipeline.py (images)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from archiver.crawling.guard import (
    LocalFileRefused,
    PrivateAddressGuard,
    PrivateAddressRefused,
    is_public,
)
from tests.conftest import run_archiver


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # a cloud's metadata service
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.1", False),  # IPv4-mapped: judged as the IPv4 address
        ("::ffff:93.184.216.34", True),
        ("::10.0.0.1", False),  # IPv4-compatible
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
        ("2002:5db8:d822::1", True),  # 6to4 of 93.184.216.34
        ("not an address", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(address) is public


def check(guard: PrivateAddressGuard, url: str, source: str | None = None) -> str | None:
    """None when the guard lets the request by, else what it says."""
    meta = {} if source is None else {"source_url": source}
    try:
        asyncio.run(guard.process_request(Request(url, meta=meta)))
    except (PrivateAddressRefused, LocalFileRefused) as refused:
        return str(refused)
    return None


def test_what_the_guard_lets_by() -> None:
    guard = PrivateAddressGuard()
    public = "http://93.184.216.34/feed.xml"
    assert check(guard, "http://93.184.216.34/a.png", public) is None
    refused = check(guard, "http://169.254.169.254/latest/meta-data/", public)
    assert refused is not None
    assert refused.startswith("private address: 169.254.169.254 ")
    assert "ARCHIVER_ALLOW_PRIVATE_ADDRESSES" in refused
    refused = check(guard, "http://localhost:8080/admin", public)  # resolved first
    assert refused is not None
    assert refused.startswith("private address: localhost (")
    assert check(guard, "http://[::1]:8080/", public) is not None
    # A source on a private address is the user's: it and its own host's links are fetched,
    # robots.txt included (asked for without a source), but not other private hosts, and
    # not for another source's documents.
    local = "http://127.0.0.1:1200/rsshub/route"
    assert check(guard, "http://127.0.0.1:1200/robots.txt") is not None  # no source yet
    assert check(guard, local, local) is None
    assert check(guard, "http://127.0.0.1:1200/images/a.png", local) is None
    assert check(guard, "http://127.0.0.1:1200/robots.txt") is None
    assert check(guard, "http://127.0.0.1:1200/admin") is not None  # not robots.txt
    assert check(guard, "http://127.0.0.1:1200/admin", public) is not None  # another's
    assert check(guard, "http://127.0.0.1:9999/", local) is not None  # another port
    # Everything a feed read from disk links to is the user's own.
    assert check(guard, "http://10.0.0.5/a.png", "file:///home/me/feed.xml") is None
    assert check(guard, "file:///home/me/a.png", "file:///home/me/feed.xml") is None
    assert check(guard, "http://no-such-host.invalid/", public) is None  # fails on download


def test_a_web_document_never_reads_local_files() -> None:
    """Whatever the setting: a page's <base href="file:..."> or a file: link is refused."""
    for guard in (PrivateAddressGuard(), PrivateAddressGuard(allow_private=True)):
        refused = check(guard, "file:///etc/passwd", "https://public.example/feed")
        assert refused == "local file: file:///etc/passwd is not read for a document of the web"
        assert check(guard, "file:///etc/passwd") is not None  # no source: not the user's
        refused = check(guard, "ftp://10.0.0.5/x", "https://public.example/feed")
        assert refused is not None
        assert refused.startswith("ftp: URLs are not fetched for a document of the web")


def test_the_setting_lets_private_addresses_by() -> None:
    crawler = get_crawler(settings_dict={"ARCHIVER_ALLOW_PRIVATE_ADDRESSES": "true"})
    guard = PrivateAddressGuard.from_crawler(crawler)
    assert check(guard, "http://10.0.0.5/a.png", "https://public.example/feed") is None
    default = PrivateAddressGuard.from_crawler(get_crawler())
    assert check(default, "http://10.0.0.5/a.png", "https://public.example/feed") is not None


def test_an_rsshub_route_trusts_its_instance() -> None:
    local = PrivateAddressGuard("http://127.0.0.1:1200/")
    assert check(local, "http://127.0.0.1:1200/36kr/news", "rsshub:/36kr/news") is None
    public = PrivateAddressGuard()  # https://rsshub.app
    assert check(public, "http://127.0.0.1:1200/36kr/news", "rsshub:/36kr/news") is not None


def answered(guard: PrivateAddressGuard, url: str, source: str, address: str | None) -> str | None:
    """What the guard says of a response to *url* from *address*: None, or why refused."""
    from ipaddress import ip_address

    from scrapy.http import Response

    request = Request(url, meta={"source_url": source})
    response = Response(url, request=request, ip_address=ip_address(address) if address else None)
    try:
        assert guard.process_response(request, response) is response
    except PrivateAddressRefused as refused:
        return str(refused)
    return None


def test_the_address_connected_to_is_checked_after_dns() -> None:
    """DNS rebinding: a name public when the guard looked, 127.0.0.1 or 169.254.169.254 when
    the download connected: the response is refused."""
    from ipaddress import ip_address

    guard = PrivateAddressGuard()
    public = "https://public.example/feed"
    for address in ("127.0.0.1", "169.254.169.254", "10.1.2.3", "::1", "::ffff:127.0.0.1"):
        refused = answered(guard, "http://rebind.example/a.png", public, address)
        assert refused is not None, address
        connected = ip_address(address)
        assert refused.startswith(f"private address: rebind.example connected to {connected}")
    assert answered(guard, "http://rebind.example/a.png", public, "93.184.216.34") is None
    assert answered(guard, "http://rebind.example/a.png", public, None) is None  # no socket
    # Its own source's host, and the setting, are let by as before the download.
    local = "http://127.0.0.1:1200/feed"
    assert answered(guard, "http://127.0.0.1:1200/a.png", local, "127.0.0.1") is None
    lenient = PrivateAddressGuard(allow_private=True)
    assert answered(lenient, "http://x.example/", public, "10.0.0.1") is None


def test_a_rebinding_name_is_refused_in_a_real_crawl(mock_site: Any, tmp_path: Path) -> None:
    """A feed's images on a name that the download resolves to 127.0.0.1 while the guard's
    own lookup found nothing to refuse; one of them reached through a redirect."""
    db = str(tmp_path / "archive.db")
    result = run_archiver(
        "--db", db, "--media", str(tmp_path / "media"), "crawl",
        mock_site.url("/edges/rebinding.xml"), "--full-text", "never",
        "-s", "TWISTED_DNS_RESOLVER=tests.rebinding.RebindingResolver",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = run_archiver("--db", db, "show", "1", "--format", "json").json()
    body = [image for image in shown["images"] if image["role"] == "body"]
    assert [image["status"] for image in body] == ["failed", "failed", "downloaded"]
    for image in body[:2]:  # named directly, and through a redirect from the feed's host
        assert "evil.rebind.test connected to 127.0.0.1" in image["error"], image["error"]
