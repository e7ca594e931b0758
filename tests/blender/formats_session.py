"""bpy_session.py plus what tests/blender/test_formats.py asks: which importer Blender uses, and the
library folder of a task.

Run as ``python formats_session.py`` by the test, never imported by it: same protocol as
``bpy_session.py`` (``session_common.serve``), whose commands it reuses.
"""

from __future__ import annotations

import sys
from typing import Any

import bpy_session as base
from session_common import addon_module, commands_of, library, serve


def cmd_importers(formats: list[str]) -> dict[str, Any]:
    """The operator the add-on picks for each format in this Blender (None: none it can use)."""
    importer = addon_module("blender.importer")
    found = {fmt: importer._importer_for(fmt) for fmt in formats}
    return {"importers": {fmt: (hit[0] if hit else None) for fmt, hit in found.items()}}


def cmd_files(task_id: str) -> dict[str, Any]:
    """Every file and folder of the task's library folder (hidden ones too), relative to it."""
    folder = library().task_dir(task_id)
    return {"exists": folder.is_dir(),
            "files": sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) if folder.is_dir() else []}


COMMANDS = {**base.COMMANDS, **commands_of(globals())}

if __name__ == "__main__":
    sys.exit(serve(COMMANDS))
