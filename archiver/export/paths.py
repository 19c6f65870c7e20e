"""File names that are safe on every OS, and deterministic answers to collisions."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_BYTES = 255
"""The longest file name ext4, APFS, NTFS (in UTF-16 units, more generous) and most others
accept, counted in UTF-8 bytes."""

# Windows refuses these anywhere in a name (and POSIX refuses '/' and NUL); control
# characters are refused or invisible. https://learn.microsoft.com/windows/win32/fileio/naming-a-file
_ILLEGAL = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_POSIX_ILLEGAL = re.compile(r"[/\x00]")
_RESERVED = frozenset(
    (
        "CON",
        "PRN",
        "AUX",
        "NUL",
        *(f"COM{i}" for i in range(1, 10)),
        *(f"LPT{i}" for i in range(1, 10)),
    )
)
# What the seed's generator replaced with "_" in titles (full-width quotes and brackets too).
_SEED_REPLACED = re.compile(r"[:/\\?*“”<>|\[\]]")


def safe_name(
    name: str, *, suffix: str = "", max_bytes: int = MAX_NAME_BYTES, portable: bool = True
) -> str:
    """*name* + *suffix* as a file name that every OS accepts.

    Characters illegal on Windows or POSIX become ``_``, trailing dots and spaces (which
    Windows drops) go, reserved device names (``CON``, ``NUL``...) get a ``_``, and the name
    is cut at a character boundary so that it and the suffix fit in *max_bytes* UTF-8 bytes.
    Text is NFC, so macOS (which stores NFD) and the others agree on what the name is.
    With ``portable=False`` only what POSIX refuses (``/``, NUL) is replaced: names as the
    seed's generator wrote them (``"爱多纷"...``), which Windows cannot check out.
    """
    text = unicodedata.normalize("NFC", name)
    text = (_ILLEGAL if portable else _POSIX_ILLEGAL).sub("_", text).strip()
    text = text.rstrip(". ")
    if text.split(".", 1)[0].upper() in _RESERVED:
        text = "_" + text
    text = truncate_bytes(text, max_bytes - len(suffix.encode("utf-8"))).rstrip(". ")
    return (text or "_") + suffix


def truncate_bytes(text: str, max_bytes: int) -> str:
    """The longest prefix of *text* that fits in *max_bytes* UTF-8 bytes (whole characters)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[: max(max_bytes, 0)].decode("utf-8", "ignore")


def hexo_title_name(title: str) -> str:
    """The seed generator's file name for a title: ``:/\\?*“”<>|[]`` become ``_``, ``.`` and
    ``#`` go. (Then :func:`safe_name` makes it portable.)"""
    return _SEED_REPLACED.sub("_", title).replace(".", "").replace("#", "")


_SLUG_DROP = re.compile(r"[^\w\s-]", re.UNICODE)
_SLUG_SPACE = re.compile(r"[\s_-]+")


def slugify(title: str, *, max_bytes: int = 120) -> str:
    """A URL-friendly slug: lower-case, punctuation dropped, words joined by ``-``; CJK and
    other letters stay (Jekyll and Hugo serve them), cut to *max_bytes* UTF-8 bytes."""
    text = unicodedata.normalize("NFKC", title).lower()
    text = _SLUG_SPACE.sub("-", _SLUG_DROP.sub(" ", text)).strip("-")
    return truncate_bytes(text, max_bytes).strip("-")


def collision_key(path: str) -> str:
    """Two paths that are the same file on a case-insensitive, normalizing file system
    (Windows, macOS) have the same key."""
    return unicodedata.normalize("NFC", path).casefold()


def safe_relative_path(path: str, suffixes: frozenset[str]) -> bool:
    """Whether *path* (``/`` separators) can be written back as it is: relative, inside the
    directory it is relative to (no ``..``, ``.`` or empty part, no hidden part), no control
    character or backslash, every part at most :data:`MAX_NAME_BYTES` bytes, ending in one of
    *suffixes*. Characters only Windows refuses are allowed: the name was the site's own, and
    the file existed where it was imported from."""
    if not path or path.startswith("/") or "\\" in path or _CONTROL.search(path):
        return False
    parts = path.split("/")
    for part in parts:
        if not part or part.startswith(".") or part != part.strip():
            return False
        if len(part.encode("utf-8")) > MAX_NAME_BYTES:
            return False
    return any(parts[-1].lower().endswith(suffix) for suffix in suffixes)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PathAllocator:
    """Gives each article a path, deterministically resolving collisions.

    Articles come in id order; the first to want a path gets it, a later one gets its id
    added (``name~42.md``), so an article's path depends only on itself and on the older
    articles that want the same name.
    """

    def __init__(self, *, portable: bool = True) -> None:
        self._taken: set[str] = set()
        self.portable = portable

    def allocate(self, directory: str, stem: str, suffix: str, article_id: int) -> str:
        """``directory/stem+suffix`` made safe, or with ``~id`` added when it is taken."""
        name = safe_name(stem, suffix=suffix, portable=self.portable)
        path = f"{directory}/{name}" if directory else name
        if collision_key(path) in self._taken:
            name = safe_name(stem, suffix=f"~{article_id}{suffix}", portable=self.portable)
            path = f"{directory}/{name}" if directory else name
        self._taken.add(collision_key(path))
        return path

    def reserve(self, path: str) -> bool:
        """Claim *path* as is; False when it is taken already."""
        key = collision_key(path)
        if key in self._taken:
            return False
        self._taken.add(key)
        return True
