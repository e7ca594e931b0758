"""A company CA without the keyUsage extension as the add-on's CA Bundle, in each Blender of the
matrix: the import (API calls and download) and Check Connection work through it.

Blender 5.1 and later run Python 3.13, whose default TLS context is strict
(``VERIFY_X509_STRICT``) and refuses such a CA; the session checks that this Blender's Python
does refuse it (3.13) or accept it (3.11), so on 5.1+ the import proves the add-on's answer
(core/tls.py: the user's own bundle is trusted without that one flag).  The same scenarios with
the strict checks forced on any Python: tests/scenarios/test_company_ca.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from ark_server import ArkServer
from harness import BlenderPython, Scenario, session
from tests.scenarios.support import company_ca_chain, server_context

pytestmark = pytest.mark.blender

KEY = "ark-ca-" + secrets.token_hex(16)
KEY_USAGE = "CA cert does not include key usage extension"


@pytest.fixture(scope="module")
def company(blender_python: BlenderPython, extension_zip: Path, demo_assets: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    ca, cert, key = company_ca_chain(tmp_path_factory.mktemp("company-ca"))
    with ArkServer(api_key=KEY, ssl_context=server_context(cert, key)) as server:
        glb = server.add_file("seed3d_glb.zip", demo_assets / "seed3d_glb.zip")
        ids = {"glb": server.add_task(file=glb, fileformat="glb")}
        sc = Scenario(ids, server, tmp_path_factory.mktemp(f"company-ca-{blender_python.id}-"))
        with session(sc, sc.root, {}, blender_python.python, script="ui_session.py") as blender:
            sc.run(blender, "install", "install", zip_path=str(extension_zip))
            sc.run(blender, "python", "default_tls", ca_path=str(ca), port=urlparse(server.api_base).port)
            sc.run(blender, "prefs", "prefs", region="CUSTOM", custom_base_url=server.api_base, api_key=KEY,
                   ca_bundle=str(ca))
            sc.run(blender, "import", "import", task_id=ids["glb"])
            sc.run(blender, "check", "check_connection")
        yield sc


def test_this_blenders_python_refuses_the_ca_only_when_strict(company: Scenario) -> None:
    step = company.step("python")
    if tuple(step["python"]) >= (3, 13):
        assert step["strict"] and step["result"] == KEY_USAGE, step
    else:
        assert not step["strict"] and step["result"] == "ok", step


def test_import_over_https_through_the_company_ca(company: Scenario) -> None:
    step = company.step("import")
    assert company.server.api_base.startswith("https://")
    assert step["error"] is None and step["result"] == ["FINISHED"], step
    assert step["objects"], step
    assert company.server.count("file", "GET") == 1


def test_check_connection_through_the_company_ca(company: Scenario) -> None:
    step = company.step("check")
    checks = [(c["name"], c["ok"]) for c in step["checks"]]
    assert checks == [("proxy", True), ("dns", True), ("tcp", True), ("tls", True), ("auth", True)], step
