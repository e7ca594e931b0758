"""Static checks as tests: ruff over the whole tree, mypy over the package.

The configuration lives in ``pyproject.toml``: ruff's rule set (E, F, W, I, B, UP; line length
120; the add-on itself kept Python 3.10-clean for the legacy Blenders), and mypy's (the
bpy-free core strictly typed, the Blender layer checked against fake-bpy-module).  Both run as
subprocesses of this interpreter, so they are the versions pinned in ``requirements-dev.txt``.
"""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    module = args[0]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed in this Python (pip install -r requirements-dev.txt)")
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-20000:]}\n--- stderr ---\n{proc.stderr[-5000:]}"


def test_ruff() -> None:
    proc = _run("ruff", "check", "--no-cache", "--output-format", "concise", "ark3d_addon", "scripts", "tests")
    assert proc.returncode == 0, _explain(proc)


def test_mypy() -> None:
    """``files = ["ark3d_addon"]`` in pyproject.toml; the blender layer needs fake-bpy-module."""
    if not any((pathlib.Path(entry) / "bpy-stubs").is_dir() for entry in sys.path if entry):
        pytest.skip("fake-bpy-module is not installed (pip install -r requirements-dev.txt)")
    proc = _run("mypy", "--config-file", "pyproject.toml")
    assert proc.returncode == 0, _explain(proc)
    assert "Success" in proc.stdout, _explain(proc)
