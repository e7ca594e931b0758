"""jobs_session.py plus the commands of tests/blender/test_asset_library.py: the asset library's facts.

Run as ``python assets_session.py`` by the test, never imported by it: same protocol as
``bpy_session.py`` (``session_common.serve``), whose commands it reuses.  Facts only: the test
judges them.
"""

from __future__ import annotations

import importlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import bpy

import jobs_session as base
from session_common import ADDON, commands_of, serve
from session_common import library as _library


def _variance(pixels: list[float]) -> float:
    """Variance of the RGB values (alpha left out): 0 for a blank picture."""
    rgb = [v for i, v in enumerate(pixels) if i % 4 != 3]
    return statistics.pvariance(rgb[::7]) if rgb else 0.0


def _api() -> Any:
    return importlib.import_module(ADDON + ".api")


def cmd_make_assets(task_ids: list[str] | None = None) -> dict[str, Any]:
    """``ark.make_assets(task_ids)`` as a script calls it (it waits: no window)."""
    started = time.monotonic()
    previews = _api().make_assets(task_ids)
    return {"previews": [str(p) if p is not None else None for p in previews],
            "seconds": round(time.monotonic() - started, 2)}


def cmd_preview_path(task_id: str) -> dict[str, Any]:
    path = _api().preview_path(task_id)
    return {"path": str(path) if path is not None else None}


def cmd_asset_libraries() -> dict[str, Any]:
    libraries = bpy.context.preferences.filepaths.asset_libraries
    return {"libraries": [{"name": lib.name, "path": lib.path} for lib in libraries]}


def cmd_picture(path: str) -> dict[str, Any]:
    """A PNG's size and pixel variance, as Blender reads it."""
    image = bpy.data.images.load(path)
    try:
        pixels = [0.0] * (image.size[0] * image.size[1] * 4)
        image.pixels.foreach_get(pixels)
        return {"size": list(image.size), "variance": _variance(pixels)}
    finally:
        bpy.data.images.remove(image)


def cmd_drag_asset(task_id: str) -> dict[str, Any]:
    """What dragging the asset into a new file gives: a new empty file, then the collection
    appended from the asset file as the Asset Browser appends it; its objects, textures, preview."""
    path = _library().task_dir(task_id) / "asset.blend"
    bpy.ops.wm.read_homefile(use_empty=True)
    with bpy.data.libraries.load(str(path), link=False, assets_only=True) as (source, target):
        offered = [str(name) for name in source.collections]
        target.collections = list(offered)
    collection = bpy.data.collections.get(task_id)
    facts: dict[str, Any] = {"offered": offered, "found": collection is not None}
    if collection is None:
        return facts
    bpy.context.scene.collection.children.link(collection)
    images = []
    for image in bpy.data.images:
        if image.source != "FILE":
            continue
        absolute = Path(bpy.path.abspath(image.filepath, library=image.library))
        images.append({"name": image.name, "filepath": image.filepath, "exists": absolute.is_file(),
                       "packed": image.packed_file is not None, "size": list(image.size)})
    preview = collection.preview
    pixels: list[float] = []
    if preview is not None:
        pixels = [0.0] * (preview.image_size[0] * preview.image_size[1] * 4)
        preview.image_pixels_float.foreach_get(pixels)
    asset = collection.asset_data
    facts.update({
        "objects": sorted(o.name for o in collection.all_objects),
        "meshes": sum(1 for o in collection.all_objects if o.type == "MESH"),
        "faces": sum(len(o.data.polygons) for o in collection.all_objects if o.type == "MESH"),
        "images": images,
        "preview_size": list(preview.image_size) if preview is not None else None,
        "preview_variance": _variance(pixels),
        "asset": None if asset is None else {
            "description": asset.description, "catalog_id": asset.catalog_id,
            "tags": [t.name for t in asset.tags],
        },
    })
    return facts


def cmd_touch_result(task_id: str) -> dict[str, Any]:
    """As a re-download leaves it: a new extraction marker, newer than the asset."""
    library = _library()
    library.mark_extracted(task_id, library.extracted_model(task_id))
    return {"marker": str(library.task_dir(task_id) / "extracted.json")}


def cmd_mtime(path: str) -> dict[str, Any]:
    file = Path(path)
    return {"mtime": file.stat().st_mtime_ns if file.exists() else None, "size": file.stat().st_size
            if file.exists() else None}


COMMANDS = {**base.COMMANDS, **commands_of(globals())}

if __name__ == "__main__":
    sys.exit(serve(COMMANDS))
