"""scripts/test.sh's tiers: what each sets up and hands to pytest, and that --help touches nothing.

The script runs in a copy of the checkout's layout whose ``scripts/setup.sh`` and
``.venv/bin/python`` only record how they were called, so the tiers are checked without
installing anything (the real setup takes minutes, and root for the full tier).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RECORDER = '#!/bin/sh\necho "$(basename "$0") tier=${ARK3D_TEST_TIER:-full} $*" >> "{calls}"\n'


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "test.sh", tmp_path / "scripts" / "test.sh")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    for path in (tmp_path / "scripts" / "setup.sh", tmp_path / ".venv" / "bin" / "python"):
        path.write_text(RECORDER.replace("{calls}", str(tmp_path / "calls.txt")))
        path.chmod(0o755)
    return tmp_path


def _run(layout: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "ARK3D_TEST_TIER"}  # this run may be in a tier itself
    proc = subprocess.run(["bash", str(layout / "scripts" / "test.sh"), *args], capture_output=True, text=True,
                          timeout=60, env=env)
    calls = layout / "calls.txt"
    return proc, calls.read_text().splitlines() if calls.exists() else []


def test_help_says_the_tiers_and_sets_nothing_up(layout: Path) -> None:
    proc, calls = _run(layout, "--help")
    assert proc.returncode == 0 and calls == []
    assert "--quick" in proc.stdout and "full suite" in proc.stdout and "root" in proc.stdout


def test_the_quick_tier_sets_up_only_the_venv_and_passes_pytest_arguments(layout: Path) -> None:
    proc, calls = _run(layout, "--quick", "-k", "cli", "-x")
    assert proc.returncode == 0, proc.stderr
    assert calls == ["setup.sh tier=full ", "python tier=quick -m pytest -k cli -x"]


def test_no_tier_is_the_full_suite_with_the_system_and_the_matrix(layout: Path) -> None:
    proc, calls = _run(layout, "-q")
    assert proc.returncode == 0, proc.stderr
    assert calls == ["setup.sh tier=full --system --matrix", "python tier=full -m pytest -q"]
