"""Traditional Chinese characters folded onto Simplified ones, for comparing texts only."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def traditional_to_simplified() -> dict[int, str]:
    """A ``str.translate`` table from each Traditional character to its Simplified form.

    Read from OpenCC's own character table (``TSCharacters.txt``, as the
    ``opencc-python-reimplemented`` package ships it), first reading of each character. It
    maps characters one by one, with no phrase rules: wrong for a reader in a few words
    (乾隆), right for a comparison, where both texts are folded the same way. OpenCC's
    phrase-aware converter would cost a thousand times more per article for no better
    fingerprint.
    """
    table: dict[int, str] = {}
    text = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text("utf-8")
    for line in text.splitlines():
        traditional, _, simplified = line.partition("\t")
        target = simplified.split(" ", 1)[0].strip()
        if len(traditional) == 1 and len(target) == 1 and traditional != target:
            table[ord(traditional)] = target
    return table
