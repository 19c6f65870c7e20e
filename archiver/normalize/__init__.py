"""Pure normalizers that bring an article's front-matter to archival quality (no I/O)."""

from archiver.normalize._html import Document, read_html

__all__ = ["Document", "read_html"]
