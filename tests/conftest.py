"""Shared fixtures: a local Ark server per test, and the demo result zips built once with real Blender."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import sys
from collections.abc import Iterator

import pytest

from ark_server import ArkServer  # scripts/, on the path through pyproject.toml's pytest pythonpath

REPO = pathlib.Path(__file__).resolve().parents[1]

DEMO_ASSETS = REPO / ".cache" / "demo_assets"


#: ``scripts/test.sh --quick`` sets this: the tier that needs only ``.venv`` (no root, no matrix).
QUICK_TIER = os.environ.get("ARK3D_TEST_TIER") == "quick"
#: What the quick tier leaves out, by marker, and why (the full tier, ``scripts/test.sh``, runs it).
LEFT_OUT_OF_QUICK = {
    "window": "the quick tier (scripts/test.sh --quick) leaves out the real-window tests: scripts/test.sh runs them",
    "system_blender": "the quick tier (scripts/test.sh --quick) leaves out Debian's blender: scripts/test.sh runs it",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the quick tier, skip (with the reason, never silently deselect) what needs the full tier's setup."""
    if not QUICK_TIER:
        return
    for item in items:
        for marker, why in LEFT_OUT_OF_QUICK.items():
            if item.get_closest_marker(marker) is not None:
                item.add_marker(pytest.mark.skip(reason=why))
                break


@pytest.fixture(autouse=True)
def _own_rate_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own, generous process-wide rate limiter.

    The real one (300 requests a minute, as Ark allows) is shared by the whole process, so
    without this the tests' requests would add up and throttle whichever test came later.
    tests/core/test_rate_limit.py checks the limiter itself.
    """
    from ark3d_addon.core import client

    monkeypatch.setattr(client, "RATE_LIMITER", client.RateLimiter(per_minute=600_000, burst=10_000))


@pytest.fixture
def ark_server() -> Iterator[ArkServer]:
    """A started server (API key ``test-key``), stopped after the test even if it failed."""
    with ArkServer() as server:
        yield server


@pytest.fixture(scope="session")
def demo_assets() -> pathlib.Path:
    """The folder holding ``seed3d_*.zip``; built with Blender unless already up to date.

    The build runs in a subprocess so this test process never loads bpy itself; without bpy,
    zips left by an earlier build are still used.
    """
    if importlib.util.find_spec("bpy") is not None:
        result = subprocess.run([sys.executable, str(REPO / "scripts" / "make_demo_assets.py"), str(DEMO_ASSETS)],
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            pytest.fail(f"make_demo_assets.py failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    elif not any(DEMO_ASSETS.glob("seed3d_*.zip")):
        pytest.skip("bpy is not importable and no demo assets were built before")
    return DEMO_ASSETS


FORMAT_ASSETS = REPO / ".cache" / "format_assets"


@pytest.fixture(scope="session")
def format_assets() -> pathlib.Path:
    """FBX, STL, PLY and USD results written by Blender's exporters (tests/blender/format_assets.py).

    Built once in a subprocess (this process never loads bpy), reused while newer than the script.
    """
    script = REPO / "tests" / "blender" / "format_assets.py"
    stamp = FORMAT_ASSETS / "fbx.zip"
    if stamp.is_file() and stamp.stat().st_mtime >= script.stat().st_mtime:
        return FORMAT_ASSETS
    if importlib.util.find_spec("bpy") is None:
        pytest.skip("bpy is not importable and no format assets were built before")
    result = subprocess.run([sys.executable, str(script), str(FORMAT_ASSETS)], capture_output=True, text=True,
                            timeout=600, cwd=script.parent)
    if result.returncode != 0:
        pytest.fail(f"format_assets.py failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return FORMAT_ASSETS


@pytest.fixture(scope="session")
def extension_zip(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """``scripts/build.py``'s ``build()``: the zip a user downloads, validated by Blender's tool.

    Built once per session for every suite that installs it (the ``bpy`` matrix, sid's window).
    """
    import build  # scripts/build.py

    try:
        return pathlib.Path(build.build(tmp_path_factory.mktemp("dist")))
    except SystemExit as exc:
        pytest.fail(f"scripts/build.py failed: {exc}")
