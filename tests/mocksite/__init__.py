"""The mock site: a real HTTP server in a subprocess on 127.0.0.1, for crawl tests and benchmarks.

with running_site() as site:
    site.url("/feeds/rss2.xml")      # http://127.0.0.1:PORT/feeds/rss2.xml
    site.requests()                  # what the crawl asked for
"""

from __future__ import annotations

import contextlib
import http.client
import json
import selectors
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
"""The repository root: the subprocess runs there so that ``tests.mocksite`` imports."""


class MockSiteError(RuntimeError):
    """The mock site did not start, or a control request failed."""


@dataclass
class HttpResult:
    """One response, read whole, redirects not followed."""

    status: int
    headers: Message
    """Case-insensitive: ``result.headers["etag"]``."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class MockSite:
    """A running mock site: its address, its request log and its controls."""

    base: str
    """``http://127.0.0.1:PORT``, no trailing slash."""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return urllib.parse.urlsplit(self.base).port or 80

    def url(self, path: str) -> str:
        """The absolute URL of a path on the site (``"feeds/rss2.xml"`` works too)."""
        return f"{self.base}/{path.lstrip('/')}"

    def get(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> HttpResult:
        """One request with nothing added: no redirects followed, no proxy, no decoding."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, "/" + path.lstrip("/"), headers=headers or {})
            response = connection.getresponse()
            return HttpResult(response.status, response.msg, response.read())
        finally:
            connection.close()

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """The request log, oldest first: ``{method, path, headers, status, time}`` per request.

        ``path`` is the request target as sent (query included); header names are lower-case.
        Control paths (``/__...``) are not logged. With ``path``, only the requests for that
        path (with or without a query string) are returned.
        """
        entries: list[dict[str, Any]] = self._control("GET", "/__log__").json()
        if path is None:
            return entries
        return [
            entry
            for entry in entries
            if entry["path"] == path or entry["path"].split("?", 1)[0] == path
        ]

    def reset_log(self) -> None:
        """Forget every request logged so far."""
        self._control("DELETE", "/__log__")

    def reset(self) -> None:
        """Empty the log, put the changing feed back to version 1, forget hit counts."""
        self._control("POST", "/__reset__")

    def bump_changing(self) -> int:
        """Move the changing feed (``/changing/*``) to its next version; returns it."""
        version: int = self._control("POST", "/__changing__/bump").json()["version"]
        return version

    def set_changing_version(self, version: int) -> None:
        self._control("POST", f"/__changing__?version={version}")

    def index(self) -> list[dict[str, Any]]:
        """Every path the site serves, with its description, expected status and type."""
        entries: list[dict[str, Any]] = self._control("GET", "/__index__.json").json()
        return entries

    def _control(self, method: str, path: str) -> HttpResult:
        result = self.get(path, method=method)
        if result.status >= 400:
            raise MockSiteError(f"{method} {path}: HTTP {result.status}")
        return result


def _read_ready_line(process: subprocess.Popen[bytes], timeout: float) -> str | None:
    """The first stdout line, or None if the process died or the time ran out."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=min(0.1, max(deadline - time.monotonic(), 0))):
                line = process.stdout.readline()
                return line.decode("utf-8", "replace").strip() if line else None
            if process.poll() is not None:
                return None
    return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    if process.stdout is not None:
        process.stdout.close()


def _stderr_text(stderr: IO[bytes]) -> str:
    stderr.seek(0)
    return stderr.read().decode("utf-8", "replace").strip() or "(nothing)"


@contextlib.contextmanager
def running_site(
    *,
    port: int = 0,
    big_feeds: int | None = None,
    big_per_feed: int | None = None,
    verbose: bool = False,
    startup_timeout: float = 20.0,
) -> Iterator[MockSite]:
    """Start ``python -m tests.mocksite`` and yield the :class:`MockSite` once it says READY.

    The subprocess is killed on exit. If it does not become ready within ``startup_timeout``
    seconds, :class:`MockSiteError` is raised with the subprocess's stderr in its message.
    """
    command = [sys.executable, "-m", "tests.mocksite", "--port", str(port)]
    if big_feeds is not None:
        command += ["--big-feeds", str(big_feeds)]
    if big_per_feed is not None:
        command += ["--big-per-feed", str(big_per_feed)]
    if verbose:
        command.append("--verbose")
    # stderr goes to a file, not a pipe: nobody reads it while the site runs, and a full
    # pipe would block a verbose server.
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr
        )
        try:
            line = _read_ready_line(process, startup_timeout)
            if line is None or not line.startswith("READY "):
                _stop(process)
                raise MockSiteError(
                    f"the mock site did not start within {startup_timeout:g}s "
                    f"(first line: {line!r}, exit code: {process.returncode}); "
                    f"its stderr:\n{_stderr_text(stderr)}"
                )
            yield MockSite(line.removeprefix("READY ").strip(), process)
        finally:
            _stop(process)


__all__ = ["ROOT", "HttpResult", "MockSite", "MockSiteError", "running_site"]
