"""The archive: one database, opened once, and the parts that read and write it.

``Archive`` is what the rest of the code holds. It opens the engine (creating and upgrading
the schema on first use) and hands out one part per aggregate of the schema, each owning its
queries: ``sources``, ``leases``, ``host_policies``, ``articles``, ``images``, ``runs``,
``stats``, ``captures``, ``stories``, ``bulk`` and ``browse`` (the web reader's). Every
method of every part blocks: call it off the reactor thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from archiver.errors import DatabaseError
from archiver.storage.articles import Articles
from archiver.storage.browse import Browse
from archiver.storage.bulk import BulkWriter
from archiver.storage.captures import Captures
from archiver.storage.db import create_archive_engine, ensure_schema, first_line, fold_wal
from archiver.storage.images import Images
from archiver.storage.models import Base
from archiver.storage.pages import Pages
from archiver.storage.runs import Runs
from archiver.storage.sources import HostPolicies, Leases, Sources
from archiver.storage.stats import Stats
from archiver.storage.stories import Stories
from archiver.storage.terms import TermIds


class Archive:
    """The archive in one database. Build it once per process and share it.

    ``Archive()`` opens ``ARCHIVER_DATABASE_URL`` or ``./archive.db``, creating and
    upgrading the schema on first use (not with ``migrate=False``).
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.engine: Engine = create_archive_engine(url)
        if migrate:
            ensure_schema(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        terms = TermIds()  # one cache for both article writers
        self.sources = Sources(self.session)
        self.leases = Leases(self.session)
        self.host_policies = HostPolicies(self.session)
        self.articles = Articles(self.session, terms)
        self.images = Images(self.session)
        self.pages = Pages(self.session)
        self.runs = Runs(self.session)
        self.stats = Stats(self.session)
        self.captures = Captures(self.session)
        self.stories = Stories(self.session)
        self.browse = Browse(self.session)
        self.bulk = BulkWriter(self.session, terms)

    @classmethod
    def from_settings(cls, settings: Any) -> Archive:
        """The archive named by a Scrapy settings object (``ARCHIVER_DATABASE_URL``)."""
        return cls(settings.get("ARCHIVER_DATABASE_URL"))

    @property
    def url(self) -> str:
        """The database URL, its password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def counts(self) -> dict[str, Any]:
        """``archiver stats --format json``: the totals, the captures' and the breakdowns."""
        return {**self.stats.totals(), **self.captures.totals(), **self.stats.breakdown()}

    def close(self) -> None:
        """Release the connections (a SQLite archive left as its one file)."""
        fold_wal(self.engine)
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            if isinstance(exc, IntegrityError):
                raise
            raise DatabaseError(f"database error on {self.url}: {first_line(exc)}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def create_all(self) -> None:
        """Create the tables straight from the models (tests of the models alone)."""
        Base.metadata.create_all(self.engine)
