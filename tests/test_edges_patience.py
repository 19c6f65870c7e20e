"""Patience with servers, through the real command against the mock site: a short
``Retry-After`` is waited out within the crawl, by host; 5xx bursts get bounded retries with
back-off; the run records every wait."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result, run_archiver


def crawl(tmp_path: Path, *urls: str, **settings: str) -> Result:
    extra = [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]
    return run_archiver(
        "--db", str(tmp_path / "archive.db"), "crawl", *urls, "--no-images",
        "--full-text", "never", *extra,
    )  # fmt: skip


def run_sources(tmp_path: Path) -> dict[str, Any]:
    runs = run_archiver("--db", str(tmp_path / "archive.db"), "runs", "--format", "json").json()
    return dict(runs[0]["sources"])


def titles(tmp_path: Path) -> list[str]:
    rows = run_archiver("--db", str(tmp_path / "archive.db"), "search", "--format", "json")
    return sorted(row["title"] for row in rows.json())


@pytest.mark.parametrize(
    ("path", "status"), [("/edges/429-once.xml", 429), ("/edges/503-once.xml", 503)]
)
def test_a_short_retry_after_is_waited_out_within_the_crawl(
    mock_site: Any, tmp_path: Path, path: str, status: int
) -> None:
    key = uuid.uuid4().hex
    url = mock_site.url(f"{path}?key={key}")
    result = crawl(tmp_path, url)
    assert result.returncode == 0, result.stdout + result.stderr
    name = path.removeprefix("/edges/").removesuffix(".xml")
    assert titles(tmp_path) == [f"After patience: {name}"]
    requests = [r for r in mock_site.requests(path) if key in r["path"]]
    assert [r["status"] for r in requests] == [status, 200]
    (outcome,) = run_sources(tmp_path).values()
    assert outcome["status"] == "ok"
    assert outcome["waits"] == [
        {"url": url, "status": status, "waited": 1.0, "reason": "retry-after"}
    ]


def test_a_waiting_host_does_not_hold_up_the_others(mock_site: Any, tmp_path: Path) -> None:
    key = uuid.uuid4().hex
    waiting = mock_site.url(f"/edges/429-once.xml?key={key}")
    # The same server under another name is another host: it is not made to wait.
    other = mock_site.url(f"/edges/500-twice.xml?key={key}").replace("127.0.0.1", "localhost")
    result = crawl(tmp_path, waiting, other, ARCHIVER_RETRY_BACKOFF="0.1")
    assert result.returncode == 0, result.stdout + result.stderr
    log = [r for r in mock_site.requests() if key in r["path"]]
    retried_429 = next(r for r in log if r["path"].startswith("/edges/429") and r["status"] == 200)
    others = [r for r in log if r["path"].startswith("/edges/500")]
    assert [r["status"] for r in others] == [500, 500, 200]
    assert others[-1]["time"] < retried_429["time"]  # all three before the 429's second try


def test_a_5xx_burst_gets_bounded_retries_with_back_off(mock_site: Any, tmp_path: Path) -> None:
    key = uuid.uuid4().hex
    url = mock_site.url(f"/edges/500-twice.xml?key={key}")
    result = crawl(tmp_path, url, ARCHIVER_RETRY_BACKOFF="0.2")
    assert result.returncode == 0, result.stdout + result.stderr
    (outcome,) = run_sources(tmp_path).values()
    assert [(w["status"], w["waited"], w["reason"]) for w in outcome["waits"]] == [
        (500, 0.2, "backoff"),
        (500, 0.4, "backoff"),  # doubled
    ]
    assert titles(tmp_path) == ["After patience: 500-twice"]


def test_a_server_that_stays_down_fails_its_source_after_the_bound(
    mock_site: Any, tmp_path: Path
) -> None:
    key = uuid.uuid4().hex
    url = mock_site.url(f"/edges/503-always.xml?key={key}")
    result = crawl(tmp_path, url, ARCHIVER_RETRY_BACKOFF="0.1", RETRY_TIMES="3")
    assert result.returncode == 1
    assert len([r for r in mock_site.requests("/edges/503-always.xml") if key in r["path"]]) == 4
    (outcome,) = run_sources(tmp_path).values()
    assert outcome["status"] == "failed"
    assert [w["waited"] for w in outcome["waits"]] == [0.1, 0.2, 0.4]


def test_a_long_retry_after_defers_the_source_to_the_schedule(
    mock_site: Any, tmp_path: Path
) -> None:
    key = uuid.uuid4().hex
    url = mock_site.url(f"/edges/429-long.xml?key={key}")
    result = crawl(tmp_path, url)
    assert result.returncode == 1
    assert "HTTP 429" in result.stdout
    assert len([r for r in mock_site.requests("/edges/429-long.xml") if key in r["path"]]) == 1
    (outcome,) = run_sources(tmp_path).values()
    assert (outcome["status"], outcome["waits"]) == ("failed", [])
    # A setting that allows an hour would wait it: the limit is the setting's.
    from archiver.crawling.patience import PatientRetryMiddleware

    assert PatientRetryMiddleware().retry_after_max == 60.0
