"""An article text's fingerprint: its shingles, their MinHash bands (LSH), and the copy rule.

A text is normalized first, so that what re-publishing changes does not count: the lines a
re-publisher adds (an editor's note, an advertisement, a call to follow or subscribe, a
copyright line: :data:`BOILERPLATE`, in lines of at most :data:`BOILERPLATE_CHARS`) are left
out, compatibility
forms (full-width letters and digits) are folded by NFKC, case by ``casefold``, Traditional
characters onto Simplified ones (:mod:`archiver.stories.chinese`), and punctuation, markup
and spacing disappear (a CJK text is a stream of characters, any other a stream of words
with one space between them). Its shingles are the overlapping windows of
:data:`CJK_WIDTH` characters of a CJK text, :data:`LATIN_WIDTH` of any other, each hashed to
64 bits.

Two texts are copies when the Jaccard resemblance of their shingle sets is at least
:data:`COPY_RESEMBLANCE`: an editor's note, an advertisement or a changed paragraph lowers
it a little; a short newsflash inside a long feature about the same event shares most of
its own shingles with the feature but few of the feature's, so they stay apart
(resemblance, not containment, is the rule).

Finding the candidates is locality-sensitive hashing: :data:`BANDS` bands of :data:`ROWS`
MinHash values each, every band one 63-bit key. Two texts of resemblance *J* share at least
one band key with probability ``1 - (1 - J**ROWS) ** BANDS``: 0.64 at 0.5, 0.89 at 0.6,
0.985 at 0.7, 0.9998 at 0.8, and about 10⁻⁶ for unrelated texts (J near 0.01), so a lookup
is a few index probes whatever the archive's size. Copies found are linked into stories, so
a pair the bands miss is still one story when each is found with a third copy.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from archiver.stories.chinese import traditional_to_simplified

CJK_WIDTH = 5
"""Characters per shingle in a CJK text: five characters say about what two or three
English words do."""
LATIN_WIDTH = 12
"""Characters per shingle in other texts (the space between two words counts)."""
CJK_SHARE = 0.3
"""A text is taken as CJK when this share of its letters and digits are CJK characters."""
MIN_SHINGLES = 24
"""Fewer shingles than this (a title, a caption, a one-line teaser) make no fingerprint: too
little text to tell a copy from a look-alike."""
BANDS = 16
ROWS = 4
COPY_RESEMBLANCE = 0.5
"""The least Jaccard resemblance of two shingle sets for them to be copies of one text."""

BOILERPLATE = re.compile(
    # a line that opens with a label: an editor's note, an advertisement, a source line
    r"^\W{0,3}(?:编者按|编辑按|编者注|广告|推广|赞助|本文(?:来自|来源|转载|转自|首发|经授权)|"
    r"原标题|来源\s*[:：]|责任编辑|(?i:editor'?s\s+note|advertisement|sponsored|ad\s*:))"
    # or holds a re-publisher's stock phrase anywhere
    r"|版权归|如有侵权|转载请注明|关注我们|扫码关注|点击(?:下方)?阅读原文|"
    r"(?i:originally\s+(?:published|posted|appeared)|first\s+appeared|"
    r"republished\s+(?:here\s+)?with\s+permission|all\s+rights\s+reserved|"
    r"follow\s+us\s+on|subscribe\s+(?:to\s+our|today))"
)
"""What marks a line as the re-publisher's own rather than the article's."""
BOILERPLATE_CHARS = 200
"""A longer line is the article's, whatever it mentions."""

Shingles = npt.NDArray[np.uint64]
Codes = npt.NDArray[np.uint32]

_TABLE_SIZE = 0x30000
"""Code points below this are folded through the table; the rare ones above are kept."""
_IDEOGRAPHS = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0x20000, 0x30000))
"""Blocks that NFKC and case folding leave alone: filled without asking unicodedata."""
_CJK = (
    (0x2E80, 0x2FE0),  # radicals
    (0x3040, 0x3130),  # kana, bopomofo
    (0x3190, 0x3200),
    (0x3400, 0x4DC0),  # ideographs, extension A
    (0x4E00, 0xA000),  # ideographs
    (0xAC00, 0xD7B0),  # hangul
    (0xF900, 0xFB00),  # compatibility ideographs
    (0x20000, 0x30000),  # ideographs, extensions B to F
)
_ROLLING = np.uint64(0x100000001B3)  # FNV's 64-bit prime
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_BIN_BITS = 6
assert 1 << _BIN_BITS == BANDS * ROWS, "one bin per MinHash value"


@dataclass(frozen=True)
class Fingerprint:
    """What the archive keeps of a text to find its copies."""

    bands: tuple[int, ...]
    """:data:`BANDS` keys, each under 2**63 (a signed 64-bit column holds it)."""
    size: int
    """How many distinct shingles the text has."""


@cache
def _folding() -> tuple[Codes, npt.NDArray[np.bool_]]:
    """Per code point: what it is compared as (0: a separator) and whether it is CJK.

    Built once per process (a fraction of a second): NFKC, then ``casefold``, then the
    Simplified form, keeping the first character of a multi-character result; anything
    that is not a letter or a digit becomes a separator."""
    folded = np.zeros(_TABLE_SIZE, dtype=np.uint32)
    for low, high in _IDEOGRAPHS:
        folded[low:high] = np.arange(low, high, dtype=np.uint32)
    for code in range(_TABLE_SIZE):
        if folded[code] or 0xD800 <= code < 0xE000:
            continue
        form = unicodedata.normalize("NFKC", chr(code)).casefold()
        if form and form[0].isalnum():
            folded[code] = ord(form[0])
    simplified = traditional_to_simplified()
    for code in range(_TABLE_SIZE):  # after NFKC: a compatibility ideograph is simplified too
        target = simplified.get(int(folded[code]))
        if target is not None:
            folded[code] = ord(target)
    cjk = np.zeros(_TABLE_SIZE, dtype=np.bool_)
    for low, high in _CJK:
        cjk[low:high] = True
    return folded, cjk


def normalized_codes(text: str) -> tuple[Codes, bool]:
    """*text* as compared, as code points (see the module docstring); and whether it is a
    CJK text."""
    folding, is_cjk = _folding()
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    inside = codes < _TABLE_SIZE
    folded = np.where(inside, folding[np.where(inside, codes, 0)], codes)
    word = folded != 0
    letters = int(np.count_nonzero(word))
    if not letters:
        return folded[:0], False
    cjk = int(np.count_nonzero(is_cjk[folded[word & (folded < _TABLE_SIZE)]]))
    if cjk >= CJK_SHARE * letters:
        return folded[word], True
    # One space after each word: a separator is kept where a letter or digit precedes it.
    keep = word.copy()
    keep[1:] |= word[:-1]
    stream = folded[keep]
    stream[stream == 0] = ord(" ")
    return stream, False


def without_boilerplate(text: str) -> str:
    """*text* (lines: one per block, as ``content_text`` has them) without the lines that
    :data:`BOILERPLATE` marks; all of it when nothing else would be left."""
    lines = text.splitlines()
    kept = [line for line in lines if len(line) > BOILERPLATE_CHARS or not BOILERPLATE.search(line)]
    return "\n".join(kept) if any(line.strip() for line in kept) else text


def shingles(text: str | None) -> Shingles:
    """The distinct 64-bit hashes of the shingles of *text* (its boilerplate lines left
    out, normalized), sorted."""
    codes, cjk = normalized_codes(without_boilerplate(text or ""))
    width = CJK_WIDTH if cjk else LATIN_WIDTH
    count = len(codes) - width + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    wide = codes.astype(np.uint64)
    hashes = np.zeros(count, dtype=np.uint64)
    for offset in range(width):  # a polynomial hash of each window, overflowing mod 2**64
        hashes = hashes * _ROLLING + wide[offset : offset + count]
    ordered = np.sort(_mix(hashes))  # np.unique costs ten times more (numpy 2)
    distinct = np.empty(len(ordered), dtype=np.bool_)
    distinct[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=distinct[1:])
    return ordered[distinct]


def fingerprint(text: str | None) -> Fingerprint | None:
    """The fingerprint of *text*, or None when it is too short to have one."""
    return fingerprint_of(shingles(text))


def fingerprint_of(hashes: Shingles) -> Fingerprint | None:
    """The fingerprint of a text's :func:`shingles`, or None when there are too few.

    One-permutation MinHash: the shingles' hashes fall into :data:`BANDS` × :data:`ROWS`
    bins by their top bits, and each bin's value is its least hash. The hashes are sorted,
    so a bin's least is the first at or after its start: a binary search per bin, whatever
    the text's length. An empty bin borrows the next filled one's value, re-hashed with the
    distance (densification by rotation), so two copies agree on it as on any other."""
    if len(hashes) < MIN_SHINGLES:
        return None
    bins = BANDS * ROWS
    shift = np.uint64(64 - _BIN_BITS)
    numbers = np.arange(bins, dtype=np.uint64)
    first = np.searchsorted(hashes, numbers << shift)
    found = first < len(hashes)
    values = np.zeros(bins, dtype=np.uint64)
    values[found] = hashes[first[found]]
    filled = found & ((values >> shift) == numbers)
    if not filled.all():
        owners = np.flatnonzero(filled)
        positions = np.arange(bins)
        following = owners[np.searchsorted(owners, positions) % len(owners)]
        distance = ((following - positions) % bins).astype(np.uint64)
        values = np.where(filled, values, _mix(values[following] + distance * _GOLDEN))
    per_band = values.reshape(BANDS, ROWS)
    keys = per_band[:, 0]
    for row in range(1, ROWS):
        keys = _mix(keys * _GOLDEN + per_band[:, row])
    return Fingerprint(tuple(int(key) >> 1 for key in keys), len(hashes))


def resemblance(first: Shingles, second: Shingles) -> float:
    """The Jaccard resemblance of two shingle sets (sorted, distinct), 0.0 to 1.0."""
    if not len(first) or not len(second):
        return 0.0
    # Both sorted: where each of the first would go in the second, and whether it is there
    # (a search per element, not intersect1d's sort of both together: 2-4x faster).
    places = np.searchsorted(second, first)
    places[places == len(second)] = 0
    common = int(np.count_nonzero(second[places] == first))
    return common / (len(first) + len(second) - common)


def are_copies(first: Shingles, second: Shingles) -> bool:
    """Whether two texts' shingle sets are copies of one text (:data:`COPY_RESEMBLANCE`)."""
    if min(len(first), len(second)) < MIN_SHINGLES:
        return False
    return resemblance(first, second) >= COPY_RESEMBLANCE


def _mix(values: Shingles) -> Shingles:
    """SplitMix64's finalizer: every bit of a window's hash depends on every character."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))
