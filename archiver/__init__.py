"""Archive syndicated articles, with their images, into a relational database."""

from __future__ import annotations

__version__ = "0.1.0"
