"""Getting the archive out as static sites (Hexo, Jekyll, Hugo) or JSON Lines, and existing
Hexo, Jekyll and Hugo posts in (:mod:`archiver.export.importer`)."""

from __future__ import annotations

from archiver.export.site import ExportReport, export_site

__all__ = ["ExportReport", "export_site"]
