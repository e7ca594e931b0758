"""The input image of a create call: checked against Ark's documented limits before sending.

Ark takes exactly one image: jpg/jpeg/png/webp/bmp, at most 10 MB, at most 4096 pixels a
side, aspect ratio (width / height) within (0.4, 2.5).  A refused image costs a round trip
and, worse, a confusing server message; so the header is read here (no imaging library is
needed: the formats' headers are simple) and every limit is explained before any request.
The image is sent as a base64 data URL with the lower-case format, as the API documents.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, ErrorCode
from .messages import msg

__all__ = ["ImageInfo", "MAX_BYTES", "MAX_SIDE", "probe_image", "check_image", "image_data_url", "create_body"]

MAX_BYTES = 10 * 1024 * 1024
MAX_SIDE = 4096
ASPECT_MIN, ASPECT_MAX = 0.4, 2.5
MODELS = ("doubao-seed3d-1-0-250928", "doubao-seed3d-2-0-260328")
SUBDIVISION_LEVELS = ("low", "medium", "high")
FILE_FORMATS = ("glb", "obj", "usd", "usdz")

_HINT = msg("Use a jpg, png, webp or bmp image of at most 10 MB and 4096 x 4096 pixels, between 2:5 and 5:2")


@dataclass(frozen=True)
class ImageInfo:
    format: str  # jpeg, png, webp, bmp
    width: int
    height: int
    size: int


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the JPEG markers to the first start-of-frame, which holds the size."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def probe_image(data: bytes) -> ImageInfo:
    """Format and size from the file's header; :class:`ConfigError` if it is none we may send."""
    size: tuple[int, int] | None = None
    fmt = ""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        fmt, size = "png", struct.unpack(">II", data[16:24])
    elif data.startswith(b"\xff\xd8"):
        fmt, size = "jpeg", _jpeg_size(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        fmt, size = "webp", _webp_size(data)
    elif data.startswith(b"BM") and len(data) >= 26:
        fmt = "bmp"
        width, height = struct.unpack("<ii", data[18:26])
        size = (abs(width), abs(height))
    if not fmt:
        raise ConfigError(msg("The image is not a jpg, png, webp or bmp file"), code=ErrorCode.UNSUPPORTED_IMAGE,
                          hint=_HINT)
    if size is None or size[0] <= 0 or size[1] <= 0:
        raise ConfigError(msg("The {fmt} image is damaged: its size cannot be read", fmt=fmt),
                          code=ErrorCode.UNSUPPORTED_IMAGE, hint=_HINT)
    return ImageInfo(fmt, int(size[0]), int(size[1]), len(data))


def check_image(info: ImageInfo) -> None:
    """Refuse, with the numbers, an image Ark would refuse."""
    if info.size > MAX_BYTES:
        raise ConfigError(msg("The image is {size} MB; Ark accepts at most 10 MB", size=f"{info.size / 1048576:.1f}"),
                          code=ErrorCode.IMAGE_TOO_LARGE, hint=msg("Save it smaller (e.g. as jpg) or scale it down"))
    if info.width > MAX_SIDE or info.height > MAX_SIDE:
        raise ConfigError(msg("The image is {width} x {height} pixels; Ark accepts at most 4096 a side",
                              width=str(info.width), height=str(info.height)),
                          code=ErrorCode.IMAGE_TOO_LARGE, hint=msg("Scale it down to 4096 pixels or less on each side"))
    ratio = info.width / info.height
    if not ASPECT_MIN < ratio < ASPECT_MAX:
        raise ConfigError(msg("The image's aspect ratio is {ratio}; Ark accepts between 0.4 and 2.5",
                              ratio=f"{ratio:.2f}"),
                          code=ErrorCode.IMAGE_ASPECT_RATIO, hint=msg("Crop it closer to square around the object"))


def image_data_url(path: Path) -> tuple[str, ImageInfo]:
    """Read, check and encode an image file as ``data:image/<format>;base64,...``."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            check_image(ImageInfo("", 1, 1, size))
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(msg("Cannot read the image {path}: {reason}", path=str(path),
                              reason=exc.strerror or str(exc)),
                          code=ErrorCode.IMAGE_UNREADABLE, hint=msg("Pick an existing image file")) from None
    info = probe_image(data)
    check_image(info)
    return f"data:image/{info.format};base64,{base64.b64encode(data).decode('ascii')}", info


def create_body(image_url: str, *, model: str = MODELS[0], subdivisionlevel: str = "medium",
                fileformat: str = "glb") -> dict[str, object]:
    """The create call's JSON: one image and a text holding only the parameters."""
    if subdivisionlevel not in SUBDIVISION_LEVELS:
        raise ConfigError(msg("Unknown subdivision level '{level}'", level=subdivisionlevel),
                          code=ErrorCode.INVALID_PARAMETER, hint=msg("Use low, medium or high"))
    if fileformat not in FILE_FORMATS:
        raise ConfigError(msg("Unknown file format '{fmt}'", fmt=fileformat),
                          code=ErrorCode.INVALID_PARAMETER, hint=msg("Use glb, obj, usd or usdz"))
    if not model.startswith("doubao-seed3d-"):
        raise ConfigError(msg("'{model}' is not a Seed3D model", model=model),
                          code=ErrorCode.INVALID_PARAMETER,
                          hint=msg("Use {first} or {second}", first=MODELS[0], second=MODELS[1]))
    return {
        "model": model,
        "content": [
            {"type": "image_url", "image_url": {"url": image_url}},
            {"type": "text", "text": f"--subdivisionlevel {subdivisionlevel} --fileformat {fileformat}"},
        ],
    }
