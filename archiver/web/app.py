"""The reader as one ASGI application (FastAPI): its configuration, its routers, its errors.

Read-only: every route is a GET but the login form's POST, which sets a cookie and writes
nothing. Errors are pages (or JSON under ``/api/``), never tracebacks.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response

from archiver import __version__
from archiver.errors import ArchiverError, ConfigurationError, NotFoundError
from archiver.web.context import Reader, ReaderConfig, error_response, wants_json
from archiver.web.security import Guard

logger = logging.getLogger(__name__)


def create_app(config: ReaderConfig, archive: Any | None = None) -> FastAPI:
    """The reader over the archive *archive* (an ``Archive``; opened from
    ``config.database_url`` when None, and closed when the application stops)."""
    from archiver.web import api, media, pages, syndication

    owned = archive is None
    if archive is None:
        from archiver.storage import Archive

        archive = Archive(config.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            archive.close()

    app = FastAPI(
        title="feed-archiver reader",
        version=__version__,
        description="Read-only JSON API over the archive, in the shapes of `archiver ... "
        "--format json`; any search as Atom or JSON Feed.",
        docs_url=None,  # Swagger UI needs scripts from a CDN: the CSP allows none
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.reader = Reader(config, archive)
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(syndication.router)
    app.include_router(media.router)
    app.middleware("http")(_Errors())
    app.middleware("http")(Guard(config.token, config.iframe_hosts))
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(ArchiverError, _archiver_error)
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: "Nothing here.", 405: "This reader only reads."}.get(
        exc.status_code, str(exc.detail)
    )
    response = error_response(request, exc.status_code, message)
    if exc.status_code == 405:
        response.headers["Allow"] = "GET, HEAD"
    return response


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in error.get('loc', ())[1:]) or 'request'}: {error.get('msg')}"
        for error in exc.errors()
    )
    if wants_json(request):
        return JSONResponse({"error": problems, "detail": exc.errors()}, status_code=422)
    return error_response(request, 400, problems)


async def _archiver_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, NotFoundError):
        return error_response(request, 404, str(exc))
    if isinstance(exc, ConfigurationError):
        return error_response(request, 400, str(exc))
    logger.error("archive error on %s: %s", request.url.path, exc)
    return error_response(request, 503, f"The archive could not be read: {exc}")


class _Errors:
    """Anything unexpected becomes a 500 page, logged, with no traceback shown."""

    async def __call__(self, request: Request, call_next: Any) -> Response:
        try:
            response: Response = await call_next(request)
        except Exception:
            logger.exception("unexpected error on %s", request.url.path)
            return error_response(request, 500, "Something went wrong inside the reader.")
        return response
