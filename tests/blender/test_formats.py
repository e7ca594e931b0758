"""Every result format a 3D task can return, imported by real Blender with its own importers.

One Blender session per version of the matrix (``formats_session.py``: ``bpy_session.py`` plus
which importer the add-on picks), the built zip installed as a user installs it, and the local
Ark server serving results shaped like the other models' (Hyper3D, Hitem3D): an FBX with its
texture in a sub-folder of a zip, a bare FBX link with the texture inside (those models' links
are the model file itself), a bare STL, an STL in nested folders, a PLY; and what must not
import: a video task, an FBX whose texture path leaves its folder, a zip with names Windows
cannot store.  The FBX/STL/PLY files come from Blender's own exporters (``format_assets``).
"""

from __future__ import annotations

import io
import secrets
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ark_server import ArkServer
from harness import BlenderPython, Scenario, session

pytestmark = pytest.mark.blender

KEY = "ark-test-" + secrets.token_hex(16)
HYPER3D = "hyper3d-gen2-260112"
HITEM3D = "hitem3d-2-0-251223"
SEEDANCE = "doubao-seedance-2-0-260128"


def _member(zip_path: Path, suffix: str) -> bytes:
    with zipfile.ZipFile(zip_path) as zf:
        return zf.read(next(n for n in zf.namelist() if n.endswith(suffix)))


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


@pytest.fixture(scope="module")
def formats(blender_python: BlenderPython, extension_zip: Path, format_assets: Path, demo_assets: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp(f"formats11-{blender_python.id}-")
    glb = root / "as-sent" / "mushroom.glb"
    glb.parent.mkdir()
    glb.write_bytes(_member(demo_assets / "seed3d_glb.zip", "pbr/mushroom.glb"))
    with ArkServer(api_key=KEY) as server:
        fbx_zip = server.add_file("hyper3d_fbx.zip", format_assets / "fbx.zip")
        bare_fbx = server.add_file("9f3ab2c4d1.fbx", (format_assets / "embedded.fbx").read_bytes())
        bare_stl = server.add_file("7c41d0e2aa.stl", _member(format_assets / "stl.zip", ".stl"))
        outside = _zip({"model/cube.fbx": (format_assets / "fbx_outside.fbx").read_bytes()})
        windows = _zip({"model/cube.ply": _member(format_assets / "ply.zip", ".ply"), "model/CON.png": b"x"})
        ids = {
            "fbx zip": server.add_task(file=fbx_zip, model=HYPER3D, fileformat="fbx"),
            "fbx bare": server.add_task(file=bare_fbx, model=HYPER3D, fileformat="fbx"),
            "stl bare": server.add_task(file=bare_stl, model=HITEM3D, fileformat="stl"),
            "stl zip": server.add_task(file=server.add_file("stl.zip", format_assets / "stl.zip"), model=HYPER3D,
                                       fileformat="stl"),
            "ply": server.add_task(file=server.add_file("ply.zip", format_assets / "ply.zip"), model=HYPER3D),
            "video": server.add_task(model=SEEDANCE, extra_fields={
                "content": {"video_url": server.file_base + "/files/v/clip.mp4"}, "resolution": "720p",
                "ratio": "16:9", "duration": 5}),
            "outside": server.add_task(file=server.add_file("outside.zip", outside), model=HYPER3D),
            "windows": server.add_task(file=server.add_file("windows.zip", windows), model=HYPER3D),
            "glb zip": server.add_task(file=server.add_file("seed3d_glb.zip", demo_assets / "seed3d_glb.zip")),
            "glb bare": server.add_task(file=server.add_file("5e0d1a.glb", glb.read_bytes()), model=HITEM3D,
                                        fileformat="glb"),
            "obj zip": server.add_task(file=server.add_file("seed3d_obj.zip", demo_assets / "seed3d_obj.zip"),
                                       fileformat="obj"),
        }
        sc = Scenario(ids, server, root)
        with session(sc, sc.root, {}, blender_python.python, script="formats_session.py") as blender:
            sc.run(blender, "install", "install", zip_path=str(extension_zip))
            sc.run(blender, "prefs", "prefs", region="CUSTOM", custom_base_url=server.api_base, api_key=KEY)
            sc.run(blender, "importers", "importers", formats=["gltf", "obj", "usd", "fbx", "stl", "ply"])
            for name, task_id in ids.items():
                before = len(server.requests_log)
                step = sc.run(blender, name, "import", task_id=task_id)
                if step is not None:
                    step["requests"] = [(r.server, r.method, r.path) for r in server.requests_log[before:]]
                sc.run(blender, f"{name} files", "files", task_id=task_id)
            sc.run(blender, "obj zip again", "import", task_id=ids["obj zip"])
        yield sc


def _images(step: dict[str, Any]) -> list[dict[str, Any]]:
    facts = step["facts"]
    return [img for name in step["new_objects"] for m in facts["objects"][name]["materials"]
            for img in facts["materials"][m]["images"]]


def _faces(step: dict[str, Any]) -> int:
    return sum(step["facts"]["objects"][name]["faces"] for name in step["new_objects"])


def test_each_format_is_imported_by_the_operator_this_blender_has(formats: Scenario) -> None:
    importers = formats.step("importers")["importers"]
    # Every Blender of the headless matrix is 4.2 or newer: the STL and PLY add-ons are gone,
    # Blender's built-in importers are there.
    assert importers["stl"] == "wm.stl_import", importers
    assert importers["ply"] == "wm.ply_import", importers
    assert importers["fbx"] == "import_scene.fbx", importers
    assert importers["gltf"] == "import_scene.gltf" and importers["obj"] == "wm.obj_import", importers


def test_a_second_import_of_a_result_reports_the_textures_its_materials_use(formats: Scenario) -> None:
    """Blender's OBJ importer reuses an image already loaded from the same file: the report must
    still count the texture the imported material reads, as the first import's did."""
    first, again = formats.imported("obj zip"), formats.imported("obj zip again")
    assert "1 material, 1 texture," in first["message"], first["message"]
    assert "1 material, 1 texture," in again["message"], again["message"]
    assert _images(again), "the second import's material has its image texture"


def test_fbx_from_a_zip_imports_with_its_texture_from_the_nested_folder(formats: Scenario) -> None:
    step = formats.imported("fbx zip")
    assert "cube.fbx" in step["message"], step["message"]
    images = _images(step)
    assert images, "the FBX's material has no image texture"
    library = (formats.root / "library").resolve()
    for img in images:
        assert img["exists"] and img["has_data"], img
        assert Path(img["abspath"]).resolve().is_relative_to(library), img
        assert Path(img["abspath"]).name == "albedo.png", img


def test_a_bare_fbx_link_imports_with_its_embedded_texture(formats: Scenario) -> None:
    step = formats.imported("fbx bare")
    assert ".fbx" in step["message"], step["message"]
    assert _faces(step) == 6
    images = _images(step)
    assert images and all(img["has_data"] and img["size"][0] == 8 for img in images), images
    files = formats.step("fbx bare files")["files"]
    assert "files/9f3ab2c4d1.fbx" in files, files


def test_stl_imports_bare_and_from_nested_folders(formats: Scenario) -> None:
    bare = formats.imported("stl bare")
    nested = formats.imported("stl zip")
    assert "7c41d0e2aa.stl" in bare["message"], bare["message"]
    assert "cube.stl" in nested["message"], nested["message"]
    assert _faces(bare) == 12 and _faces(nested) == 12  # an STL is triangles: 2 per face of the cube
    assert "files/out/mesh/cube.stl" in formats.step("stl zip files")["files"]


def test_ply_imports(formats: Scenario) -> None:
    step = formats.imported("ply")
    assert "cube.ply" in step["message"], step["message"]
    assert _faces(step) == 6


def test_a_video_task_is_told_apart_at_once_with_no_download_and_no_retry_advice(formats: Scenario) -> None:
    step = formats.step("video")
    assert step["error"] and not step["new_objects"], step
    assert "a video generation task, not a 3D one" in step["error"], step["error"]
    assert "again" not in step["error"].lower(), step["error"]
    assert [r for r in step["requests"] if r[0] == "files"] == [], step["requests"]
    assert len([r for r in step["requests"] if r[0] == "api"]) == 1, step["requests"]
    assert formats.step("video files")["exists"] is False


def test_a_texture_path_leaving_the_folder_is_refused(formats: Scenario) -> None:
    step = formats.step("outside")
    assert step["error"] and not step["new_objects"], step
    assert "refers to files outside its folder" in step["error"] and "../../../secret.png" in step["error"], step


def test_a_zip_with_a_name_windows_cannot_store_is_refused(formats: Scenario) -> None:
    step = formats.step("windows")
    assert step["error"] and not step["new_objects"], step
    assert "CON.png" in step["error"] and "Windows" in step["error"], step["error"]
    assert not any(f.startswith("files") for f in formats.step("windows files")["files"])


@pytest.mark.parametrize("name", ["glb zip", "glb bare"])
def test_a_glb_result_is_kept_as_the_glb_ark_sent_and_imports_with_its_images_packed(formats: Scenario,
                                                                                      name: str) -> None:
    """A pipeline that asked for GLB gets a .glb: the library keeps the file Ark sent (no .gltf, .bin
    or texture folder made from it), the import names it, and packs its images, so a saved .blend
    stays whole."""
    step = formats.imported(name)
    stem = "mushroom" if name == "glb zip" else "5e0d1a"
    assert f"({stem}.glb, " in step["message"], step["message"]
    images = _images(step)
    assert images and all(img["packed"] and img["has_data"] and img["size"][0] > 0 for img in images), images
    files = formats.step(f"{name} files")["files"]
    kept = "files/mushroom/pbr/mushroom" if name == "glb zip" else "files/5e0d1a"
    assert f"{kept}.glb" in files, files
    assert not any(f.endswith((".gltf", ".bin", "_textures")) for f in files if f.startswith("files/")), files
    assert "result.zip" in files, "the download is kept too"


def test_a_bare_glb_is_kept_byte_for_byte(formats: Scenario) -> None:
    kept = formats.root / "library" / formats.ids["glb bare"] / "files" / "5e0d1a.glb"
    sent = formats.root / "as-sent" / "mushroom.glb"
    assert kept.read_bytes() == sent.read_bytes()
