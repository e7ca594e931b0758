"""The result download against a real local file host (scripts/ark_server.py) on loopback."""

from __future__ import annotations

import io
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3

from ark3d_addon.core import net
from ark3d_addon.core.download import DownloadProgress, check_url, download, is_loopback_host
from ark3d_addon.core.errors import Cancelled, ConfigError, DownloadError, LinkExpired, NetworkError
from ark_server import ArkServer

DATA = os.urandom(3 * 1024 * 1024 + 12345)


def file_requests(server: ArkServer) -> list[Any]:
    return [r for r in server.requests_log if r.server == "file"]


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the retry pauses short; the real curve is tested on its own."""
    monkeypatch.setattr(net, "backoff", lambda attempt: 0.05)


# -- URL rules ---------------------------------------------------------------------------------


def test_loopback_hosts() -> None:
    for host in ("localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "LOCALHOST"):
        assert is_loopback_host(host)
    for host in ("example.com", "10.0.0.1", "192.168.1.1", "localhost.example.com", "", "0.0.0.0"):
        assert not is_loopback_host(host)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/r.zip",
        "http://10.0.0.5/r.zip",
        "ftp://example.com/r.zip",
        "file:///etc/passwd",
        "https://user:secret@example.com/r.zip",
        "https:///nohost",
        "javascript:alert(1)",
        "",
    ],
)
def test_refused_urls_make_no_request(url: str, tmp_path: Path) -> None:
    session = requests.Session()
    fake = FakeHost([])
    session.mount("http://", fake)
    session.mount("https://", fake)
    with pytest.raises(ConfigError) as info:
        download(url, tmp_path / "r.zip", session=session)
    assert info.value.hint
    assert "secret" not in str(info.value)
    assert fake.requests == []
    assert list(tmp_path.iterdir()) == []


def test_allowed_urls() -> None:
    check_url("https://ark-content-generation.tos-cn-beijing.volces.com/a.zip?X-Tos-Signature=x")
    check_url("http://127.0.0.1:8401/files/a.zip")
    check_url("http://localhost/a.zip")
    check_url("http://[::1]:80/a.zip")


# -- against the local file host ----------------------------------------------------------------


def test_plain_download_with_progress(ark_server: ArkServer, tmp_path: Path) -> None:
    url = ark_server.add_file("result.zip", DATA)
    reports: list[DownloadProgress] = []
    dest = tmp_path / "lib" / "result.zip"
    assert download(url, dest, progress=reports.append) == dest
    assert dest.read_bytes() == DATA
    assert not (tmp_path / "lib" / "result.zip.part").exists()
    assert reports and reports[-1].done == reports[-1].total == len(DATA)
    assert reports[-1].percent == 100.0 and not reports[-1].resumed
    assert [r.done for r in reports] == sorted(r.done for r in reports)
    (request,) = file_requests(ark_server)
    assert request.header("Range") is None
    assert request.header("Accept-Encoding") == "identity"


def test_progress_is_throttled_and_measures_speed(ark_server: ArkServer, tmp_path: Path) -> None:
    data = DATA[:1_000_000]
    url = ark_server.add_file("slow.zip", data, throttle_bps=1_000_000)
    reports: list[tuple[float, DownloadProgress]] = []
    start = time.monotonic()
    download(url, tmp_path / "r.zip", progress=lambda p: reports.append((time.monotonic(), p)), chunk_size=16384)
    elapsed = time.monotonic() - start
    assert len(reports) <= elapsed * 10 + 3
    gaps = [b[0] - a[0] for a, b in zip(reports[:-2], reports[1:-1], strict=True)]
    assert all(g >= 0.09 for g in gaps)
    speeds = [p.speed_bps for _, p in reports[3:]]
    assert speeds and all(300_000 < s < 3_000_000 for s in speeds), speeds
    assert reports[-1][1].done == len(data)


def test_resume_after_cut(ark_server: ArkServer, tmp_path: Path) -> None:
    url = ark_server.add_file("result.zip", DATA, cut_after=1_000_000)
    reports: list[DownloadProgress] = []
    download(url, tmp_path / "r.zip", progress=reports.append)
    assert (tmp_path / "r.zip").read_bytes() == DATA
    first, second = file_requests(ark_server)
    assert first.header("Range") is None
    assert second.header("Range") == "bytes=1000000-"
    assert second.header("If-Range")  # the ETag seen on the first answer
    assert reports[-1].resumed


def test_resume_from_previous_session_part(ark_server: ArkServer, tmp_path: Path) -> None:
    url = ark_server.add_file("result.zip", DATA)
    (tmp_path / "r.zip.part").write_bytes(DATA[:777_777])
    reports: list[DownloadProgress] = []
    download(url, tmp_path / "r.zip", progress=reports.append)
    assert (tmp_path / "r.zip").read_bytes() == DATA
    (request,) = file_requests(ark_server)
    assert request.header("Range") == "bytes=777777-"
    assert reports[0].resumed and reports[0].done >= 777_777


def test_server_ignoring_range_restarts_cleanly(ark_server: ArkServer, tmp_path: Path) -> None:
    url = ark_server.add_file("result.zip", DATA, cut_after=1_000_000, ignore_range=True)
    download(url, tmp_path / "r.zip")
    assert (tmp_path / "r.zip").read_bytes() == DATA
    assert [r.header("Range") for r in file_requests(ark_server)] == [None, "bytes=1000000-"]
    # A stale part of another file: the 200 answer replaces it rather than appending.
    (tmp_path / "s.zip.part").write_bytes(b"garbage" * 1000)
    url2 = ark_server.add_file("other.zip", DATA, ignore_range=True)
    download(url2, tmp_path / "s.zip")
    assert (tmp_path / "s.zip").read_bytes() == DATA


def test_part_already_complete_and_part_too_long(ark_server: ArkServer, tmp_path: Path) -> None:
    url = ark_server.add_file("result.zip", DATA)
    (tmp_path / "a.zip.part").write_bytes(DATA)
    download(url, tmp_path / "a.zip")  # 416 with bytes */N equal to what we have: complete
    assert (tmp_path / "a.zip").read_bytes() == DATA
    (tmp_path / "b.zip.part").write_bytes(DATA + b"extra")
    download(url, tmp_path / "b.zip")  # 416 and the sizes differ: start over
    assert (tmp_path / "b.zip").read_bytes() == DATA
    assert [r.header("Range") for r in file_requests(ark_server)] == [
        f"bytes={len(DATA)}-",
        f"bytes={len(DATA) + 5}-",
        None,
    ]


def test_expired_link(ark_server: ArkServer, tmp_path: Path) -> None:
    url = ark_server.add_file("result.zip", DATA, expired=True)
    with pytest.raises(LinkExpired) as info:
        download(url, tmp_path / "r.zip")
    error = info.value
    assert error.message == "The download link has expired"
    assert error.code == "AccessDenied" and error.http_status == 403
    assert "24 hours" in str(error.hint) and "library" in str(error.hint)
    assert len(file_requests(ark_server)) == 1  # no retry on 403
    assert not (tmp_path / "r.zip").exists()


def test_missing_file(ark_server: ArkServer, tmp_path: Path) -> None:
    with pytest.raises(DownloadError) as info:
        download(f"{ark_server.file_base}/files/0000/none.zip", tmp_path / "r.zip")
    assert info.value.code == "NoSuchKey" and info.value.http_status == 404
    assert not isinstance(info.value, LinkExpired)


def test_stall_retries_then_fails_in_bounded_time(ark_server: ArkServer, tmp_path: Path) -> None:
    url = ark_server.add_file("result.zip", DATA, stall_after=100_000)
    start = time.monotonic()
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path / "r.zip", stall_timeout=0.3, max_attempts=3)
    assert time.monotonic() - start < 3
    assert "stopped sending data for 0.3 s" in str(info.value)
    assert info.value.code == "Stalled"
    ranges = [r.header("Range") for r in file_requests(ark_server)]
    assert ranges[0] is None and len(ranges) == 3
    offsets = [int(r.removeprefix("bytes=").rstrip("-")) for r in ranges[1:]]
    assert 0 < offsets[0] < offsets[1] <= 200_000  # each retry resumed from the bytes on disk
    assert offsets[1] < (tmp_path / "r.zip.part").stat().st_size <= 300_000  # kept for a later resume
    assert not (tmp_path / "r.zip").exists()


def test_cancel_mid_download(ark_server: ArkServer, tmp_path: Path) -> None:
    url = ark_server.add_file("result.zip", DATA, throttle_bps=500_000)
    cancel = threading.Event()
    set_at: list[float] = []

    def progress(p: DownloadProgress) -> None:
        if p.done > 100_000 and not cancel.is_set():
            set_at.append(time.monotonic())
            threading.Timer(0.0, cancel.set).start()

    with pytest.raises(Cancelled):
        download(url, tmp_path / "r.zip", progress=progress, cancel=cancel)
    assert time.monotonic() - set_at[0] < 1.0
    assert list(tmp_path.iterdir()) == []


def test_cancel_during_retry_wait(ark_server: ArkServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(net, "backoff", lambda attempt: 30.0)
    url = ark_server.add_file("result.zip", DATA, cut_after=100_000)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    start = time.monotonic()
    with pytest.raises(Cancelled):
        download(url, tmp_path / "r.zip", cancel=cancel)
    assert time.monotonic() - start < 1.5
    assert not (tmp_path / "r.zip.part").exists()


def test_no_authorization_ever_reaches_the_file_host(ark_server: ArkServer, tmp_path: Path) -> None:
    url = ark_server.add_file("result.zip", DATA, cut_after=500_000)
    session = requests.Session()
    session.headers["Authorization"] = "Bearer sk-secret"
    session.headers["X-Api-Key"] = "sk-secret"
    session.auth = ("user", "sk-secret")
    session.cookies.set("session", "sk-secret")
    download(url, tmp_path / "r.zip", session=session)
    assert (tmp_path / "r.zip").read_bytes() == DATA
    assert session.headers["Authorization"] == "Bearer sk-secret"  # the caller's session is untouched
    logged = file_requests(ark_server)
    assert len(logged) == 2
    for request in logged:
        assert all("sk-secret" not in value for value in request.headers.values()), request.headers
        assert request.header("Authorization") is None and request.header("Cookie") is None


def test_netrc_credentials_are_not_sent(ark_server: ArkServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password sk-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    url = ark_server.add_file("result.zip", DATA)
    download(url, tmp_path / "r.zip")
    (request,) = file_requests(ark_server)
    assert request.header("Authorization") is None


def test_length_mismatch(ark_server: ArkServer, tmp_path: Path) -> None:
    url = ark_server.add_file("result.zip", DATA, length_mismatch=True)
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path / "r.zip", max_attempts=1)
    assert "Content-Length mismatch" in str(info.value)
    assert f"{len(DATA)} of the {len(DATA) + 1024} bytes" in str(info.value)
    assert info.value.code == "IncompleteBody"
    # With retries the resume asks for the rest; the host answers that nothing is left.
    download(url, tmp_path / "r.zip", max_attempts=3)
    assert (tmp_path / "r.zip").read_bytes() == DATA


def test_cut_too_often_names_the_short_body(ark_server: ArkServer, tmp_path: Path) -> None:
    url = ark_server.add_file("result.zip", DATA, cut_after=50_000, cut_times=10)
    with pytest.raises(DownloadError, match="ended early"):
        download(url, tmp_path / "r.zip", max_attempts=2)
    assert (tmp_path / "r.zip.part").stat().st_size == 100_000


def test_disk_full(ark_server: ArkServer, tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    url = ark_server.add_file("result.zip", DATA)
    (tmp_path / "r.zip.part").symlink_to("/dev/full")
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path / "r.zip")
    assert info.value.message == "The disk is full"
    assert str(tmp_path) in str(info.value.hint)


def test_unwritable_folder(ark_server: ArkServer, tmp_path: Path) -> None:
    url = ark_server.add_file("result.zip", DATA)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path / "afile" / "r.zip")
    assert info.value.hint


# -- network failures ----------------------------------------------------------------------------


def test_dns_failure_message(tmp_path: Path) -> None:
    with pytest.raises(NetworkError) as info:
        download("https://ark-results.invalid/r.zip", tmp_path / "r.zip", max_attempts=1)
    assert "Could not resolve host ark-results.invalid" in str(info.value)
    assert "network/proxy" in str(info.value.hint)


def test_connection_refused_message(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(NetworkError) as info:
        download(f"http://127.0.0.1:{port}/r.zip", tmp_path / "r.zip", max_attempts=2)
    assert time.monotonic() - start < 3
    assert f"connection to 127.0.0.1:{port} was refused" in str(info.value)
    assert info.value.code == "ConnectionRefused"


# -- behaviour only a scripted host can show: redirects, 5xx, Retry-After -----------------------


class FakeHost(requests.adapters.BaseAdapter):
    """A transport adapter answering from a script, recording what it was sent."""

    def __init__(self, answers: list[tuple[int, dict[str, str], bytes]]) -> None:
        super().__init__()
        self.answers = list(answers)
        self.requests: list[requests.PreparedRequest] = []
        self.times: list[float] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.requests.append(request)
        self.times.append(time.monotonic())
        status, headers, body = self.answers.pop(0)
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(body), headers=headers, status=status, preload_content=False, decode_content=False
        )
        response = requests.Response()
        response.status_code = status
        response.headers = requests.structures.CaseInsensitiveDict(headers)
        response.raw = raw
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def scripted(answers: list[tuple[int, dict[str, str], bytes]]) -> tuple[requests.Session, FakeHost]:
    session = requests.Session()
    host = FakeHost(answers)
    session.mount("https://", host)
    return session, host


@pytest.mark.parametrize(
    "location",
    ["file:///etc/passwd", "ftp://files.example.com/r.zip", "http://files.example.com/r.zip", "gopher://x/"],
)
def test_unsafe_redirect_refused(tmp_path: Path, location: str) -> None:
    session, host = scripted([(302, {"Location": location}, b"")])
    with pytest.raises(DownloadError) as info:
        download("https://files.example.com/r.zip", tmp_path / "r.zip", session=session)
    assert info.value.code == "UnsafeRedirect" and "refused" in info.value.message
    assert len(host.requests) == 1


def test_redirect_loop_stops(tmp_path: Path) -> None:
    session, host = scripted([(302, {"Location": f"/hop{i}"}, b"") for i in range(10)])
    with pytest.raises(DownloadError, match="redirected more than 5 times"):
        download("https://files.example.com/r.zip", tmp_path / "r.zip", session=session)
    assert len(host.requests) == 6


def test_redirect_to_real_host_carries_no_auth(ark_server: ArkServer, tmp_path: Path) -> None:
    target = ark_server.add_file("result.zip", DATA)
    session, host = scripted([(307, {"Location": target}, b"")])
    session.headers["Authorization"] = "Bearer sk-secret"
    download("https://ark.example.com/r.zip?sig=1", tmp_path / "r.zip", session=session)
    assert (tmp_path / "r.zip").read_bytes() == DATA
    assert "Authorization" not in host.requests[0].headers
    (request,) = file_requests(ark_server)
    assert request.header("Authorization") is None


def test_server_errors_are_retried_honouring_retry_after(tmp_path: Path) -> None:
    body = DATA[:1000]
    xml = b"<?xml version='1.0'?><Error><Code>ServiceUnavailable</Code><Message>busy</Message></Error>"
    session, host = scripted(
        [
            (503, {"Retry-After": "0.4", "x-tos-request-id": "tos-1"}, xml),
            (429, {"Retry-After": "0"}, b""),
            (200, {"Content-Length": str(len(body)), "ETag": '"e1"'}, body),
        ]
    )
    download("https://files.example.com/r.zip", tmp_path / "r.zip", session=session)
    assert (tmp_path / "r.zip").read_bytes() == body
    assert host.times[1] - host.times[0] >= 0.35


def test_server_error_final_message(tmp_path: Path) -> None:
    xml = b"<Error><Code>InternalError</Code><Message>We encountered an internal error</Message></Error>"
    session, _ = scripted([(500, {"x-tos-request-id": "tos-42"}, xml)] * 2)
    with pytest.raises(DownloadError) as info:
        download("https://files.example.com/r.zip", tmp_path / "r.zip", session=session, max_attempts=2)
    error = info.value
    assert error.http_status == 500 and error.code == "InternalError" and error.request_id == "tos-42"
    assert "internal error" in error.message and error.retryable and error.hint


def test_expired_xml_code_and_request_id(tmp_path: Path) -> None:
    xml = b"<Error><Code>SignatureExpired</Code><Message>Request has expired</Message></Error>"
    session, _ = scripted([(403, {"x-tos-request-id": "tos-7"}, xml)])
    with pytest.raises(LinkExpired) as info:
        download("https://files.example.com/r.zip", tmp_path / "r.zip", session=session)
    assert info.value.code == "SignatureExpired" and info.value.request_id == "tos-7"


def test_changed_file_restarts(tmp_path: Path) -> None:
    """The host ignores If-Range but the ETag changed: the part is thrown away, not appended to."""
    new = DATA[:2000]
    session, host = scripted(
        [
            (200, {"Content-Length": "2000", "ETag": '"old"'}, DATA[2000:3000]),  # cut after 1000
            (206, {"Content-Length": "1000", "Content-Range": "bytes 1000-1999/2000", "ETag": '"new"'}, new[1000:]),
            (200, {"Content-Length": "2000", "ETag": '"new"'}, new),
        ]
    )
    download("https://files.example.com/r.zip", tmp_path / "r.zip", session=session, max_attempts=3)
    assert (tmp_path / "r.zip").read_bytes() == new
    assert host.requests[1].headers["If-Range"] == '"old"'
    assert "Range" not in host.requests[2].headers


def test_progress_percent() -> None:
    assert DownloadProgress(50, 200, 0.0, False).percent == 25.0
    assert DownloadProgress(50, None, 0.0, False).percent is None
    assert DownloadProgress(0, 0, 0.0, False).percent is None


def test_performance_against_raw_socket_read(ark_server: ArkServer, tmp_path: Path) -> None:
    """A smoke check that the loop adds little over reading the bytes (the curl benchmark is separate)."""
    data = os.urandom(64 << 20)
    url = ark_server.add_file("big.zip", data)
    start = time.monotonic()
    download(url, tmp_path / "big.zip")
    ours = time.monotonic() - start
    start = time.monotonic()
    with requests.get(url, stream=True, timeout=10) as resp:
        for _ in resp.iter_content(1 << 20):
            pass
    baseline = time.monotonic() - start
    assert (tmp_path / "big.zip").stat().st_size == len(data)
    assert ours < baseline * 3 + 1.0
