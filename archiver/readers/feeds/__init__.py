"""Read RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed: bytes in, ArticleItems out, no I/O."""

# The modules, each importing only those before it: common (ParsedFeed, value helpers), names
# (element keys), decoding (bytes to text), recovery (broken XML), markup, enclosures, entries
# and tree (the XML reader), jsonfeed, loose (the feedparser fallback), parse (entry points).

from archiver.readers.feeds.common import ParsedFeed
from archiver.readers.feeds.decoding import decode_document
from archiver.readers.feeds.parse import parse_feed, sniff_feed_kind

__all__ = ["ParsedFeed", "decode_document", "parse_feed", "sniff_feed_kind"]
