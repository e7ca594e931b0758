"""Check Connection names the failing layer: DNS, TCP, authentication."""

from __future__ import annotations

import socket

import pytest

from ark3d_addon.core.diagnose import _without_password, check_connection
from ark3d_addon.core.net import NETWORK_RULES
from ark3d_addon.core.settings import Settings


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_all_layers_pass_against_the_local_server(ark_server) -> None:  # type: ignore[no-untyped-def]
    checks = check_connection(Settings(api_key="test-key", base_url=ark_server.api_base))
    assert [c.name for c in checks] == ["proxy", "dns", "tcp", "auth"]
    assert all(c.ok for c in checks), checks


def test_bad_key_fails_at_auth_with_the_code(ark_server) -> None:  # type: ignore[no-untyped-def]
    checks = check_connection(Settings(api_key="wrong", base_url=ark_server.api_base))
    assert checks[-1].name == "auth" and not checks[-1].ok
    error = checks[-1].error
    assert error is not None and error.code == "AuthenticationError" and "wrong" not in error.user_message()


def test_dns_failure_stops_at_dns() -> None:
    checks = check_connection(Settings(api_key="k", base_url="https://ark.does-not-exist.invalid/api/v3"))
    assert checks[-1].name == "dns" and not checks[-1].ok and "resolve" in str(checks[-1].message)


def test_refused_port_stops_at_tcp() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    checks = check_connection(Settings(api_key="k", base_url=f"http://127.0.0.1:{port}/api/v3"))
    assert checks[-1].name == "tcp" and not checks[-1].ok and "refused" in str(checks[-1].message)
    assert str(checks[-1].message) == f"The connection to 127.0.0.1:{port} was refused"


@pytest.mark.parametrize(("base_url", "code"), [("https://ark.does-not-exist.invalid/api/v3", "DNSFailure"),
                                                ("http://127.0.0.1:9/api/v3", "ConnectionRefused")])
def test_a_failing_layer_is_worded_by_the_same_rules_as_a_failed_request(base_url: str, code: str) -> None:
    error = check_connection(Settings(api_key="k", base_url=base_url))[-1].error
    assert error is not None and error.code == code
    assert error.hint == next(rule.hint for rule in NETWORK_RULES if rule.code == code)


def test_proxy_from_the_environment_is_named(ark_server, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HTTP_PROXY", "http://user:pw@127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    checks = check_connection(Settings(api_key="test-key", base_url=ark_server.api_base))
    assert checks[0].name == "proxy" and "127.0.0.1:9" in str(checks[0].message) and "pw" not in str(checks[0].message)
    assert checks[-1].name == "tcp" and not checks[-1].ok


def test_missing_key_is_named() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        checks = check_connection(Settings(api_key="", base_url=f"http://127.0.0.1:{port}/api/v3"))
    assert checks[-1].name == "auth" and "No API key" in str(checks[-1].message)


def test_a_short_proxy_password_is_masked_where_it_stands_only() -> None:
    assert _without_password("http://u:x@proxy:8080") == "http://u:***@proxy:8080"
    assert _without_password("u:x@proxy:3128") == "u:***@proxy:3128"
    assert _without_password("http://proxy:8080") == "http://proxy:8080"
