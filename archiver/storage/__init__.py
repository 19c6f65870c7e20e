"""The archive's storage: ``Archive`` and its parts by aggregate, the records they pass."""

from __future__ import annotations

from archiver.storage.archive import Archive
from archiver.storage.records import (
    RunRecord,
    SearchFilters,
    SourceRecord,
    StoreOutcome,
    StoreResult,
)

__all__ = ["Archive", "RunRecord", "SearchFilters", "SourceRecord", "StoreOutcome", "StoreResult"]
