"""Shared fixtures: the mock site, fresh archives (SQLite file, PostgreSQL), the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archiver.storage import Archive

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def _strict_normalizers(request: pytest.FixtureRequest) -> Iterator[None]:
    """In the normalizers' own tests, real errors pass the never-raise guard, so they show."""
    from archiver.normalize import _safe

    if not request.module.__name__.rsplit(".", 1)[-1].startswith("test_normalize_"):
        yield
        return
    _safe.STRICT = True
    yield
    _safe.STRICT = False


@pytest.fixture(scope="session")
def mock_site() -> Iterator[Any]:
    """The mock site (tests/mocksite), served from 127.0.0.1 for the whole session."""
    from tests.mocksite import running_site

    with running_site() as site:
        yield site


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A SQLite file that does not exist yet: the archive creates and upgrades it."""
    return f"sqlite:///{tmp_path / 'archive.db'}"


@pytest.fixture
def archive(db_url: str) -> Iterator[Archive]:
    archive = Archive(db_url)
    yield archive
    archive.close()


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    return _service_url("ARCHIVER_TEST_POSTGRES_URL", "PostgreSQL")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis the worker tests share (each under its own key prefix)."""
    return _service_url("ARCHIVER_TEST_REDIS_URL", "Redis")


def _service_url(variable: str, name: str) -> str:
    url = os.environ.get(variable)
    if not url:
        pytest.skip(f"set {variable} to run the {name} tests")
    return url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(postgres_server_url).set(drivername="postgresql+psycopg")
    name = f"archiver_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


_SCRATCH = tempfile.TemporaryDirectory(prefix="archiver-tests-")


def run_archiver(
    *args: str,
    cwd: Path | None = None,
    timeout: float = 240,
    env: dict[str, str] | None = None,
) -> Result:
    """Run the real ``archiver`` command in a subprocess (a crawl needs its own reactor).

    It runs in a scratch directory unless *cwd* is given, so a default ``./media`` or
    ``./archive.db`` never lands in the repository. *env* adds environment variables."""
    completed = subprocess.run(
        [sys.executable, "-m", "archiver", *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=cwd or _SCRATCH.name,
        env=archiver_env(env),
        timeout=timeout,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def start_archiver(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """:func:`run_archiver` without waiting: the process, its output piped (as text)."""
    return subprocess.Popen(
        [sys.executable, "-m", "archiver", *args],
        cwd=cwd or _SCRATCH.name,
        env=archiver_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(condition: Callable[[], object], timeout: float = 30, step: float = 0.1) -> bool:
    """Poll *condition* until it holds or *timeout* seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)
    return True


def archiver_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a test's ``archiver`` process: this one, with the repository on
    the path and no archive or media directory of the user's; *extra* on top."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("ARCHIVER_DATABASE_URL", None)
    environment.pop("ARCHIVER_MEDIA_DIR", None)
    environment.pop("ARCHIVER_CAPTURES_DIR", None)
    environment.update(extra or {})
    return environment


@pytest.fixture
def archiver_cli() -> Any:
    return run_archiver
