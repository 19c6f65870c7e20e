"""RSSHub routes: how a route is kept and resolved against an instance."""

from __future__ import annotations

import pytest

from archiver.readers.rsshub import is_route, normalize_route, resolve_route


@pytest.mark.parametrize(
    "given",
    ["rsshub:/36kr/news/latest", "rsshub:36kr/news/latest", "rsshub://36kr/news/latest",
     "RSSHub:/36kr/news/latest/", "  rsshub:/36kr/news/latest  "],
)  # fmt: skip
def test_one_route_however_it_is_written(given: str) -> None:
    assert is_route(given)
    assert normalize_route(given) == "rsshub:/36kr/news/latest"


def test_a_route_keeps_its_query() -> None:
    assert normalize_route("rsshub:/telegram/channel/x?limit=5") == (
        "rsshub:/telegram/channel/x?limit=5"
    )


@pytest.mark.parametrize("url", ["https://rsshub.app/36kr/news", "feed.xml", "file:///a.xml"])
def test_urls_are_not_routes(url: str) -> None:
    assert not is_route(url)
    with pytest.raises(ValueError, match="not an RSSHub route"):
        normalize_route(url)


def test_a_route_must_name_something() -> None:
    with pytest.raises(ValueError, match="names no route"):
        normalize_route("rsshub:/")


@pytest.mark.parametrize(
    ("route", "instance", "url"),
    [
        ("rsshub:/36kr/news/latest", None, "https://rsshub.app/36kr/news/latest"),
        ("rsshub:/36kr/news/latest", "", "https://rsshub.app/36kr/news/latest"),
        ("rsshub:/36kr/news", "http://127.0.0.1:1200", "http://127.0.0.1:1200/36kr/news"),
        ("rsshub:/36kr/news", "https://me.example/rsshub/", "https://me.example/rsshub/36kr/news"),
        # The instance's access key goes with every route; the route's own parameters win.
        ("rsshub:/a/b?limit=5", "https://me.example/?key=s3cret",
         "https://me.example/a/b?limit=5&key=s3cret"),
        ("rsshub:/a/b?key=mine", "https://me.example/?key=s3cret", "https://me.example/a/b?key=mine"),
    ],
)  # fmt: skip
def test_resolving_against_an_instance(route: str, instance: str | None, url: str) -> None:
    assert resolve_route(route, instance) == url


@pytest.mark.parametrize("instance", ["rsshub.app", "ftp://rsshub.app", "https://"])
def test_a_bad_instance_is_named(instance: str) -> None:
    with pytest.raises(ValueError, match="ARCHIVER_RSSHUB_URL"):
        resolve_route("rsshub:/a/b", instance)


def test_an_instance_key_is_taken_out_of_what_is_kept() -> None:
    from archiver.readers.rsshub import hide_secrets, without_secrets

    instance = "https://me.example/rsshub?key=s3cret"
    url = "https://me.example/rsshub/a/b?limit=5&key=s3cret"
    assert without_secrets(url, instance) == "https://me.example/rsshub/a/b?limit=5"
    assert without_secrets("https://other.example/a?key=x", instance) == (
        "https://other.example/a?key=x"  # another host's parameters are its own
    )
    assert without_secrets(url, "https://me.example/") == url  # no key: nothing to take
    assert hide_secrets(f"HTTP 404 from {url}", instance) == (
        "HTTP 404 from https://me.example/rsshub/a/b?limit=5&key=***"
    )
