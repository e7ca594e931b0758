"""A company CA without the keyUsage extension, under the strict certificate checks of Python 3.13.

Python 3.13 (the Python of Blender 5.1 and later) and urllib3 2.3+ on it verify with
``VERIFY_X509_STRICT``, which refuses such a CA; Python 3.11 does not.  Here the strict checks
are forced on (``strict_checks``: both Python's default context and urllib3's get the flag), so
the scenarios run, and can fail, on this 3.11 machine; on a 3.13 Python they are what happens
anyway.  tests/blender/test_company_ca.py runs the import in each Blender of the matrix (5.1+
on the real Python 3.13).

The add-on's answer (core/tls.py, README "Troubleshooting"): the user's own CA bundle is
trusted without that one flag, the system's store keeps it, and a failure says OpenSSL's reason.
"""

from __future__ import annotations

import os
import socket
import ssl
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import urllib3.connection

from ark3d_addon.core import tls
from ark3d_addon.core.diagnose import check_connection
from ark3d_addon.core.errors import ConfigError, NetworkError
from ark3d_addon.core.settings import Settings
from ark_server import ArkServer

from .support import KEY, Scenario, company_ca_chain, glb, server_context, zip_bytes

RESULT = zip_bytes([("model/m.glb", glb())], zipfile.ZIP_STORED)
KEY_USAGE = "CA cert does not include key usage extension"  # OpenSSL's words


@pytest.fixture(scope="module")
def company_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return company_ca_chain(tmp_path_factory.mktemp("company-ca"))


@pytest.fixture
def inspected(company_ca: tuple[Path, Path, Path]) -> Iterator[ArkServer]:
    """The Ark server and its file host behind the company's TLS inspection: certificates signed by its CA."""
    with ArkServer(api_key=KEY, ssl_context=server_context(company_ca[1], company_ca[2])) as ark:
        yield ark


@pytest.fixture
def strict_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.13's defaults on any Python: ``VERIFY_X509_STRICT`` in ``ssl.create_default_context``
    and in the context urllib3 makes for requests when it is given none."""
    make_default = ssl.create_default_context
    make_urllib3 = urllib3.connection.create_urllib3_context

    def default_context(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = make_default(*args, **kwargs)
        context.verify_flags |= ssl.VERIFY_X509_STRICT
        return context

    def urllib3_context(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = make_urllib3(*args, **kwargs)
        context.verify_flags |= ssl.VERIFY_X509_STRICT
        return context

    monkeypatch.setattr(ssl, "create_default_context", default_context)
    monkeypatch.setattr(urllib3.connection, "create_urllib3_context", urllib3_context)


def handshake(context: ssl.SSLContext, server: ArkServer) -> str:
    """"ok", or OpenSSL's reason for refusing the server's certificate."""
    port = urlparse(server.api_base).port
    assert port is not None
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            with context.wrap_socket(sock, server_hostname="127.0.0.1"):
                return "ok"
    except ssl.SSLCertVerificationError as exc:
        return str(exc.verify_message)


def test_the_company_ca_is_refused_by_the_strict_checks_alone(company_ca: tuple[Path, Path, Path],
                                                              inspected: ArkServer) -> None:
    """The fixture reproduces the problem: strict, the CA is refused for its missing keyUsage;
    without the flag (Python 3.11's default) the same chain verifies."""
    ca = str(company_ca[0])
    strict = ssl.create_default_context(cafile=ca)
    strict.verify_flags |= ssl.VERIFY_X509_STRICT
    assert handshake(strict, inspected) == KEY_USAGE
    relaxed = ssl.create_default_context(cafile=ca)
    relaxed.verify_flags &= ~ssl.VERIFY_X509_STRICT
    assert handshake(relaxed, inspected) == "ok"
    if sys.version_info < (3, 13):
        assert handshake(ssl.create_default_context(cafile=ca), inspected) == "ok"
    else:
        assert handshake(ssl.create_default_context(cafile=ca), inspected) == KEY_USAGE


@pytest.mark.parametrize("where", ["preference", "ARK3D_CA_BUNDLE", "REQUESTS_CA_BUNDLE"])
def test_import_through_the_company_ca_as_the_users_bundle(sc: Scenario, inspected: ArkServer, strict_checks: None,
                                                           company_ca: tuple[Path, Path, Path], where: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The API calls and the download verify against the user's bundle, without the strict flag."""
    sc.server = inspected
    tid = inspected.add_task(file=inspected.add_file("r.zip", RESULT))
    ca = str(company_ca[0])
    if where == "preference":
        settings = sc.settings(base_url=inspected.api_base, ca_bundle=ca)
    elif where == "ARK3D_CA_BUNDLE":
        settings = Settings.resolve(api_key=KEY, base_url=inspected.api_base, poll_interval=0.1,
                                    environ={"ARK3D_CA_BUNDLE": ca})
    else:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca)
        settings = sc.settings(base_url=inspected.api_base)
    assert sc.run(tid, settings=settings).model.path.name == "m.glb"
    assert inspected.count("file", "GET") == 1


def test_check_connection_through_the_company_ca(sc: Scenario, inspected: ArkServer, strict_checks: None,
                                                 company_ca: tuple[Path, Path, Path]) -> None:
    checks = check_connection(sc.settings(base_url=inspected.api_base, ca_bundle=str(company_ca[0])))
    assert [(c.name, c.ok) for c in checks] == [("proxy", True), ("dns", True), ("tcp", True), ("tls", True),
                                                ("auth", True)], checks


def test_the_system_store_keeps_the_strict_checks_and_names_the_reason(
    sc: Scenario, inspected: ArkServer, strict_checks: None, company_ca: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same CA in the system's store (OpenSSL's SSL_CERT_FILE) is not relaxed: Check Connection
    fails at TLS with OpenSSL's exact reason and says where to put the CA instead."""
    monkeypatch.setenv("SSL_CERT_FILE", str(company_ca[0]))
    assert tls.user_ca_bundle(True) == ""
    checks = check_connection(sc.settings(base_url=inspected.api_base))
    assert [(c.name, c.ok) for c in checks][-1] == ("tls", False), checks
    error = checks[-1].error
    assert error is not None and error.code == "TLSCertificate", checks[-1]
    assert KEY_USAGE in str(checks[-1].message) and "CA bundle setting" in error.user_message(), checks[-1]
    assert inspected.requests_log == []


def test_the_host_name_is_still_checked(sc: Scenario, tmp_path_factory: pytest.TempPathFactory,
                                       strict_checks: None) -> None:
    """A certificate of the company CA made out to another host is refused through the bundle."""
    ca, cert, key = company_ca_chain(tmp_path_factory.mktemp("other-host"), names="DNS:ark.example.com")
    with ArkServer(api_key=KEY, ssl_context=server_context(cert, key)) as other:
        sc.server = other
        tid = other.add_task(file=other.add_file("r.zip", RESULT))
        error = sc.fail(tid, NetworkError, settings=sc.settings(base_url=other.api_base, ca_bundle=str(ca)))
        assert error.code == "TLSCertificate", error
        assert "could not be verified (hostname '127.0.0.1' doesn't match 'ark.example.com')" in \
            error.user_message(), error.user_message()
        assert other.requests_log == []


def test_a_refused_download_says_openssls_reason(sc: Scenario, inspected: ArkServer, strict_checks: None) -> None:
    """With no bundle of the user's (requests' own store, which does not know the company CA)."""
    sc.server = inspected
    tid = inspected.add_task(file=inspected.add_file("r.zip", RESULT))
    error = sc.fail(tid, NetworkError, settings=sc.settings(base_url=inspected.api_base))
    assert error.code == "TLSCertificate", error
    assert "The certificate of 127.0.0.1 could not be verified (unable to get local issuer certificate)" in \
        error.user_message(), error.user_message()
    assert "CA bundle setting" in str(error.hint)
    assert inspected.requests_log == []


def test_an_unreadable_bundle_is_refused_before_any_request(sc: Scenario, inspected: ArkServer,
                                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    sc.server = inspected
    tid = inspected.add_task(file=inspected.add_file("r.zip", RESULT))
    folder = tmp_path_factory.mktemp("bundles")  # outside the scenario's folder, as a user's file is
    not_pem = folder / "company-ca.pem"
    not_pem.write_text("not a certificate\n", encoding="utf-8")
    for bundle in (str(folder / "missing.pem"), str(not_pem)):
        error = sc.fail(tid, ConfigError, settings=sc.settings(base_url=inspected.api_base, ca_bundle=bundle))
        assert error.code == "CABundleUnusable" and bundle in error.message, error
        assert "PEM file" in str(error.hint)
        checks = check_connection(sc.settings(base_url=inspected.api_base, ca_bundle=bundle))
        assert checks[-1].name == "tls" and not checks[-1].ok and bundle in str(checks[-1].message), checks
    assert inspected.requests_log == []
    assert os.environ.get("REQUESTS_CA_BUNDLE") is None
