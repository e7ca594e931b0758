"""bpy_session.py plus what tests/blender/test_formats.py asks: which importer Blender uses, the
library folder of a task, and what the glTF importer makes of a file.

Run as ``python formats_session.py`` by the test, never imported by it: same protocol as
``bpy_session.py`` (``session_common.serve``), whose commands it reuses.
"""

from __future__ import annotations

import hashlib
import sys
from array import array
from typing import Any

import bpy

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


def cmd_gltf_facts(path: str) -> dict[str, Any]:
    """What Blender's glTF importer makes of ``path`` in an empty file: meshes, materials, image pixels."""
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=path)
    meshes = sorted((o.name, len(o.data.vertices), len(o.data.polygons), len(o.data.uv_layers),
                     [m.name for m in o.data.materials if m is not None])
                    for o in bpy.data.objects if o.type == "MESH" and isinstance(o.data, bpy.types.Mesh))
    images = []
    for image in bpy.data.images:
        pixels = array("f", [0.0]) * (image.size[0] * image.size[1] * image.channels)
        image.pixels.foreach_get(pixels)
        images.append((image.name, list(image.size), hashlib.sha256(pixels.tobytes()).hexdigest()))
    return {"meshes": meshes, "images": sorted(images)}


COMMANDS = {**base.COMMANDS, **commands_of(globals())}

if __name__ == "__main__":
    sys.exit(serve(COMMANDS))
