"""``archiver serve``: the web reader, on this machine only unless told otherwise."""

from __future__ import annotations

import os

import click

from archiver.cli.options import Context, library_errors, pass_context


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option(
    "--public",
    is_flag=True,
    help="Listen on a non-loopback --host without an access token (anyone who reaches it "
    "reads the archive).",
)
@click.option("--title", default="Archive", show_default=True, help="The reader's name.")
@pass_context
@library_errors
def serve(ctx: Context, host: str, port: int, public: bool, title: str) -> None:
    """Read the archive in a browser: search, articles with their archived images, sources,
    runs and stats; a JSON API (/api/..., /openapi.json) and any search as a feed
    (/feed.atom, /feed.json). Read-only.

    Listens on 127.0.0.1 by default. Another --host needs ARCHIVER_SERVE_TOKEN (then every
    request needs it: "Authorization: Bearer TOKEN", or the login page's cookie) or --public.

    \b
    archiver serve                       # http://127.0.0.1:8080/
    ARCHIVER_SERVE_TOKEN=s3cret archiver serve --host 0.0.0.0 --port 8000
    """
    from pathlib import Path

    from archiver.errors import ConfigurationError
    from archiver.render import iframe_hosts_from_env
    from archiver.storage.db import resolve_database_url
    from archiver.web.security import TOKEN_VARIABLE, check_listen

    token = os.environ.get(TOKEN_VARIABLE) or None
    check_listen(host, token=token, public=public)
    url = resolve_database_url(ctx.database_url)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise ConfigurationError(
            f"no archive at {url.removeprefix('sqlite:///')}: crawl something first "
            "(archiver crawl URL) or give --db"
        )
    import uvicorn

    from archiver.web import ReaderConfig, create_app

    media = Path(ctx.media_dir or os.environ.get("ARCHIVER_MEDIA_DIR") or "media")
    config = ReaderConfig(
        database_url=url,
        media_dir=media,
        token=token,
        iframe_hosts=iframe_hosts_from_env(),
        title=title,
    )
    app = create_app(config)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Reading {url} at http://{shown}:{port}/ (Ctrl-C stops)", err=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level={0: "warning", 1: "info"}.get(ctx.verbose, "debug"),
        server_header=False,
        access_log=ctx.verbose > 0,
    )
