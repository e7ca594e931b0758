"""The input images of a create call: checked against the model's documented limits before sending.

Each model has its rules (:class:`~.catalog.ImageRules`): formats (Seed3D: jpg/jpeg/png/webp/bmp;
Hyper3D: jpg/png; Hitem3D: jpg/png/webp), a size cap (10 MB; Hyper3D 30 MB), fewer than
4096 x 4096 pixels in all, and for Seed3D an aspect ratio (width / height) within (0.4, 2.5).
A refused image costs a round trip and, worse, a confusing server message; so the header is
read here (no imaging library is needed: the formats' headers are simple) and every limit is
explained before any request.  A file is sent as a base64 data URL with the lower-case format,
as the API documents; a model that takes links only (Hitem3D) gets an ``http(s)`` link.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from pathlib import Path

from .catalog import ImageRules, ModelSpec
from .errors import ConfigError, ErrorCode
from .messages import Message, msg

__all__ = ["ImageInfo", "probe_image", "check_image", "image_data_url", "image_input"]

_NAMES = {"jpeg": "jpg", "png": "png", "webp": "webp", "bmp": "bmp"}


#: Said when the file is no image Ark takes at all (before the model's own rules apply).
_HINT = msg("Use a jpg, png, webp or bmp image")


def _hint(rules: ImageRules) -> Message:
    return msg("Use a {formats} image of at most {mb} MB and fewer than 4096 x 4096 pixels",
               formats=", ".join(_NAMES[f] for f in rules.formats), mb=str(rules.max_bytes // (1024 * 1024)))


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


def check_image(info: ImageInfo, rules: ImageRules, model: str) -> None:
    """Refuse, with the numbers, an image ``model`` would refuse."""
    if info.format and info.format not in rules.formats:
        raise ConfigError(msg("{model} does not take {fmt} images", model=model, fmt=_NAMES[info.format]),
                          code=ErrorCode.UNSUPPORTED_IMAGE, hint=_hint(rules))
    mb = rules.max_bytes // (1024 * 1024)
    if info.size > rules.max_bytes:
        raise ConfigError(msg("The image is {size} MB; {model} accepts at most {mb} MB",
                              size=f"{info.size / 1048576:.1f}", model=model, mb=str(mb)),
                          code=ErrorCode.IMAGE_TOO_LARGE, hint=msg("Save it smaller (e.g. as jpg) or scale it down"))
    if info.width * info.height >= rules.max_pixels:
        raise ConfigError(msg("The image is {width} x {height} pixels; {model} takes fewer than 4096 x 4096 in all",
                              width=str(info.width), height=str(info.height), model=model),
                          code=ErrorCode.IMAGE_TOO_LARGE, hint=msg("Scale it down"))
    ratio = info.width / info.height if info.height else 0.0
    if rules.aspect is not None and not rules.aspect[0] < ratio < rules.aspect[1]:
        raise ConfigError(msg("The image's aspect ratio is {ratio}; {model} accepts between {low} and {high}",
                              ratio=f"{ratio:.2f}", model=model, low=f"{rules.aspect[0]:g}",
                              high=f"{rules.aspect[1]:g}"),
                          code=ErrorCode.IMAGE_ASPECT_RATIO, hint=msg("Crop it closer to square around the object"))


def image_data_url(path: Path, spec: ModelSpec) -> tuple[str, ImageInfo]:
    """Read, check and encode an image file as ``data:image/<format>;base64,...``."""
    try:
        size = path.stat().st_size
        if size > spec.images.max_bytes:
            check_image(ImageInfo("", 1, 1, size), spec.images, spec.name)
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(msg("Cannot read the image {path}: {reason}", path=str(path),
                              reason=exc.strerror or str(exc)),
                          code=ErrorCode.IMAGE_UNREADABLE, hint=msg("Pick an existing image file")) from None
    info = probe_image(data)
    check_image(info, spec.images, spec.name)
    return f"data:image/{info.format};base64,{base64.b64encode(data).decode('ascii')}", info


def image_input(source: str | Path, spec: ModelSpec) -> str:
    """What the body's ``image_url.url`` says for one input: a link as given, a file as a data URL.

    A model that takes links only (Hitem3D) refuses a file here, before anything is sent.
    """
    text = str(source).strip()
    if text.lower().startswith(("https://", "http://")):
        return text
    if not spec.images.data_url:
        raise ConfigError(msg("{model} takes image links only (https://...), not image files", model=spec.name),
                          code=ErrorCode.INVALID_PARAMETER,
                          hint=msg("Put the image where Ark can fetch it and give its https link"))
    return image_data_url(Path(text), spec)[0]
