"""Whole articles from their pages: when to fetch, extraction, per-site rules, the merge."""
