"""Run inside Debian's Blender 3.4 by test_legacy_importers.py: which importer the add-on picks for
each format there, and STL, PLY and FBX files imported with it.

``blender -b --factory-startup --python-use-system-env --python legacy_importers.py -- ASSETS REPORT``
with the repository on ``PYTHONPATH``: only the importer module is loaded (no add-on registered),
so this is about Blender 3.4's importers, not the add-on's installation (test_chinese_interface.py).
"""

from __future__ import annotations

import json
import pathlib
import sys
import tempfile
import traceback
import zipfile

import bpy

from ark3d_addon.blender import importer


def main() -> None:
    assets, report_path = map(pathlib.Path, sys.argv[sys.argv.index("--") + 1:])
    report: dict[str, object] = {"blender": bpy.app.version_string, "errors": []}
    try:
        report["importers"] = {fmt: (hit[0] if (hit := importer._importer_for(fmt)) else None)
                               for fmt in ("gltf", "obj", "usd", "fbx", "stl", "ply")}
        work = pathlib.Path(tempfile.mkdtemp())
        files = {"stl": work / "cube.stl", "ply": work / "cube.ply", "fbx": assets / "embedded.fbx"}
        for fmt in ("stl", "ply"):
            with zipfile.ZipFile(assets / f"{fmt}.zip") as zf:
                name = next(n for n in zf.namelist() if n.endswith("." + fmt))
                files[fmt].write_bytes(zf.read(name))
        imported = {}
        for n, (fmt, path) in enumerate(files.items()):
            summary = importer.import_model(bpy.context, f"cgt-20260101000000-abcd{n}", path, fmt)
            imported[fmt] = {"objects": summary.objects, "faces": summary.faces, "images": summary.images}
        report["imported"] = imported
    except Exception:
        report["errors"] = [traceback.format_exc()]
    report_path.write_text(json.dumps(report), encoding="utf-8")


main()
