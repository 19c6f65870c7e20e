"""Captures: every response the archive uses, kept as WARC records beside the media."""
