"""A create that fails midway is resolved from the task list, never retried blindly."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest

from ark3d_addon.core.client import ArkClient
from ark3d_addon.core.create import create_body, submit_create
from ark3d_addon.core.errors import ApiError, ArkError
from ark3d_addon.core.messages import msg
from ark3d_addon.core.settings import Settings
from tests.scenarios.support import HelperServer

BODY = create_body("doubao-seed3d-1-0-250928", ["data:image/png;base64,iVBORw0KGgo="],
                   params={"--fileformat": "obj"})


def client_for(server) -> ArkClient:  # type: ignore[no-untyped-def]
    return ArkClient(Settings(api_key="test-key", base_url=server.api_base))


def test_plain_create_returns_the_new_id(ark_server) -> None:  # type: ignore[no-untyped-def]
    tid = submit_create(client_for(ark_server), BODY)
    assert tid.startswith("cgt-") and ark_server.count("api", "POST") == 1


def test_5xx_before_anything_was_made_is_reported_not_retried(ark_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("ark3d_addon.core.create.LOOKUP_WAIT_S", 0.05)

    def fail(self: ArkClient, body: dict[str, object]) -> str:
        raise ApiError(msg("Service overloaded"), code="ServerOverloaded", http_status=503, request_id="req-1")

    monkeypatch.setattr(ArkClient, "create_task", fail)
    with pytest.raises(ArkError) as info:
        submit_create(client_for(ark_server), BODY)
    message = info.value.user_message()
    assert "nothing is charged" in message and "ServerOverloaded" in message and "req-1" in message
    assert ark_server.count("api", "GET") == 3  # the list before, and two looks after


def test_lost_answer_is_recovered_from_the_task_list(ark_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The POST made a task but its answer was lost (a 5xx from a gateway after the fact)."""
    client = client_for(ark_server)
    real_create = ArkClient.create_task

    def create_then_fail(self: ArkClient, body: dict[str, object]) -> str:
        real_create(self, body)
        raise ApiError(msg("Bad gateway"), code="InternalServiceError", http_status=502)

    monkeypatch.setattr(ArkClient, "create_task", create_then_fail)
    tid = submit_create(client, BODY)
    assert tid.startswith("cgt-")
    assert ark_server.count("api", "POST") == 1
    assert client.get_task(tid).id == tid


def test_a_definite_refusal_is_raised_as_is(ark_server) -> None:  # type: ignore[no-untyped-def]
    bad = dict(BODY, model="doubao-pro-32k-241215")
    with pytest.raises(ApiError) as info:
        submit_create(client_for(ark_server), bad)
    assert info.value.http_status == 404 and ark_server.count("api", "POST") == 1


def test_a_create_answered_without_an_id_says_a_task_may_have_been_made() -> None:
    """200 without ``id``: Ark may have made (and will charge) a task; the user must look before
    creating again, and the message must say so."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        body = b'{"status": "queued"}'
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    server = HelperServer(answer, "no-id")
    try:
        client = ArkClient(Settings(api_key="test-key", base_url=server.base + "/api/v3"))
        with pytest.raises(ApiError) as info:
            client.create_task(BODY)
    finally:
        server.stop()
    message = info.value.user_message()
    assert "sent no id" in message and "Tasks list before creating it again" in message
    assert [seen.method for seen in server.seen] == ["POST"]
