"""Smoke tests of the local Ark server itself, with raw ``requests``.

Every other network test trusts this server to behave like Ark and TOS; these pin down the
behaviour they rely on, so a broken fake shows up here and not as a puzzling client failure.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import threading
import time
import zlib

import pytest
import requests

from ark_server import ArkServer

AUTH = {"Authorization": "Bearer test-key"}
PAYLOAD = bytes(range(256)) * 40  # 10240 bytes, every offset distinguishable


def task_url(server: ArkServer, task_id: str) -> str:
    return f"{server.api_base}/contents/generations/tasks/{task_id}"


def test_status_progresses_and_answers_like_the_seed(ark_server: ArkServer) -> None:
    task_id = ark_server.add_task(file=ark_server.add_file("result.zip", PAYLOAD), queued_s=0.3, running_s=0.3)
    assert re.fullmatch(r"cgt-\d{14}-[a-z0-9]{5}", task_id)
    seen: list[str] = []
    request_ids: set[str] = set()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        response = requests.get(task_url(ark_server, task_id), headers=AUTH, timeout=5)
        request_ids.add(response.headers["X-Request-Id"])
        doc = response.json()
        if not seen or seen[-1] != doc["status"]:
            seen.append(doc["status"])
        if doc["status"] == "succeeded":
            break
        time.sleep(0.05)
    assert seen == ["queued", "running", "succeeded"]
    assert len(request_ids) == ark_server.count(path_contains=task_id)
    assert list(doc) == ["id", "model", "status", "created_at", "updated_at", "content",
                         "subdivisionlevel", "fileformat", "usage"]
    assert isinstance(doc["created_at"], int) and doc["updated_at"] >= doc["created_at"]
    assert "X-Tos-Signature=" in doc["content"]["file_url"]
    assert doc["usage"] == {"completion_tokens": 30000, "total_tokens": 30000}
    assert requests.get(doc["content"]["file_url"], timeout=5).content == PAYLOAD
    assert ark_server.requests_log[-1].header("authorization") is None


def test_failed_task_and_string_times(ark_server: ArkServer) -> None:
    task_id = ark_server.add_task(outcome="failed", error_code="InputImageSensitiveContentDetected",
                                  error_message="sensitive", times_as_strings=True)
    doc = requests.get(task_url(ark_server, task_id), headers=AUTH, timeout=5).json()
    assert doc["status"] == "failed"
    assert doc["error"] == {"code": "InputImageSensitiveContentDetected", "message": "sensitive"}
    assert "content" not in doc and isinstance(doc["created_at"], str)


def test_auth_and_unknown_task(ark_server: ArkServer) -> None:
    task_id = ark_server.add_task()
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = requests.get(task_url(ark_server, task_id), headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "AuthenticationError"
        assert response.json()["error"]["type"] == "Unauthorized"
    response = requests.get(task_url(ark_server, "cgt-20250101000000-zzzzz"), headers=AUTH, timeout=5)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ResourceNotFound"
    assert "7 days" in response.json()["error"]["message"]
    assert response.headers["X-Request-Id"]


def test_create_list_and_delete(ark_server: ArkServer) -> None:
    ark_server.set_create_result("obj", b"PK fake zip")
    ark_server.create_schedule = (5.0, 5.0)
    body = {"model": "doubao-seed3d-1-0-250928",
            "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                        {"type": "text", "text": "--sl high --ff obj"}]}
    tasks = f"{ark_server.api_base}/contents/generations/tasks"
    created = requests.post(tasks, json=body, headers=AUTH, timeout=5)
    assert created.status_code == 200
    new_id = created.json()["id"]
    bad = requests.post(tasks, json={**body, "content": body["content"][:1] * 2}, headers=AUTH, timeout=5)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidParameter"
    bad = requests.post(tasks, json={"content": body["content"]}, headers=AUTH, timeout=5)
    assert bad.json()["error"] == {"code": "MissingParameter", "message": bad.json()["error"]["message"],
                                   "param": "model", "type": "BadRequest"}

    done_id = ark_server.add_task()
    listing = requests.get(tasks, params={"page_size": 1, "filter.status": "queued"}, headers=AUTH, timeout=5).json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == new_id
    assert listing["items"][0]["fileformat"] == "obj" and listing["items"][0]["subdivisionlevel"] == "high"
    listing = requests.get(tasks, params={"filter.task_ids": [new_id, done_id]}, headers=AUTH, timeout=5).json()
    assert [item["id"] for item in listing["items"]] == [done_id, new_id]  # newest first

    assert requests.delete(task_url(ark_server, new_id), headers=AUTH, timeout=5).status_code == 200
    assert requests.get(task_url(ark_server, new_id), headers=AUTH, timeout=5).json()["status"] == "cancelled"
    assert requests.delete(task_url(ark_server, new_id), headers=AUTH, timeout=5).status_code == 400
    assert requests.delete(task_url(ark_server, done_id), headers=AUTH, timeout=5).status_code == 200
    assert requests.get(task_url(ark_server, done_id), headers=AUTH, timeout=5).status_code == 404


def test_range_head_and_xml_errors(ark_server: ArkServer) -> None:
    url = ark_server.add_file("result.zip", PAYLOAD)
    head = requests.head(url, timeout=5)
    assert head.headers["Content-Length"] == str(len(PAYLOAD)) and head.headers["Accept-Ranges"] == "bytes"
    assert head.headers["Content-Type"] == "application/zip" and head.headers["ETag"]
    part = requests.get(url + "?X-Tos-Expires=86400", headers={"Range": "bytes=1000-"}, timeout=5)
    assert part.status_code == 206 and part.content == PAYLOAD[1000:]
    assert part.headers["Content-Range"] == f"bytes 1000-{len(PAYLOAD) - 1}/{len(PAYLOAD)}"
    ignored = ark_server.add_file("plain.zip", PAYLOAD, ignore_range=True)
    whole = requests.get(ignored, headers={"Range": "bytes=1000-"}, timeout=5)
    assert whole.status_code == 200 and whole.content == PAYLOAD

    expired = requests.get(ark_server.add_file("old.zip", PAYLOAD, expired=True), timeout=5)
    assert expired.status_code == 403 and expired.headers["Content-Type"] == "application/xml"
    assert "<Code>AccessDenied</Code>" in expired.text
    missing = requests.get(f"{ark_server.file_base}/files/nope/result.zip", timeout=5)
    assert missing.status_code == 404 and "<Code>NoSuchKey</Code>" in missing.text


def test_api_faults_and_raw_answers(ark_server: ArkServer) -> None:
    task_id = ark_server.add_task()
    ark_server.fail_next(2, status=429, code="RateLimitExceeded.EndpointRPMExceeded", retry_after=0.5)
    for _ in range(2):
        response = requests.get(task_url(ark_server, task_id), headers=AUTH, timeout=5)
        assert response.status_code == 429 and response.headers["Retry-After"] == "0.5"
        assert response.json()["error"]["type"] == "TooManyRequests"
    assert requests.get(task_url(ark_server, task_id), headers=AUTH, timeout=5).status_code == 200
    ark_server.set_raw_response(task_id, 200, b"{not json", times=1)
    assert requests.get(task_url(ark_server, task_id), headers=AUTH, timeout=5).text == "{not json"
    assert requests.get(task_url(ark_server, task_id), headers=AUTH, timeout=5).json()["id"] == task_id


def test_cut_download_then_resume(ark_server: ArkServer) -> None:
    url = ark_server.add_file("result.zip", PAYLOAD, cut_after=3000)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, timeout=5)
    rest = requests.get(url, headers={"Range": "bytes=3000-"}, timeout=5)
    assert rest.status_code == 206 and rest.content == PAYLOAD[3000:]
    short = ark_server.add_file("short.zip", PAYLOAD, length_mismatch=True)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(short, timeout=5)


def test_throttle_paces_the_body(ark_server: ArkServer) -> None:
    url = ark_server.add_file("slow.zip", PAYLOAD, throttle_bps=20_000)
    started = time.monotonic()
    assert requests.get(url, timeout=5).content == PAYLOAD
    assert time.monotonic() - started >= 0.4  # 10240 bytes at 20 kB/s


def test_stop_is_prompt_with_a_stalled_download() -> None:
    server = ArkServer().start()
    url = server.add_file("stall.zip", PAYLOAD, stall_after=100)
    outcome: list[object] = []

    def download() -> None:
        try:
            outcome.append(requests.get(url, timeout=30).content)
        except requests.RequestException as exc:
            outcome.append(exc)

    client = threading.Thread(target=download)
    client.start()
    deadline = time.monotonic() + 5
    while server.count("file") == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    client.join(timeout=5)
    assert not client.is_alive() and isinstance(outcome[0], requests.RequestException)


# -- the other models, video tasks, the model list and the create rules ------------------------

TASKS_PATH = "/contents/generations/tasks"
PNG_DATA_URL = "data:image/png;base64,iVBORw0KGgo="


def image(url: str = "https://images.example.com/a.png") -> dict[str, object]:
    return {"type": "image_url", "image_url": {"url": url}}


def text(value: str) -> dict[str, object]:
    return {"type": "text", "text": value}


def create(server: ArkServer, model: str, *content: dict[str, object]) -> requests.Response:
    return requests.post(server.api_base + TASKS_PATH, json={"model": model, "content": list(content)},
                         headers=AUTH, timeout=5)


def test_models_lists_every_domain_and_status(ark_server: ArkServer) -> None:
    assert requests.get(f"{ark_server.api_base}/models", timeout=5).status_code == 401
    rows = requests.get(f"{ark_server.api_base}/models", headers=AUTH, timeout=5).json()["data"]
    by_id = {row["id"]: row for row in rows}
    three_d = {row["id"] for row in rows if row["domain"] == "3DGeneration"}
    assert three_d == {"doubao-seed3d-1-0-250928", "doubao-seed3d-2-0-260328", "hyper3d-gen2-260112",
                       "hitem3d-2-0-251223"}
    assert {row["domain"] for row in rows} > {"3DGeneration", "VideoGeneration", "LLM"}
    assert {row.get("status") for row in rows} == {None, "Retiring", "Shutdown"}  # absent: active
    assert by_id["hitem3d-2-0-251223"] == {"id": "hitem3d-2-0-251223", "name": "hitem3d-2-0",
                                           "created": by_id["hitem3d-2-0-251223"]["created"],
                                           "domain": "3DGeneration", "modalities": {}, "token_limits": {},
                                           "features": {}}
    ark_server.models = [row for row in ark_server.models if row["id"] != "hyper3d-gen2-260112"]
    rows = requests.get(f"{ark_server.api_base}/models", headers=AUTH, timeout=5).json()["data"]
    assert "hyper3d-gen2-260112" not in {row["id"] for row in rows}


@pytest.mark.parametrize(("model", "content", "status", "code", "param"), [
    # Seed3D: one image, the text holds flags only, its own formats.
    ("doubao-seed3d-2-0-260328", [image(), image()], 400, "InvalidParameter", "content"),
    ("doubao-seed3d-2-0-260328", [text("--sl high")], 400, "MissingParameter", "content"),
    ("doubao-seed3d-2-0-260328", [image(), text("a red mushroom --sl high")], 400, "InvalidParameter",
     "content[1].text"),
    ("doubao-seed3d-1-0-250928", [image(), text("--ff fbx")], 400, "InvalidParameter", "content[1].text"),
    ("doubao-seed3d-1-0-250928", [text("--mesh_mode Raw"), image()], 400, "InvalidParameter", "content[0].text"),
    ("doubao-seed3d-1-0-250928", [image("data:image/gif;base64,R0lGOD==")], 400, "InvalidParameter",
     "content[0].image_url"),
    # Hyper3D: text or 1-5 images, a prompt before its flags, documented spellings only.
    ("hyper3d-gen2-260112", [text("--mesh_mode Raw")], 400, "MissingParameter", "content"),
    ("hyper3d-gen2-260112", [image()] * 6, 400, "InvalidParameter", "content"),
    ("hyper3d-gen2-260112", [text("a chair --mesh_mode quad")], 400, "InvalidParameter", "content[0].text"),
    ("hyper3d-gen2-260112", [text("a chair --quality_override 300000")], 400, "InvalidParameter",
     "content[0].text"),  # Quad (the default) allows 1000-200000
    ("hyper3d-gen2-260112", [text("a chair --ff usd")], 400, "InvalidParameter", "content[0].text"),
    ("hyper3d-gen2-260112", [text("a chair --bbox_condition [1,2]")], 400, "InvalidParameter", "content[0].text"),
    ("hyper3d-gen2-260112", [image("data:image/webp;base64,UklGRg==")], 400, "InvalidParameter",
     "content[0].image_url"),
    # Hitem3D: 1-4 image URLs (no base64), flags only, formats as codes.
    ("hitem3d-2-0-251223", [image(PNG_DATA_URL)], 400, "InvalidParameter", "content[0].image_url"),
    ("hitem3d-2-0-251223", [image()] * 5, 400, "InvalidParameter", "content"),
    ("hitem3d-2-0-251223", [text("--ff 3")], 400, "MissingParameter", "content"),
    ("hitem3d-2-0-251223", [image(), text("--ff stl")], 400, "InvalidParameter", "content[1].text"),
    ("hitem3d-2-0-251223", [image(), text("--ff 6")], 400, "InvalidParameter", "content[1].text"),
    ("hitem3d-2-0-251223", [image(), text("--face 99999")], 400, "InvalidParameter", "content[1].text"),
    ("hitem3d-2-0-251223", [image(), text("--request_type 2")], 400, "InvalidParameter", "content[1].text"),
    ("hitem3d-2-0-251223", [image(), text("--multi_images_bit 1100")], 400, "InvalidParameter",
     "content[1].text"),  # two views marked, one image sent
    ("hitem3d-2-0-251223", [image(), text("a mushroom --ff 3")], 400, "InvalidParameter", "content[1].text"),
    # Not a 3D model on this endpoint, or shut down.
    ("doubao-pro-32k-241215", [image()], 404, "InvalidEndpointOrModel.NotFound", "model"),
])
def test_create_rules_per_model(ark_server: ArkServer, model: str, content: list[dict[str, object]], status: int,
                                code: str, param: str) -> None:
    response = create(ark_server, model, *content)
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["param"]) == (status, code, param), error["message"]
    assert requests.get(ark_server.api_base + TASKS_PATH, headers=AUTH, timeout=5).json()["total"] == 0


@pytest.mark.parametrize(("model", "content"), [
    ("doubao-seed3d-2-0-260328", [text("--subdivisionlevel low --fileformat usdz"), image(PNG_DATA_URL)]),
    ("hyper3d-gen2-260112", [text("A wooden chair, game asset --mesh_mode Raw --quality_override 300000 "
                                  "--material All --addons HighPack --hd_texture true --TAPose false "
                                  "--use_original_alpha true --bbox_condition [100, 60, 80] --sl low --ff fbx")]),
    ("hyper3d-gen2-260112", [image(PNG_DATA_URL), image(), image(), image(), image()]),
    ("hitem3d-2-0-251223", [text("--ff 3 --resolution 1536pro --face 2000000 --request_type 1 "
                                 "--multi_images_bit 1010"), image(), image("https://images.example.com/left.png")]),
])
def test_create_accepts_every_documented_flag(ark_server: ArkServer, model: str,
                                              content: list[dict[str, object]]) -> None:
    response = create(ark_server, model, *content)
    assert response.status_code == 200, response.text
    doc = requests.get(task_url(ark_server, response.json()["id"]), headers=AUTH, timeout=5).json()
    assert doc["model"] == model and doc["status"] == "queued"


def _png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + header
            + struct.pack(">I", zlib.crc32(b"IHDR" + header)))


def _jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def _bmp(width: int, height: int) -> bytes:
    return b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + struct.pack("<IiiHH", 40, width, height, 1, 24) + bytes(24)


def _data_url(fmt: str, data: bytes) -> str:
    return f"data:image/{fmt};base64," + base64.b64encode(data).decode()


@pytest.mark.parametrize(("fmt", "data", "accepted"), [
    ("png", _png(1024, 1024), True),
    ("png", _png(1100, 1000), True),
    ("png", _png(2000, 500), False),  # 4.0 wide: Seed3D takes width / height within (0.4, 2.5)
    ("jpeg", _jpeg(300, 1000), False),  # 0.3
    ("bmp", _bmp(1000, 2400), True),  # 0.42
    ("png", _png(4096, 4096), False),  # Ark: smaller than 4096 x 4096
], ids=["square", "1.1", "too-wide", "too-tall", "0.42", "4096-square"])
def test_seed3d_refuses_an_image_of_a_size_or_shape_its_page_excludes(ark_server: ArkServer, fmt: str, data: bytes,
                                                                       accepted: bool) -> None:
    response = create(ark_server, "doubao-seed3d-1-0-250928", image(_data_url(fmt, data)))
    if accepted:
        assert response.status_code == 200, response.text
    else:
        error = response.json()["error"]
        assert (response.status_code, error["code"], error["param"]) == (400, "InvalidParameter",
                                                                          "content[0].image_url"), error


def test_other_models_serve_bare_files_linked_for_a_week(ark_server: ArkServer) -> None:
    ark_server.create_schedule = (0.0, 0.0)
    fbx = b"Kaydara FBX Binary  \x00\x1a\x00" + bytes(100)
    ark_server.set_create_result("fbx", fbx, model="hyper3d-gen2-260112")
    ark_server.set_create_result("stl", bytes(80) + b"\x00\x00\x00\x00", model="hitem3d-2-0-251223")
    hyper = create(ark_server, "hyper3d-gen2-260112", text("a chair --ff fbx")).json()["id"]
    hitem = create(ark_server, "hitem3d-2-0-251223", image(), text("--ff 3 --resolution 1536pro")).json()["id"]
    obj = create(ark_server, "hitem3d-2-0-251223", image()).json()["id"]  # default: code 1, obj
    docs = {tid: requests.get(task_url(ark_server, tid), headers=AUTH, timeout=5).json() for tid in (hyper, hitem, obj)}

    assert list(docs[hyper]) == ["id", "model", "status", "created_at", "updated_at", "content", "usage"]
    url = docs[hyper]["content"]["file_url"]
    assert re.search(r"/0217[0-9a-f]{48}\.fbx\?", url) and "X-Tos-Expires=604800" in url
    assert requests.get(url, timeout=5).content == fbx
    assert docs[hyper]["usage"]["total_tokens"] == 30000
    assert docs[hitem]["content"]["file_url"].split("?")[0].endswith(".stl")
    assert docs[hitem]["usage"]["total_tokens"] == 130500  # 13.05 CNY: high precision, textured
    assert docs[obj]["status"] == "failed" and "no obj result" in docs[obj]["error"]["message"]
    seed3d = ark_server.add_task(file=ark_server.add_file("r.zip", PAYLOAD))
    seed3d_doc = requests.get(task_url(ark_server, seed3d), headers=AUTH, timeout=5).json()
    assert "X-Tos-Expires=86400" in seed3d_doc["content"]["file_url"]


def test_video_tasks_come_back_in_queries_and_lists(ark_server: ArkServer) -> None:
    model_task = ark_server.add_task(file=ark_server.add_file("r.zip", PAYLOAD))
    video = ark_server.add_video_task(video=ark_server.add_file("v.mp4", b"mp4"),
                                      last_frame=ark_server.add_file("f.png", b"png"))
    expired = ark_server.add_video_task(outcome="expired", model="doubao-seedance-2-0-260128")
    doc = requests.get(task_url(ark_server, video), headers=AUTH, timeout=5).json()
    assert doc["model"].startswith("doubao-seedance-") and doc["status"] == "succeeded"
    assert set(doc["content"]) == {"video_url", "last_frame_url"}
    assert requests.get(doc["content"]["video_url"], timeout=5).content == b"mp4"
    assert {"resolution", "ratio", "duration", "framespersecond", "execution_expires_after"} <= set(doc)
    assert "fileformat" not in doc and "file_url" not in json.dumps(doc)
    listing = requests.get(ark_server.api_base + TASKS_PATH, headers=AUTH, timeout=5).json()
    assert [item["id"] for item in listing["items"]] == [expired, video, model_task] and listing["total"] == 3
    assert listing["items"][0]["status"] == "expired" and "content" not in listing["items"][0]
    # An expired task can be deleted like a finished one; a running one cannot be cancelled.
    assert requests.delete(task_url(ark_server, expired), headers=AUTH, timeout=5).status_code == 200
    running = ark_server.add_video_task(queued_s=0, running_s=60)
    refused = requests.delete(task_url(ark_server, running), headers=AUTH, timeout=5)
    assert refused.status_code == 400 and "running" in refused.json()["error"]["message"]


def test_list_filters_by_endpoint_ids_and_repeated_task_ids(ark_server: ArkServer) -> None:
    ark_server.set_create_result("glb", b"PK zip")
    endpoint = ark_server.add_endpoint("doubao-seed3d-2-0-260328")
    assert re.fullmatch(r"ep-\d{14}-[0-9a-f]{5}", endpoint)
    via_endpoint = create(ark_server, endpoint, image()).json()["id"]
    via_model = create(ark_server, "doubao-seed3d-2-0-260328", image()).json()["id"]
    other = ark_server.add_task()
    doc = requests.get(task_url(ark_server, via_endpoint), headers=AUTH, timeout=5).json()
    assert doc["model"] == "doubao-seed3d-2-0-260328"  # the model behind the endpoint

    def ids(**params: object) -> list[str]:
        listing = requests.get(ark_server.api_base + TASKS_PATH, params=params, headers=AUTH, timeout=5).json()
        return [item["id"] for item in listing["items"]]

    assert ids(**{"filter.model": "doubao-seed3d-2-0-260328"}) == [via_model, via_endpoint]  # lenient default
    ark_server.endpoint_filter = True
    assert ids(**{"filter.model": endpoint}) == [via_endpoint]
    assert ids(**{"filter.model": "doubao-seed3d-2-0-260328"}) == []
    assert ids(**{"filter.task_ids": [other, via_model]}) == [other, via_model]
    assert ids(**{"filter.task_ids": f"{other},{via_model}"}) == []  # one id per repeated key
    assert len(ids(page_size=500)) == 3
    too_big = requests.get(ark_server.api_base + TASKS_PATH, params={"page_size": 501}, headers=AUTH, timeout=5)
    assert too_big.status_code == 400 and too_big.json()["error"]["param"] == "page_size"
    unknown = create(ark_server, "ep-20250101000000-abcde", image())
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "InvalidEndpointOrModel.NotFound"


@pytest.mark.parametrize("code", ["QuotaExceeded", "SetLimitExceeded", "RateLimitExceeded.EndpointRPMExceeded",
                                  "ModelAccountRpmRateLimitExceeded"])
def test_429_codes_as_faults(ark_server: ArkServer, code: str) -> None:
    ark_server.fail_next(1, status=429, code=code, path_prefix="/api/v3/contents")
    response = create(ark_server, "doubao-seed3d-1-0-250928", image())
    error = response.json()["error"]
    assert response.status_code == 429 and error["code"] == code and error["type"] == "TooManyRequests"
    expected = {"QuotaExceeded": "free quota", "SetLimitExceeded": "spending limit"}.get(code, "rate")
    assert expected in error["message"]
    assert create(ark_server, "doubao-seed3d-1-0-250928", image()).status_code == 200  # one fault only


def test_a_shut_down_model_refuses_creates(ark_server: ArkServer) -> None:
    for row in ark_server.models:
        if row["id"] == "hitem3d-2-0-251223":
            row["status"] = "Shutdown"
    response = create(ark_server, "hitem3d-2-0-251223", image())
    assert response.status_code == 404 and response.json()["error"]["param"] == "model"


def test_a_missing_demo_folder_is_refused_before_serving(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The README's server command names .cache/demo_assets, which only exists once the demo made it."""
    from ark_server import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--port", "0", "--file-port", "0", "--demo", str(tmp_path / "demo_assets")])
    assert exit_info.value.code == 2
    assert "make_demo_assets.py" in capsys.readouterr().err


def test_register_demo_serves_every_kind_of_task(demo_assets) -> None:  # type: ignore[no-untyped-def]
    from ark_server import register_demo

    with ArkServer(time_scale=0.0) as server:
        described = register_demo(server, demo_assets)
        kinds = {(t["model"], t["kind"], t["fileformat"]) for t in described if t["outcome"] == "succeeded"}
        assert {("hyper3d-gen2-260112", "3d", "fbx"), ("hitem3d-2-0-251223", "3d", "stl"),
                ("doubao-seedance-1-0-pro-250528", "video", None)} <= kinds
        assert {("doubao-seed3d-1-0-250928", "3d", fmt) for fmt in ("glb", "obj", "usdz")} <= kinds
        for task in described:
            doc = requests.get(task_url(server, task["task_id"]), headers={"Authorization": "Bearer test-key"},
                               timeout=5).json()
            assert doc["status"] == task["outcome"]
            if task["kind"] == "video":
                assert requests.get(doc["content"]["last_frame_url"], timeout=5).content[:4] == b"\x89PNG"
            elif task["fileformat"] == "fbx":
                body = requests.get(doc["content"]["file_url"], timeout=5).content
                assert body.startswith(b"Kaydara FBX Binary") and b"\x89PNG" in body  # textures inside
            elif task["fileformat"] == "stl":  # binary: 80-byte header, triangle count, 50 bytes a triangle
                body = requests.get(doc["content"]["file_url"], timeout=5).content
                assert len(body) == 84 + 50 * int.from_bytes(body[80:84], "little") > 84
        assert server.endpoint_filter


def test_tasks_older_than_7_days_are_neither_answered_nor_listed(ark_server: ArkServer) -> None:
    """Ark keeps tasks 7 days: ``[now - 7 d, now)``; older ids get 404, as unknown ones do."""
    recent = ark_server.add_task(age_s=6 * 86400, queued_s=10, running_s=10)
    old = ark_server.add_task(age_s=8 * 86400)
    doc = requests.get(task_url(ark_server, recent), headers=AUTH, timeout=5).json()
    assert doc["status"] == "succeeded" and time.time() - doc["created_at"] >= 6 * 86400 - 5
    gone = requests.get(task_url(ark_server, old), headers=AUTH, timeout=5)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ResourceNotFound"
    listed = requests.get(ark_server.api_base + TASKS_PATH, headers=AUTH, timeout=5).json()
    assert [item["id"] for item in listed["items"]] == [recent] and listed["total"] == 1
    assert requests.delete(task_url(ark_server, old), headers=AUTH, timeout=5).status_code == 404


def test_a_cancelled_task_vanishes_24_hours_after_it_was_cancelled(ark_server: ArkServer) -> None:
    fresh = ark_server.add_task(outcome="cancelled", age_s=23 * 3600)
    stale = ark_server.add_task(outcome="cancelled", age_s=25 * 3600)
    assert requests.get(task_url(ark_server, fresh), headers=AUTH, timeout=5).json()["status"] == "cancelled"
    assert requests.get(task_url(ark_server, stale), headers=AUTH, timeout=5).status_code == 404
    listed = requests.get(ark_server.api_base + TASKS_PATH, headers=AUTH, timeout=5).json()
    assert [item["id"] for item in listed["items"]] == [fresh]


def images(server: ArkServer, **body: object) -> requests.Response:
    return requests.post(f"{server.api_base}/images/generations", headers=AUTH, json=body, timeout=30)


@pytest.mark.parametrize(("body", "status", "param"), [
    ({"model": "doubao-seedream-4-5-251128", "prompt": "x", "size": "1K"}, 400, "size"),
    ({"model": "doubao-seedream-4-5-251128", "prompt": "x", "size": "1920x1080"}, 400, "size"),
    ({"model": "doubao-seedream-4-0-250828", "prompt": "x", "size": "4096x4097"}, 400, "size"),
    ({"model": "doubao-seedream-4-0-250828", "prompt": "x", "size": "4000x200"}, 400, "size"),
    ({"model": "doubao-seedream-4-5-251128", "prompt": ""}, 400, "prompt"),
    ({"model": "doubao-seedream-4-5-251128", "prompt": "x", "response_format": "png"}, 400, "response_format"),
    ({"model": "doubao-seedream-4-5-251128", "prompt": "x", "watermark": "no"}, 400, "watermark"),
    ({"model": "doubao-seedream-4-5-251128", "prompt": "x", "image": ["https://e.com/a.png"] * 10,
      "sequential_image_generation": "auto", "sequential_image_generation_options": {"max_images": 6}},
     400, "sequential_image_generation_options.max_images"),
    ({"model": "doubao-seedream-4-5-251128", "prompt": "x", "image": "/etc/passwd"}, 400, "image"),
    ({"model": "doubao-seed3d-1-0-250928", "prompt": "x"}, 404, "model"),
])
def test_images_refuse_what_the_documents_exclude(ark_server: ArkServer, body: dict[str, object], status: int,
                                                  param: str) -> None:
    response = images(ark_server, **body)
    assert response.status_code == status and response.json()["error"]["param"] == param
    assert ark_server.image_requests == [body]


def test_images_answer_links_or_base64_and_mark_watermarked_pictures(ark_server: ArkServer) -> None:
    answer = images(ark_server, model="doubao-seedream-4-0-250828", prompt="a cup", size="1280x720").json()
    [item] = answer["data"]
    assert item["size"] == "1280x720" and answer["usage"]["generated_images"] == 1
    linked = requests.get(item["url"], timeout=5).content  # Ark's default: a link, and the watermark on
    assert linked.startswith(b"\x89PNG") and struct.unpack(">II", linked[16:24]) == (1280, 720)
    raw = zlib.decompress(linked[linked.index(b"IDAT") + 4 : linked.index(b"IEND") - 8])
    corner = (719 * (1 + 1280 * 3)) + 1 + 1279 * 3
    assert raw[corner : corner + 3] == bytes((24, 24, 24))
    plain = images(ark_server, model="doubao-seedream-4-5-251128", prompt="a cup", response_format="b64_json",
                   watermark=False, sequential_image_generation="auto",
                   sequential_image_generation_options={"max_images": 2}).json()
    pictures = [base64.b64decode(item["b64_json"]) for item in plain["data"]]
    assert len(pictures) == 2 and pictures[0] != pictures[1]
    assert all("url" not in item and item["size"] == "2048x2048" for item in plain["data"])


def test_images_content_check_and_24_hour_links(ark_server: ArkServer) -> None:
    refused = images(ark_server, model="doubao-seedream-4-5-251128", prompt="some CONTRABAND please")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "InputTextSensitiveContentDetected"
    link = images(ark_server, model="doubao-seedream-4-5-251128", prompt="a cup").json()["data"][0]["url"]
    ark_server.advance(86_399)
    assert requests.get(link, timeout=5).status_code == 200
    ark_server.advance(2)
    assert requests.get(link, timeout=5).status_code == 403
