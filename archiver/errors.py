"""Errors the library raises; the command line turns each into one line and an exit code."""

from __future__ import annotations


class ArchiverError(Exception):
    """Base of every error the archiver raises on purpose."""


class ConfigurationError(ArchiverError):
    """A setting, URL or argument cannot be used as given."""


class DatabaseError(ArchiverError):
    """The database cannot be reached, created or upgraded."""


class FeedParseError(ArchiverError):
    """A document could not be read as a feed at all (nothing was recovered)."""


class PageParseError(ArchiverError):
    """A document could not be read as an article page (not HTML, or nothing article-like)."""


class NotFoundError(ArchiverError):
    """An article, source or run asked for by id, URL or name does not exist."""
