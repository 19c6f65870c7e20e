"""Sniffing image bytes: every format's header, fake images, truncated files, bombs."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver.media import ImageInfo, exceeds_pixel_limit, image_path, sniff_image, thumbnail_path
from archiver.media.sniff import describe_bytes


def png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00\x00\x00\x00IEND\xaeB`\x82"


def gif(width: int, height: int, version: bytes = b"89a") -> bytes:
    return b"GIF" + version + struct.pack("<HH", width, height) + b"\xf0\x00\x00" + b";"


def jpeg(width: int, height: int, *, sof: int = 0xC0, exif: int = 0) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app1 = b"\xff\xe1" + struct.pack(">H", exif + 2) + b"E" * exif if exif else b""
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes(64)
    frame = b"\x08" + struct.pack(">HH", height, width) + b"\x01\x01\x11\x00"
    sofn = bytes((0xFF, sof)) + struct.pack(">H", len(frame) + 2) + frame
    return b"\xff\xd8" + app0 + app1 + dqt + sofn + b"\xff\xda\x00\x08\x01\x01\x00\x00?\x00\xff\xd9"


def riff(chunk: bytes, payload: bytes) -> bytes:
    body = b"WEBP" + chunk + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_vp8(width: int, height: int) -> bytes:
    return riff(b"VP8 ", b"\x9d\x01\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height))


def webp_vp8l(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    return riff(b"VP8L", b"\x2f" + struct.pack("<I", bits) + b"\x00" * 8)


def webp_vp8x(width: int, height: int) -> bytes:
    size = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return riff(b"VP8X", b"\x10\x00\x00\x00" + size)


def bmp(width: int, height: int) -> bytes:
    dib = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(dib), 0, 0, 14 + len(dib)) + dib


def ico(*sizes: int) -> bytes:
    head = struct.pack("<HHH", 0, 1, len(sizes))
    entries = b"".join(
        struct.pack("<BBBBHHII", s % 256, s % 256, 0, 0, 1, 32, 40, 22) for s in sizes
    )
    return head + entries


def avif(width: int, height: int, brand: bytes = b"avif") -> bytes:
    ftyp = struct.pack(">I", 24) + b"ftyp" + brand + b"\x00\x00\x00\x00" + b"mif1miaf"
    ispe = struct.pack(">I", 20) + b"ispe" + b"\x00\x00\x00\x00" + struct.pack(">II", width, height)
    tile = struct.pack(">I", 20) + b"ispe" + b"\x00\x00\x00\x00" + struct.pack(">II", 8, 8)
    meta = b"meta" + b"\x00" * 4 + b"iprp" + b"ipco" + tile + ispe
    return ftyp + struct.pack(">I", len(meta) + 4) + meta


def tiff(width: int, height: int, order: str = "little") -> bytes:
    fmt = "<" if order == "little" else ">"
    head = (b"II*\x00" if order == "little" else b"MM\x00*") + struct.pack(fmt + "I", 8)
    entries = struct.pack(fmt + "HHIHH", 256, 3, 1, width, 0) + struct.pack(
        fmt + "HHII", 257, 4, 1, height
    )
    return head + struct.pack(fmt + "H", 2) + entries + b"\x00\x00\x00\x00"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png(64, 48), ImageInfo("image/png", "png", 64, 48)),
        (gif(16, 9), ImageInfo("image/gif", "gif", 16, 9)),
        (gif(3, 4, b"87a"), ImageInfo("image/gif", "gif", 3, 4)),
        (jpeg(640, 480), ImageInfo("image/jpeg", "jpg", 640, 480)),
        (jpeg(800, 600, sof=0xC2), ImageInfo("image/jpeg", "jpg", 800, 600)),  # progressive
        (jpeg(12, 34, exif=30_000), ImageInfo("image/jpeg", "jpg", 12, 34)),  # big APP1 first
        (webp_vp8(300, 200), ImageInfo("image/webp", "webp", 300, 200)),
        (webp_vp8l(40, 30), ImageInfo("image/webp", "webp", 40, 30)),
        (webp_vp8x(1920, 1080), ImageInfo("image/webp", "webp", 1920, 1080)),
        (bmp(20, -10), ImageInfo("image/bmp", "bmp", 20, 10)),
        (ico(16, 48, 32), ImageInfo("image/vnd.microsoft.icon", "ico", 48, 48)),
        (ico(256), ImageInfo("image/vnd.microsoft.icon", "ico", 256, 256)),
        (avif(1200, 800), ImageInfo("image/avif", "avif", 1200, 800)),
        (avif(100, 50, b"heic"), ImageInfo("image/heic", "heic", 100, 50)),
        (tiff(70, 90), ImageInfo("image/tiff", "tif", 70, 90)),
        (tiff(70, 90, "big"), ImageInfo("image/tiff", "tif", 70, 90)),
    ],
)
def test_every_format_is_recognized_with_its_size(data: bytes, expected: ImageInfo) -> None:
    assert sniff_image(data) == expected


@pytest.mark.parametrize(
    ("svg", "size"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"></svg>', (120, 80)),
        (
            b'<?xml version="1.0"?>\n<!-- made by hand -->\n<svg width="10px" height="5.6px"/>',
            (10, 6),
        ),
        (
            b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n<svg viewBox="0 0 300 150">',
            (300, 150),
        ),
        (b'\xef\xbb\xbf<svg width="100%" height="100%" viewBox="0,0,24,24">', (24, 24)),
        (b'<svg:svg xmlns:svg="http://www.w3.org/2000/svg" width="7" height="8">', (7, 8)),
        (b'<svg width="100%">', (None, None)),
    ],
)
def test_svg_is_recognized_with_its_size_when_stated(
    svg: bytes, size: tuple[int | None, int | None]
) -> None:
    info = sniff_image(svg)
    assert info is not None
    assert (info.media_type, info.extension) == ("image/svg+xml", "svg")
    assert (info.width, info.height) == size
    assert info.is_vector


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><head><title>Hotlinking denied</title></head></html>",
        "<html><body><p>盗链图片</p></body></html>".encode(),
        b'{"error": "not found"}',
        b"",
        b"\x00\x01\x02\x03\x04",
        b"BMW is a car maker, not a bitmap",
        b"RIFF\x24\x00\x00\x00WAVEfmt ",  # RIFF, but audio
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",  # ISO-BMFF, but video
        b"<?xml version='1.0'?><rss version='2.0'></rss>",
    ],
)
def test_what_is_not_an_image_is_refused_whatever_it_is_served_as(data: bytes) -> None:
    assert sniff_image(data) is None


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (png(64, 48)[:20], "image/png"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (gif(16, 9)[:8], "image/gif"),
        (jpeg(640, 480)[:40], "image/jpeg"),  # cut before the frame header
        (b"\xff\xd8\xff", "image/jpeg"),
        (webp_vp8(300, 200)[:24], "image/webp"),
        (webp_vp8x(10, 10)[:26], "image/webp"),
        (avif(10, 10)[:40], "image/avif"),
        (ico(16)[:10], "image/vnd.microsoft.icon"),
    ],
)
def test_a_truncated_header_names_the_type_but_no_size(data: bytes, media_type: str) -> None:
    info = sniff_image(data)
    assert info is not None
    assert info.media_type == media_type
    assert (info.width, info.height, info.pixels) == (None, None, None)


def test_zero_sizes_count_as_unknown() -> None:
    info = sniff_image(png(0, 10))
    assert info is not None
    assert info.pixels is None


def test_a_bomb_is_caught_from_its_header_alone() -> None:
    header_only = png(100_000, 100_000)[:33]  # signature and IHDR: nothing to decode
    info = sniff_image(header_only)
    assert info is not None
    assert info.pixels == 10_000_000_000
    assert exceeds_pixel_limit(info, 100_000_000)
    assert not exceeds_pixel_limit(info, 0)  # 0: no limit
    jpeg_bomb = sniff_image(jpeg(65_535, 65_535))
    assert jpeg_bomb is not None
    assert exceeds_pixel_limit(jpeg_bomb, 100_000_000)
    assert not exceeds_pixel_limit(ImageInfo("image/png", "png", 10_000, 10_000), 100_000_000)
    assert not exceeds_pixel_limit(ImageInfo("image/svg+xml", "svg"), 1)


def test_the_mock_sites_images_are_read_like_the_real_thing() -> None:
    images = pytest.importorskip("tests.mocksite.images")
    for path, image in images.static_images().items():
        info = sniff_image(image.data)
        assert info is not None, path
        assert (info.media_type, info.width, info.height) == (
            image.media_type,
            image.width,
            image.height,
        ), path
    bomb = sniff_image(images.bomb_png().data)
    assert bomb is not None
    assert exceeds_pixel_limit(bomb, 100_000_000)


def test_describe_bytes_says_what_a_fake_image_is() -> None:
    assert describe_bytes(b"<!DOCTYPE html><html>") == "an HTML page"
    assert describe_bytes(b"  <html lang=zh>") == "an HTML page"
    assert describe_bytes(b'{"a": 1}') == "JSON"
    assert describe_bytes(b"") == "empty or blank"
    assert describe_bytes(b"\x00\x01\x02\x03").startswith("unknown bytes 00010203")


def test_paths_are_named_by_content() -> None:
    digest = "ab" + "0" * 62
    assert image_path(digest, "png") == f"images/ab/{digest}.png"
    assert image_path(digest, ".JPG") == f"images/ab/{digest}.jpg"
    assert thumbnail_path("small", digest) == f"thumbs/small/ab/{digest}.jpg"
    with pytest.raises(ValueError):
        image_path("../../etc/passwd", "png")
    with pytest.raises(ValueError):
        image_path(digest, "p/ng")


@given(st.binary(max_size=2048))
def test_sniffing_never_raises(data: bytes) -> None:
    info = sniff_image(data)
    if info is not None:
        assert info.extension
        assert info.width is None or info.width > 0


@given(st.binary(max_size=64))
def test_known_signatures_followed_by_garbage_never_raise(tail: bytes) -> None:
    for head in (
        b"\x89PNG\r\n\x1a\n",
        b"GIF89a",
        b"\xff\xd8\xff",
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        b"RIFF\x00\x00\x00\x00WEBPVP8X",
        b"BM",
        b"\x00\x00\x01\x00",
        b"\x00\x00\x00\x18ftypavif",
        b"II*\x00",
        b"<svg",
    ):
        sniff_image(head + tail)
