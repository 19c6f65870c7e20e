"""Pure normalizers that bring an article's front-matter to archival quality (no I/O)."""
