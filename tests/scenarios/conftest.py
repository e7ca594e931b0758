"""Fixtures of the hostile scenarios: a server knowing the distinctive key, and the invariants."""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ark3d_addon.core import net
from ark_server import ArkServer

from .support import KEY, HelperServer, Scenario, self_signed_cert, server_context


@pytest.fixture
def server() -> Iterator[ArkServer]:
    """The project's Ark-compatible server, expecting the scenario key."""
    with ArkServer(api_key=KEY) as ark:
        yield ark


@pytest.fixture(autouse=True)
def no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scenarios talk to loopback servers: a proxy set on the CI machine must not get in between."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name in ("ARK_API_KEY", "ARK_BASE_URL", "ARK3D_LIBRARY", "ARK3D_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Download retries without the real 0.5..8 s backoff (the curve is tested in tests/core)."""
    monkeypatch.setattr(net, "backoff", lambda attempt: 0.05)


@pytest.fixture
def sc(tmp_path: Path, server: ArkServer, capfd: pytest.CaptureFixture[str],
       caplog: pytest.LogCaptureFixture) -> Iterator[Scenario]:
    """The scenario's world; after the test, every invariant of support.Scenario is asserted."""
    caplog.set_level(logging.DEBUG)  # urllib3 and requests log every request at DEBUG
    scenario = Scenario(tmp_path, server)
    yield scenario
    out, err = capfd.readouterr()
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}"
        for when in ("setup", "call")
        for record in caplog.get_records(when)
    )
    problems = scenario.problems("\n".join([out, err, logged]))
    scenario.stop_jobs()
    assert not problems, "invariants broken:\n" + "\n".join(problems)


@pytest.fixture
def helpers() -> Iterator[list[HelperServer]]:
    """Helper servers a scenario starts (redirector, proxy): stopped after it."""
    started: list[HelperServer] = []
    yield started
    for helper in started:
        helper.stop()


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host name resolved during the test: proves a refused address was never contacted."""
    seen: list[str] = []
    real = socket.getaddrinfo

    def recording(host: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(host.decode() if isinstance(host, bytes) else str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    return seen


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and its key), made once with openssl."""
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[ArkServer]:
    """The Ark server and its file host over https, with the self-signed certificate."""
    context: ssl.SSLContext = server_context(*certificate)
    with ArkServer(api_key=KEY, ssl_context=context) as ark:
        yield ark
