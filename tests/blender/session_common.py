"""What every Blender-side session script shares: the add-on's names, small facts, the protocol.

Imported (never run) by ``bpy_session.py``, ``jobs_session.py`` and ``ui_session.py``, which
run inside Blender (the ``bpy`` wheel) as ``python <session>.py``.  The protocol: the test
writes one JSON command per line on stdin; each answer is one JSON line written to the file
descriptor named by ``ARK3D_RESULT_FD`` (not stdout, where Blender and its importers print
freely).  ``{"cmd": "quit"}`` ends the session.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

import bpy

ADDON = "bl_ext.user_default.ark3d"
TASK_PROPERTY = "ark3d_task_id"


def threads() -> list[str]:
    """Names of the threads running besides the main one."""
    return sorted(t.name for t in threading.enumerate() if t is not threading.main_thread())


def addon_module(name: str) -> Any:
    """A module of the installed extension, e.g. ``addon_module("blender.runner")`` (imported now if
    the add-on has not needed it yet: enabling it imports only what registration needs)."""
    return importlib.import_module(f"{ADDON}.{name}")


def runner_module() -> Any:
    """The add-on's runner (running jobs, the last message), or None before it is loaded."""
    return sys.modules.get(ADDON + ".blender.runner")


def runner_state() -> Any:
    """The runner's part of the add-on's state (running jobs, queued work, loops, the last message)."""
    return addon_module("blender.state").get().part(runner_module().RunnerState)


def last_message() -> str:
    state = sys.modules.get(ADDON + ".blender.state")
    return runner_state().message.text if state is not None and state.is_enabled() else ""


def library() -> Any:
    """The add-on's library as its current preferences give it."""
    return addon_module("blender.preferences").library(bpy.context)


def commands_of(namespace: dict[str, Any]) -> dict[str, Callable[..., dict[str, Any]]]:
    """``cmd_<name>`` functions of a module's globals, by ``<name>``."""
    return {name[4:]: fn for name, fn in namespace.items() if name.startswith("cmd_")}


def serve(commands: dict[str, Callable[..., dict[str, Any]]]) -> int:
    """Answer the test's commands until ``quit`` or the end of stdin."""
    out = os.fdopen(int(os.environ["ARK3D_RESULT_FD"]), "w", encoding="utf-8", buffering=1)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        name = request.pop("cmd")
        if name == "quit":
            out.write(json.dumps({"ok": True, "threads": threads()}) + "\n")
            break
        try:
            answer = {"ok": True, **commands[name](**request)}
        except Exception as exc:  # reported to the test, which fails with it
            answer = {"ok": False, "exception": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        out.write(json.dumps(answer, ensure_ascii=False, default=str) + "\n")
    out.flush()
    return 0
