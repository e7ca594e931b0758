"""The importers of Debian's Blender 3.4, where STL and PLY are still the bundled add-ons'.

The bpy wheels of the matrix are all 4.2 or newer (``wm.stl_import``, ``wm.ply_import``:
test_formats.py); Blender 3.x imports STL with the STL add-on (``import_mesh.stl``, while its
``wm.stl_import`` is the experimental one) and PLY with ``import_mesh.ply``.  The add-on asks
which operator exists; this checks what it picks there, and that each imports a file that
Blender's own exporters wrote (``format_assets``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import REPO

pytestmark = [pytest.mark.blender, pytest.mark.system_blender]

BLENDER_34 = shutil.which("blender")
SCRIPT = Path(__file__).with_name("legacy_importers.py")


@pytest.fixture(scope="module")
def report(format_assets: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    if BLENDER_34 is None:
        pytest.skip("needs Debian's 'blender' (3.4)")
    root = tmp_path_factory.mktemp("legacy-importers")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "LANG": "C.UTF-8", "PYTHONPATH": str(REPO),
           "TMPDIR": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([BLENDER_34, "-b", "--factory-startup", "--python-use-system-env", "--python", str(SCRIPT),
                           "--", str(format_assets), str(root / "report.json")], env=env, capture_output=True,
                          text=True, timeout=180, cwd=root)
    assert (root / "report.json").exists(), (proc.stdout + proc.stderr)[-5000:]
    data = json.loads((root / "report.json").read_text(encoding="utf-8"))
    assert not data["errors"], "".join(data["errors"]) + (proc.stdout + proc.stderr)[-3000:]
    return data


def test_blender_3_4_imports_stl_and_ply_with_their_add_ons(report: dict[str, object]) -> None:
    assert str(report["blender"]).startswith("3.")
    assert report["importers"] == {"gltf": "import_scene.gltf", "obj": "wm.obj_import", "usd": None,
                                   "fbx": "import_scene.fbx", "stl": "import_mesh.stl", "ply": "import_mesh.ply"}


def test_blender_3_4_imports_each_file(report: dict[str, object]) -> None:
    imported = report["imported"]
    assert isinstance(imported, dict)
    assert imported["stl"] == {"objects": 1, "faces": 12, "images": 0}
    assert imported["ply"] == {"objects": 1, "faces": 6, "images": 0}
    assert imported["fbx"]["objects"] == 1 and imported["fbx"]["faces"] == 6 and imported["fbx"]["images"] == 1
