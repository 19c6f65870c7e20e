"""The HTTP side of the mock site: a threaded HTTP/1.1 server on 127.0.0.1.

It logs every request (outside the control paths), honours ``?delay=``, adds validators
(``ETag``, ``Last-Modified``) to every 200 and answers conditional requests with 304, per
RFC 9110 section 13.
"""

from __future__ import annotations

import hashlib
import html
import sys
import time
import traceback
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.mocksite.site import CONTROL_PREFIX, HTML, Request, Response, Site, SiteOptions

MAX_DELAY = 60.0
"""Seconds: a ``?delay=`` larger than this is cut to it, so a typo cannot hang a test run."""


class MockSiteServer(ThreadingHTTPServer):
    """Serves one :class:`Site`; worker threads are daemons so that killing is enough."""

    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 drops connections when a crawl opens many at once.
    request_queue_size = 128

    def __init__(
        self, port: int = 0, options: SiteOptions | None = None, *, verbose: bool = False
    ) -> None:
        super().__init__(("127.0.0.1", port), MockSiteHandler)
        self.verbose = verbose
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.site = Site(self.base, options)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-body (the huge image, the trickle) is routine.
        if isinstance(sys.exc_info()[1], ConnectionError) and not self.verbose:
            return
        super().handle_error(request, client_address)


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def is_not_modified(headers: Any, etag: str | None, last_modified: datetime | None) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present (weak comparison); otherwise
    If-Modified-Since is compared with Last-Modified at one-second precision."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if etag is None:
            return False
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return "*" in tags or _opaque(etag) in {_opaque(tag) for tag in tags}
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since and last_modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False  # an unparsable date is ignored (RFC 9110 13.1.3)
        if since.tzinfo is None:
            return False
        return last_modified.replace(microsecond=0) <= since
    return False


class MockSiteHandler(BaseHTTPRequestHandler):
    server: MockSiteServer
    protocol_version = "HTTP/1.1"
    server_version = "mocksite/1.0"
    _log_entry: dict[str, Any] | None = None

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def send_response(self, code: int, message: str | None = None) -> None:
        # Recorded before the status line goes out, so a client that has read the response
        # always finds its status in the log.
        if self._log_entry is not None:
            self._log_entry["status"] = code
        super().send_response(code, message)

    def _serve(self) -> None:
        site = self.server.site
        target = urlsplit(self.path)
        path = target.path or "/"
        query = dict(parse_qsl(target.query, keep_blank_values=True))
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self._log_entry = None
        if not path.startswith(CONTROL_PREFIX):
            headers: dict[str, str] = {}
            for name, value in self.headers.items():
                key = name.lower()
                headers[key] = f"{headers[key]}, {value}" if key in headers else value
            self._log_entry = {
                "method": self.command,
                "path": self.path,
                "headers": headers,
                "status": None,
                "time": time.time(),
            }
            with site.state.lock:
                site.state.log.append(self._log_entry)

        found = site.resolve(self.command, path)
        if found is None:
            allowed = site.allows(path)
            if allowed:
                self._send(
                    Response(405, b"", None, [("Allow", ", ".join(allowed))], send_etag=False)
                )
            else:
                body = (
                    "<!DOCTYPE html><title>404</title>"
                    f"<p>No such path: {html.escape(path)}. See <a href='/'>the index</a>.</p>"
                )
                self._send(Response(404, body.encode(), HTML, send_etag=False))
            return
        route, params = found
        delay = query.get("delay")
        seconds = route.default_delay if delay is None else _float(delay)
        if not route.handles_delay and seconds > 0:
            time.sleep(min(seconds, MAX_DELAY))
        request = Request(self.command, path, query, self.headers, site, params)
        try:
            response = route.handler(request)
        except Exception:
            traceback.print_exc()
            self._send(
                Response(
                    500,
                    b"mocksite: handler error (see its stderr)\n",
                    "text/plain",
                    send_etag=False,
                )
            )
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        headers: list[tuple[str, str]] = []
        if response.content_type:
            headers.append(("Content-Type", response.content_type))
        etag = response.etag
        if (
            response.status == 200
            and response.send_etag
            and etag is None
            and response.stream is None
        ):
            etag = strong_etag(response.body)
        if response.status == 200 and response.send_etag and etag:
            headers.append(("ETag", etag))
        if response.status == 200 and response.last_modified is not None:
            headers.append(("Last-Modified", format_datetime(response.last_modified, usegmt=True)))
        headers.extend(response.headers)

        if (
            response.status == 200
            and self.command in ("GET", "HEAD")
            and is_not_modified(
                self.headers, etag if response.send_etag else None, response.last_modified
            )
        ):
            # 304 repeats the validators and caching headers, and has no body (RFC 9110 15.4.5).
            self.send_response(304)
            for name, value in headers:
                if name.lower() not in ("content-type", "content-encoding"):
                    self.send_header(name, value)
            self.end_headers()
            return

        self.send_response(response.status)
        for name, value in headers:
            self.send_header(name, value)
        head_only = self.command == "HEAD" or response.status in (204, 304)
        try:
            if response.stream is not None:
                self._send_stream(response, head_only=head_only)
                return
            if response.status != 204:
                self.send_header("Content-Length", str(len(response.body)))
            if response.truncate_to is not None:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if head_only:
                return
            body = (
                response.body
                if response.truncate_to is None
                else response.body[: response.truncate_to]
            )
            self.wfile.write(body)
        except ConnectionError:
            self.close_connection = True

    def _send_stream(self, response: Response, *, head_only: bool) -> None:
        assert response.stream is not None
        chunked = response.length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(response.length))
        self.end_headers()
        if head_only:
            return
        for piece in response.stream:
            if chunked:
                self.wfile.write(f"{len(piece):X}\r\n".encode() + piece + b"\r\n")
            else:
                self.wfile.write(piece)
            self.wfile.flush()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def serve(port: int = 0, options: SiteOptions | None = None, *, verbose: bool = False) -> None:
    """Bind 127.0.0.1, print ``READY <base>`` on stdout, and serve until killed."""
    server = MockSiteServer(port, options, verbose=verbose)
    print(f"READY {server.base}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
