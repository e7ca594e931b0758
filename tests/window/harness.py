"""The pytest side of ``tests/window``: a Blender with a window, under Xvfb, driven by a driver script.

The window Blenders (the fixture ``window_blender`` runs a test module once on each, ids
``system-<version>`` and ``sid-<version>``):

* ``system``: the machine's own ``blender`` (Debian 12: 3.4, Debian 13: 4.3), the add-on
  loaded as a legacy add-on through ``BLENDER_USER_SCRIPTS``.  ``ARK3D_WINDOW_SYSTEM`` (a
  command, split as the shell does) stands in for it: another Debian's Blender in a root, say,
  to try a Debian 13 machine's from a Debian 12 one;
* ``sid``: Debian sid's Blender (5.2 LTS) in the root ``scripts/debian_root.sh`` builds, run
  through ``debian_root.sh run``; the driver installs the built extension zip as *Install from
  Disk* does (``bpy.ops.extensions.package_install_files``), module
  ``bl_ext.user_default.ark3d``.  Without that root (sid moves: some days its Blender cannot
  be installed) these tests are skipped with the reason.

Blender gets a clean environment (Debian's Blender uses the system Python and loses its
dist-packages when started from a venv) and a throw-away HOME, and runs under a hard
``timeout`` with Xvfb mapping its screen to a file (``-fbdir``), from which the drivers take
their screenshots (``xwd.py``).  The driver's JSON report is read back; the add-on's own
main-thread time it measured is collected per Blender for the terminal summary (conftest.py).
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import shutil
import signal
import subprocess
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: Run before each driver: ``--python`` does not put the driver's folder on ``sys.path``, and the
#: drivers import ``driver_common`` from it.
DRIVER_PATH = f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})"
#: The add-on folder the system Blender loads; ARK3D_WINDOW_ADDON points these tests at another copy.
ADDON = Path(os.environ.get("ARK3D_WINDOW_ADDON") or REPO / "ark3d_addon")
SHOTS = REPO / "docs" / "screenshots"
DEBIAN_ROOT = REPO / "scripts" / "debian_root.sh"
XVFB_RUN = shutil.which("xvfb-run")
API_KEY = "window-test-key"
#: Hard limit for one Blender run (5.2 in its root takes 15-20 s to start and show the sidebar
#: on a busy 2-core machine; the longest scenario runs 30 s more).
BLENDER_TIMEOUT = 90
SCREEN = "1600x900x24"
EXTENSION_MODULE = "bl_ext.user_default.ark3d"

#: Every module of real-window tests carries these.
WINDOW_MARKS = [
    pytest.mark.window,
    pytest.mark.skipif(XVFB_RUN is None, reason="needs xvfb-run for a virtual display"),
]


@dataclass(frozen=True)
class WindowBlender:
    """One Blender with a window the tests run on."""

    name: str  #: "system" or "sid"
    version: str  #: "3.4.1", "5.2.2"; "" when unknown
    command: tuple[str, ...]  #: what starts it (arguments follow)
    extension: bool  #: installed from the built zip (else loaded as the legacy add-on)
    problem: str = ""  #: why it cannot run here: its tests are skipped with this
    zip: Path | None = None  #: the extension zip it installs (set by the fixture)

    @property
    def id(self) -> str:
        return f"{self.name}-{self.version or 'none'}"

    @property
    def module(self) -> str:
        """The add-on's Python package in that Blender."""
        return EXTENSION_MODULE if self.extension else "ark3d_addon"

    @property
    def publishes(self) -> bool:
        """The README's screenshots come from the sid Blender's window (5.2)."""
        return self.name == "sid"


def _debian_version(admindir: Path | None = None) -> str:
    """The upstream version of the ``blender`` package ("3.4.1" of "3.4.1+dfsg-5"), or ""."""
    cmd = ["dpkg-query", "-W", "-f=${Version}", "blender"]
    if admindir is not None:
        cmd[1:1] = [f"--admindir={admindir}"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.split(":")[-1].split("+")[0].split("-")[0].split("~")[0]


def _system_blender() -> WindowBlender:
    if os.environ.get("ARK3D_WINDOW_SYSTEM"):
        command = tuple(shlex.split(os.environ["ARK3D_WINDOW_SYSTEM"]))
        out = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=120).stdout
        version = next((line.split()[1] for line in out.splitlines() if line.startswith("Blender ")), "")
        return WindowBlender("system", version, command, False, "" if version else f"{command} --version failed")
    path = shutil.which("blender", path="/usr/bin:/bin:/usr/local/bin")
    if path is None:
        return WindowBlender("system", "", (), False, "no 'blender' on this machine (scripts/setup.sh --system)")
    version = _debian_version()
    if not version:
        line = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60).stdout.split("\n")[0]
        version = line.split()[1] if line.startswith("Blender ") else ""
    return WindowBlender("system", version, (path,), False)


def _sid_blender() -> WindowBlender:
    if not DEBIAN_ROOT.exists():
        return WindowBlender("sid", "", (), True, f"{DEBIAN_ROOT.name} is missing")
    root = Path(subprocess.run(["bash", str(DEBIAN_ROOT), "path", "sid"], capture_output=True, text=True,
                               timeout=20).stdout.strip())
    failed = root.with_name("sid.failed")
    if not (root / ".ark3d-root").exists() or not (root / "usr" / "bin" / "blender").exists():
        why = failed.read_text(errors="replace").strip()[-600:] if failed.exists() else "never built"
        return WindowBlender("sid", "", (), True, f"no Debian sid root with Blender in {root} ({why}); "
                                                  "scripts/setup.sh --system builds it")
    # The roots' folder by name: Blender's environment has a HOME of its own.
    command = ("env", f"ARK3D_ROOTS={root.parent}", "bash", str(DEBIAN_ROOT), "run", "sid", "--bind", str(REPO),
               "--", "blender")
    return WindowBlender("sid", _debian_version(root / "var" / "lib" / "dpkg"), command, True)


@functools.cache
def window_blenders() -> tuple[WindowBlender, ...]:
    """The Blenders the window tests run on (``ARK3D_WINDOW_BLENDERS``, e.g. ``system``, narrows it)."""
    wanted = os.environ.get("ARK3D_WINDOW_BLENDERS", "system,sid").split(",")
    makers = {"system": _system_blender, "sid": _sid_blender}
    return tuple(makers[name.strip()]() for name in wanted if name.strip() in makers)


#: What each Blender's runs measured and how its tests went, for the terminal summary.
OWN_TIME: dict[str, dict[str, list[float]]] = {}
SKIPPED: dict[str, str] = {}


@pytest.fixture(scope="module", params=window_blenders(), ids=lambda b: b.id)
def window_blender(request: pytest.FixtureRequest) -> WindowBlender:
    """The Blender this round of the module's tests runs on; skipped, with the reason, where it cannot run."""
    blender: WindowBlender = request.param
    if blender.problem:
        SKIPPED[blender.id] = blender.problem
        pytest.skip(f"window tests on {blender.name}'s Blender: {blender.problem}")
    return replace(blender, zip=request.getfixturevalue("extension_zip")) if blender.extension else blender


def clean_env(tmp: Path, server, library: Path, blender: WindowBlender) -> dict[str, str]:
    """Nothing of this venv: Debian's Blender must find the system Python's packages."""
    (tmp / "home").mkdir(exist_ok=True)
    (tmp / "tmp").mkdir(exist_ok=True)
    env = {
        "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME": str(tmp / "home"),
        "TMPDIR": str(tmp / "tmp"),
        "LANG": "C.UTF-8",
        "ARK_API_KEY": API_KEY,
        "ARK_BASE_URL": server.api_base,
        "ARK3D_LIBRARY": str(library),
        "ARK3D_WINDOW_MODULE": blender.module,
        "ARK3D_WINDOW_FB": str(tmp / "fb" / "Xvfb_screen0"),
    }
    if blender.extension:
        assert blender.zip is not None, "the extension Blender needs the built zip"
        env["ARK3D_WINDOW_ZIP"] = str(blender.zip)
    else:
        scripts = tmp / "scripts"
        (scripts / "addons").mkdir(parents=True, exist_ok=True)
        link = scripts / "addons" / "ark3d_addon"
        if not link.exists():
            link.symlink_to(ADDON, target_is_directory=True)
        env["BLENDER_USER_SCRIPTS"] = str(scripts)
    return env


def blender_env(tmp: Path, server, blender: WindowBlender) -> dict[str, str]:
    """The clean environment, with the add-on's library in ``tmp/library``."""
    library = tmp / "library"
    library.mkdir(exist_ok=True)
    return clean_env(tmp, server, library, blender)


def run_driver_script(driver: Path, config: Path, env: dict[str, str], blender: WindowBlender) -> tuple[str, int]:
    """Blender (in its own process group) runs ``driver`` with ``config``; its output and exit code.

    Xvfb maps its screen to ``$ARK3D_WINDOW_FB`` (its folder is made here); the add-on's own
    main-thread time in the driver's report is kept for the summary."""
    fb_dir = Path(env["ARK3D_WINDOW_FB"]).parent
    fb_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        "timeout",
        "-k",
        "5",
        str(BLENDER_TIMEOUT),
        XVFB_RUN,
        "-a",
        "-s",
        f"-screen 0 {SCREEN} -fbdir {fb_dir}",
        *blender.command,
        "--factory-startup",
        "--enable-event-simulate",
        "--python-expr",
        DRIVER_PATH,
        "--python",
        str(driver),
        "--",
        str(config),
    ]
    output, returncode = _run_blender(cmd, env)
    report_path = Path(json.loads(config.read_text(encoding="utf-8"))["report"])
    if returncode == SEGFAULT and not read_report(report_path).get("done"):
        # Blender itself crashed (seen once in three CI runs: Debian's 3.4 under Xvfb's software GL,
        # in C with only a worker thread in Python).  Said loudly, and run once more: a crash
        # again fails the test.
        warnings.warn(f"{blender.name} Blender {blender.version} crashed; run again:\n{output[-3000:]}", stacklevel=2)
        output, returncode = _run_blender(cmd, env)
    report = read_report(report_path)
    for kind, values in report.get("own_time", {}).items():
        OWN_TIME.setdefault(blender.id, {}).setdefault(kind, []).extend(values)
    return output, returncode


#: The exit status of a Blender killed by SIGSEGV (through ``timeout``, which passes it on as 128 + 11).
SEGFAULT = 139


def _run_blender(cmd: list[str], env: dict[str, str]) -> tuple[str, int]:
    """One Blender run in its own process group: its output and exit status."""
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


def publish(blender: WindowBlender, shot: Path) -> Path:
    """A screenshot for the README: copied into docs/screenshots/ when it comes from the Blender
    the README shows (the 5.2 window); otherwise it stays in the test's folder."""
    assert shot.exists() and shot.stat().st_size > 10_000, shot
    if not blender.publishes:
        return shot
    SHOTS.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(shot, SHOTS / shot.name))


def percentiles(values: list[float]) -> dict[str, float]:
    """n, p50, p99 and max of ``values`` (milliseconds)."""
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))]

    return {"n": len(ordered), "p50": round(pct(50), 3), "p99": round(pct(99), 3), "max": round(ordered[-1], 3)}
