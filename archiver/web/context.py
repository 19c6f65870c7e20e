"""What every route reaches: the reader's configuration, the archive, the templates, and
how an error is answered."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.responses import Response


@dataclass
class ReaderConfig:
    """What ``archiver serve`` was given."""

    database_url: str | None = None
    media_dir: Path = field(default_factory=lambda: Path("media"))
    token: str | None = None
    """``ARCHIVER_SERVE_TOKEN``: every request needs it (bearer or the login cookie)."""
    iframe_hosts: frozenset[str] = frozenset()
    title: str = "Archive"


class Reader:
    """What every route reaches through ``request.app.state.reader``."""

    def __init__(self, config: ReaderConfig, archive: Any) -> None:
        self.config = config
        self.archive = archive
        from archiver.web.rendering import make_environment

        self.templates = make_environment()

    def page(
        self, request: Request, template: str, status_code: int = 200, **context: Any
    ) -> Response:
        """*template* rendered with *context* as an HTML answer."""
        body = self.templates.get_template(template).render(
            request=request, config=self.config, **context
        )
        return Response(body, status_code=status_code, media_type="text/html; charset=utf-8")


def reader_of(request: Request) -> Reader:
    reader: Reader = request.app.state.reader
    return reader


def wants_json(request: Request) -> bool:
    """Whether *request*'s errors are answered as JSON: the API's and the feeds' (a feed
    reader is a program), not the pages'."""
    return request.url.path.startswith(("/api/", "/openapi", "/feed."))


def error_response(request: Request, status: int, message: str) -> Response:
    """An error as the client reads it: JSON for the API, a page for a browser."""
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    reader = reader_of(request)
    return reader.page(request, "error.html", status_code=status, status=status, message=message)
