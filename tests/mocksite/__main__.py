"""``python -m tests.mocksite``: serve the mock site on 127.0.0.1 until killed."""

from __future__ import annotations

import argparse

from tests.mocksite.bigsite import BIG_FEEDS, BIG_PER_FEED
from tests.mocksite.server import serve
from tests.mocksite.site import SiteOptions


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.mocksite",
        description="Serve the archiver's mock site on 127.0.0.1; prints 'READY http://127.0.0.1:PORT'.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: 0, a free one)")
    parser.add_argument("--big-feeds", type=int, default=BIG_FEEDS, help="number of /big/ feeds")
    parser.add_argument(
        "--big-per-feed", type=int, default=BIG_PER_FEED, help="articles per /big/ feed"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = parser.parse_args(argv)
    options = SiteOptions(big_feeds=args.big_feeds, big_per_feed=args.big_per_feed)
    serve(args.port, options, verbose=args.verbose)


if __name__ == "__main__":
    main()
