"""JSON Lines: ``articles.jsonl``, one object per article with every field the archive holds
(the keys of ``archiver show --format json`` plus ``raw``, ``authors_raw`` and
``source_info``), oldest id first. Written by :func:`archiver.export.site.export_site`."""

from __future__ import annotations

FILE_NAME = "articles.jsonl"
