"""Linking copies in a process of its own (``ARCHIVER_STORIES_PROCESS``): the same stories as
on the store's threads, and a process that dies costs one call, not the crawl's links; and,
either way, groups acknowledged before their links, at most ``ARCHIVER_STORIES_BEHIND``
behind."""

from __future__ import annotations

import asyncio
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from archiver.storage import Archive
from pipelines.linking import GroupLinks, LinkingProcess
from tests.test_stories import ORIGINAL, store
from tests.test_stories_setting import archiver_in, crawl_copies


def stories_of(rows: list[dict[str, Any]]) -> set[frozenset[str]]:
    """The stories as sets of their copies' URLs (story ids may differ between archives)."""
    members: dict[int, set[str]] = {}
    for row in rows:
        if row["story"] is not None:
            members.setdefault(row["story"], set()).add(row["url"])
    return {frozenset(urls) for urls in members.values()}


def test_a_crawl_makes_the_same_stories_in_the_linking_process_as_on_its_threads(
    mock_site: Any, tmp_path: Path
) -> None:
    (tmp_path / "process").mkdir()
    (tmp_path / "threads").mkdir()
    apart = crawl_copies(
        mock_site, archiver_in(tmp_path / "process"), "-s", "ARCHIVER_STORIES_PROCESS=true"
    )
    inside = crawl_copies(mock_site, archiver_in(tmp_path / "threads"))
    assert stories_of(apart)  # the noted copies of the originals
    assert stories_of(apart) == stories_of(inside)
    assert len(apart) == len(inside)


def test_a_linking_process_that_dies_fails_one_call_and_the_next_starts_another(
    db_url: str,
) -> None:
    with Archive(db_url) as archive:
        ids = [store(archive, f"{host}.example", ORIGINAL) for host in "abc"]

    async def scenario() -> None:
        linker = LinkingProcess(db_url)
        assert linker.pid is None  # started by the first call, not before
        try:
            first = await linker.link(ids[:2])
            assert first[ids[0]] is not None
            assert first[ids[0]] == first[ids[1]]
            pid = linker.pid
            assert pid is not None
            assert pid != os.getpid()
            os.kill(pid, signal.SIGKILL)
            with pytest.raises(BrokenProcessPool):
                await linker.link(ids[2:])
            again = await linker.link(ids[2:])
            assert linker.pid not in (None, pid)
            assert again[ids[2]] == first[ids[0]]
        finally:
            await linker.close()
        assert linker.pid is None

    asyncio.run(scenario())


def test_groups_are_acknowledged_before_their_links_and_held_back_two_groups_behind(
    db_url: str,
) -> None:
    """``ARCHIVER_STORIES_BEHIND`` (2): a third committed group waits for its acknowledgement
    until the first one's links are made; the links are made all the same."""
    with Archive(db_url) as archive:
        ids = [store(archive, f"{host}.example", ORIGINAL) for host in "abc"]
    crawler = get_crawler(settings_dict={"ARCHIVER_STORIES_BEHIND": 2})
    crawler.stats.open_spider()

    async def scenario() -> None:
        links = GroupLinks(crawler)
        released = asyncio.Event()
        acknowledged: list[int] = []

        async def slow_call(function: Any, *args: Any) -> Any:
            await released.wait()  # linking slower than the crawl, until released
            # one thread, as the store's writer thread of a SQLite archive
            return await asyncio.get_running_loop().run_in_executor(writer, function, *args)

        with Archive(db_url) as archive, ThreadPoolExecutor(1) as writer:
            links.open(archive, slow_call)
            groups = [
                asyncio.ensure_future(links.after_commit([i], lambda i=i: acknowledged.append(i)))
                for i in ids
            ]
            await asyncio.sleep(0.2)
            assert acknowledged == ids[:2]  # the third is held back
            released.set()
            await asyncio.gather(*groups)
            assert acknowledged == ids
            assert archive.stories.link(ids)[ids[2]] is not None
        assert crawler.stats.get_value("archiver/stories/linked") == 2  # the first stands alone

    asyncio.run(scenario())
