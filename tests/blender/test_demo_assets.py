"""``scripts/make_demo_assets.py`` on every Blender of the version matrix.

The demo and the tests build their result zips with ``.venv``'s Blender, but the script is also
what a user runs with the Blender they have; its exporters' options changed between releases
(``wm.usd_export``'s ``export_textures`` became ``export_textures_mode`` in 4.5, and 5.0 dropped
the old name).  Each Blender builds the four zips, the bare FBX and STL and the video task's last
frame into a fresh folder.
"""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from harness import REPO, BlenderPython

pytestmark = pytest.mark.blender


def test_make_demo_assets_builds_every_zip(blender_python: BlenderPython, tmp_path: Path) -> None:
    out = tmp_path / "assets"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / ".config")}
    proc = subprocess.run([blender_python.python, str(REPO / "scripts" / "make_demo_assets.py"), str(out)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    names = sorted(p.name for p in out.glob("*.zip"))
    assert names == ["seed3d_gbk.zip", "seed3d_glb.zip", "seed3d_obj.zip", "seed3d_usdz.zip"], names
    with zipfile.ZipFile(out / "seed3d_usdz.zip") as result:
        usdz_name = next(n for n in result.namelist() if n.endswith(".usdz"))
        (tmp_path / "model.usdz").write_bytes(result.read(usdz_name))
    with zipfile.ZipFile(tmp_path / "model.usdz") as usdz:  # a usdz is itself a zip
        assert any(n.lower().endswith(".png") for n in usdz.namelist()), usdz.namelist()
    fbx = (out / "hyper3d_fbx.fbx").read_bytes()
    assert fbx.startswith(b"Kaydara FBX Binary") and b"\x89PNG" in fbx  # the textures are embedded
    stl = (out / "hitem3d_stl.stl").read_bytes()  # binary: 80-byte header, count, 50 bytes a triangle
    assert len(stl) == 84 + 50 * int.from_bytes(stl[80:84], "little") > 84
    assert (out / "video_last_frame.png").read_bytes().startswith(b"\x89PNG")
