"""The visual library in real Blender: pictures, asset files, the "Ark 3D" asset library, catalogs.

The built zip is installed into a ``bpy`` wheel (``assets_session.py``, a superset of
``jobs_session.py``), once per Blender of the version matrix.  Pictures and asset files are
made by the add-on's background process (``python -c`` with this wheel: the ``bpy`` module
has no ``bpy.app.binary_path``), so each step that makes some starts one more Blender.

The scenario: two results imported (GLB with its textures embedded, kept as the GLB; OBJ with
texture files); no picture is made behind a script's back; ``make_assets`` makes the GLB's; turning the
preference off removes the asset library entry, turning it on catches up with the OBJ; a new
extraction (as a re-download leaves it) makes the GLB's asset again; each asset dragged into a
new file gives the model with its textures; disabling the add-on removes the entry.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ark_server import ArkServer
from harness import REPO, BlenderPython, Steps, session

pytestmark = pytest.mark.blender

KEY = "ark-test-" + secrets.token_hex(16)
MODEL = "doubao-seed3d-2-0-260328"
#: Not a blank picture: RGB values of a rendered model spread far more than this (0-1 scale).
MIN_VARIANCE = 0.002


@dataclass
class Record(Steps):
    root: Path
    library: Path = Path()
    ids: dict[str, str] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="module")
def visual(blender_python: BlenderPython, extension_zip: Path, demo_assets: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Record]:
    root = tmp_path_factory.mktemp(f"assets-{blender_python.id}-")
    rec = Record(root, library=root / "library")
    with ArkServer(api_key=KEY) as server:
        rec.ids["glb"] = server.add_task(file=server.add_file("g.zip", demo_assets / "seed3d_glb.zip"),
                                         fileformat="glb", model=MODEL)
        rec.ids["obj"] = server.add_task(file=server.add_file("o.zip", demo_assets / "seed3d_obj.zip"),
                                         fileformat="obj", subdivisionlevel="high")
        server.set_create_result("glb", demo_assets / "seed3d_glb.zip", model=MODEL)
        server.create_schedule = (0.0, 0.0)  # done at the first query: the poll interval is not what is tested
        glb, obj = rec.ids["glb"], rec.ids["obj"]
        folder = rec.library / glb
        with session(rec, root, {}, blender_python.python, script="assets_session.py", timeout=240.0,
                     merged_output=True) as blender:
            rec.run(blender, "install", "install", zip_path=str(extension_zip))
            rec.run(blender, "prefs", "prefs", region="CUSTOM", custom_base_url=server.api_base, api_key=KEY,
                    poll_interval=2.0)
            rec.run(blender, "libraries at start", "asset_libraries")
            rec.run(blender, "import glb", "api", fn="import_task", args=[glb])
            rec.run(blender, "no picture yet", "preview_path", task_id=glb)
            rec.run(blender, "make glb", "make_assets", task_ids=[glb])
            rec.run(blender, "glb picture", "picture", path=str(folder / "preview.png"))
            rec.run(blender, "import obj", "api", fn="import_task", args=[obj])
            rec.run(blender, "off", "prefs", use_asset_library=False)
            rec.run(blender, "libraries off", "asset_libraries")
            rec.run(blender, "on", "prefs", use_asset_library=True)  # catches up: the OBJ's
            rec.run(blender, "libraries on", "asset_libraries")
            rec.run(blender, "obj preview", "preview_path", task_id=obj)
            rec.run(blender, "glb asset before", "mtime", path=str(folder / "asset.blend"))
            rec.run(blender, "new result", "touch_result", task_id=glb)
            rec.run(blender, "remake", "make_assets")
            rec.run(blender, "glb asset after", "mtime", path=str(folder / "asset.blend"))
            made = rec.run(blender, "create", "api", fn="create_task", args=[str(REPO / "docs" / "demo_preview.png")],
                           model=MODEL)
            created = (made or {}).get("value") or {}
            rec.ids["created"] = created.get("task_id", "") if isinstance(created, dict) else ""
            if rec.ids["created"]:
                rec.run(blender, "created input", "preview_path", task_id=rec.ids["created"])
                rec.run(blender, "make created", "make_assets", task_ids=[rec.ids["created"]])
                rec.run(blender, "input picture", "picture",
                        path=str(rec.library / rec.ids["created"] / "input_preview.png"))
            rec.run(blender, "disable", "disable")
            rec.run(blender, "libraries disabled", "asset_libraries")
            rec.run(blender, "enable", "enable")
            rec.run(blender, "libraries enabled", "asset_libraries")
            rec.run(blender, "drag glb", "drag_asset", task_id=glb)
            rec.run(blender, "drag obj", "drag_asset", task_id=obj)
        yield rec


def _ark_library(step: dict[str, Any]) -> list[str]:
    return [lib["path"] for lib in step["libraries"] if lib["name"] == "Ark 3D"]


def test_the_library_is_the_asset_library_while_the_preference_is_on(visual: Record) -> None:
    root = str(visual.library)
    assert _ark_library(visual.step("libraries at start")) == [root]
    assert _ark_library(visual.step("libraries off")) == []
    assert _ark_library(visual.step("libraries on")) == [root]
    assert _ark_library(visual.step("libraries disabled")) == [], "the add-on's entry goes with it"
    assert _ark_library(visual.step("libraries enabled")) == [root]


def test_no_picture_is_made_behind_a_script_then_make_assets_makes_it(visual: Record) -> None:
    assert visual.step("import glb")["error"] is None
    assert visual.step("no picture yet")["path"] is None
    made = visual.step("make glb")
    assert made["previews"] == [str(visual.library / visual.ids["glb"] / "preview.png")]
    picture = visual.step("glb picture")
    assert picture["size"] == [256, 256]
    assert picture["variance"] > MIN_VARIANCE, "a blank picture"


def test_turning_the_preference_on_catches_up(visual: Record) -> None:
    assert visual.step("import obj")["error"] is None
    assert visual.step("obj preview")["path"] == str(visual.library / visual.ids["obj"] / "preview.png")
    assert (visual.library / visual.ids["obj"] / "asset.blend").is_file()


def test_a_generate_keeps_its_input_image_and_its_picture(visual: Record) -> None:
    """Without a window the image is kept at once; its small copy and the model's picture come
    with ``make_assets`` (the model's picture first, then the input's)."""
    task_id = visual.ids.get("created")
    assert task_id, visual.errors.get("create")
    folder = visual.library / task_id
    assert (folder / "input.png").read_bytes() == (REPO / "docs" / "demo_preview.png").read_bytes()
    assert visual.step("created input")["path"] is None, "no picture made behind the script"
    assert visual.step("make created")["previews"] == [str(folder / "preview.png")]
    picture = visual.step("input picture")
    assert max(picture["size"]) == 128 and picture["variance"] > MIN_VARIANCE


def test_a_new_result_makes_its_asset_again(visual: Record) -> None:
    before, after = visual.step("glb asset before")["mtime"], visual.step("glb asset after")["mtime"]
    assert before is not None and after is not None and after > before


@pytest.mark.parametrize("kind", ["glb", "obj"])
def test_dragging_an_asset_into_a_new_file_gives_the_model_with_its_textures(visual: Record, kind: str) -> None:
    facts = visual.step(f"drag {kind}")
    task_id = visual.ids[kind]
    assert facts["offered"] == [task_id] and facts["found"]
    assert facts["meshes"] >= 1 and facts["faces"] > 100
    assert facts["images"], "the textures come along"
    # The asset file keeps them relative; appended into an unsaved file they point into the library:
    # an OBJ's at the result's own files, a GLB's (embedded in the .glb) at the asset's textures/.
    where = visual.library / task_id / ("textures" if kind == "glb" else "files")
    for image in facts["images"]:
        assert image["exists"] and not image["packed"] and image["size"][0] > 0, image
        assert Path(image["filepath"]).is_relative_to(where), image
    assert facts["preview_size"] == [256, 256]
    assert facts["preview_variance"] > MIN_VARIANCE


@pytest.mark.parametrize("kind", ["glb", "obj"])
def test_the_asset_says_what_it_is_and_sits_in_its_catalog(visual: Record, kind: str) -> None:
    asset = visual.step(f"drag {kind}")["asset"]
    task_id = visual.ids[kind]
    assert asset is not None
    assert asset["description"].startswith(task_id)
    assert task_id in asset["tags"] and kind in asset["tags"] and "Ark 3D" in asset["tags"]
    catalogs = (visual.library / "blender_assets.cats.txt").read_text(encoding="utf-8")
    entries = dict(line.split(":")[:2] for line in catalogs.splitlines() if line.count(":") == 2)
    path = entries[asset["catalog_id"]]
    model = MODEL if kind == "glb" else "doubao-seed3d-1-0-250928"
    assert path.startswith(f"Ark 3D/{model}/") and len(path.rsplit("/", 1)[1]) == 7  # YYYY-MM
    assert uuid.UUID(asset["catalog_id"])
    assert f"Ark 3D/{model}" in entries.values() and "Ark 3D" in entries.values()


def test_asset_files_are_small_beside_the_results(visual: Record) -> None:
    """Meshes and materials only: the textures stay files.  An OBJ's are the result's own, never
    copied; a GLB's are written once into the asset's textures/ (the .glb stays as Ark sent it)."""
    for kind in ("glb", "obj"):
        folder = visual.library / visual.ids[kind]
        assert (folder / "textures").is_dir() == (kind == "glb"), kind
        assert {p.name for p in (folder / "files").rglob("*.glb")} == ({"mushroom.glb"} if kind == "glb" else set())
        asset = (folder / "asset.blend").stat().st_size
        result = sum(p.stat().st_size for p in (folder / "files").rglob("*") if p.is_file())
        assert asset < result, (kind, asset, result)
