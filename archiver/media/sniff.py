"""Recognizing image bytes and reading their dimensions from the header alone (no decoding).

The type comes from the bytes, never from the ``Content-Type`` a server claims: an HTML error
page served as ``image/jpeg`` is not an image, and a PNG served as ``text/plain`` still is.
Dimensions are read from each format's header, so a decompression bomb is refused before
anything decodes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

PILLOW_MAX_PIXELS = 89_478_485
"""Pillow's own decompression-bomb warning threshold, for reference."""


@dataclass(frozen=True)
class ImageInfo:
    """What the first bytes of a file say about it."""

    media_type: str
    """The sniffed MIME type: ``image/png``, ``image/jpeg``, ``image/svg+xml``..."""
    extension: str
    """The file name extension for that type, without the dot: ``png``, ``jpg``, ``svg``."""
    width: int | None = None
    """Width in pixels from the header; None when the header is cut short or unreadable."""
    height: int | None = None

    @property
    def pixels(self) -> int | None:
        """Width times height, or None when either is unknown."""
        if self.width is None or self.height is None:
            return None
        return self.width * self.height

    @property
    def is_vector(self) -> bool:
        """Vector images have no pixel count to check and may not state a size."""
        return self.media_type == "image/svg+xml"


def sniff_image(head: bytes) -> ImageInfo | None:
    """The image type and dimensions the bytes start with, or None when they are no image.

    ``head`` is the start of the file (the whole file is fine). A known signature with a header
    cut short gives an ``ImageInfo`` whose ``width``/``height`` are None. Recognized: PNG (and
    APNG), GIF, JPEG, WebP (VP8, VP8L, VP8X), BMP, ICO/CUR, AVIF, HEIC/HEIF, TIFF, SVG.
    """
    for reader in _READERS:
        info = reader(head)
        if info is not None:
            return info
    return None


def exceeds_pixel_limit(info: ImageInfo, max_pixels: int) -> bool:
    """Whether the header claims more pixels than ``max_pixels`` (0 or less: no limit).

    An image that would take gigabytes once decoded (a "decompression bomb") can be a few
    kilobytes on the wire; this check needs only the header.
    """
    pixels = info.pixels
    return max_pixels > 0 and pixels is not None and pixels > max_pixels


def describe_bytes(head: bytes) -> str:
    """A few words on what non-image bytes look like, for the error recorded."""
    text = head[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not text:
        return "empty or blank"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--")) or (
        b"<html" in text or b"<body" in text
    ):
        return "an HTML page"
    if text.startswith((b"<?xml", b"<")):
        return "XML or markup"
    if text.startswith((b"{", b"[")):
        return "JSON"
    if all(32 <= byte < 127 or byte in (9, 10, 13) for byte in text[:64]):
        return "text"
    return "unknown bytes " + head[:8].hex()


# -- readers, one per format ------------------------------------------------------------------


def _u16be(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "big")


def _u16le(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "little")


def _u32be(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "big")


def _sized(media_type: str, extension: str, width: int, height: int) -> ImageInfo:
    """An ImageInfo, with zero dimensions (never valid) reported as unknown."""
    if width <= 0 or height <= 0:
        return ImageInfo(media_type, extension)
    return ImageInfo(media_type, extension, width, height)


def _png(data: bytes) -> ImageInfo | None:
    # PNG spec, 5.2 and 11.2.2: the signature, then IHDR first (width, height big-endian).
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    if len(data) < 24 or data[12:16] != b"IHDR":
        return ImageInfo("image/png", "png")
    return _sized("image/png", "png", _u32be(data, 16), _u32be(data, 20))


def _gif(data: bytes) -> ImageInfo | None:
    # GIF89a spec, 18: the logical screen descriptor follows the 6-byte header.
    if not data.startswith((b"GIF87a", b"GIF89a")):
        return None
    if len(data) < 10:
        return ImageInfo("image/gif", "gif")
    return _sized("image/gif", "gif", _u16le(data, 6), _u16le(data, 8))


# Start-of-frame markers (ITU T.81, table B.1): all SOFn but DHT (C4), JPG (C8) and DAC (CC).
_JPEG_SOF = frozenset(
    (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF)
)


def _jpeg(data: bytes) -> ImageInfo | None:
    if not data.startswith(b"\xff\xd8\xff"):
        return None
    size = len(data)
    pos = 2
    while pos < size:
        if data[pos] != 0xFF:
            break  # not at a marker: corrupt
        while pos < size and data[pos] == 0xFF:
            pos += 1  # fill bytes
        if pos >= size:
            break
        marker = data[pos]
        pos += 1
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            continue  # markers without a length
        if marker in (0xD9, 0xDA):
            break  # end of image or start of scan before any frame header
        if pos + 2 > size:
            break
        length = _u16be(data, pos)
        if length < 2:
            break
        if marker in _JPEG_SOF:
            if pos + 7 > size:
                break
            return _sized("image/jpeg", "jpg", _u16be(data, pos + 5), _u16be(data, pos + 3))
        pos += length
    return ImageInfo("image/jpeg", "jpg")


def _webp(data: bytes) -> ImageInfo | None:
    # https://developers.google.com/speed/webp/docs/riff_container
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    chunk, body = data[12:16], data[20:]
    unknown = ImageInfo("image/webp", "webp")
    if chunk == b"VP8 ":
        # RFC 6386, 9.1: frame tag (3 bytes), start code 9d 01 2a, then 14-bit sizes.
        if len(body) < 10 or body[3:6] != b"\x9d\x01\x2a":
            return unknown
        return _sized("image/webp", "webp", _u16le(body, 6) & 0x3FFF, _u16le(body, 8) & 0x3FFF)
    if chunk == b"VP8L":
        # WebP lossless bitstream, 3.1: signature 0x2f, then 14-bit width-1 and height-1.
        if len(body) < 5 or body[0] != 0x2F:
            return unknown
        bits = int.from_bytes(body[1:5], "little")
        return _sized("image/webp", "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        # Extended format: flags (1), reserved (3), canvas width-1 and height-1 (24 bits each).
        if len(body) < 10:
            return unknown
        width = int.from_bytes(body[4:7], "little") + 1
        height = int.from_bytes(body[7:10], "little") + 1
        return _sized("image/webp", "webp", width, height)
    return unknown


_BMP_HEADER_SIZES = frozenset((12, 16, 40, 52, 56, 64, 108, 124))


def _bmp(data: bytes) -> ImageInfo | None:
    # "BM" alone is too weak (text can start with it): the DIB header size must be a known one.
    if not data.startswith(b"BM"):
        return None
    if len(data) < 18:
        return None
    header_size = int.from_bytes(data[14:18], "little")
    if header_size not in _BMP_HEADER_SIZES:
        return None
    if header_size == 12:  # BITMAPCOREHEADER: 16-bit sizes
        if len(data) < 22:
            return ImageInfo("image/bmp", "bmp")
        return _sized("image/bmp", "bmp", _u16le(data, 18), _u16le(data, 20))
    if len(data) < 26:
        return ImageInfo("image/bmp", "bmp")
    width = int.from_bytes(data[18:22], "little", signed=True)
    height = int.from_bytes(data[22:26], "little", signed=True)
    return _sized("image/bmp", "bmp", abs(width), abs(height))  # negative height: top-down


def _ico(data: bytes) -> ImageInfo | None:
    # ICONDIR: reserved 0, type 1 (icon) or 2 (cursor), count; 16-byte entries follow.
    if len(data) < 6 or data[:2] != b"\x00\x00" or data[2:4] not in (b"\x01\x00", b"\x02\x00"):
        return None
    count = _u16le(data, 4)
    if not 0 < count <= 256:
        return None
    if len(data) < 6 + 16:
        return ImageInfo("image/vnd.microsoft.icon", "ico")
    if data[6 + 3] != 0:  # each entry's reserved byte is zero
        return None
    best = (0, 0)
    for index in range(count):
        entry = 6 + 16 * index
        if entry + 16 > len(data):
            break
        width = data[entry] or 256  # 0 means 256
        height = data[entry + 1] or 256
        if width * height > best[0] * best[1]:
            best = (width, height)
    return _sized("image/vnd.microsoft.icon", "ico", *best)


_AVIF_BRANDS = frozenset((b"avif", b"avis"))
_HEIC_BRANDS = frozenset((b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"))
_HEIF_BRANDS = frozenset((b"mif1", b"msf1"))


def _isobmff(data: bytes) -> ImageInfo | None:
    # ISO/IEC 14496-12: a leading ``ftyp`` box names the brands; HEIF (23008-12) images state
    # their size in ``ispe`` properties. Grid images have one per tile: the largest is the image.
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    box_size = _u32be(data, 0)
    if box_size < 16 or box_size > 4096:
        return None
    brands = {data[8:12]} | {data[at : at + 4] for at in range(16, min(box_size, len(data)) - 3, 4)}
    if brands & _AVIF_BRANDS:
        media_type, extension = "image/avif", "avif"
    elif brands & _HEIC_BRANDS:
        media_type, extension = "image/heic", "heic"
    elif brands & _HEIF_BRANDS:
        media_type, extension = "image/heif", "heif"
    else:
        return None  # video (mp4, mov) or another ISO-BMFF file
    best = (0, 0)
    at = data.find(b"ispe", box_size)
    while at != -1:
        # box: size (4) "ispe" version+flags (4) width (4) height (4)
        if at >= 4 and _u32be(data, at - 4) == 20 and at + 16 <= len(data):
            width, height = _u32be(data, at + 8), _u32be(data, at + 12)
            if width * height > best[0] * best[1]:
                best = (width, height)
        at = data.find(b"ispe", at + 4)
    return _sized(media_type, extension, *best)


def _tiff(data: bytes) -> ImageInfo | None:
    # TIFF 6.0, section 2: byte order, 42, offset of the first IFD; tags 256/257 hold the size.
    order: Literal["little", "big"]
    if data[:4] == b"II*\x00":
        order = "little"
    elif data[:4] == b"MM\x00*":
        order = "big"
    else:
        return None
    unknown = ImageInfo("image/tiff", "tif")
    if len(data) < 8:
        return unknown
    ifd = int.from_bytes(data[4:8], order)
    if ifd + 2 > len(data):
        return unknown
    count = int.from_bytes(data[ifd : ifd + 2], order)
    sizes: dict[int, int] = {}
    for index in range(count):
        entry = ifd + 2 + 12 * index
        if entry + 12 > len(data):
            break
        tag = int.from_bytes(data[entry : entry + 2], order)
        kind = int.from_bytes(data[entry + 2 : entry + 4], order)
        if tag in (256, 257):
            field = data[entry + 8 : entry + 12]
            width = 2 if kind == 3 else 4  # SHORT or LONG, left-justified in the field
            sizes[tag] = int.from_bytes(field[:width], order)
    if 256 in sizes and 257 in sizes:
        return _sized("image/tiff", "tif", sizes[256], sizes[257])
    return unknown


_SVG_PROLOG = re.compile(
    rb"""\A(?:\s+|<\?xml[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)*""",
    re.DOTALL | re.IGNORECASE,
)
_SVG_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?svg\b[^>]*>", re.IGNORECASE)
_SVG_LENGTH = re.compile(rb"""^\s*([0-9]*\.?[0-9]+)\s*(px)?\s*$""")
_SVG_BOX = re.compile(rb"[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?")


def _svg_attribute(tag: bytes, name: bytes) -> bytes | None:
    found = re.search(rb"\s" + name + rb"""\s*=\s*(?:"([^"]*)"|'([^']*)')""", tag)
    if found is None:
        return None
    return found.group(1) if found.group(1) is not None else found.group(2)


def _svg(data: bytes) -> ImageInfo | None:
    head = data[:16384].removeprefix(b"\xef\xbb\xbf")
    prolog = _SVG_PROLOG.match(head)
    start = _SVG_START.match(head, prolog.end() if prolog else 0)
    if start is None:
        return None
    tag = start.group(0)
    sizes: list[int | None] = []
    for name in (b"width", b"height"):
        value = _svg_attribute(tag, name)
        length = _SVG_LENGTH.match(value) if value is not None else None
        sizes.append(round(float(length.group(1))) if length else None)
    if None in sizes:
        box = _svg_attribute(tag, b"viewBox")
        numbers = _SVG_BOX.findall(box) if box is not None else []
        if len(numbers) == 4:
            sizes = [round(float(numbers[2])), round(float(numbers[3]))]
    width, height = sizes
    if width is None or height is None:
        return ImageInfo("image/svg+xml", "svg")
    return _sized("image/svg+xml", "svg", width, height)


_READERS = (_png, _jpeg, _gif, _webp, _isobmff, _ico, _bmp, _tiff, _svg)
