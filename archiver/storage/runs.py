"""Crawl runs: one row per ``crawl``, ``run`` or worker round, with its counts per source."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from archiver.errors import NotFoundError
from archiver.storage.models import CrawlRun
from archiver.storage.records import RunRecord
from archiver.storage.sql import Transaction


class Runs:
    """The crawl runs the archive recorded (``archive.runs``)."""

    def __init__(self, session: Transaction) -> None:
        self.session = session

    def start(self, command: str) -> int:
        """Open a run of *command* (``running``, started now); its id."""
        with self.session() as session:
            run = CrawlRun(command=command, status="running", started_at=datetime.now(UTC))
            session.add(run)
            session.flush()
            return run.id

    def finish(
        self,
        run_id: int,
        *,
        status: str,
        counts: dict[str, int],
        sources: dict[str, Any],
        error: str | None = None,
    ) -> RunRecord:
        """Close run *run_id* now with *status*, its *counts* (``new``, ``updated``,
        ``unchanged``, ``failed``, ``not_modified``, ``images``, ``bytes``; missing ones are 0)
        and what happened per source; the run as recorded."""
        with self.session() as session:
            run = session.get_one(CrawlRun, run_id)
            run.finished_at = datetime.now(UTC)
            run.status = status
            for key in ("new", "updated", "unchanged", "failed", "not_modified", "images", "bytes"):
                setattr(run, key, int(counts.get(key, 0)))
            run.sources = sources
            run.error = error
            session.flush()
            return _run_record(run)

    def recent(self, limit: int | None = 50) -> list[RunRecord]:
        """Crawl runs, newest first."""
        with self.session() as session:
            query = select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
            return [_run_record(r) for r in session.scalars(query.limit(limit))]

    def get(self, run_id: int) -> RunRecord:
        """The run *run_id*; NotFoundError if there is none."""
        with self.session() as session:
            run = session.get(CrawlRun, run_id)
            if run is None:
                raise NotFoundError(f"no crawl run {run_id}")
            return _run_record(run)


def _run_record(run: CrawlRun) -> RunRecord:
    return RunRecord(
        id=run.id,
        command=run.command,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        new=run.new,
        updated=run.updated,
        unchanged=run.unchanged,
        failed=run.failed,
        not_modified=run.not_modified,
        images=run.images,
        bytes=run.bytes,
        sources=dict(run.sources or {}),
        error=run.error,
    )
