"""The create call's image: read sizes from headers and refuse what Ark would refuse."""

from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path

import pytest

from ark3d_addon.core.errors import ConfigError
from ark3d_addon.core.image_input import check_image, create_body, image_data_url, probe_image


def png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)) + b"\0" * 16)


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def webp_vp8x(width: int, height: int) -> bytes:
    body = b"WEBPVP8X" + struct.pack("<I", 10) + b"\0\0\0\0" + (width - 1).to_bytes(3, "little") \
        + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def bmp(width: int, height: int) -> bytes:
    return b"BM" + b"\0" * 16 + struct.pack("<ii", width, -height) + b"\0" * 28


@pytest.mark.parametrize(("data", "fmt"), [(png(1024, 768), "png"), (jpeg(1024, 768), "jpeg"),
                                           (webp_vp8x(1024, 768), "webp"), (bmp(1024, 768), "bmp")])
def test_formats_and_sizes_from_headers(data: bytes, fmt: str) -> None:
    info = probe_image(data)
    assert (info.format, info.width, info.height) == (fmt, 1024, 768)
    check_image(info)


@pytest.mark.parametrize(("data", "code"), [
    (b"GIF89a" + b"\0" * 20, "UnsupportedImage"),
    (b"\xff\xd8\xff\xe0", "UnsupportedImage"),       # a JPEG cut before its size
    (png(4097, 1000), "ImageTooLarge"),
    (png(1000, 2501), "ImageAspectRatio"),            # 0.3998 < 0.4
    (png(2500, 1000), "ImageAspectRatio"),            # 2.5 is outside the open interval
])
def test_refusals_name_the_limit(data: bytes, code: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_image(probe_image(data))
    assert info.value.code == code and info.value.hint


def test_data_url_and_size_cap(tmp_path: Path) -> None:
    path = tmp_path / "in.png"
    path.write_bytes(png(800, 600))
    url, info = image_data_url(path)
    assert url.startswith("data:image/png;base64,") and info.width == 800
    assert base64.b64decode(url.split(",", 1)[1]) == path.read_bytes()
    big = tmp_path / "big.png"
    big.write_bytes(png(800, 600) + b"\0" * (10 * 1024 * 1024))
    with pytest.raises(ConfigError) as err:
        image_data_url(big)
    assert "10 MB" in err.value.user_message()


def test_create_body_has_one_image_and_only_parameters() -> None:
    body = create_body("data:image/png;base64,AAAA", subdivisionlevel="high", fileformat="obj")
    assert body["model"] == "doubao-seed3d-1-0-250928"
    content = body["content"]
    assert isinstance(content, list) and [c["type"] for c in content] == ["image_url", "text"]
    assert content[1]["text"] == "--subdivisionlevel high --fileformat obj"
    with pytest.raises(ConfigError):
        create_body("x", fileformat="fbx")
