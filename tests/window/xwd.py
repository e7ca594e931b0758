"""The screen as Xvfb keeps it (``Xvfb -fbdir DIR`` maps it to the XWD file ``DIR/Xvfb_screen0``), to PNG.

Why not ``bpy.ops.screen.screenshot``: in Debian's Blender 5.2 window it writes an all-black
image, while the framebuffer holds what Blender drew.  Pure Python (struct, zlib) so that it
runs inside any Blender's Python and in the tests' own, with nothing to install: the drivers
take every screenshot through :func:`save_png`, on every Blender.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import NamedTuple

#: ``XWDFileHeader``: 25 CARD32 fields, big-endian as X11's xwd writes them.
_FIELDS = (
    "header_size file_version pixmap_format pixmap_depth width height xoffset byte_order bitmap_unit"
    " bitmap_bit_order bitmap_pad bits_per_pixel bytes_per_line visual_class red_mask green_mask blue_mask"
    " bits_per_rgb colormap_entries ncolors window_width window_height window_x window_y window_bdrwidth"
).split()
_XWD_VERSION = 7
_ZPIXMAP = 2
_COLOR_SIZE = 12  # XWDColor: pixel CARD32, red/green/blue CARD16, flags and a pad byte


class Screen(NamedTuple):
    """The screen as rows of 8-bit RGB, top row first."""

    width: int
    height: int
    rgb: bytes

    def crop(self, x: int, y: int, width: int, height: int) -> Screen:
        """The box whose top-left pixel is (``x``, ``y``), clipped to the screen."""
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.width, x + width), min(self.height, y + height)
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"the box {x},{y} {width}x{height} is outside the {self.width}x{self.height} screen")
        stride = self.width * 3
        rows = [self.rgb[r * stride + x0 * 3 : r * stride + x1 * 3] for r in range(y0, y1)]
        return Screen(x1 - x0, y1 - y0, b"".join(rows))

    def trim_bottom(self, margin: int = 12, share: float = 0.85, tolerance: int = 5, edge: int = 3) -> Screen:
        """Drop the empty rows at the bottom (a sidebar's unused height): rows whose left ``share``
        matches the colour a few rows (``edge``: a border line) above the bottom at the left, up to
        ``margin`` rows below the last used one."""
        stride = self.width * 3
        bottom = max(0, self.height - 1 - edge)
        background = self.rgb[bottom * stride : bottom * stride + 3]
        span = max(1, int(self.width * share))
        empty = background * span
        last = -1
        for r in range(bottom, -1, -1):
            row = self.rgb[r * stride : r * stride + span * 3]
            if row != empty and any(abs(row[i] - empty[i]) > tolerance for i in range(len(row))):
                last = r
                break
        keep = min(self.height, last + 1 + margin) if last >= 0 else self.height
        return Screen(self.width, keep, self.rgb[: keep * stride])

    def png(self) -> bytes:
        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        stride = self.width * 3
        raw = b"".join(b"\x00" + self.rgb[r * stride : (r + 1) * stride] for r in range(self.height))
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6))
                + chunk(b"IEND", b""))


def read(path: Path) -> Screen:
    """The 24-bit TrueColor screen of an XWD file (what ``Xvfb -screen 0 WxHx24`` writes)."""
    data = Path(path).read_bytes()
    head = dict(zip(_FIELDS, struct.unpack(">25I", data[:100]), strict=True))
    if head["file_version"] != _XWD_VERSION:  # a header written in the other byte order
        head = dict(zip(_FIELDS, struct.unpack("<25I", data[:100]), strict=True))
    if head["file_version"] != _XWD_VERSION or head["pixmap_format"] != _ZPIXMAP:
        raise ValueError(f"{path}: not a ZPixmap XWD file (version {head['file_version']})")
    if head["bits_per_pixel"] != 32 or head["pixmap_depth"] != 24:
        raise ValueError(f"{path}: {head['pixmap_depth']}-bit depth, {head['bits_per_pixel']} bits a pixel; "
                         "start Xvfb with '-screen 0 WxHx24'")
    width, height, stride = head["width"], head["height"], head["bytes_per_line"]
    start = head["header_size"] + head["ncolors"] * _COLOR_SIZE
    pixels = data[start : start + height * stride]
    if len(pixels) < height * stride:
        raise ValueError(f"{path}: {len(pixels)} bytes of pixels, {height * stride} expected")
    if stride != width * 4:
        pixels = b"".join(pixels[r * stride : r * stride + width * 4] for r in range(height))

    def offset(mask: int) -> int:
        """Where in a pixel's 4 bytes the channel of ``mask`` sits."""
        shift = (mask & -mask).bit_length() - 1
        if mask >> shift != 0xFF or shift % 8:
            raise ValueError(f"{path}: channel mask {mask:#x} is not one whole byte")
        return shift // 8 if head["byte_order"] == 0 else 3 - shift // 8  # 0: LSBFirst

    rgb = bytearray(width * height * 3)
    for channel, mask in enumerate((head["red_mask"], head["green_mask"], head["blue_mask"])):
        rgb[channel::3] = pixels[offset(mask) :: 4]
    return Screen(width, height, bytes(rgb))


def save_png(fb_file: Path, dest: Path, box: tuple[int, int, int, int] | None = None, *, trim: bool = False) -> Screen:
    """The screen (or its ``box``: x, y from the top left, width, height) as a PNG at ``dest``."""
    screen = read(fb_file)
    if box is not None:
        screen = screen.crop(*box)
    if trim:
        screen = screen.trim_bottom()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_bytes(screen.png())
    tmp.replace(dest)
    return screen
