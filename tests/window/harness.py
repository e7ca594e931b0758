"""The pytest side of ``tests/window``: one Blender with a window, under Xvfb, driven by a driver script.

Blender gets a clean environment (Debian's Blender uses the system Python and loses its
dist-packages when started from a venv), a throw-away HOME, and the add-on as a legacy add-on
through ``BLENDER_USER_SCRIPTS``; it runs under a hard ``timeout``, and the driver's JSON report
is read back.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: Run before each driver: ``--python`` does not put the driver's folder on ``sys.path``, and the
#: drivers import ``driver_common`` from it.
DRIVER_PATH = f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})"
#: The add-on folder Blender loads; ARK3D_WINDOW_ADDON points these tests at another copy.
ADDON = Path(os.environ.get("ARK3D_WINDOW_ADDON") or REPO / "ark3d_addon")
SHOTS = REPO / "docs" / "screenshots"
BLENDER = shutil.which("blender")
XVFB_RUN = shutil.which("xvfb-run")
API_KEY = "window-test-key"
#: Hard limit for one Blender run (the test itself must stay under 60 s).
BLENDER_TIMEOUT = 50

#: Every module of real-window tests carries these.
WINDOW_MARKS = [
    pytest.mark.window,
    pytest.mark.skipif(BLENDER is None, reason="needs a 'blender' executable (Blender 3.4+)"),
    pytest.mark.skipif(XVFB_RUN is None, reason="needs xvfb-run for a virtual display"),
]


def clean_env(tmp: Path, server, library: Path) -> dict[str, str]:
    """Nothing of this venv: Debian's Blender must find the system Python's packages."""
    scripts = tmp / "scripts"
    (scripts / "addons").mkdir(parents=True, exist_ok=True)
    link = scripts / "addons" / "ark3d_addon"
    if not link.exists():
        link.symlink_to(ADDON, target_is_directory=True)
    (tmp / "home").mkdir(exist_ok=True)
    (tmp / "tmp").mkdir(exist_ok=True)
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp / "home"),
        "TMPDIR": str(tmp / "tmp"),
        "LANG": "C.UTF-8",
        "BLENDER_USER_SCRIPTS": str(scripts),
        "ARK_API_KEY": API_KEY,
        "ARK_BASE_URL": server.api_base,
        "ARK3D_LIBRARY": str(library),
    }


def blender_env(tmp: Path, server) -> dict[str, str]:
    """The clean environment, with the add-on's library in ``tmp/library``."""
    library = tmp / "library"
    library.mkdir(exist_ok=True)
    return clean_env(tmp, server, library)


def run_driver_script(driver: Path, config: Path, env: dict[str, str]) -> tuple[str, int]:
    """Blender (in its own process group) runs ``driver`` with ``config``; its output and exit code."""
    cmd = [
        "timeout",
        "-k",
        "5",
        str(BLENDER_TIMEOUT),
        XVFB_RUN,
        "-a",
        "-s",
        "-screen 0 1600x900x24",
        BLENDER,
        "--factory-startup",
        "--enable-event-simulate",
        "--python-expr",
        DRIVER_PATH,
        "--python",
        str(driver),
        "--",
        str(config),
    ]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = proc.communicate(timeout=BLENDER_TIMEOUT + 10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the group this test started, nothing else
        output, _ = proc.communicate()
        pytest.fail(f"Blender did not end within {BLENDER_TIMEOUT + 10} s:\n{output[-6000:]}")
    return output, proc.returncode


def read_report(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def check_report(report: dict, output: str, returncode: int, what: str, *, ensure_ascii: bool = True) -> None:
    """The ``what`` driver finished, its scenario raised nothing, and Blender printed no traceback."""
    shown = json.dumps(report, indent=1, ensure_ascii=ensure_ascii)[-6000:]
    assert report.get("done"), f"the {what} driver did not finish (exit {returncode})\n{output[-6000:]}"
    assert not report["errors"], f"{what} failed:\n{''.join(report['errors'])}\n{shown}\n{output[-4000:]}"
    assert "Traceback" not in output, output[-6000:]
