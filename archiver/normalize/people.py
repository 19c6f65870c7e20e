"""Author names as published (``作者：X``, ``By X and Y``, ``a@b.c (Name)``) to a clean list."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from archiver.normalize._safe import collapse, fold, never_raises

MAX_NAME_CHARS = 120
"""Longer "names" are sentences that landed in an author field: they are left out."""

# Role words that introduce the author: "作者：X", "文 / X", "文|X", "撰文：X", "By X".
_PREFIX = re.compile(
    r"^(?:(?:作者|撰文|撰稿|记者|記者|文字|文案|供稿|口述|整理)\s*[:：/|｜丨]?\s*"
    r"|文\s*[:：/|｜丨]\s*"
    r"|(?:(?:written|posted|authored|reported|words)\s+by|by|authors?|writer)\s*[:：]?\s+"
    r"|(?:by|authors?)\s*[:：]\s*)",
    re.IGNORECASE,
)
# Other roles that may follow the author in the same string: "作者：X 编辑：Y".
_OTHER_ROLES = re.compile(
    r"(?:^|[\s,，;；|｜丨/()（）])(?:责任编辑|责编|编辑|校对|审核|审校|排版|出品|来源|图片|图|摄影|翻译|编译"
    r"|editor|edited by|photos? by|photography|source|via)\s*[:：/|｜丨]",
    re.IGNORECASE,
)
# "a@b.c (Name)" (RSS 2.0's author element), "Name <a@b.c>", "Name (a@b.c)".
_EMAIL = r"(?:mailto:)?[\w.+%-]+@[\w-]+(?:\.[\w-]+)+"
_EMAIL_THEN_NAME = re.compile(rf"^<?({_EMAIL})>?\s*[(（](.*)[)）]$")
_NAME_THEN_EMAIL = re.compile(rf"^(.*?)\s*[<(（]\s*({_EMAIL})\s*[>)）]$")
_BARE_EMAIL = re.compile(rf"^<?({_EMAIL})>?$")
# Between names: commas (Latin, Chinese), enumeration comma, semicolons, "and", "&", " 和 ",
# " 与 ", and a slash or bar with spaces around it.
_BETWEEN = re.compile(
    r"\s*(?:[,，、;；]\s*(?:and\s+|&\s*)?|\s+(?:and|&|和|与|與|及)\s+|\s+[/|｜丨]\s+)\s*",
    re.IGNORECASE,
)
_QUOTES = "\"'“”‘’「」『』【】《》[]"
_NOT_NAMES = frozenset(
    ("undefined", "null", "none", "nil", "nan", "unknown", "n/a", "-", "[object object]", "未知")
)


def _name_from_email_form(text: str) -> str | None:
    """The name in an e-mail form, the address when there is none; None if not that form."""
    match = _EMAIL_THEN_NAME.match(text)
    if match:
        name = match.group(2).strip()
        return name if fold(name) not in _NOT_NAMES and name else _address(match.group(1))
    match = _NAME_THEN_EMAIL.match(text)
    if match and match.group(1).strip():
        return match.group(1).strip()
    match = _BARE_EMAIL.match(text)
    return _address(match.group(1)) if match else None


def _address(text: str) -> str:
    """The address itself, or "" for a no-reply address (it names nobody)."""
    address = text.removeprefix("mailto:")
    if re.match(r"(?i)(?:no-?reply|do-?not-?reply|nobody|noemail)@", address):
        return ""
    return address


def _clean(text: str) -> str:
    return text.strip().strip(_QUOTES + " ").strip()


def _names_in(raw: str) -> list[str]:
    text = collapse(raw[:2000])
    if "&" in text:
        text = collapse(html.unescape(text))
    text = collapse(re.sub(r"<[^<>]*>", " ", text))  # markup in an author field
    text = _PREFIX.sub("", text)
    roles = _OTHER_ROLES.search(text)
    if roles:
        text = text[: roles.start()]
    single = _name_from_email_form(text)
    if single is not None:
        return [single]
    names = []
    for part in _BETWEEN.split(text):
        cleaned = _clean(_PREFIX.sub("", _clean(part)))
        email_name = _name_from_email_form(cleaned)
        names.append(email_name if email_name is not None else cleaned)
    return names


@never_raises(lambda raws: [])
def parse_authors(raws: Iterable[str | None]) -> list[str]:
    """Author names from the strings a source gave, in order, without duplicates.

    Understands role prefixes (``作者：X``, ``文 / X``, ``文|X``, ``By X``, ``Author: X``),
    lists (``X, Y and Z``, ``X、Y``, ``X 和 Y``, ``X & Y``), e-mail forms (``a@b.c (Name)`` ->
    ``Name``, ``Name <a@b.c>`` -> ``Name``, ``a@b.c`` -> ``a@b.c``), and drops what follows
    another role (``编辑：Y``) and placeholders (``undefined``, ``null``, ``unknown``).
    Duplicates are compared case- and width-insensitively; the first spelling wins. When the
    source names nobody the list is empty: the source's own name is never put in.
    """
    if isinstance(raws, str):
        raws = [raws]
    names: list[str] = []
    seen: set[str] = set()
    for raw in raws:
        if not isinstance(raw, str):
            continue
        for name in _names_in(raw):
            key = fold(name)
            if not name or key in _NOT_NAMES or key in seen or len(name) > MAX_NAME_CHARS:
                continue
            if not re.search(r"\w", name):
                continue
            seen.add(key)
            names.append(name)
    return names
