"""``archiver serve``: the web reader over the archive, its JSON API and any query as a feed.

:func:`create_app` builds the ASGI application (FastAPI, Jinja2 templates, served by uvicorn);
it only reads the archive, through its storage parts.
"""

from __future__ import annotations

from archiver.web.app import create_app
from archiver.web.context import ReaderConfig

__all__ = ["ReaderConfig", "create_app"]
