"""Where the key comes from, where it goes (only to the configured API host), and proxies.

Every scenario here also runs the key checks of support.Scenario: the key is in no error,
state, output, log, library file, nor in any request the file host received.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ark3d_addon.core.errors import ApiError, ConfigError
from ark3d_addon.core.settings import Settings
from ark_server import ArkServer

from .support import KEY, HelperServer, Scenario, forwarding_proxy, glb, zip_bytes

RESULT = zip_bytes([("model/m.glb", glb())])


def api_auth(server: ArkServer) -> set[str | None]:
    return {r.header("Authorization") for r in server.requests_log if r.server == "api"}


def file_auth(server: ArkServer) -> set[str | None]:
    return {r.header("Authorization") for r in server.requests_log if r.server == "file"}


def test_credentials_key_from_environment(sc: Scenario) -> None:
    """expected: ARK_API_KEY is used (over an empty preference): the import succeeds, the key goes to the API host only."""  # noqa: E501
    tid = sc.serve(RESULT)
    settings = Settings.resolve(base_url=sc.server.api_base, poll_interval=0.1, environ={"ARK_API_KEY": KEY})
    sc.run(tid, settings=settings)
    assert api_auth(sc.server) == {f"Bearer {KEY}"} and file_auth(sc.server) == {None}


def test_credentials_key_from_preferences(sc: Scenario) -> None:
    """expected: the key of the add-on preferences is used when ARK_API_KEY is unset: the import succeeds."""
    tid = sc.serve(RESULT)
    settings = Settings.resolve(api_key=KEY, base_url=sc.server.api_base, poll_interval=0.1, environ={})
    sc.run(tid, settings=settings)
    assert api_auth(sc.server) == {f"Bearer {KEY}"} and file_auth(sc.server) == {None}


def test_credentials_missing_key(sc: Scenario) -> None:
    """expected: ConfigError MissingAPIKey "No Ark API key is set", hint names the preferences and ARK_API_KEY; no request."""  # noqa: E501
    tid = sc.serve(RESULT)
    settings = Settings.resolve(base_url=sc.server.api_base, environ={})
    error = sc.fail(tid, ConfigError, settings=settings)
    assert error.code == "MissingAPIKey" and "No Ark API key is set" in error.user_message()
    assert "Preferences" in str(error.hint) and "ARK_API_KEY" in str(error.hint)
    assert sc.server.requests_log == []


def test_credentials_wrong_key(sc: Scenario) -> None:
    """expected: ApiError HTTP 401 AuthenticationError with the request id, hint "Check the API key"; asked once, never retried; the wrong key is not shown either."""  # noqa: E501
    wrong = "sk-wrong-key-456"
    sc.secrets.add(wrong)
    tid = sc.serve(RESULT)
    error = sc.fail(tid, ApiError, settings=sc.settings(api_key=wrong))
    assert error.http_status == 401 and error.code == "AuthenticationError"
    assert error.request_id and error.request_id in error.user_message()
    assert str(error.hint).startswith("Check the API key")
    assert sc.server.count("api") == 1


def test_credentials_key_echoed_by_the_server(sc: Scenario) -> None:
    """expected: a gateway quoting the key in its error body is shown with "***" instead of the key (job, CLI and CLI --json)."""  # noqa: E501
    body = {"error": {"code": "AuthenticationError", "message": f"The API key {KEY} is invalid (Bearer {KEY})"}}
    sc.server.set_raw_response("cgt-20251124123456-abcde", 401, json.dumps(body).encode())
    error = sc.fail("cgt-20251124123456-abcde", ApiError)
    assert "The API key *** is invalid (Bearer ***)" in error.user_message()
    for args in (["status"], ["--json", "status"]):  # the CLI prints the client's error directly
        proc = sc.cli(*args, "cgt-20251124123456-abcde")
        assert proc.returncode == 1 and "The API key *** is invalid" in proc.stdout + proc.stderr


def test_credentials_key_pasted_as_base_url(sc: Scenario) -> None:
    """expected: ConfigError InvalidBaseURL "is not a web address", without echoing the pasted text."""
    error = sc.refused(ConfigError, lambda: Settings.resolve(api_key="", base_url=KEY, environ={}))
    assert error.code == "InvalidBaseURL" and "not a web address" in error.message


def test_credentials_http_proxy_honoured(sc: Scenario, helpers: list[HelperServer],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """expected: with HTTP_PROXY set (NO_PROXY unset) both the API query and the download go through the proxy; the download carries no Authorization."""  # noqa: E501
    proxy = forwarding_proxy()
    helpers.append(proxy)
    monkeypatch.setenv("HTTP_PROXY", proxy.base)
    tid = sc.serve(RESULT)
    sc.run(tid)
    api = [s for s in proxy.seen if s.target.startswith(sc.server.api_base)]
    files = [s for s in proxy.seen if s.target.startswith(sc.server.file_base)]
    assert api and files and len(api) + len(files) == len(proxy.seen)
    assert all(s.header("Authorization") is None for s in files)
    assert len(sc.server.requests_log) == len(proxy.seen)  # everything the server saw came through the proxy


def test_credentials_no_proxy_bypasses(sc: Scenario, helpers: list[HelperServer],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """expected: with HTTP_PROXY set and NO_PROXY=127.0.0.1 the proxy sees nothing and the import succeeds."""
    proxy = forwarding_proxy()
    helpers.append(proxy)
    monkeypatch.setenv("HTTP_PROXY", proxy.base)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    sc.run(sc.serve(RESULT))
    assert proxy.seen == []


def test_credentials_https_proxy_tunnels(sc: Scenario, helpers: list[HelperServer], tls_server: ArkServer,
                                         certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """expected: with HTTPS_PROXY set, https goes through CONNECT tunnels: the proxy sees only host:port, never a header or the key."""  # noqa: E501
    proxy = forwarding_proxy()
    helpers.append(proxy)
    monkeypatch.setenv("HTTPS_PROXY", proxy.base)
    sc.server = tls_server
    tid = tls_server.add_task(file=tls_server.add_file("r.zip", RESULT))
    sc.run(tid, settings=sc.settings(base_url=tls_server.api_base, ca_bundle=str(certificate[0])))
    ports = {tls_server.api_base.split(":")[2].split("/")[0], tls_server.file_base.rsplit(":", 1)[1]}
    assert proxy.seen and {s.method for s in proxy.seen} == {"CONNECT"}
    assert {s.target for s in proxy.seen} == {f"127.0.0.1:{port}" for port in ports}
    assert all(KEY not in json.dumps(s.headers) for s in proxy.seen)
