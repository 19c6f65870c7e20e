"""JSON Lines: ``articles.jsonl``, one object per article with every field the archive holds
(the keys of ``archiver show --format json`` plus ``raw``, ``authors_raw`` and
``source_info``), oldest id first, the HTML as published; beside it the rendered fields,
``content_html_sanitized`` and ``summary_html_sanitized``, as the other outputs show them
(:func:`archiver.render.sanitize_html`). Written by :func:`archiver.export.site.export_site`."""

from __future__ import annotations

FILE_NAME = "articles.jsonl"
