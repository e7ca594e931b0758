"""Network faults, each through a whole ImportJob against the local server (or a helper server).

Lower-level cases live in tests/core/test_client.py and tests/core/test_download.py (scripted
answers, redirect loops, XML error bodies, the backoff curve); here the user-level message,
the time it takes and the invariants of support.Scenario are checked.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import zipfile
from pathlib import Path

import certifi
import pytest

from ark3d_addon.core.errors import ApiError, ArkError, ConfigError, DownloadError, NetworkError
from ark3d_addon.core.job import JobState
from ark3d_addon.core.settings import Settings
from ark_server import ArkServer

from .support import KEY, HelperServer, Scenario, glb, redirector, zip_bytes

MODEL = ("model/m.glb", glb())
TID = "cgt-20251124123456-abcde"


def result(size: int = 0) -> bytes:
    """A valid result zip; ``size`` bytes of incompressible padding make the download last."""
    entries = [MODEL] + ([("model/pad.bin", os.urandom(size))] if size else [])
    return zip_bytes(entries, zipfile.ZIP_STORED)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- reaching Ark ----------------------------------------------------------------------------


def test_network_connection_refused(sc: Scenario) -> None:
    """expected: NetworkError ConnectionRefused "The connection to 127.0.0.1:<port> was refused" within 5 s."""
    port = free_port()
    started = time.monotonic()
    error = sc.fail(TID, NetworkError, settings=sc.settings(base_url=f"http://127.0.0.1:{port}/api/v3"))
    assert time.monotonic() - started < 5
    assert error.code == "ConnectionRefused"
    assert f"The connection to 127.0.0.1:{port} was refused" in error.user_message()
    assert "check the address and your network/proxy" in str(error.hint)


def test_network_dns_failure(sc: Scenario) -> None:
    """expected: NetworkError DNSFailure "Could not resolve host ark-api.invalid" within 5 s, hint: network/proxy."""
    started = time.monotonic()
    error = sc.fail(TID, NetworkError, settings=sc.settings(base_url="https://ark-api.invalid/api/v3"))
    assert time.monotonic() - started < 5
    assert error.code == "DNSFailure" and "Could not resolve host ark-api.invalid" in error.user_message()
    assert "network/proxy" in str(error.hint)


def test_network_dns_failure_of_the_file_host(sc: Scenario, fast_retries: None) -> None:
    """expected: NetworkError DNSFailure "Could not resolve host ark-results.invalid" after the download's retries."""
    tid = sc.server.add_task(extra_fields={"content": {"file_url": "https://ark-results.invalid/r.zip?X-Tos-Signature=1"}})
    error = sc.fail(tid, NetworkError)
    assert error.code == "DNSFailure" and "Could not resolve host ark-results.invalid" in error.user_message()
    assert not sc.library.zip_path(tid).exists()


def test_network_tls_self_signed_refused(sc: Scenario, tls_server: ArkServer) -> None:
    """expected: NetworkError TLSCertificate "The certificate of 127.0.0.1 could not be verified", hint names the CA bundle setting; no request sent unverified."""  # noqa: E501
    sc.server = tls_server
    tid = tls_server.add_task(file=tls_server.add_file("r.zip", result()))
    error = sc.fail(tid, NetworkError)
    assert error.code == "TLSCertificate" and not error.retryable
    assert "The certificate of 127.0.0.1 could not be verified" in error.user_message()
    assert "CA bundle setting" in str(error.hint) and "ARK3D_CA_BUNDLE" in str(error.hint)
    assert tls_server.requests_log == []  # no fallback to an unverified connection: nothing was ever sent


def test_network_tls_with_ca_bundle_setting(sc: Scenario, tls_server: ArkServer, certificate: tuple[Path, Path],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """expected: with the CA bundle preference set to the certificate, the import works over https (API and file host), even with another REQUESTS_CA_BUNDLE set."""  # noqa: E501
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())  # a bundle that does not know our certificate
    sc.server = tls_server
    tid = tls_server.add_task(file=tls_server.add_file("r.zip", result()))
    settings = sc.settings(base_url=tls_server.api_base, ca_bundle=str(certificate[0]))
    assert sc.run(tid, settings=settings).model.path.name == "m.glb"
    assert tls_server.count("file", "GET") == 1


def test_network_tls_with_env_ca_bundle(sc: Scenario, tls_server: ArkServer, certificate: tuple[Path, Path]) -> None:
    """expected: ARK3D_CA_BUNDLE pointing at the certificate makes the https import work."""
    sc.server = tls_server
    tid = tls_server.add_task(file=tls_server.add_file("r.zip", result()))
    settings = Settings.resolve(api_key=KEY, base_url=tls_server.api_base, poll_interval=0.1,
                                environ={"ARK3D_CA_BUNDLE": str(certificate[0])})
    assert sc.run(tid, settings=settings).model.path.name == "m.glb"


def test_network_tls_with_requests_ca_bundle(sc: Scenario, tls_server: ArkServer, certificate: tuple[Path, Path],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """expected: REQUESTS_CA_BUNDLE pointing at the certificate (no add-on setting) makes the https import work."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    sc.server = tls_server
    tid = tls_server.add_task(file=tls_server.add_file("r.zip", result()))
    assert sc.run(tid, settings=sc.settings(base_url=tls_server.api_base)).model.path.name == "m.glb"


# -- the download ----------------------------------------------------------------------------


def test_network_slow_loris(sc: Scenario, fast_retries: None) -> None:
    """expected: a host trickling 20 bytes/s is given up: DownloadError Stalled "sent only N bytes in 0.3 s", in under 5 s; the .part is kept to resume."""  # noqa: E501
    tid = sc.serve(result(200_000), throttle_bps=20)
    sc.keep_part.add(tid)
    job = sc.job(tid, stall_timeout=0.3)
    job.start()
    if not job.join(5):  # at 20 bytes/s the download would take 3 hours: fail now, not then
        job.cancel()
        pytest.fail("still downloading after 5 s: the slow-loris host was not detected")
    error = job.snapshot().error
    assert isinstance(error, DownloadError) and job.snapshot().phase == "failed"
    sc.errors.append(error)
    assert error.code == "Stalled" and re.search(r"sent only \d+ bytes in 0\.3 s", error.message), error.message
    ranges = [r.header("Range") for r in sc.file_gets()]
    assert len(ranges) == 6 and ranges[0] is None
    offsets = [int(r.removeprefix("bytes=").rstrip("-")) for r in ranges[1:]]
    assert offsets == sorted(offsets) and offsets[0] > 0  # every retry resumed from the bytes on disk


def test_network_stalled_host(sc: Scenario, fast_retries: None) -> None:
    """expected: a host that goes silent mid-file: DownloadError Stalled "stopped sending data for 0.3 s" after 6 tries, in under 5 s; .part kept."""  # noqa: E501
    tid = sc.serve(result(1_000_000), stall_after=50_000)
    sc.keep_part.add(tid)
    started = time.monotonic()
    error = sc.fail(tid, DownloadError, stall_timeout=0.3)
    assert time.monotonic() - started < 5
    assert error.code == "Stalled" and "stopped sending data for 0.3 s" in error.user_message()
    assert len(sc.file_gets()) == 6
    assert (sc.library.task_dir(tid) / "result.zip.part").stat().st_size == 300_000


def test_network_cut_mid_download_resumes(sc: Scenario, fast_retries: None) -> None:
    """expected: the connection cut after 300000 bytes: the job resumes with "Range: bytes=300000-" and imports an intact zip."""  # noqa: E501
    data = result(1_000_000)
    tid = sc.serve(data, cut_after=300_000)
    sc.run(tid)
    assert [r.header("Range") for r in sc.file_gets()] == [None, "bytes=300000-"]
    assert sc.library.zip_path(tid).read_bytes() == data


def test_network_server_ignores_range(sc: Scenario, fast_retries: None) -> None:
    """expected: a host answering the resume with 200 (whole file): the part is restarted, not appended to; the zip is intact."""  # noqa: E501
    data = result(1_000_000)
    tid = sc.serve(data, cut_after=300_000, ignore_range=True)
    sc.run(tid)
    assert [r.header("Range") for r in sc.file_gets()] == [None, "bytes=300000-"]
    assert sc.library.zip_path(tid).read_bytes() == data


def test_network_content_length_mismatch(sc: Scenario, fast_retries: None) -> None:
    """expected: a body 1024 bytes shorter than its Content-Length is detected; the resume learns (416) that nothing is missing; the zip is intact."""  # noqa: E501
    data = result(100_000)
    tid = sc.serve(data, length_mismatch=True)
    sc.run(tid)
    assert [r.header("Range") for r in sc.file_gets()] == [None, f"bytes={len(data)}-"]
    assert sc.library.zip_path(tid).read_bytes() == data


def test_network_file_link_redirects_to_other_host(sc: Scenario, helpers: list[HelperServer]) -> None:
    """expected: a file link redirecting to another host is followed; neither host receives an Authorization header."""
    data = result()
    target = sc.server.add_file("r.zip", data).replace("127.0.0.1", "localhost")
    hop = redirector(lambda path: target)
    helpers.append(hop)
    tid = sc.server.add_task(extra_fields={"content": {"file_url": f"{hop.base}/r.zip?X-Tos-Signature=1"}})
    sc.run(tid)
    assert sc.library.zip_path(tid).read_bytes() == data
    (hop_request,) = hop.seen
    (file_request,) = sc.file_gets()
    assert hop_request.header("Authorization") is None and file_request.header("Authorization") is None
    assert file_request.header("Host", ) == target.split("/")[2]


def test_network_api_redirect_not_followed(sc: Scenario, helpers: list[HelperServer]) -> None:
    """expected: an API answer redirecting to another host is not followed (the key stays with the configured host): ApiError HTTP 302 "Ark answered with a redirect to ..."."""  # noqa: E501
    other = sc.server.api_base.replace("127.0.0.1", "localhost").removesuffix("/api/v3")
    hop = redirector(lambda path: other + path)
    helpers.append(hop)
    error = sc.fail(TID, ApiError, settings=sc.settings(base_url=f"{hop.base}/api/v3"))
    assert error.http_status == 302 and f"Ark answered with a redirect to {other}/api/v3/" in error.user_message()
    assert "Check the base URL" in str(error.hint)
    assert sc.server.requests_log == []  # the other host never saw the request, let alone the key
    assert len(hop.seen) == 1


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/r.zip", "http://files.example.com/r.zip"])
def test_network_redirect_to_refused_scheme(sc: Scenario, helpers: list[HelperServer], lookups: list[str],
                                            location: str) -> None:
    """expected: a redirect to file:, ftp: or plain http on another computer is refused: DownloadError UnsafeRedirect, never contacted."""  # noqa: E501
    hop = redirector(lambda path: location)
    helpers.append(hop)
    tid = sc.server.add_task(extra_fields={"content": {"file_url": f"{hop.base}/r.zip"}})
    error = sc.fail(tid, DownloadError)
    assert error.code == "UnsafeRedirect" and "The file host redirected to a refused address" in error.message
    assert "files.example.com" not in lookups and len(hop.seen) == 1
    assert not sc.library.zip_path(tid).exists()


# -- Ark's answers ---------------------------------------------------------------------------


def test_network_429_storm(sc: Scenario) -> None:
    """expected: Retry-After (0.2 s) honoured between tries; after the error budget (1 s) the job gives up: HTTP 429 "rate limit ... wait a minute and try again"."""  # noqa: E501
    tid = sc.serve(result())
    sc.server.fail_next(10_000, status=429, code="RateLimitExceeded.EndpointRPMExceeded", retry_after=0.2)
    started = time.monotonic()
    error = sc.fail(tid, ApiError, poll_error_budget=1.0)
    assert 1.0 < time.monotonic() - started < 4
    assert error.http_status == 429 and error.code == "RateLimitExceeded.EndpointRPMExceeded" and error.request_id
    assert "wait a minute and try again" in error.user_message()
    times = [r.time for r in sc.server.requests_log]
    assert 6 <= len(times) <= 12
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.18  # never a burst


def test_network_5xx_burst(sc: Scenario) -> None:
    """expected: three 503 answers in a row are ridden out (client retries, then the poller's): the import succeeds."""
    tid = sc.serve(result())
    sc.server.fail_next(3, status=503, code="ServerOverloaded")
    assert sc.run(tid).model.path.name == "m.glb"
    assert sc.server.count("api") == 4


def test_network_200_with_invalid_json(sc: Scenario) -> None:
    """expected: a 200 that is not JSON on the first query is reported at once: ApiError InvalidResponse, hint "should end in /api/v3"."""  # noqa: E501
    sc.server.set_raw_response(TID, 200, b"<html><body>Please log in to the proxy</body></html>", "text/html")
    started = time.monotonic()
    error = sc.fail(TID, ApiError)
    assert time.monotonic() - started < 1
    assert error.code == "InvalidResponse" and "not JSON" in error.message and "/api/v3" in str(error.hint)
    assert sc.server.count("api") == 1


def test_network_invalid_json_once_mid_poll(sc: Scenario) -> None:
    """expected: one garbled answer after the task was seen is ridden out: the import succeeds."""
    tid = sc.server.add_task(file=sc.server.add_file("r.zip", result()), queued_s=0.3)
    garbled: list[bool] = []

    def garble_once(state: JobState) -> None:
        if state.phase == "queued" and not garbled:
            garbled.append(True)
            sc.server.set_raw_response(tid, 200, b'{"id": "' + tid.encode() + b'", "status": ', times=1)

    assert sc.run(tid, watch=garble_once).model.path.name == "m.glb"
    assert garbled


def test_network_task_json_missing_fields(sc: Scenario) -> None:
    """expected: answers with no id, times, model or content are tolerated (still polling), then the import succeeds."""
    tid = sc.serve(result())
    sc.server.set_raw_response(tid, 200, json.dumps({"status": "running"}).encode(), times=2)
    assert sc.run(tid).model.path.name == "m.glb"
    assert sc.server.count("api") == 3 and any(s.phase == "running" for s in sc.states)


def test_network_task_json_unknown_fields_and_status(sc: Scenario) -> None:
    """expected: an unknown status, new fields, NaN/Infinity/1e999 times are tolerated (still polling, shown as the status), then the import succeeds."""  # noqa: E501
    tid = sc.serve(result())
    odd = ('{"id": "' + tid + '", "status": "post_processing", "created_at": Infinity, "updated_at": "1e999",'
           ' "usage": {"total_tokens": NaN}, "progress": {"stage": 3}, "content": {"preview": [1, 2]}}')
    sc.server.set_raw_response(tid, 200, odd.encode(), times=2)
    assert sc.run(tid).model.path.name == "m.glb"
    assert any("post_processing" in str(s.text) for s in sc.states)


def test_network_task_succeeded_without_link(sc: Scenario) -> None:
    """expected: ArkError NoFileURL "The task succeeded but Ark gave no file link", hint: query again, report to Ark support."""  # noqa: E501
    tid = sc.server.add_task(file=None)
    error = sc.fail(tid, ArkError)
    assert error.code == "NoFileURL" and "gave no file link" in error.message and "Ark support" in str(error.hint)


def test_network_answer_about_another_task(sc: Scenario) -> None:
    """expected: an answer carrying another task's id is refused (ApiError InvalidResponse) and nothing is stored under that id."""  # noqa: E501
    tid = sc.serve(result())
    other = {"id": "cgt-20990101000000-other", "status": "succeeded",
             "content": {"file_url": sc.server.add_file("o.zip", result())}}
    sc.server.set_raw_response(tid, 200, json.dumps(other).encode())
    error = sc.fail(tid, ApiError)
    assert error.code == "InvalidResponse"
    assert f"about task 'cgt-20990101000000-other' when asked about {tid}" in error.message
    assert not (sc.lib_root / "cgt-20990101000000-other").exists() and sc.file_gets() == []


def test_network_plain_http_link_to_remote_host(sc: Scenario, lookups: list[str]) -> None:
    """expected: ConfigError InsecureURL "uses plain http to another computer"; the host is never contacted (not even resolved)."""  # noqa: E501
    tid = sc.server.add_task(extra_fields={"content": {"file_url": "http://files.example.com/r.zip"}})
    error = sc.fail(tid, ConfigError)
    assert error.code == "InsecureURL" and "uses plain http to another computer" in error.user_message()
    assert "files.example.com" not in lookups and sc.file_gets() == []


def test_network_service_stops_while_the_task_is_queued(sc: Scenario) -> None:
    """expected: each poll that fails says what failed and until when it is retried; after the error budget
    the job fails with ConnectionRefused, and the task folder it made (only task.json) is gone."""
    tid = sc.server.add_task(file=sc.server.add_file("result.zip", result()), queued_s=600)
    sc.task_ids.add(tid)
    states: list[JobState] = []

    def watch(state: JobState) -> None:
        states.append(state)
        if state.phase == "queued" and not sc.server.stopping.is_set():
            sc.server.stop()  # the service goes away once the task was seen queued

    error = sc.fail(tid, NetworkError, watch=watch)
    assert error.code == "ConnectionRefused"
    notices = {str(s.text) for s in states if "retrying until" in str(s.text)}
    assert len(notices) == 1, notices  # one outage, one deadline
    assert re.fullmatch(r"The connection to 127\.0\.0\.1:\d+ was refused \(ConnectionRefused\); "
                        r"retrying until \d\d:\d\d:\d\d", notices.pop())
    assert not sc.library.task_dir(tid).exists()
