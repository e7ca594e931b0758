"""ArkClient against the project's Ark-compatible server on loopback: real HTTP."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from ark3d_addon.core.client import ArkClient
from ark3d_addon.core.errors import ApiError, Cancelled, ConfigError, NetworkError
from ark3d_addon.core.settings import Settings
from ark3d_addon.core.task import Status

KEY = "test-key"


def client_for(server, key: str = KEY, **kwargs) -> ArkClient:  # type: ignore[no-untyped-def]
    return ArkClient(Settings(api_key=key, base_url=server.api_base), **kwargs)


def test_status_walks_queued_running_succeeded(ark_server) -> None:  # type: ignore[no-untyped-def]
    url = ark_server.add_file("m.zip", b"PK\x05\x06" + b"\0" * 18)
    tid = ark_server.add_task(file=url, queued_s=0.3, running_s=0.3, times_as_strings=True)
    client = client_for(ark_server)
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        task = client.get_task(tid)
        if not seen or seen[-1] is not task.status:
            seen.append(task.status)
        if task.status.is_final:
            break
        time.sleep(0.05)
    assert seen == [Status.QUEUED, Status.RUNNING, Status.SUCCEEDED]
    assert task.file_url.startswith(ark_server.file_base) and "X-Tos-Signature" in task.file_url
    assert isinstance(task.created_at, int) and task.usage.total_tokens == 30000
    # The key went to Ark as a Bearer token, and only to Ark.
    api = [r for r in ark_server.requests_log if r.server == "api"]
    assert api and all(r.header("Authorization") == f"Bearer {KEY}" for r in api)


def test_bad_key_names_code_request_id_and_where_to_fix(ark_server) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task()
    with pytest.raises(ApiError) as info:
        client_for(ark_server, key="sk-wrong-secret").get_task(tid)
    err = info.value
    assert err.http_status == 401 and err.code == "AuthenticationError" and err.request_id
    message = err.user_message()
    assert err.request_id in message and "Preferences" in message
    assert "sk-wrong-secret" not in message + repr(err.as_dict())
    assert ark_server.count("api") == 1  # 401 is not retried


def test_unknown_task_says_seven_days(ark_server) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiError) as info:
        client_for(ark_server).get_task("cgt-20990101000000-nope0")
    assert info.value.http_status == 404 and "7 days" in info.value.user_message()


@pytest.mark.parametrize(("status", "code", "says", "not_says"), [
    # Ark's 400 content-check codes are about the input, not about a malformed parameter.
    (400, "InputImageSensitiveContentDetected.PrivacyInformation", "try another image", ("parameters named above",)),
    (400, "SensitiveContentDetected", "change the image or the prompt", ("parameters named above",)),
    # Ark's 404 codes of a create name the model, not a task: the hint must not speak of task ids.
    (404, "ModelNotOpen", "activate it in the Ark console", ("task id", "7 days")),
    (404, "InvalidEndpointOrModel.NotFound", "endpoint id", ("task id", "7 days")),
    (404, "InvalidEndpointOrModel.ModelIDAccessDisabled", "use the endpoint id (ep-...) as the model",
     ("task id", "exists in the base URL's region")),
])
def test_a_refused_create_says_what_to_do_about_its_input_or_model(ark_server, status: int, code: str,  # type: ignore[no-untyped-def]
                                                                  says: str, not_says: tuple[str, ...]) -> None:
    ark_server.fail_next(1, status=status, code=code, path_prefix="/api/v3/contents/generations/tasks")
    with pytest.raises(ApiError) as info:
        client_for(ark_server).create_task({"model": "doubao-seed3d-1-0-250928", "content": []})
    message = info.value.user_message()
    assert info.value.code == code and says in message
    assert not any(wrong in message for wrong in not_says), message


def test_429_retry_after_is_honoured(ark_server) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task()
    ark_server.fail_next(2, status=429, code="RateLimitExceeded.EndpointRPMExceeded", retry_after=0.3)
    started = time.monotonic()
    task = client_for(ark_server).get_task(tid)
    assert task.status is Status.SUCCEEDED
    assert time.monotonic() - started >= 0.6
    assert ark_server.count("api") == 3


def test_5xx_burst_gives_up_with_the_code(ark_server) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task()
    ark_server.fail_next(10, status=503, code="ServerOverloaded")
    with pytest.raises(ApiError) as info:
        client_for(ark_server).get_task(tid)
    assert info.value.code == "ServerOverloaded" and info.value.retryable
    assert ark_server.count("api") == 3  # one try and the SDK's two retries


def test_an_overloaded_ark_says_it_is_arks_load_and_that_waiting_helps(ark_server) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task()
    ark_server.fail_next(1, status=429, code="ServerOverloaded")
    with pytest.raises(ApiError) as info:
        client_for(ark_server, max_retries=0).get_task(tid)
    message = info.value.user_message()
    assert "Ark itself is overloaded (its load, not a limit of your account)" in message and "wait" in message
    assert "requests a minute" not in message and info.value.retryable


def test_a_wrong_base_url_path_says_to_check_the_base_url_not_the_task(ark_server) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task()
    wrong = Settings(api_key=KEY, base_url=ark_server.api_base.replace("/api/v3", "/api/v2"))
    with pytest.raises(ApiError) as info:
        ArkClient(wrong).get_task(tid)
    message = info.value.user_message()
    assert info.value.http_status == 404 and "Check the base URL" in message and "/api/v3" in message
    assert "task id" not in message and "7 days" not in message


def test_an_http_error_that_is_not_arks_has_a_code_and_the_base_url_hint(ark_server) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task()
    ark_server.set_raw_response(tid, 404, b"<html>404 page not found</html>", "text/html")
    with pytest.raises(ApiError) as info:
        client_for(ark_server).get_task(tid)
    assert info.value.code == "HTTPError" and "Check the base URL" in info.value.user_message()


def test_invalid_json_is_reported(ark_server) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task()
    ark_server.set_raw_response(tid, 200, b"<html>gateway</html>", "text/html")
    with pytest.raises(ApiError) as info:
        client_for(ark_server).get_task(tid)
    assert info.value.code == "InvalidResponse" and "/api/v3" in info.value.user_message()


def test_invalid_id_makes_no_request(ark_server) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError):
        client_for(ark_server).get_task("../../etc/passwd")
    assert not ark_server.requests_log


def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = ArkClient(Settings(api_key=KEY, base_url=f"http://127.0.0.1:{port}/api/v3"))
    with pytest.raises(NetworkError) as info:
        client.get_task("cgt-1")
    assert info.value.code == "ConnectionRefused" and KEY not in info.value.user_message()


def test_cancel_interrupts_a_retry_wait(ark_server) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task()
    ark_server.fail_next(5, status=429, retry_after=30)
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        client_for(ark_server, cancel=cancel).get_task(tid)
    assert time.monotonic() - started < 1.5


def test_list_create_delete(ark_server) -> None:  # type: ignore[no-untyped-def]
    client = client_for(ark_server)
    done = ark_server.add_task()
    queued = ark_server.add_task(queued_s=60)
    tasks, total = client.list_tasks(page_size=10)
    assert total == 2 and {t.id for t in tasks} == {done, queued}
    only, _ = client.list_tasks(status="queued")
    assert [t.id for t in only] == [queued]
    client.delete_task(queued)
    assert client.get_task(queued).status is Status.CANCELLED
    body = {"model": "doubao-seed3d-1-0-250928", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "text", "text": "--subdivisionlevel low --fileformat obj"}]}
    new_id = client.create_task(body)
    assert new_id.startswith("cgt-")


def test_create_is_never_retried_blindly(ark_server) -> None:  # type: ignore[no-untyped-def]
    ark_server.fail_next(1, status=500)
    body = {"model": "doubao-seed3d-1-0-250928", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}
    with pytest.raises(ApiError):
        client_for(ark_server).create_task(body)
    assert ark_server.count("api", "POST") == 1


@pytest.mark.parametrize(("code", "says"), [
    ("QuotaExceeded", "a plan's 5-hour, weekly or monthly quota is spent, or too many of your tasks are queued"),
    ("SetLimitExceeded", "the cap your account set in Safe Experience Mode: raise it or turn Safe Experience Mode off"),
])
def test_a_429_for_a_quota_or_the_spending_cap_says_which_and_is_not_retried(ark_server, code: str,  # type: ignore[no-untyped-def]
                                                                             says: str) -> None:
    tid = ark_server.add_task()
    ark_server.fail_next(1, status=429, code=code)
    with pytest.raises(ApiError) as info:
        client_for(ark_server).get_task(tid)
    assert info.value.code == code and says in info.value.user_message(), info.value.user_message()
    assert not info.value.retryable and ark_server.count("api") == 1


def test_a_429_for_the_request_rate_says_so(ark_server) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task()
    ark_server.fail_next(1, status=429, code="ModelAccountRpmRateLimitExceeded")
    with pytest.raises(ApiError) as info:
        client_for(ark_server, max_retries=0).get_task(tid)
    assert "The limit hit is the number of requests a minute" in info.value.user_message()
    assert info.value.retryable
