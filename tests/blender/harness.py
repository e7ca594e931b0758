"""The pytest side shared by the Blender test modules: the version matrix, one Blender session,
and the record of a scenario's steps.

* The version matrix: the Python running pytest (``.venv``, bpy 4.5) and each
  ``.venvs/bpy-<version>/bin/python`` that ``scripts/setup.sh --matrix`` made from
  ``requirements-bpy-<version>.txt``; a version whose venv is missing or out of date is skipped.
  ``ARK3D_BPY_PYTHONS`` (paths joined with ``os.pathsep``) replaces that list.  The module-scoped
  fixture ``blender_python`` runs a test module once per Blender (ids ``blender-<version>``).
* ``BlenderSession``: a session script (``bpy_session.py`` and its supersets) in a subprocess,
  with ``HOME``/``XDG_CONFIG_HOME`` in a fresh folder, ``ARK3D_LIBRARY`` set and no ``ARK_*``
  variables but the ones a scenario passes; commands on stdin, JSON answers on a private pipe
  (``session_common.serve`` is the other end).

(``extension_zip``, the built zip, is ``tests/conftest.py``'s, shared with the window tests.)

Importing this module skips the importing test module where the protocol cannot run (Windows)
or where this Python has no ``bpy``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ark_server import ArkServer

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
#: Asks a Python for its bpy wheel without importing it (no Blender starts).
BPY_QUERY = (
    "import importlib.metadata as m, importlib.util as u, json; s = u.find_spec('bpy'); "
    "print(json.dumps({'version': m.version('bpy'), 'package': next(iter(s.submodule_search_locations))}))"
)

if sys.platform == "win32":  # pass_fds and select on pipes are POSIX-only
    pytest.skip("the Blender session protocol needs POSIX pipes", allow_module_level=True)
if importlib.util.find_spec("bpy") is None:
    pytest.skip("bpy is not installed in this Python (pip install -r requirements-dev.txt)", allow_module_level=True)


# -- the version matrix ----------------------------------------------------------------------


@dataclass(frozen=True)
class BlenderPython:
    """A Python with a ``bpy`` wheel: one Blender of the matrix."""

    python: str
    version: str  # the bpy wheel's version, e.g. "4.2.23"
    package: str = ""  # .../site-packages/bpy
    problem: str = ""  # why it cannot run (the test fails with it)

    @property
    def id(self) -> str:
        return f"blender-{self.version}"

    def scripts(self) -> Path:
        """``bpy/<major.minor>/scripts``: Blender's bundled scripts and the extension tool."""
        found = sorted(Path(self.package).glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
        if not found:
            pytest.fail(f"blender_ext.py not found under {self.package}")
        return found[-1].parents[3]


def query_python(python: str) -> BlenderPython:
    try:
        out = subprocess.run([python, "-c", BPY_QUERY], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        return BlenderPython(python, Path(python).parent.parent.name, problem=f"cannot run {python}: {exc}")
    if out.returncode != 0:
        tail = out.stderr.strip().splitlines()[-1:] or ["no output"]
        return BlenderPython(python, Path(python).parent.parent.name, problem=f"{python} has no bpy: {tail[0]}")
    info = json.loads(out.stdout)
    return BlenderPython(python, info["version"], info["package"])


def _version_key(bp: BlenderPython) -> tuple[int, ...]:
    return tuple(int(x) if x.isdigit() else 0 for x in re.split(r"[.-]", bp.version))


def matrix_params() -> list[Any]:
    """One ``pytest.param`` per Blender: ``ARK3D_BPY_PYTHONS``, or this Python plus ``.venvs``."""
    override = os.environ.get("ARK3D_BPY_PYTHONS", "").strip()
    if override:
        found = [query_python(p) for p in override.split(os.pathsep) if p]
        return [pytest.param(bp, id=bp.id) for bp in sorted(found, key=_version_key)]
    spec = importlib.util.find_spec("bpy")
    assert spec is not None and spec.submodule_search_locations  # the module is skipped without bpy
    package = next(iter(spec.submodule_search_locations))
    found = [BlenderPython(sys.executable, importlib.metadata.version("bpy"), package)]
    missing: list[tuple[BlenderPython, str]] = []
    for req in sorted(REPO.glob("requirements-bpy-*.txt")):
        venv = REPO / ".venvs" / f"bpy-{req.stem.removeprefix('requirements-bpy-')}"
        pin = re.search(r"^bpy==(\S+)", req.read_text(encoding="utf-8"), re.MULTILINE)
        wanted = BlenderPython(str(venv / "bin" / "python"), pin.group(1) if pin else venv.name)
        stamp = venv / f".{req.name}"
        if os.environ.get("ARK3D_TEST_TIER") == "quick":
            missing.append((wanted, "the quick tier (scripts/test.sh --quick) runs the bpy in .venv only: "
                                    "scripts/test.sh runs the matrix"))
        elif not (venv / "bin" / "python").exists():
            missing.append((wanted, f"{venv.relative_to(REPO)} is missing: run scripts/setup.sh --matrix"))
        elif not stamp.exists() or stamp.read_bytes() != req.read_bytes():
            missing.append((wanted, f"{venv.relative_to(REPO)} is not up to date with {req.name}: "
                                    "run scripts/setup.sh --matrix"))
        else:
            found.append(query_python(wanted.python))
    params = [(bp, pytest.param(bp, id=bp.id)) for bp in found]
    params += [(bp, pytest.param(bp, id=bp.id, marks=pytest.mark.skip(reason=why))) for bp, why in missing]
    return [param for _, param in sorted(params, key=lambda pair: _version_key(pair[0]))]


# -- fixtures (import them into a test module to use them) -----------------------------------


@pytest.fixture(scope="module", params=matrix_params())
def blender_python(request: pytest.FixtureRequest) -> BlenderPython:
    """The Blender (a Python with that ``bpy`` wheel) this round of the module's tests runs on."""
    bp: BlenderPython = request.param
    if bp.problem:
        pytest.fail(bp.problem)
    return bp


# -- one Blender -----------------------------------------------------------------------------


class BlenderSession:
    """A session script in a subprocess: commands on stdin, JSON answers on a private pipe.

    ``merged_output`` sends Blender's stdout and stderr to one ``blender-output.txt``; otherwise
    they go to ``blender-stdout.txt`` and ``blender-stderr.txt``.
    """

    def __init__(self, root: Path, env_extra: dict[str, str], python: str = sys.executable, *,
                 script: str = "bpy_session.py", library: Path | None = None, timeout: float = 90.0,
                 merged_output: bool = False) -> None:
        self.root = root
        self.timeout = timeout
        home = root / "home"
        (home / ".config").mkdir(parents=True)
        self.library = library if library is not None else root / "library"
        if merged_output:
            self.stdout_path = self.stderr_path = root / "blender-output.txt"
        else:
            self.stdout_path = root / "blender-stdout.txt"
            self.stderr_path = root / "blender-stderr.txt"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ARK_", "ARK3D_", "BLENDER_USER_", "BLENDER_SYSTEM_"))
        }
        env.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            ARK3D_LIBRARY=str(self.library),
            PYTHONDONTWRITEBYTECODE="1",
            **env_extra,
        )
        read_fd, write_fd = os.pipe()
        env["ARK3D_RESULT_FD"] = str(write_fd)
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                [python, str(HERE / script)],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT if merged_output else err,
                env=env,
                cwd=root,
                pass_fds=(write_fd,),
                text=True,
                encoding="utf-8",
            )
        os.close(write_fd)
        self._fd = read_fd
        self._buffer = b""

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
            self.proc.stdin.flush()
        except OSError as exc:  # BrokenPipeError among them
            raise RuntimeError(f"Blender is gone ({exc})\n{self.tail()}") from None
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"Blender did not answer '{cmd}' within {self.timeout:.0f} s\n{self.tail()}")
            ready, _, _ = select.select([self._fd], [], [], left)
            if ready:
                chunk = os.read(self._fd, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"Blender exited during '{cmd}' (exit {self.proc.poll()})\n{self.tail()}")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        answer: dict[str, Any] = json.loads(line)
        if not answer.pop("ok"):
            raise RuntimeError(f"'{cmd}' raised in Blender: {answer['traceback']}\n{self.tail()}")
        return answer

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut: nothing of the add-on runs on the way out."""
        self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.call("quit")
                self.proc.wait(timeout=30)
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            os.close(self._fd)

    def output(self) -> str:
        paths = dict.fromkeys((self.stdout_path, self.stderr_path))
        return "".join(p.read_text(encoding="utf-8", errors="replace") for p in paths)

    def tail(self, chars: int = 4000) -> str:
        return f"--- Blender output (tail) ---\n{self.output()[-chars:]}"


# -- the record of a scenario ------------------------------------------------------------------


class Steps:
    """Every step's answer (or the error that stopped it) and its timing; mixed into the
    dataclasses a test module keeps its scenario in (they hold ``ids``, ``root``, ``steps``,
    ``errors`` and ``timings``)."""

    ids: dict[str, str]
    root: Path
    steps: dict[str, dict[str, Any]]
    errors: dict[str, str]
    timings: dict[str, float]

    def run(self, blender: BlenderSession, name: str, cmd: str, **args: Any) -> dict[str, Any] | None:
        """One command as the step ``name``: its answer, or None with the error recorded."""
        started = time.monotonic()
        try:
            self.steps[name] = blender.call(cmd, **args)
        except RuntimeError as exc:
            self.errors[name] = str(exc)
            return None
        finally:
            self.timings[name] = round(time.monotonic() - started, 2)
        return self.steps[name]

    def step(self, name: str) -> dict[str, Any]:
        if name not in self.steps:
            pytest.fail(f"step '{name}' did not run: {self.errors.get(name, 'an earlier step failed')}")
        return self.steps[name]

    def finish(self, blender: BlenderSession) -> None:
        """Called when ``blender`` has closed (see ``session``)."""
        self.save()

    def save(self) -> None:
        """Every record in ``steps.json`` beside Blender's output, for a post-mortem."""
        record = {"ids": self.ids, "timings": self.timings, "errors": self.errors, "steps": self.steps}
        (self.root / "steps.json").write_text(json.dumps(record, indent=1, ensure_ascii=False, default=str),
                                              encoding="utf-8")


@dataclass
class Scenario(Steps):
    """Every step's answer (or the error that stopped it), plus what the server saw and Blender's output."""

    ids: dict[str, str]
    server: ArkServer
    root: Path
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    output: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def finish(self, blender: BlenderSession) -> None:
        """Keep Blender's output, and every record in ``steps.json`` beside it for a post-mortem."""
        self.output = blender.output()
        self.save()

    def imported(self, name: str) -> dict[str, Any]:
        """An import step that must have succeeded."""
        step = self.step(name)
        assert step["error"] is None, f"import '{name}' failed: {step['error']}"
        assert step["result"] == ["FINISHED"], step
        assert step["new_objects"], f"import '{name}' made no objects"
        return step


@contextmanager
def session(record: Steps, root: Path, env_extra: dict[str, str], python: str,
            **options: Any) -> Iterator[BlenderSession]:
    """A ``BlenderSession`` (``options``: its keywords), closed on the way out, then
    ``record.finish(blender)``."""
    blender = BlenderSession(root, env_extra, python, **options)
    try:
        yield blender
    finally:
        blender.close()
        record.finish(blender)
