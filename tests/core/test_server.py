"""Smoke tests of the local Ark server itself, with raw ``requests``.

Every other network test trusts this server to behave like Ark and TOS; these pin down the
behaviour they rely on, so a broken fake shows up here and not as a puzzling client failure.
"""

from __future__ import annotations

import re
import threading
import time

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
