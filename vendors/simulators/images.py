"""Tiny valid key images for the simulators.

Vendors deliver some keys as pictures; a simulator draws one per key, with the key's text in
the image's metadata (a PNG ``tEXt`` chunk, a GIF comment extension, a JPEG COM segment) so
that every key gives a distinct image and a test can read the text back. Which flavour a
vendor hands out (pixels, keyword, base picture) is that vendor's choice, made in its module.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from typing import Literal

Pixels = Literal["noise", "solid", "grey"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# An 8x8 grey baseline JPEG: quantisation table of ones; DC table 0 with one code of length 1
# for category 0; AC table 0 with one code, for EOB; one block: DC "0" (diff 0), AC "0"
# (EOB), padded with ones.
TINY_JPEG = b"".join(
    (
        b"\xff\xd8",
        b"\xff\xdb" + struct.pack(">HB", 67, 0) + bytes([1] * 64),
        b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 8, 8, 1) + bytes((1, 0x11, 0)),
        b"\xff\xc4" + struct.pack(">HB", 20, 0x00) + bytes([1] + [0] * 15) + b"\x00",
        b"\xff\xc4" + struct.pack(">HB", 20, 0x10) + bytes([1] + [0] * 15) + b"\x00",
        b"\xff\xda" + struct.pack(">HB", 8, 1) + bytes((1, 0x00, 0, 63, 0)) + b"\x3f",
        b"\xff\xd9",
    )
)


def png(text: str, *, size: int = 8, pixels: Pixels = "noise", keyword: str = "Serial") -> bytes:
    """A ``size`` x ``size`` 8-bit PNG with ``text`` in a ``tEXt`` chunk under ``keyword``.

    Its pixels come from the SHA-256 of ``text``: ``noise`` RGB pixels, one ``solid`` RGB
    colour, or ``grey`` (greyscale) pixels.
    """
    digest = _digest(text)
    if pixels == "grey":
        colour_type = 0
        data = bytes(digest[(x + y * size) % len(digest)] for y in range(size) for x in range(size))
    elif pixels == "solid":
        colour_type = 2
        data = digest[:3] * (size * size)
    else:
        colour_type = 2
        data = bytes(
            digest[(y * size + x) * 3 % 30 + c]
            for y in range(size)
            for x in range(size)
            for c in range(3)
        )
    stride = len(data) // size
    rows = b"".join(b"\x00" + data[y * stride : (y + 1) * stride] for y in range(size))
    return b"".join(
        (
            PNG_SIGNATURE,
            png_chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, colour_type, 0, 0, 0)),
            png_chunk(b"tEXt", keyword.encode("latin-1") + b"\x00" + text.encode("latin-1")),
            png_chunk(b"IDAT", zlib.compress(rows)),
            png_chunk(b"IEND", b""),
        )
    )


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def gif(text: str, *, colour: bytes | None = None) -> bytes:
    """A 1x1 GIF89a with ``text`` (its first 255 bytes) in a comment extension; its pixel
    has the RGB ``colour``, by default one drawn from the SHA-256 of ``text``."""
    comment = text.encode("latin-1")[:255]
    return b"".join(
        (
            b"GIF89a",
            struct.pack("<HHBBB", 1, 1, 0x80, 0, 0),  # 1x1, global colour table of 2 entries
            (_digest(text)[:3] if colour is None else colour) + b"\x00\x00\x00",
            b"\x21\xfe" + bytes((len(comment),)) + comment + b"\x00",
            b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0),
            b"\x02\x02\x44\x01\x00",  # LZW minimum code size 2: clear, index 0, end
            b"\x3b",
        )
    )


def jpeg(text: str, *, base: bytes = TINY_JPEG) -> bytes:
    """The JPEG ``base`` with ``text`` in a COM segment right after its SOI marker."""
    comment = text.encode("latin-1")
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return base[:2] + segment + base[2:]


def b64(image: bytes) -> str:
    """An image as the base64 text vendors put in a key's serial."""
    return base64.b64encode(image).decode("ascii")


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()
