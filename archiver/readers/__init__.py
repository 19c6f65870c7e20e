"""Readers of the documents sources publish (feeds, pages, sitemaps, OPML): bytes in, no I/O."""
