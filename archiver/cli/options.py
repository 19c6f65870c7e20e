"""What every command shares: the archive's context, the common options, the error edge."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from archiver.cli.output import FORMATS
from archiver.errors import ArchiverError, ConfigurationError
from archiver.extract.shortfall import FULL_TEXT_MODES

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """What every command shares: where the archive and its media are."""

    def __init__(self, database_url: str | None, media_dir: str | None, verbose: int) -> None:
        self.database_url = database_url
        self.media_dir = media_dir
        self.verbose = verbose

    def archive(self) -> Any:
        """The archive the global flags name; ``with ctx.archive() as archive:`` closes it."""
        from archiver.storage import Archive

        return Archive(self.database_url)

    def crawl_options(
        self,
        *,
        images: bool,
        full_text: str | None = None,
        refresh_pages: bool = False,
        settings: dict[str, str] | None = None,
    ) -> Any:
        """A crawl's options from the global flags (archive, media, verbosity, terminal) and
        the crawl's own (images, pages)."""
        from archiver.crawling.runner import CrawlOptions

        return CrawlOptions(
            urls=[],
            images=images,
            full_text=full_text,
            refresh_pages=refresh_pages,
            settings=dict(settings or {}),
            database_url=self.database_url,
            media_dir=self.media_dir,
            log_level={0: "WARNING", 1: "INFO"}.get(self.verbose, "DEBUG"),
            progress=sys.stderr.isatty(),
        )


pass_context = click.make_pass_decorator(Context)


def page_options(function: F) -> F:
    """``--full-text`` and ``--refresh-pages``: when the crawl fetches entries' pages."""
    function = click.option(
        "--refresh-pages",
        is_flag=True,
        help="Fetch again (conditionally) the pages already archived for unchanged entries.",
    )(function)
    return click.option(
        "--full-text",
        type=click.Choice(FULL_TEXT_MODES),
        help="Fetch an entry's page and extract the whole article: when the feed's body is "
        "missing, short or cut off (auto, the default), always, or never. "
        "[env ARCHIVER_FULL_TEXT]",
    )(function)


def _parse_settings(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    settings = {}
    for value in values:
        name, equals, setting = value.partition("=")
        if not equals or not name.strip():
            raise click.BadParameter(f"{value!r} is not NAME=VALUE", ctx=ctx, param=param)
        settings[name.strip()] = setting
    return settings


def settings_option(function: F) -> F:
    """``-s NAME=VALUE`` (repeatable), as ``scrapy crawl`` has: any Scrapy or ``ARCHIVER_*``
    setting for this run, over the project's (as the ``settings`` argument, a dict)."""
    return click.option(
        "-s",
        "--set",
        "settings",
        multiple=True,
        metavar="NAME=VALUE",
        callback=_parse_settings,
        help="A Scrapy or ARCHIVER_* setting for this run (repeatable), as scrapy crawl -s.",
    )(function)


def settings_args(settings: dict[str, str]) -> list[str]:
    """The ``-s`` settings as arguments again, for a child ``archiver`` process."""
    return [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]


def page_args(full_text: str | None, refresh_pages: bool) -> list[str]:
    """The page flags as arguments again, for a child ``archiver`` process."""
    return [
        *(["--full-text", full_text] if full_text else []),
        *(["--refresh-pages"] if refresh_pages else []),
    ]


def format_option(choices: tuple[str, ...] = FORMATS, default: str = "table") -> Callable[[F], F]:
    """``--format`` (as the ``fmt`` argument): one of *choices*, *default* when not given."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )


def filter_options(function: F) -> F:
    """``--source``, ``--category``, ``--author``, ``--since`` and ``--until``, handed to the
    command as one ``filters`` argument (a ``SearchFilters``; the command sets its query)."""

    @functools.wraps(function)
    def wrapper(
        *args: Any,
        source: str | None,
        category: str | None,
        author: str | None,
        since: str | None,
        until: str | None,
        **kwargs: Any,
    ) -> Any:
        from archiver.storage import SearchFilters

        kwargs["filters"] = SearchFilters(
            source=source,
            category=category,
            author=author,
            since=parse_when(since, "--since"),
            until=parse_when(until, "--until"),
        )
        return function(*args, **kwargs)

    options = [
        click.option("--source", help="Only this source (name or URL)."),
        click.option("--category", help="Only articles in this category."),
        click.option("--author", help="Only articles by this author (substring)."),
        click.option(
            "--since", help="Published at or after (ISO 8601 date or time, UTC if naive)."
        ),
        click.option("--until", help="Published before (ISO 8601 date or time, UTC if naive)."),
    ]
    decorated: Any = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]


def collapse_option(function: F) -> F:
    """``--collapse`` (as the ``collapse`` argument): one article per story of copies."""
    return click.option(
        "--collapse",
        is_flag=True,
        help="One article per story of copies: its origin when it matches, else its first match.",
    )(function)


def library_errors(function: F) -> F:
    """Turn the library's errors into one line on stderr and a non-zero exit."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ConfigurationError as exc:
            raise click.UsageError(str(exc)) from exc
        except ArchiverError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def parse_when(value: str | None, option: str) -> datetime | None:
    """``--since``/``--until``: an ISO 8601 date or time; naive values are UTC."""
    if not value:
        return None
    from dateutil.parser import isoparse

    try:
        when = isoparse(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not a date (use 2021-04-02 or 2021-04-02T14:27+08:00)",
            param_hint=option,
        ) from exc
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def as_url(value: str) -> str:
    """A path to a local feed file is taken as a file:// URL."""
    from pathlib import Path

    if "://" not in value and Path(value).exists():
        return Path(value).resolve().as_uri()
    return value
