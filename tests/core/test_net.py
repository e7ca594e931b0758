"""The network's failures told apart, Retry-After and the backoff curve (core/net.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests
import urllib3

from ark3d_addon.core.net import backoff, describe_network_error, retry_after_seconds

REPO = Path(__file__).resolve().parents[2]


def test_backoff_doubles_and_caps_with_jitter() -> None:
    for attempt, cap in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        samples = [backoff(attempt) for _ in range(50)]
        assert all(cap / 2 <= s <= cap for s in samples)
        assert len(set(samples)) > 1


@pytest.mark.parametrize(("value", "expected"), [("2", 2.0), ("0.5", 0.5), ("-3", 0.0), ("9999", 60.0),
                                                 ("soon", None), (None, None)])
def test_retry_after_parsing(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value) == expected


def test_certificate_problem_message() -> None:
    exc = requests.exceptions.SSLError(
        urllib3.exceptions.MaxRetryError(
            None,  # type: ignore[arg-type]
            "/r.zip",
            urllib3.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
        )
    )
    error = describe_network_error(exc, "https://files.example.com/r.zip")
    assert error.message == "The certificate of files.example.com could not be verified"
    assert "REQUESTS_CA_BUNDLE" in str(error.hint) and "CA bundle" in str(error.hint)
    assert not error.retryable


def test_other_network_errors_are_told_apart() -> None:
    url = "https://files.example.com/r.zip"
    proxy = describe_network_error(requests.exceptions.ProxyError("Unable to connect to proxy"), url)
    assert proxy.code == "ProxyError" and "proxy" in proxy.message.lower()
    connect = describe_network_error(requests.exceptions.ConnectTimeout("timed out"), url)
    assert connect.code == "ConnectTimeout" and "timed out" in connect.message
    read = describe_network_error(requests.exceptions.ReadTimeout("read timed out"), url)
    assert read.code == "ReadTimeout"
    reset = describe_network_error(requests.exceptions.ConnectionError(ConnectionResetError(104, "reset")), url)
    assert reset.code == "ConnectionReset"


def test_the_core_imports_without_requests() -> None:
    """Enabling the add-on imports the core; requests (about 90 ms) waits for the first request."""
    code = ("import sys\n"
            "import ark3d_addon.cli, ark3d_addon.core.diagnose, ark3d_addon.core.job, ark3d_addon.core.tasklist\n"
            "loaded = sorted(m for m in ('requests', 'urllib3') if m in sys.modules)\n"
            "assert not loaded, loaded\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=60)
