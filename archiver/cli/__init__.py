"""The ``archiver`` command: crawl feeds into the archive, and query what it holds."""

from __future__ import annotations

from archiver.cli.command import cli, main

__all__ = ["cli", "main"]
