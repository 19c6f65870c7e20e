"""Nothing half-written survives a kill: a crawl killed with SIGKILL at several points, then
run to its end, leaves every article once and a media directory of finished files only."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, archiver_env, run_archiver, wait_until

ENTRIES = 100
FINISHED = re.compile(r"[0-9a-f]{64}\.[a-z0-9]+")


def unfinished(media: Path) -> list[Path]:
    """Files under *media* that are not ``images/<aa>/<sha256>.<ext>`` of their own bytes."""
    wrong = []
    for path in media.rglob("*"):
        if path.is_dir():
            continue
        relative = path.relative_to(media)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if (
            not FINISHED.fullmatch(path.name)
            or path.name.split(".")[0] != digest
            or relative.parts != ("images", digest[:2], path.name)
        ):
            wrong.append(relative)
    return wrong


def images_stored(media: Path) -> int:
    return sum(1 for _ in (media / "images").rglob("*.*")) if (media / "images").is_dir() else 0


def start_crawl(url: str, db: str, media: Path) -> subprocess.Popen[bytes]:
    """A crawl in its own process group, so a kill takes its helpers too."""
    return subprocess.Popen(
        [sys.executable, "-m", "archiver", "--db", db, "--media", str(media), "crawl", url,
         "--full-text", "never"],
        cwd=media.parent,
        env=archiver_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip


def wait_for_images(media: Path, crawl: subprocess.Popen[bytes], count: int) -> None:
    """Until *count* images are stored, or the crawl ended."""
    wait_until(
        lambda: images_stored(media) >= count or crawl.poll() is not None, timeout=120, step=0.02
    )


def kill_group(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def test_a_writer_killed_mid_file_leaves_nothing_after_the_next_crawl(
    mock_site: Any, tmp_path: Path
) -> None:
    media, db = tmp_path / "media", f"sqlite:///{tmp_path / 'archive.db'}"
    # A process killed between writing an image's bytes and renaming them into place.
    killed = subprocess.run(
        [sys.executable, "-c",
         "import os, signal, sys\n"
         "from pipelines.stores import AtomicFSFilesStore\n"
         "store = AtomicFSFilesStore(sys.argv[1])\n"
         "target = store.filesystem_path('images/ab/' + 'ab' * 32 + '.png')\n"
         "store.incoming.temporary_for(target).write_bytes(b'half an image')\n"
         "os.kill(os.getpid(), signal.SIGKILL)\n",
         str(media)],
        cwd=ROOT,
        env=archiver_env(),
        check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    assert [p.name for p in media.rglob("*.part")], "the killed writer left its file"
    result = run_archiver(
        "--db", db, "--media", str(media), "crawl", mock_site.url("/edges/many-images.xml?n=2"),
        "--full-text", "never",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert images_stored(media) == 12
    assert unfinished(media) == []
    assert not (media / ".incoming").exists()


def test_a_crawl_killed_three_times_then_finished_leaves_only_finished_files(
    mock_site: Any, tmp_path: Path
) -> None:
    media, db_path = tmp_path / "media", tmp_path / "archive.db"
    db, url = f"sqlite:///{db_path}", mock_site.url(f"/edges/many-images.xml?n={ENTRIES}")
    # Killed while starting, after its first images, and well into them.
    for stored_before_kill in (None, 1, 200):
        crawl = start_crawl(url, db, media)
        try:
            if stored_before_kill is None:
                time.sleep(1.0)
            else:
                wait_for_images(media, crawl, stored_before_kill)
        finally:
            if crawl.poll() is None:
                kill_group(crawl)
    result = run_archiver(
        "--db", db, "--media", str(media), "crawl", url, "--full-text", "never"
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert unfinished(media) == []
    assert not (media / ".incoming").exists()
    with sqlite3.connect(db_path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("select count(*) from articles").fetchone() == (ENTRIES,)
        paths = connection.execute("select path from images where status = 'downloaded'").fetchall()
    assert len(paths) == ENTRIES * 6
    assert all((media / path).is_file() for (path,) in paths)
    assert images_stored(media) == ENTRIES * 6
