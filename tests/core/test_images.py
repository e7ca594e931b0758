"""Seedream pictures (core/images.py) and the prompt helper (core/prompting.py), against the local Ark.

What matters: the picture meant for 3D is asked without a watermark, the prompt helper's text
is sent and shown, a set asks for its views, every documented limit is refused before the
paid call, and Ark's refusals come back with their code, request id and what to do.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from ark3d_addon.core.client import ArkClient
from ark3d_addon.core.errors import ApiError, ConfigError
from ark3d_addon.core.images import (
    SEEDREAM_4_0,
    SEEDREAM_4_5,
    ImageRequest,
    find_image_model,
    generate_images,
    pick_image_model,
)
from ark3d_addon.core.prompting import HELPER_TEXT, HELPER_TEXT_ZH, bits_from_views, prompt_for_3d, views_from_bits
from ark3d_addon.core.settings import Settings
from ark_server import BACKGROUND_RGB, WATERMARK_RGB


def client_for(server) -> ArkClient:  # type: ignore[no-untyped-def]
    return ArkClient(Settings(api_key="test-key", base_url=server.api_base))


def pixel(png: bytes, x: int, y: int) -> tuple[int, int, int]:
    """One RGB pixel of an 8-bit RGB PNG whose rows are all unfiltered (what the local Ark writes)."""
    width = struct.unpack(">I", png[16:20])[0]
    data, pos = b"", 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        if png[pos + 4 : pos + 8] == b"IDAT":
            data += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(data)
    start = y * (1 + width * 3) + 1 + x * 3
    return raw[start], raw[start + 1], raw[start + 2]


def test_a_picture_for_3d_is_asked_without_a_watermark_and_saved(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = generate_images(client_for(ark_server), ImageRequest(SEEDREAM_4_5, "a red teapot"), tmp_path)
    [body] = ark_server.image_requests
    assert body["watermark"] is False and body["sequential_image_generation"] == "disabled"
    assert body["response_format"] == "url" and body["size"] == "2K" and "image" not in body
    [picture] = result.images
    png = picture.path.read_bytes()
    assert picture.path == tmp_path / "image-1.png" and picture.size == "2048x2048"
    assert picture.url.startswith(ark_server.file_base) and result.usage["generated_images"] == 1
    assert pixel(png, 2047, 2047) == BACKGROUND_RGB and pixel(png, 1024, 1024) != BACKGROUND_RGB


def test_the_local_ark_marks_a_watermarked_picture_in_its_corner(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    request = ImageRequest(SEEDREAM_4_0, "a red teapot", size="1K", watermark=True, response_format="b64_json")
    [picture] = generate_images(client_for(ark_server), request, tmp_path).images
    assert picture.url == "" and pixel(picture.path.read_bytes(), 1020, 1020) == WATERMARK_RGB


def test_a_set_is_asked_with_max_images_and_each_picture_is_kept(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    full, added = prompt_for_3d("a robot toy", views=("front", "back", "left", "right"))
    request = ImageRequest(SEEDREAM_4_5, full, references=("https://example.com/ref.png",), count=4, seed=7)
    result = generate_images(client_for(ark_server), request, tmp_path)
    [body] = ark_server.image_requests
    assert body["sequential_image_generation"] == "auto"
    assert body["sequential_image_generation_options"] == {"max_images": 4}
    assert body["image"] == "https://example.com/ref.png" and body["seed"] == 7
    assert "front view, back view, left view, right view" in body["prompt"] and added in body["prompt"]
    assert [p.path.name for p in result.images] == [f"image-{n}.png" for n in range(1, 5)]
    assert len({p.path.read_bytes() for p in result.images}) == 4


@pytest.mark.parametrize(("request_", "says"), [
    (ImageRequest(SEEDREAM_4_5, "x", size="1K"), "does not take size 1K"),
    (ImageRequest(SEEDREAM_4_5, "x", size="1024x1024"), "3,686,400 to 16,777,216 pixels"),
    (ImageRequest(SEEDREAM_4_0, "x", size="5000x5000"), "921,600 to 16,777,216 pixels"),
    (ImageRequest(SEEDREAM_4_0, "x", size="8000x400"), "aspect ratios from 1:16 to 16:1"),
    (ImageRequest(SEEDREAM_4_0, "x", size="big"), "not 'big'"),
    (ImageRequest(SEEDREAM_4_5, "  "), "needs a prompt"),
    (ImageRequest(SEEDREAM_4_5, "x", references=("https://e.com/a.png",) * 15), "at most 14 reference"),
    (ImageRequest(SEEDREAM_4_5, "x", references=("https://e.com/a.png",) * 10, count=6), "1 to 5 pictures"),
    (ImageRequest(SEEDREAM_4_5, "x", references=("/home/me/a.png",)), "http(s) link or a data URL"),
    (ImageRequest(SEEDREAM_4_5, "x", seed=-2), "from -1 to 2147483647"),
    (ImageRequest("doubao-seed3d-1-0-250928", "x"), "not a Seedream image model"),
])
def test_what_seedream_would_refuse_is_refused_before_the_call(ark_server, tmp_path: Path, request_: ImageRequest,  # type: ignore[no-untyped-def]
                                                                says: str) -> None:
    with pytest.raises(ConfigError) as info:
        generate_images(client_for(ark_server), request_, tmp_path)
    assert says in info.value.user_message()
    assert not ark_server.requests_log


def test_a_content_check_refusal_says_to_change_the_prompt(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for prompt, code in [("a contraband thing", "InputTextSensitiveContentDetected"),
                         ("an unshowable thing", "OutputImageSensitiveContentDetected")]:
        with pytest.raises(ApiError) as info:
            generate_images(client_for(ark_server), ImageRequest(SEEDREAM_4_5, prompt), tmp_path)
        assert info.value.code == code and info.value.request_id and info.value.http_status == 400
        assert "change the prompt" in info.value.user_message()


def test_a_429_waits_as_ark_says_and_a_5xx_is_never_repeated(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ark_server.fail_next(1, status=429, code="ModelAccountRpmRateLimitExceeded", retry_after=0.2,
                         path_prefix="/api/v3/images")
    assert generate_images(client_for(ark_server), ImageRequest(SEEDREAM_4_5, "a cup"), tmp_path).images
    assert ark_server.count("api", "POST", "/images") == 2
    ark_server.fail_next(1, status=500, path_prefix="/api/v3/images")
    with pytest.raises(ApiError) as info:
        generate_images(client_for(ark_server), ImageRequest(SEEDREAM_4_5, "a cup"), tmp_path)
    assert info.value.http_status == 500 and ark_server.count("api", "POST", "/images") == 3


def test_a_picture_link_dies_after_24_hours(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import requests

    [picture] = generate_images(client_for(ark_server), ImageRequest(SEEDREAM_4_5, "a cup"), tmp_path).images
    assert requests.get(picture.url, timeout=5).status_code == 200
    ark_server.advance(86_401)
    assert requests.get(picture.url, timeout=5).status_code == 403


def test_the_newest_seedream_ark_lists_is_taken() -> None:
    rows = [{"id": SEEDREAM_4_0, "domain": "ImageGeneration", "created": 1756339200},
            {"id": SEEDREAM_4_5, "domain": "ImageGeneration", "created": 1764288000},
            {"id": "doubao-seedream-9-0-991231", "domain": "ImageGeneration", "created": 1999999999,
             "status": "Shutdown"},
            {"id": "doubao-seed3d-2-0-260328", "domain": "3DGeneration", "created": 2000000000}]
    assert pick_image_model(rows) == SEEDREAM_4_5
    assert pick_image_model(rows[:1]) == SEEDREAM_4_0
    later = {"id": "doubao-seedream-5-0-260128", "domain": "ImageGeneration", "created": 1769558400}
    assert pick_image_model([*rows, later]) == later["id"]
    assert find_image_model(later["id"]).min_pixels == find_image_model(SEEDREAM_4_5).min_pixels
    assert pick_image_model(None) == SEEDREAM_4_5


def test_the_prompt_helper_is_visible_removable_and_speaks_the_prompts_language() -> None:
    assert prompt_for_3d("a red teapot") == (f"a red teapot {HELPER_TEXT}", HELPER_TEXT)
    assert prompt_for_3d("a red teapot", enabled=False) == ("a red teapot", "")
    full, added = prompt_for_3d("一个红色茶壶", views=("front", "back"))
    assert full.startswith("一个红色茶壶") and HELPER_TEXT_ZH in added and "正面、背面" in added
    assert views_from_bits("1010") == ("front", "left") and bits_from_views(("left", "front")) == "1010"
    for bad in [lambda: views_from_bits("12"), lambda: bits_from_views(("top",)),
                lambda: bits_from_views(("front", "front"))]:
        with pytest.raises(ConfigError):
            bad()
