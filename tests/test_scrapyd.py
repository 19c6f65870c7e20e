"""Scrapyd, the real one: ``scrapyd-deploy`` from the repository root uploads the project, and a
job scheduled with ``schedule.json`` (spider ``feed``, ``url=...``) archives the mock site's feed
into the database Scrapyd's environment names, images included.

One Scrapyd serves the module. The egg is built with the setuptools of this environment;
``~/.pydistutils.cfg`` (``HOME`` is the test's) puts the build's ``build/`` and ``egg-info``
into the test's directory, so the checkout is left as it was.
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, archiver_env, wait_until

pytestmark = pytest.mark.skipif(
    shutil.which("scrapyd", path=str(Path(sys.executable).parent)) is None,
    reason="Scrapyd is not installed (pip install 'feed-archiver[scrapyd]')",
)

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Scrapyd:
    def __init__(self, base: str, home: Path, env: dict[str, str], directory: Path) -> None:
        self.base = base
        self.home = home
        self.env = env
        self.directory = directory

    def get(self, endpoint: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.base}/{endpoint}{query}", timeout=30) as response:
            return json.load(response)

    def post(self, endpoint: str, data: list[tuple[str, str]]) -> Any:
        body = urllib.parse.urlencode(data).encode()
        with urllib.request.urlopen(f"{self.base}/{endpoint}", body, timeout=30) as response:
            return json.load(response)


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrapyd]:
    directory = tmp_path_factory.mktemp("scrapyd")
    port = _free_port()
    (directory / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {directory / 'eggs'}\nlogs_dir = {directory / 'logs'}\n"
        f"dbs_dir = {directory / 'dbs'}\nitems_dir =\n"
        "max_proc = 2\npoll_interval = 0.2\n"
    )
    # Scrapyd's environment names the archive, as a deployment's service unit would.
    env = archiver_env(
        {
            "ARCHIVER_DATABASE_URL": f"sqlite:///{directory / 'archive.db'}",
            "ARCHIVER_MEDIA_DIR": str(directory / "media"),
            "ARCHIVER_CAPTURES_DIR": str(directory / "captures"),
        }
    )
    env.pop("PYTHONPATH")  # the jobs run the deployed egg, not the checkout
    log = (directory / "scrapyd.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "scrapyd"), "--nodaemon", "--pidfile="],
        cwd=directory,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    server = Scrapyd(base, directory / "home", env, directory)

    def ready() -> bool:
        try:
            return bool(server.get("daemonstatus.json")["status"] == "ok")
        except OSError:
            return False

    try:
        assert wait_until(ready, timeout=60), (directory / "scrapyd.log").read_text()
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def deploy(server: Scrapyd, project: str) -> subprocess.CompletedProcess[str]:
    """``scrapyd-deploy test -p PROJECT`` from the repository root, the target in the user's
    ``~/.scrapy.cfg`` (here the test's home)."""
    home = server.home
    home.mkdir(exist_ok=True)
    (home / ".scrapy.cfg").write_text(f"[deploy:test]\nurl = {server.base}/\n")
    # `setup.py clean -a` removes the build directory: the egg-info goes beside it.
    (home / ".pydistutils.cfg").write_text(
        f"[build]\nbuild_base = {server.directory / 'build'}\n"
        f"[egg_info]\negg_base = {server.directory}\n"
    )
    return subprocess.run(
        [str(BIN / "scrapyd-deploy"), "test", "-p", project, "--version", "r1"],
        cwd=ROOT,
        env={**archiver_env(), "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_scrapyd_deploy_and_a_scheduled_feed_job_archive(scrapyd: Scrapyd, mock_site: Any) -> None:
    leftovers = {"build", "feed_archiver.egg-info", "project.egg-info"}
    before = {name for name in leftovers if (ROOT / name).exists()}
    deployed = deploy(scrapyd, "feed-archiver")
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    assert '"status": "ok"' in deployed.stdout, deployed.stdout + deployed.stderr[-3000:]
    # The build stayed out of the checkout: no setup.py of scrapyd-deploy's, no build/ or
    # egg-info left behind.
    assert {name for name in leftovers if (ROOT / name).exists()} == before
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "setup.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert changed.stdout == ""

    # (schedule.json refuses a spider the deployed egg does not hold.)
    feed = mock_site.url("/feeds/rss2.xml")
    other_feed = mock_site.url("/feeds/atom10.xml")
    own_db = scrapyd.directory / "own.db"
    job = schedule(scrapyd, ("url", feed), ("category", "tech"))
    # A job can name its own archive, as any Scrapy setting (both jobs run at once).
    own_job = schedule(
        scrapyd, ("url", other_feed), ("setting", f"ARCHIVER_DATABASE_URL=sqlite:///{own_db}")
    )
    for finished in (job, own_job):
        log = scrapyd.directory / "logs" / "feed-archiver" / "feed" / f"{finished}.log"
        assert wait_until(lambda job=finished: done(scrapyd, job), timeout=180, step=0.5), (
            log.read_text() if log.exists() else ""
        )
        text = log.read_text()
        assert "Traceback" not in text, text[-4000:]
        assert "ERROR" not in text, text[-4000:]

    with sqlite3.connect(scrapyd.directory / "archive.db") as db:
        sources = db.execute("SELECT url FROM sources").fetchall()
        articles = db.execute("SELECT title, published FROM articles").fetchall()
        images = db.execute("SELECT status, path FROM images WHERE status = 'downloaded'")
        downloaded = images.fetchall()
    assert sources == [(feed,)]
    assert len(articles) >= 3, text[-4000:]
    assert all(title for title, _ in articles)
    # The images are in the media directory Scrapyd's environment names.
    assert downloaded
    for _, path in downloaded:
        assert (scrapyd.directory / "media" / path).is_file()
    with sqlite3.connect(own_db) as db:
        assert db.execute("SELECT url FROM sources").fetchall() == [(other_feed,)]
        assert db.execute("SELECT count(*) FROM articles").fetchone()[0] >= 1


def schedule(server: Scrapyd, *arguments: tuple[str, str]) -> str:
    """``schedule.json`` of the spider ``feed`` with *arguments*; the job's id."""
    base = [("project", "feed-archiver"), ("spider", "feed")]
    scheduled = server.post("schedule.json", [*base, *arguments])
    assert scheduled["status"] == "ok", scheduled
    job: str = scheduled["jobid"]
    return job


def done(server: Scrapyd, job: str) -> bool:
    jobs = server.get("listjobs.json", project="feed-archiver")
    return any(j["id"] == job for j in jobs["finished"])
