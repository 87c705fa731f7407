"""A tiny RGB canvas and PNG writer: points, lines, circles, rectangles and 5x7 text.

Enough to draw the toybench figure without a plotting library: the PNG file
format is a signature and three chunks (``IHDR``, one zlib-compressed
``IDAT``, ``IEND``), each with a CRC-32 (PNG specification, ISO/IEC 15948).
"""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from pathlib import Path

__all__ = ["Canvas", "Color", "encode_png"]

Color = tuple[int, int, int]

# A 5x7 pixel font: each glyph is seven rows of five bits, top row first.
# Lower-case letters are drawn as upper-case ones.
_GLYPHS: dict[str, str] = {
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
    "A": "01110 10001 10001 11111 10001 10001 10001",
    "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110",
    "D": "11100 10010 10001 10001 10001 10010 11100",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110",
    "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001",
    "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001",
    "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110",
    "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101",
    "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110",
    "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 10001 01010 00100 00100 00100",
    "Z": "11111 00001 00010 00100 01000 10000 11111",
    " ": "00000 00000 00000 00000 00000 00000 00000",
    ".": "00000 00000 00000 00000 00000 01100 01100",
    ",": "00000 00000 00000 00000 01100 00100 01000",
    ":": "00000 01100 01100 00000 01100 01100 00000",
    ";": "00000 01100 01100 00000 01100 00100 01000",
    "-": "00000 00000 00000 11111 00000 00000 00000",
    "+": "00000 00100 00100 11111 00100 00100 00000",
    "%": "11000 11001 00010 00100 01000 10011 00011",
    "/": "00000 00001 00010 00100 01000 10000 00000",
    "=": "00000 00000 11111 00000 11111 00000 00000",
    "(": "00010 00100 01000 01000 01000 00100 00010",
    ")": "01000 00100 00010 00010 00010 00100 01000",
    "_": "00000 00000 00000 00000 00000 00000 11111",
    "?": "01110 10001 00001 00010 00100 00000 00100",
}
GLYPH_WIDTH, GLYPH_HEIGHT = 5, 7


def encode_png(width: int, height: int, rgb: bytes | bytearray) -> bytes:
    """An 8-bit RGB PNG of ``rgb`` (``height`` rows of ``width * 3`` bytes, top row first).

    Every scanline uses filter type 0 (none).

    Example:
        >>> encode_png(1, 1, bytes([255, 0, 0]))[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'
    """
    if len(rgb) != width * height * 3:
        raise ValueError(f"expected {width * height * 3} bytes of RGB, got {len(rgb)}")
    row = width * 3
    raw = b"".join(b"\x00" + bytes(rgb[y * row : (y + 1) * row]) for y in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


class Canvas:
    """An RGB image in memory; coordinates are pixels, ``(0, 0)`` top left.

    Drawing outside the image is clipped silently.

    Example:
        >>> c = Canvas(4, 3)
        >>> c.point(1, 1, (255, 0, 0))
        >>> c.pixel(1, 1)
        (255, 0, 0)
    """

    def __init__(self, width: int, height: int, background: Color = (255, 255, 255)) -> None:
        self.width = width
        self.height = height
        self.data = bytearray(bytes(background) * (width * height))

    def pixel(self, x: int, y: int) -> Color:
        i = (y * self.width + x) * 3
        return (self.data[i], self.data[i + 1], self.data[i + 2])

    def point(self, x: int, y: int, color: Color) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            i = (y * self.width + x) * 3
            self.data[i : i + 3] = bytes(color)

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color, *, fill: bool = True) -> None:
        """The rectangle with corners ``(x0, y0)`` and ``(x1, y1)``, both included."""
        x0, x1 = sorted((x0, x1))
        y0, y1 = sorted((y0, y1))
        if not fill:
            for x0_, y0_, x1_, y1_ in ((x0, y0, x1, y0), (x0, y1, x1, y1)):
                self.rect(x0_, y0_, x1_, y1_, color)
            self.rect(x0, y0, x0, y1, color)
            self.rect(x1, y0, x1, y1, color)
            return
        xa, xb = max(x0, 0), min(x1, self.width - 1)
        if xa > xb:
            return
        span = bytes(color) * (xb - xa + 1)
        for y in range(max(y0, 0), min(y1, self.height - 1) + 1):
            i = (y * self.width + xa) * 3
            self.data[i : i + len(span)] = span

    def dot(self, x: float, y: float, color: Color, size: int = 2) -> None:
        """A ``size`` x ``size`` square centred near ``(x, y)``."""
        x0, y0 = round(x) - size // 2, round(y) - size // 2
        self.rect(x0, y0, x0 + size - 1, y0 + size - 1, color)

    def line(self, x0: float, y0: float, x1: float, y1: float, color: Color) -> None:
        """A one-pixel line (Bresenham); keep the ends near the image, it is not clipped."""
        xa, ya, xb, yb = (round(v) for v in (x0, y0, x1, y1))
        dx, dy = abs(xb - xa), -abs(yb - ya)
        sx, sy = (1 if xa < xb else -1), (1 if ya < yb else -1)
        err = dx + dy
        for _ in range(max(dx, -dy) + 1):
            self.point(xa, ya, color)
            if xa == xb and ya == yb:
                break
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                xa += sx
            if e2 <= dx:
                err += dx
                ya += sy

    def polyline(self, points: list[tuple[float, float]], color: Color, width: int = 1) -> None:
        """Lines through ``points``; ``width`` 2 draws each twice, one pixel apart vertically."""
        for offset in range(width):
            for (x0, y0), (x1, y1) in itertools.pairwise(points):
                self.line(x0, y0 + offset, x1, y1 + offset, color)

    def circle(self, cx: float, cy: float, radius: float, color: Color) -> None:
        """The outline of a circle, drawn through enough points to look closed."""
        steps = max(16, int(2 * math.pi * radius))
        angles = [2 * math.pi * i / steps for i in range(steps + 1)]
        pts = [(cx + radius * math.cos(a), cy + radius * math.sin(a)) for a in angles]
        self.polyline(pts, color)

    def text(self, x: int, y: int, text: str, color: Color, scale: int = 1) -> int:
        """Write ``text`` with its top-left corner at ``(x, y)``; return the x after it.

        Characters the font lacks are drawn as ``?``.
        """
        for char in text:
            glyph = _GLYPHS.get(char.upper(), _GLYPHS["?"])
            for row, bits in enumerate(glyph.split()):
                for col, bit in enumerate(bits):
                    if bit == "1":
                        self.rect(
                            x + col * scale,
                            y + row * scale,
                            x + (col + 1) * scale - 1,
                            y + (row + 1) * scale - 1,
                            color,
                        )
            x += (GLYPH_WIDTH + 1) * scale
        return x

    @staticmethod
    def text_width(text: str, scale: int = 1) -> int:
        return len(text) * (GLYPH_WIDTH + 1) * scale - scale

    def to_png(self) -> bytes:
        return encode_png(self.width, self.height, self.data)

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_png())
