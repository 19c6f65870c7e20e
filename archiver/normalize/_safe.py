"""Shared guards: every public normalizer answers any input and never raises."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

logger = logging.getLogger("archiver.normalize")

P = ParamSpec("P")
R = TypeVar("R")

STRICT = False
"""When True the safety net re-raises: the test-suite sets it to see real bugs, production
never does (a feed's odd value must not stop a crawl)."""

# C0/C1 controls except tab/newline/carriage return, lone surrogates, non-characters, and the
# invisible format characters that only ever get in the way of comparison (ZWSP, BOM, ...).
_JUNK_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    "\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\ufeff]"
)
_WHITESPACE = re.compile(r"\s+")


def never_raises(fallback: Callable[..., object]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a normalizer so an unexpected error returns ``fallback(*args, **kwargs)``.

    ``fallback`` takes the normalizer's arguments and returns a value of its return type.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return function(*args, **kwargs)
            except Exception:
                if STRICT:
                    raise
                logger.warning("%s failed; using its fallback", function.__name__, exc_info=True)
                return cast(R, fallback(*args, **kwargs))

        return guarded

    return decorate


def scrub(text: str) -> str:
    """``text`` without control characters, lone surrogates and invisible format marks."""
    return _JUNK_CHARS.sub("", text)


def collapse(text: str) -> str:
    """``text`` scrubbed, on one line, with runs of whitespace as single spaces."""
    return _WHITESPACE.sub(" ", scrub(text)).strip()


def fold(text: str) -> str:
    """A comparison key: NFKC (full-width to half-width), case-folded, whitespace collapsed."""
    return collapse(unicodedata.normalize("NFKC", text)).casefold()
