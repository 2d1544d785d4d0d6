"""The few PNG facts kubebot needs, with the standard library only: the image size, and a text
(tEXt) chunk to read and write, where `kubebot kb render` records what a diagram was drawn from.

A PNG is an 8-byte signature and then chunks: 4-byte big-endian length, 4-byte type, data, and a
CRC-32 of type + data (https://www.w3.org/TR/png-3/#5Chunk-layout). A tEXt chunk's data is a
Latin-1 keyword, a zero byte and Latin-1 text (https://www.w3.org/TR/png-3/#11tEXt).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PngError(ValueError):
    """The bytes are not a well-formed PNG."""


def _chunks(data: bytes) -> Iterator[tuple[bytes, bytes, int, int]]:
    """(type, data, start, end) of every chunk; raises PngError on a bad signature or a cut chunk."""
    if not data.startswith(SIGNATURE):
        raise PngError("not a PNG (bad signature)")
    pos = len(SIGNATURE)
    while pos < len(data):
        if pos + 8 > len(data):
            raise PngError("truncated chunk header")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise PngError(f"truncated {kind!r} chunk")
        yield kind, data[pos + 8 : pos + 8 + length], pos, end
        pos = end
        if kind == b"IEND":
            return
    raise PngError("no IEND chunk")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def size(data: bytes) -> tuple[int, int]:
    """(width, height) in pixels, from the IHDR chunk."""
    for kind, body, _, _ in _chunks(data):
        if kind != b"IHDR" or len(body) < 8:
            raise PngError("the first chunk is not IHDR")
        width, height = struct.unpack(">II", body[:8])
        return int(width), int(height)
    raise PngError("no chunks")


def text(data: bytes, keyword: str) -> str | None:
    """The text of the tEXt chunk named `keyword`, or None."""
    key = keyword.encode("latin-1")
    for kind, body, _, _ in _chunks(data):
        if kind == b"tEXt":
            name, _, value = body.partition(b"\x00")
            if name == key:
                return value.decode("latin-1")
    return None


def with_text(data: bytes, keyword: str, value: str) -> bytes:
    """The PNG with one tEXt chunk `keyword` = `value` right after IHDR (replacing any earlier one)."""
    key = keyword.encode("latin-1")
    if not 1 <= len(key) <= 79:
        raise ValueError("a PNG keyword has 1 to 79 characters")
    out = [SIGNATURE]
    for kind, body, start, end in _chunks(data):
        if kind == b"tEXt" and body.partition(b"\x00")[0] == key:
            continue
        out.append(data[start:end])
        if kind == b"IHDR":
            out.append(_chunk(b"tEXt", key + b"\x00" + value.encode("latin-1")))
    return b"".join(out)
