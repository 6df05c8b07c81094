"""Reading back the key images the simulators draw."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

_CHANNELS = {0: 1, 2: 3}  # PNG colour type -> samples per pixel (greyscale, RGB)


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    depth: int
    colour: int
    texts: dict[str, str]


def read_png(data: bytes) -> Png:
    """Check a PNG chunk by chunk (signature, CRCs, IHDR first and IEND last, the pixel data
    size); its header and ``tEXt`` entries."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, kinds, idat, texts = 8, [], b"", {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, payload = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + payload) == crc
        kinds.append(kind)
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", payload[:10])
        if kind == b"IDAT":
            idat += payload
        if kind == b"tEXt":
            keyword, text = payload.split(b"\x00", 1)
            texts[keyword.decode("latin-1")] = text.decode("latin-1")
        pos += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    assert len(zlib.decompress(idat)) == height * (1 + width * _CHANNELS[colour])
    return Png(width, height, depth, colour, texts)
