"""Small real images built byte by byte (PNG, GIF, WebP, JPEG), with no imaging library."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A 1x1 transparent GIF: the placeholder that lazy-loading pages put in ``src``.
PLACEHOLDER_GIF_DATA_URI = (
    "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
)


@dataclass(frozen=True)
class Image:
    """An image with the facts a test checks against: its media type and pixel size."""

    data: bytes
    media_type: str
    width: int
    height: int
    frames: int = 1


# -- PNG (https://www.w3.org/TR/png-3/) ------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and the CRC-32 of type plus data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, rows: list[bytes], *, color_type: int = 2) -> bytes:
    """A PNG from unfiltered 8-bit rows (RGB for colour type 2, RGBA for 6, grey for 0)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(raw, 9))
        + png_chunk(b"IEND", b"")
    )


def gradient_png(width: int = 64, height: int = 48, *, seed: int = 0) -> Image:
    """An RGB gradient; ``seed`` shifts the colours so every seed gives different bytes."""
    rows = [
        bytes(
            channel
            for x in range(width)
            for channel in (
                (x * 255 // max(width - 1, 1) + seed * 37) % 256,
                (y * 255 // max(height - 1, 1) + seed * 91) % 256,
                (x * y + seed * 13) % 256,
            )
        )
        for y in range(height)
    ]
    return Image(png(width, height, rows), "image/png", width, height)


def alpha_png(size: int = 32) -> Image:
    """An RGBA disc on a fully transparent background (transparency must survive storage)."""
    centre, radius = (size - 1) / 2, size / 2.5
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            inside = (x - centre) ** 2 + (y - centre) ** 2 <= radius**2
            row += bytes((220, 40, 60, 255)) if inside else bytes((0, 0, 0, 0))
        rows.append(bytes(row))
    return Image(png(size, size, rows, color_type=6), "image/png", size, size)


def bomb_png(width: int = 100_000, height: int = 100_000) -> Image:
    """A PNG whose header claims ``width`` x ``height`` pixels (10^10 by default).

    Only the header is a bomb: the IDAT holds a complete zlib stream for the first rows, so
    the file is a few hundred bytes. A decoder that trusts the header allocates 30 GB.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    first_rows = (b"\x00" + b"\x00" * (width * 3)) * 2
    data = (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(first_rows, 9))
        + png_chunk(b"IEND", b"")
    )
    return Image(data, "image/png", width, height)


def huge_png_length(width: int, height: int) -> int:
    """The exact byte length of :func:`huge_png_stream` for these dimensions."""
    raw_length = height * (1 + width * 3)
    blocks = -(-raw_length // 65535)
    # signature + IHDR + one IDAT per stored block (+ zlib header, + adler32) + IEND
    return 8 + 25 + blocks * (12 + 5) + raw_length + 2 + 4 + 12


def huge_png_stream(width: int, height: int) -> Iterator[bytes]:
    """A valid PNG of ``width`` x ``height`` RGB pixels, generated chunk by chunk.

    The zlib stream is made of stored (uncompressed) deflate blocks, one per IDAT chunk, so
    the file is as large as the pixels (4000 x 2500 is 30 MB) and its length is known in
    advance (:func:`huge_png_length`) without building it in memory.
    """
    yield PNG_SIGNATURE
    yield png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    raw_length = height * (1 + width * 3)
    # Diagonal stripes: row y is a window into one long pattern, so no row is built by hand.
    pattern = bytes((i * 7 + (i >> 3)) % 256 for i in range(width * 3 + 768))
    sent = 0
    adler = 1
    pending = bytearray()
    y = 0
    first = True
    while sent < raw_length:
        while len(pending) < 65535 and y < height:
            start = (y % 256) * 3
            pending += b"\x00" + pattern[start : start + width * 3]
            y += 1
        block = bytes(pending[:65535])
        del pending[:65535]
        sent += len(block)
        final = sent == raw_length
        adler = zlib.adler32(block, adler)
        header = b"\x78\x01" if first else b""
        first = False
        stored = bytes((1 if final else 0,)) + struct.pack("<HH", len(block), len(block) ^ 0xFFFF)
        trailer = struct.pack(">I", adler) if final else b""
        yield png_chunk(b"IDAT", header + stored + block + trailer)
    yield png_chunk(b"IEND", b"")


# -- GIF89a (https://www.w3.org/Graphics/GIF/spec-gif89a.txt) --------------------------------


def _lzw(indices: bytes, min_code_size: int) -> bytes:
    """GIF's variable-width LZW, codes packed least significant bit first."""
    clear, end = 1 << min_code_size, (1 << min_code_size) + 1
    table: dict[bytes, int] = {bytes((i,)): i for i in range(clear)}
    next_code, code_size = end + 1, min_code_size + 1
    out = bytearray()
    bit_buffer = bit_count = 0

    def emit(code: int) -> None:
        nonlocal bit_buffer, bit_count, code_size
        # The decoder widens its codes once its table reaches 2**size entries; it learns
        # each entry one code later than the encoder, hence "<" rather than "<=".
        while (1 << code_size) < next_code and code_size < 12:
            code_size += 1
        bit_buffer |= code << bit_count
        bit_count += code_size
        while bit_count >= 8:
            out.append(bit_buffer & 0xFF)
            bit_buffer >>= 8
            bit_count -= 8

    emit(clear)
    word = b""
    for index in indices:
        candidate = word + bytes((index,))
        if candidate in table:
            word = candidate
            continue
        emit(table[word])
        if next_code < 4096:
            table[candidate] = next_code
            next_code += 1
        else:
            emit(clear)
            table = {bytes((i,)): i for i in range(clear)}
            next_code, code_size = end + 1, min_code_size + 1
        word = bytes((index,))
    if word:
        emit(table[word])
    emit(end)
    if bit_count:
        out.append(bit_buffer & 0xFF)
    return bytes(out)


def _gif_sub_blocks(data: bytes) -> bytes:
    return (
        b"".join(
            bytes((len(data[i : i + 255]),)) + data[i : i + 255] for i in range(0, len(data), 255)
        )
        + b"\x00"
    )


def animated_gif(size: int = 16) -> Image:
    """A looping two-frame GIF89a: a red square that turns into a blue one."""
    palette = bytes((255, 255, 255, 220, 30, 30, 30, 60, 220, 0, 0, 0))  # 4 colours
    header = b"GIF89a" + struct.pack("<HHBBB", size, size, 0xF1, 0, 0) + palette
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    frames = b""
    for colour in (1, 2):
        indices = bytes(
            colour if size // 4 <= x < size * 3 // 4 and size // 4 <= y < size * 3 // 4 else 0
            for y in range(size)
            for x in range(size)
        )
        control = b"\x21\xf9\x04\x04" + struct.pack("<H", 50) + b"\x00\x00"  # 0.5 s
        descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, size, size, 0)
        frames += control + descriptor + b"\x02" + _gif_sub_blocks(_lzw(indices, 2))
    return Image(header + loop + frames + b"\x3b", "image/gif", size, size, frames=2)


# -- WebP lossless (RFC 9649) -----------------------------------------------------------------


class _BitWriter:
    """Bits packed least significant first, as VP8L and JPEG-free formats read them."""

    def __init__(self) -> None:
        self.value = 0
        self.count = 0

    def write(self, value: int, bits: int) -> None:
        self.value |= value << self.count
        self.count += bits

    def getvalue(self) -> bytes:
        return self.value.to_bytes((self.count + 7) // 8, "little")


def webp_lossless(
    width: int = 40, height: int = 30, rgba: tuple[int, int, int, int] = (30, 160, 90, 255)
) -> Image:
    """A solid-colour VP8L image: every prefix code is a one-symbol "simple" code, so the
    pixels take no bits at all (RFC 9649, section 3.7.2.1.1)."""
    bits = _BitWriter()
    bits.write(0x2F, 8)  # VP8L signature
    bits.write(width - 1, 14)
    bits.write(height - 1, 14)
    bits.write(0 if rgba[3] == 255 else 1, 1)  # alpha_is_used
    bits.write(0, 3)  # version
    bits.write(0, 1)  # no transform
    bits.write(0, 1)  # no colour cache
    bits.write(0, 1)  # no meta prefix codes
    red, green, blue, alpha = rgba
    for symbol in (green, red, blue, alpha, 0):  # green, red, blue, alpha, distance
        bits.write(1, 1)  # simple code
        bits.write(0, 1)  # one symbol
        if symbol < 2:
            bits.write(0, 1)
            bits.write(symbol, 1)
        else:
            bits.write(1, 1)
            bits.write(symbol, 8)
    payload = bits.getvalue()
    chunk = (
        b"VP8L" + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) % 2 else b"")
    )
    data = b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk
    return Image(data, "image/webp", width, height)


# -- JPEG baseline (ITU T.81, JFIF 1.02) ----------------------------------------------------

# Annex K.3: the standard luminance DC table (code lengths 1..16, then the symbols).
_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_VALUES = tuple(range(12))
# Our AC table holds one symbol, end-of-block, as the one-bit code "0": every block is flat.
_AC_BITS = (1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
_AC_VALUES = (0x00,)


def _huffman_codes(bits: tuple[int, ...], values: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    """Canonical Huffman codes (T.81 Annex C): symbol -> (code, length)."""
    codes: dict[int, tuple[int, int]] = {}
    code = 0
    symbols = iter(values)
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[next(symbols)] = (code, length)
            code += 1
        code <<= 1
    return codes


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", 0xFF00 | marker, len(payload) + 2) + payload


def jpeg_baseline(blocks: list[list[tuple[int, int, int]]]) -> Image:
    """A baseline YCbCr JPEG made of flat 8x8 blocks, one RGB colour per block.

    Flat blocks have only a DC coefficient, so the encoder needs no DCT: with a quantization
    table of ones, DC = 8 * (level - 128) exactly.
    """
    height, width = len(blocks) * 8, len(blocks[0]) * 8
    dc_codes, ac_codes = _huffman_codes(_DC_BITS, _DC_VALUES), _huffman_codes(_AC_BITS, _AC_VALUES)
    out = bytearray(b"\xff\xd8")
    out += _segment(0xE0, b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00")
    out += _segment(0xDB, b"\x00" + b"\x01" * 64)
    out += _segment(
        0xC0, struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00"
    )
    out += _segment(0xC4, b"\x00" + bytes(_DC_BITS) + bytes(_DC_VALUES))
    out += _segment(0xC4, b"\x10" + bytes(_AC_BITS) + bytes(_AC_VALUES))
    out += _segment(0xDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00")

    bit_buffer, bit_count = 0, 0
    scan = bytearray()

    def put(code: int, length: int) -> None:
        nonlocal bit_buffer, bit_count
        bit_buffer = (bit_buffer << length) | code
        bit_count += length
        while bit_count >= 8:
            byte = (bit_buffer >> (bit_count - 8)) & 0xFF
            scan.append(byte)
            if byte == 0xFF:
                scan.append(0x00)  # byte stuffing (T.81 F.1.2.3)
            bit_count -= 8
        bit_buffer &= (1 << bit_count) - 1

    predictors = [0, 0, 0]
    for block_row in blocks:
        for red, green, blue in block_row:
            luma = 0.299 * red + 0.587 * green + 0.114 * blue
            cb = 128 - 0.168736 * red - 0.331264 * green + 0.5 * blue
            cr = 128 + 0.5 * red - 0.418688 * green - 0.081312 * blue
            for component, level in enumerate((luma, cb, cr)):
                dc = round(8 * (level - 128))
                diff = dc - predictors[component]
                predictors[component] = dc
                category = abs(diff).bit_length()
                put(*dc_codes[category])
                if category:
                    put(diff if diff > 0 else diff + (1 << category) - 1, category)
                put(*ac_codes[0x00])
    if bit_count:
        put((1 << (8 - bit_count)) - 1, 8 - bit_count)  # pad with one-bits
    out += scan + b"\xff\xd9"
    return Image(bytes(out), "image/jpeg", width, height)


def mosaic_jpeg(columns: int = 8, rows: int = 4, *, seed: int = 0) -> Image:
    """A mosaic of coloured 8x8 tiles (64 x 32 pixels by default)."""
    blocks = [
        [
            (
                (x * 40 + seed * 17) % 256,
                (y * 60 + seed * 29) % 256,
                ((x + y) * 25 + seed * 53) % 256,
            )
            for x in range(columns)
        ]
        for y in range(rows)
    ]
    return jpeg_baseline(blocks)


def generated_image(seed: int, extension: str) -> Image | None:
    """The image served at ``/images/gen/{seed}.{extension}``: distinct bytes for each seed."""
    if extension == "png":
        return gradient_png(48, 32, seed=seed)
    if extension == "jpg":
        return mosaic_jpeg(6, 4, seed=seed)
    if extension == "webp":
        return webp_lossless(
            24 + seed % 16, 16, ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256, 255)
        )
    return None


def static_images() -> dict[str, Image]:
    """The fixed images of the site, by path (``/images/gen/...`` are made per request)."""
    same = gradient_png(40, 24, seed=3)
    return {
        "/images/photo.png": gradient_png(),
        "/images/alpha.png": alpha_png(),
        "/images/animated.gif": animated_gif(),
        "/images/photo.webp": webp_lossless(),
        "/images/photo.jpg": mosaic_jpeg(),
        "/images/cdn/v2_5b7db72ab3464b2f86e3c4ff166a252c_img_000": mosaic_jpeg(9, 3, seed=7),
        "/images/cdn/v2_ab8fa89d10bd420ca3a13d217ca67bea_img_000": gradient_png(52, 40, seed=8),
        "/images/same/a.png": same,
        "/images/same/b.png": same,
        "/images/octet-stream.png": gradient_png(20, 20, seed=5),
        "/images/hotlink.jpg": mosaic_jpeg(4, 4, seed=11),
        "/images/no-referrer.jpg": mosaic_jpeg(4, 4, seed=12),
    }
