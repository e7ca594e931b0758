"""The create call's images: sizes read from headers, and what each model would refuse refused first."""

from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path

import pytest

from ark3d_addon.core.catalog import HITEM3D, HYPER3D, SEED3D_1, SEED3D_2, find_model
from ark3d_addon.core.create import create_body
from ark3d_addon.core.errors import ConfigError
from ark3d_addon.core.image_input import check_image, image_data_url, image_input, probe_image

SEED3D = find_model(SEED3D_1)


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
    check_image(info, SEED3D.images, SEED3D.name)


@pytest.mark.parametrize(("data", "code"), [
    (b"GIF89a" + b"\0" * 20, "UnsupportedImage"),
    (b"\xff\xd8\xff\xe0", "UnsupportedImage"),       # a JPEG cut before its size
    (png(4096, 4096), "ImageTooLarge"),                # fewer than 4096 x 4096 pixels in all
    (png(1000, 2501), "ImageAspectRatio"),            # 0.3998 < 0.4
    (png(2500, 1000), "ImageAspectRatio"),            # 2.5 is outside the open interval
])
def test_refusals_name_the_limit(data: bytes, code: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_image(probe_image(data), SEED3D.images, SEED3D.name)
    assert info.value.code == code and info.value.hint


def test_data_url_and_size_cap(tmp_path: Path) -> None:
    path = tmp_path / "in.png"
    path.write_bytes(png(800, 600))
    url, info = image_data_url(path, SEED3D)
    assert url.startswith("data:image/png;base64,") and info.width == 800
    assert base64.b64decode(url.split(",", 1)[1]) == path.read_bytes()
    big = tmp_path / "big.png"
    big.write_bytes(png(800, 600) + b"\0" * (10 * 1024 * 1024))
    with pytest.raises(ConfigError) as err:
        image_data_url(big, SEED3D)
    assert "10 MB" in err.value.user_message()


def test_each_models_own_image_rules() -> None:
    hyper, hitem = find_model(HYPER3D), find_model(HITEM3D)
    wide = probe_image(png(3000, 1000))  # 3:1, Seed3D's aspect rule only
    check_image(wide, hyper.images, hyper.name)
    with pytest.raises(ConfigError, match="aspect ratio is 3.00; Seed3D 1.0 accepts between 0.4 and 2.5"):
        check_image(wide, SEED3D.images, SEED3D.name)
    with pytest.raises(ConfigError, match="Hyper3D Gen2 does not take bmp images"):
        check_image(probe_image(bmp(100, 100)), hyper.images, hyper.name)
    with pytest.raises(ConfigError, match="Hitem3D 2.0 does not take bmp images"):
        check_image(probe_image(bmp(100, 100)), hitem.images, hitem.name)
    big = probe_image(png(100, 100))
    big = type(big)(big.format, 100, 100, 20 * 1024 * 1024)  # 20 MB: over Seed3D's 10, under Hyper3D's 30
    check_image(big, hyper.images, hyper.name)
    with pytest.raises(ConfigError, match="Seed3D 1.0 accepts at most 10 MB"):
        check_image(big, SEED3D.images, SEED3D.name)


def test_links_go_as_given_and_files_as_data_urls_where_the_model_takes_them(tmp_path: Path) -> None:
    path = tmp_path / "in.png"
    path.write_bytes(png(800, 600))
    assert image_input("https://example.com/a.png", find_model(HITEM3D)) == "https://example.com/a.png"
    assert image_input(path, find_model(HYPER3D)).startswith("data:image/png;base64,")
    with pytest.raises(ConfigError, match="Hitem3D 2.0 takes image links only"):
        image_input(path, find_model(HITEM3D))


def test_create_body_has_the_images_then_one_text_of_parameters() -> None:
    body = create_body(SEED3D_1, ["data:image/png;base64,AAAA"],
                       params={"--subdivisionlevel": "high", "--fileformat": "obj"})
    assert body == {"model": SEED3D_1, "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "text", "text": "--subdivisionlevel high --fileformat obj"}]}
    with pytest.raises(ConfigError):
        create_body(SEED3D_1, ["x"], params={"--fileformat": "fbx"})
    with pytest.raises(ConfigError, match="takes exactly one image, not 2"):
        create_body(SEED3D_2, ["a", "b"])


def test_create_body_for_several_images_a_prompt_a_seed_and_an_endpoint() -> None:
    body = create_body(HYPER3D, ["data:image/png;base64,AA", "data:image/png;base64,BB"], prompt="a red chair",
                       params={"--mesh_mode": "Raw", "--fileformat": "fbx"}, seed=42, endpoint="ep-20260101-abc")
    assert body["model"] == "ep-20260101-abc" and body["seed"] == 42
    content = body["content"]
    assert isinstance(content, list) and [c["type"] for c in content] == ["image_url", "image_url", "text"]
    assert content[2]["text"] == "a red chair --mesh_mode Raw --fileformat fbx"
    text_only = create_body(HYPER3D, [], prompt="a red chair")
    assert text_only["content"] == [{"type": "text", "text": "a red chair --fileformat glb"}]
    hitem = create_body(HITEM3D, ["https://x/1.png", "https://x/2.png"], params={"--multi_images_bit": "1100"})
    assert hitem["content"][-1] == {"type": "text",  # type: ignore[index]
                                    "text": "--fileformat 1 --resolution 1536 --request_type 3 --multi_images_bit 1100"}
    for bad in (dict(seed=70000), dict(endpoint="cgt-123")):
        with pytest.raises(ConfigError):
            create_body(HYPER3D, [], prompt="x", **bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="takes no seed"):
        create_body(SEED3D_1, ["data:image/png;base64,AA"], seed=1)
    with pytest.raises(ConfigError, match="takes image links only"):
        create_body(HITEM3D, ["data:image/png;base64,AA"])
