"""Author names as published, to a clean ordered list."""

from __future__ import annotations

import re
from collections.abc import Iterable

_PREFIX = re.compile(r"^(?:作者\s*[:：]?|文\s*[/|｜]|by\s+)\s*", re.IGNORECASE)
_EMAIL_NAME = re.compile(r"^\S+@\S+\s*\((.+)\)$")
_SEPARATORS = re.compile(r"\s*(?:,|，|、|\band\b|\s和\s)\s*")


def parse_authors(raws: Iterable[str | None]) -> list[str]:
    """Names from author strings (``作者：X``, ``By X``, ``X, Y and Z``, ``a@b.c (Name)``)."""
    names: list[str] = []
    seen: set[str] = set()
    for raw in raws:
        if not isinstance(raw, str):
            continue
        text = _PREFIX.sub("", " ".join(raw.split()))
        match = _EMAIL_NAME.match(text)
        parts = [match.group(1)] if match else _SEPARATORS.split(text)
        for part in parts:
            name = _PREFIX.sub("", part.strip())
            if name and name.casefold() not in seen:
                seen.add(name.casefold())
                names.append(name)
    return names
