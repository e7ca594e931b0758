"""The extension in real Blender: the built zip installed as a user installs it, then used.

Each scenario is ONE Blender (the ``bpy`` wheel) in a subprocess (``bpy_session.py``), with
``HOME`` and ``XDG_CONFIG_HOME`` in a fresh folder (no real configuration is read or
written), ``ARK3D_LIBRARY`` in a temporary folder and no ``ARK_*`` variables but the ones a
scenario sets.  The Ark server runs in this process on loopback; the test drives Blender one
command at a time, so it can stop the server between two imports.  A module-scoped fixture
plays each scenario once and records every step; the tests below only read those records, so
a failing step fails the tests that depend on it and no others.

* ``formats``: configured through the add-on preferences (region Custom, base URL, key).
  The default library folder, the sidebar panel's draw checked against this Blender's UI API,
  GLB (PBR by default, ``variant="rgb"``), OBJ, USDZ, the GBK-named zip fetched with a pasted
  URL, the 3D cursor, one undo, saving a .blend, disabling/enabling the extension with a worker
  running, and a second import from the library with the server stopped.
* ``errors``: base URL from ``ARK_BASE_URL``, key in the preferences (so a test can change
  it).  Failed, cancelled and unknown tasks, a bad key, no key, online access off, path-like ids.

Every test runs once per Blender of the version matrix (``[blender-4.2.23]``, ...): the Python
running pytest (``.venv``, bpy 4.5) and each ``.venvs/bpy-<version>/bin/python`` that
``scripts/setup.sh --matrix`` made from ``requirements-bpy-<version>.txt``; a version whose
venv is missing or out of date is skipped.  ``ARK3D_BPY_PYTHONS`` (paths joined with
``os.pathsep``) replaces that list.  The zip is built once, by ``.venv``'s Blender tool, and
each Blender validates and installs that same zip.  The matrix, the session and the zip
fixture are ``harness.py``'s, shared with the other Blender test modules.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import struct
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ark_server import ArkServer
from harness import BlenderPython, Scenario, session

pytestmark = pytest.mark.blender

#: Keys that must never show up in Blender's output, a saved .blend or the library.
KEY = "ark-test-" + secrets.token_hex(16)
WRONG_KEY = "ark-wrong-" + secrets.token_hex(16)

CURSOR = [2.5, -1.25, 0.75]
#: Ark's request ids: a timestamp then 10 hex digits (scripts/ark_server.py mimics them).
REQUEST_ID = re.compile(r"request id \d{14}[0-9A-F]{10}")


def new_objects(step: dict[str, Any]) -> list[dict[str, Any]]:
    objects = step["facts"]["objects"]
    return [objects[name] for name in step["new_objects"]]


def roots(step: dict[str, Any]) -> list[dict[str, Any]]:
    names = set(step["new_objects"])
    return [o for o in new_objects(step) if o["parent"] not in names]


def images_of(step: dict[str, Any]) -> list[dict[str, Any]]:
    materials = step["facts"]["materials"]
    return [img for obj in new_objects(step) for m in obj["materials"] for img in materials[m]["images"]]


def requests_for(server: ArkServer, task_id: str) -> int:
    return sum(1 for r in server.requests_log if r.server == "api" and task_id in r.path)


# -- fixtures (blender_python and extension_zip: harness.py, through conftest.py) ------------


def _serve(server: ArkServer, assets: Path, name: str) -> str:
    return server.add_file(name, assets / name)


@pytest.fixture(scope="module")
def formats(
    blender_python: BlenderPython, extension_zip: Path, demo_assets: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    with ArkServer(api_key=KEY) as server:
        glb = _serve(server, demo_assets, "seed3d_glb.zip")
        ids = {
            "rgb": server.add_task(file=glb, fileformat="glb"),
            "obj": server.add_task(file=_serve(server, demo_assets, "seed3d_obj.zip"), fileformat="obj"),
            "usdz": server.add_task(file=_serve(server, demo_assets, "seed3d_usdz.zip"), fileformat="usdz"),
            "gbk": server.add_task(file=_serve(server, demo_assets, "seed3d_gbk.zip"), fileformat="obj"),
            "undo": server.add_task(file=glb, fileformat="glb"),
            "long": server.add_task(file=glb, fileformat="glb", queued_s=3600),
        }
        sc = Scenario(ids, server, tmp_path_factory.mktemp(f"formats-{blender_python.id}-"))
        with session(sc, sc.root, {}, blender_python.python) as blender:
            sc.run(blender, "install", "install", zip_path=str(extension_zip))
            sc.run(blender, "prefs", "prefs", region="CUSTOM", custom_base_url=server.api_base, api_key=KEY,
                   poll_interval=2.0)
            sc.run(blender, "default library", "default_library")
            sc.run(blender, "panel", "draw_panel")
            # added now, so the first query finds it queued and the import must poll again (after 3 s:
            # the preferences' 2 s interval x 1.5 while queued), by when it has succeeded
            ids["glb"] = server.add_task(file=glb, fileformat="glb", queued_s=1.5, running_s=0.5)
            sc.run(blender, "glb", "import", task_id=ids["glb"])
            sc.run(blender, "cursor", "cursor", location=CURSOR)
            sc.run(blender, "rgb", "import", task_id=ids["rgb"], variant="rgb")
            sc.run(blender, "cursor back", "cursor", location=[0, 0, 0])
            sc.run(blender, "obj", "import", task_id=ids["obj"])
            sc.run(blender, "usdz", "import", task_id=ids["usdz"])
            pasted = f"https://console.volcengine.com/ark/region:ark+cn-beijing/task/{ids['gbk']}/?from=share"
            sc.run(blender, "gbk", "import", task_id=pasted)
            sc.run(blender, "undo push", "undo_push", message="Before the import")
            sc.run(blender, "undoable import", "import", task_id=ids["undo"], undo=True)
            sc.run(blender, "undo", "undo")
            sc.run(blender, "save", "save", path=str(sc.root / "scene.blend"))
            sc.run(blender, "worker", "start_worker", task_id=ids["long"])
            sc.run(blender, "disable", "disable")
            sc.run(blender, "enable", "enable")
            sc.steps["log before stop"] = {"count": len(server.requests_log)}
            server.stop()
            sc.run(blender, "again", "import", task_id=ids["glb"])
            sc.run(blender, "online off", "online", value=False)
            sc.run(blender, "again offline", "import", task_id=ids["obj"])
            sc.steps["log after stop"] = {"count": len(server.requests_log)}
            sc.run(blender, "threads at the end", "threads")
        yield sc


@pytest.fixture(scope="module")
def errors(
    blender_python: BlenderPython, extension_zip: Path, demo_assets: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    with ArkServer(api_key=KEY) as server:
        ids = {
            "failed": server.add_task(fileformat="glb", outcome="failed",
                                      error_code="InputImageSensitiveContentDetected.PrivacyInformation",
                                      error_message="The input image may contain real-person portrait information."),
            "cancelled": server.add_task(fileformat="glb", outcome="cancelled"),
            "ok": server.add_task(file=_serve(server, demo_assets, "seed3d_glb.zip"), fileformat="glb"),
            "unknown": "cgt-20250101000000-zzzzz",
            "damaged": server.add_task(file=server.add_file("damaged.zip", damaged_glb_zip()), fileformat="glb"),
        }
        sc = Scenario(ids, server, tmp_path_factory.mktemp(f"errors-{blender_python.id}-"))
        with session(sc, sc.root, {"ARK_BASE_URL": server.api_base}, blender_python.python) as blender:

            def counted(name: str, cmd: str, **args: Any) -> None:
                before = len(server.requests_log)
                step = sc.run(blender, name, cmd, **args)
                if step is not None:
                    step["requests"] = len(server.requests_log) - before

            sc.run(blender, "install", "install", zip_path=str(extension_zip))
            sc.run(blender, "prefs", "prefs", api_key=KEY)  # region stays China: ARK_BASE_URL wins
            counted("failed", "import", task_id=ids["failed"])
            counted("cancelled", "import", task_id=ids["cancelled"])
            counted("unknown", "import", task_id=ids["unknown"])
            counted("damaged", "import", task_id=ids["damaged"])
            for n, bad in enumerate(INVALID_IDS):
                counted(f"invalid {n}", "import", task_id=bad)
            sc.run(blender, "online off", "online", value=False)
            counted("offline", "import", task_id=ids["ok"])
            sc.run(blender, "online on", "online", value=True)
            sc.run(blender, "bad key prefs", "prefs", api_key=WRONG_KEY)
            counted("bad key", "import", task_id=ids["ok"])
            sc.run(blender, "no key prefs", "prefs", api_key="")
            counted("no key", "import", task_id=ids["ok"])
            sc.run(blender, "good key prefs", "prefs", api_key=KEY)
            counted("good", "import", task_id=ids["ok"])
        yield sc


def damaged_glb_zip() -> bytes:
    """A result whose GLB is well-formed JSON that the glTF importer trips over (its mesh points
    at an accessor that does not exist): the importer raises a Python exception, which Blender
    reports as a whole traceback ending in a "Location: .../ops.py:NNN" line."""
    doc = {"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
           "meshes": [{"primitives": [{"attributes": {"POSITION": 5}}]}]}
    chunk = json.dumps(doc).encode()
    chunk += b" " * (-len(chunk) % 4)
    body = struct.pack("<II", len(chunk), 0x4E4F534A) + chunk  # the JSON chunk
    glb = struct.pack("<III", 0x46546C67, 2, 12 + len(body)) + body  # "glTF", version 2, length
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("damaged.glb", glb)
    return out.getvalue()


INVALID_IDS = [
    "../../etc",
    "cgt-../../etc/passwd",
    "cgt-20251124123456-abcde/../../x",
    "cgt-20251124123456-abcde%2F..%2F..",
    "cgt-20251124123456-abcde?status=failed",
    "https://ark.cn-beijing.volces.com/api/v3/contents/generations/tasks/..%2F..%2Fsecret",
    "..\\..\\Windows",
    "cgt-abc def",
    "",
]


# -- formats --------------------------------------------------------------------------------


def test_the_built_zip_passes_this_blenders_extension_validator(blender_python: BlenderPython,
                                                                extension_zip: Path) -> None:
    """``blender_ext.py validate`` of this Blender (the manifest must suit 4.2's tool too)."""
    scripts = blender_python.scripts()
    tags = scripts / "modules" / "_bpy_internal" / "extensions" / "tags.py"
    tool = scripts / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"
    cmd = [blender_python.python, str(tool), "validate", str(extension_zip)]
    cmd += ["--valid-tags", str(tags)] if tags.exists() else []
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"{out.stdout}\n{out.stderr}"
    assert "Success" in out.stdout, out.stdout


def test_runs_on_the_blender_of_its_id(blender_python: BlenderPython, formats: Scenario) -> None:
    step = formats.step("install")
    assert step["blender"] == blender_python.version, (step["blender"], blender_python)


def test_installs_from_the_built_zip_as_a_user_does(formats: Scenario) -> None:
    step = formats.step("install")
    assert step["result"] == ["FINISHED"]
    assert step["enabled"] and step["operator"], step
    assert step["online_access"] is True
    assert step["threads"] == [], "enabling the extension must not start threads"


def test_default_library_is_the_extensions_user_folder(blender_python: BlenderPython, formats: Scenario) -> None:
    """``bpy.utils.extension_path_user``: ``<config>/extensions/.user/user_default/ark3d/library``."""
    step = formats.step("default library")
    expected = Path(step["config"]) / "extensions" / ".user" / "user_default" / "ark3d" / "library"
    assert Path(step["path"]) == expected and step["exists"], step
    assert Path(step["path"]).is_relative_to(formats.root / "home"), "the library left the test's HOME"


def test_sidebar_panel_draws_with_this_blenders_ui_api(formats: Scenario) -> None:
    """Every layout call of the panel's ``draw`` exists in this Blender, with valid keywords and icons;
    a download shows as a progress bar (``UILayout.progress``, 4.0+)."""
    step = formats.step("panel")
    assert step["problems"] == [], step
    calls = "\n".join(step["calls"])
    assert "No API key set" in calls and "Online access is off" in calls, calls
    assert ("progress(factor=0.27, text='…123456-abcde: Downloading 12.3 MB / 45.6 MB (27%) · 8.1 MB/s', "
            "type='BAR')") in calls, calls
    assert "Imported cgt-20251124123456-abcde" in calls, calls
    assert "operator('ark3d.import_task', icon='IMPORT', text='Import')" in calls, calls


def test_sidebar_panel_shows_the_typed_tasks_job_in_place_of_the_import_button(formats: Scenario) -> None:
    """The panel keeps its height when Import is clicked: the button's row becomes the job's progress
    (a panel whose height changes makes Blender animate it, 2-3 more sidebar frames)."""
    step = formats.step("panel")
    calls = "\n".join(step["typed_calls"])
    assert "progress(factor=0.27, text='Downloading 12.3 MB / 45.6 MB (27%) · 8.1 MB/s', type='BAR')" in calls, calls
    assert "import_task" not in calls and "operator('ark3d.cancel_import', icon='CANCEL', text='')" in calls, calls
    assert calls.count("progress(") == 1, calls
    assert "prop('task_id', icon='URL', text='')" in calls, calls


def test_glb_imports_the_pbr_variant_by_default_after_polling(formats: Scenario) -> None:
    step = formats.imported("glb")
    task_id = formats.ids["glb"]
    assert "(mushroom.glb, pbr, downloaded)" in step["message"], step["message"]
    materials = {m for o in new_objects(step) for m in o["materials"]}
    assert materials and all(m.startswith("mushroom_pbr") for m in materials), materials
    images = images_of(step)
    assert images and all(img["name"].startswith("mushroom_albedo") for img in images), images
    # queued -> running -> succeeded: more than one query of this task
    log = formats.server.requests_log
    assert sum(1 for r in log if r.server == "api" and r.path.endswith("/" + task_id)) >= 2


def test_variant_rgb_imports_the_baked_model(formats: Scenario) -> None:
    step = formats.imported("rgb")
    assert "(mushroom.glb, rgb, downloaded)" in step["message"], step["message"]
    materials = {m for o in new_objects(step) for m in o["materials"]}
    assert materials and all(m.startswith("mushroom_rgb") for m in materials), materials
    assert all(img["name"].startswith("mushroom_baked") for img in images_of(step)), images_of(step)


def test_import_makes_a_tagged_collection_selected_and_active(formats: Scenario) -> None:
    step = formats.imported("glb")
    task_id = formats.ids["glb"]
    facts = step["facts"]
    assert task_id in facts["top_collections"], facts["top_collections"]
    assert facts["collections"][task_id] == sorted(step["new_objects"])
    for obj in new_objects(step):
        assert obj["task_id"] == task_id, obj
        assert obj["collections"] == [task_id], obj
    assert facts["selected"] == sorted(step["new_objects"]), "exactly the imported objects are selected"
    assert "Cube" in facts["objects"] and not facts["objects"]["Cube"]["selected"]
    active = facts["active"]
    assert active in step["new_objects"] and facts["objects"][active]["type"] == "MESH", active
    assert sum(o["faces"] for o in new_objects(step)) > 1000


def test_images_of_an_import_are_loaded(formats: Scenario) -> None:
    for name in ("glb", "rgb", "obj", "usdz", "gbk"):
        images = images_of(formats.imported(name))
        assert images, f"{name}: no image textures in the imported materials"
        for img in images:
            assert img["exists"] or img["packed"], f"{name}: {img}"
            assert img["has_data"] and img["size"][0] > 0 and img["size"][1] > 0, f"{name}: {img}"


def test_import_lands_at_the_3d_cursor(formats: Scenario) -> None:
    at_origin = {o["name"].split(".")[0]: o["world_location"] for o in roots(formats.imported("glb"))}
    at_cursor = {o["name"].split(".")[0]: o["world_location"] for o in roots(formats.imported("rgb"))}
    assert formats.step("rgb")["facts"]["cursor"] == CURSOR
    assert at_origin.keys() == at_cursor.keys(), (at_origin, at_cursor)
    for name, origin in at_origin.items():
        moved = [round(a - b, 4) for a, b in zip(at_cursor[name], origin, strict=True)]
        assert moved == pytest.approx(CURSOR, abs=1e-4), (name, origin, at_cursor[name])


def test_obj_material_has_its_texture_from_the_library(formats: Scenario) -> None:
    step = formats.imported("obj")
    assert "mushroom.obj" in step["message"], step["message"]
    library = formats.root / "library"
    images = images_of(step)
    assert images, "the OBJ's material has no image texture"
    for img in images:
        assert img["exists"] and not img["packed"], img
        assert Path(img["abspath"]).resolve().is_relative_to(library.resolve()), img
        assert Path(img["abspath"]).name == "mushroom_albedo.png"


def test_usdz_imports_meshes_with_materials(formats: Scenario) -> None:
    step = formats.imported("usdz")
    assert "mushroom.usdz" in step["message"], step["message"]
    meshes = [o for o in new_objects(step) if o["type"] == "MESH"]
    assert meshes and sum(o["faces"] for o in meshes) > 1000
    assert all(o["task_id"] == formats.ids["usdz"] for o in new_objects(step))
    assert any(o["materials"] for o in meshes)


def test_gbk_named_zip_from_a_pasted_url(formats: Scenario) -> None:
    step = formats.imported("gbk")
    task_id = formats.ids["gbk"]
    assert "蘑菇.obj" in step["message"], step["message"]
    assert task_id in step["facts"]["top_collections"], "the collection is named after the id, not the URL"
    assert all(o["task_id"] == task_id for o in new_objects(step))
    images = images_of(step)
    assert images and all("蘑菇" in img["abspath"] and img["exists"] for img in images), images


def test_one_undo_removes_the_whole_import(formats: Scenario) -> None:
    """Background Blender starts without an undo stack: ``ed.undo_push`` creates it, and the
    import is called as a UI button calls it (``bpy.ops...('EXEC_DEFAULT', True)``, which
    pushes the operator's UNDO step).  One ``ed.undo`` must take all of it away."""
    assert formats.step("undo push")["result"] == ["FINISHED"]
    made = formats.imported("undoable import")
    task_id = formats.ids["undo"]
    assert task_id in made["facts"]["top_collections"]
    undone = formats.step("undo")
    assert undone["error"] is None and undone["result"] == ["FINISHED"], undone
    after = undone["facts"]
    assert not [o for o in after["objects"].values() if o["task_id"] == task_id], "imported objects survived undo"
    assert task_id not in after["collections"], "the import's collection survived undo"
    for earlier in ("glb", "rgb", "obj", "usdz", "gbk"):
        assert formats.ids[earlier] in after["top_collections"], f"undo went further back than the import ({earlier})"


def blend_bytes(path: Path) -> bytes:
    """A .blend's content: Blender 5.0 compresses saved files by default (Zstandard), older ones on request."""
    with path.open("rb") as f:
        head = f.read(4)
        f.seek(0)
        if head == b"\x28\xb5\x2f\xfd":
            import zstandard  # a dependency of every bpy wheel

            return zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True).read()
        if head[:2] == b"\x1f\x8b":
            import gzip

            return gzip.decompress(f.read())
        return f.read()


def test_a_saved_blend_does_not_contain_the_api_key(formats: Scenario) -> None:
    step = formats.step("save")
    assert step["result"] == ["FINISHED"]
    assert (formats.root / "scene.blend").stat().st_size == step["size"]
    data = blend_bytes(formats.root / "scene.blend")
    assert data.startswith(b"BLENDER") and len(data) > 10000, data[:16]
    assert KEY.encode() not in data
    assert formats.ids["glb"].encode() in data, "sanity: the imported objects are in the file"


def test_the_library_and_the_output_never_show_the_api_key(formats: Scenario) -> None:
    library = formats.root / "library"
    files = [p for p in library.rglob("*") if p.is_file()]
    assert files, "the library is empty"
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path
    assert KEY not in formats.output


def test_the_key_goes_to_the_api_only_never_to_the_file_host(formats: Scenario) -> None:
    api = [r for r in formats.server.requests_log if r.server == "api"]
    files = [r for r in formats.server.requests_log if r.server == "file"]
    assert api and files
    assert all(r.header("Authorization") == f"Bearer {KEY}" for r in api)
    assert all(r.header("Authorization") is None for r in files), [r.headers for r in files]


def test_disable_and_enable_leave_no_thread_running(formats: Scenario) -> None:
    worker = formats.step("worker")
    thread = f"ark3d-{formats.ids['long']}"
    assert thread in worker["threads"], worker
    disabled = formats.step("disable")
    assert disabled["result"] == ["FINISHED"]
    assert disabled["threads"] == [], f"unregister() left threads running: {disabled['threads']}"
    assert not disabled["enabled"] and not disabled["operator"] and not disabled["wm_property"], disabled
    assert disabled["handlers"] == [], "unregister() left handlers behind"
    enabled = formats.step("enable")
    assert enabled["enabled"] and enabled["operator"] and enabled["wm_property"], enabled
    assert len(enabled["handlers"]) == 1, enabled["handlers"]  # load_pre: jobs end when a file loads
    assert enabled["threads"] == []
    assert formats.step("threads at the end")["threads"] == []


def test_a_disable_enable_cycle_leaves_no_trace_of_the_add_ons_state(formats: Scenario) -> None:
    """The add-on's memory is one object: gone with unregister() (a running job, its last message
    and all), made anew by register(), with no timer or handler left between the two."""
    assert formats.step("worker")["threads"], "a job was running when the add-on was disabled"
    disabled = formats.step("disable")
    assert disabled["state"] is None, "unregister() must drop the add-on's state"
    assert disabled["timers"] == [] and disabled["handlers"] == [], disabled
    enabled = formats.step("enable")
    assert enabled["state"] == {"fresh": True, "jobs": [], "queued": 0, "loops": 0, "message": ""}, enabled["state"]
    assert enabled["timers"] == [], "background Blender: no resume timer"


def test_second_import_comes_from_the_library_with_the_server_stopped(formats: Scenario) -> None:
    first = formats.imported("glb")
    again = formats.imported("again")  # also proves the re-enabled extension works
    task_id = formats.ids["glb"]
    assert "from the library" in again["message"], again["message"]
    assert formats.step("log after stop")["count"] == formats.step("log before stop")["count"]
    assert len(again["new_objects"]) == len(first["new_objects"])
    assert all(o["task_id"] == task_id for o in new_objects(again))
    collections = [c for c in again["facts"]["top_collections"] if c.startswith(task_id)]
    assert len(collections) == 2, collections


def test_library_results_import_with_online_access_off(formats: Scenario) -> None:
    """Blender's "Allow Online Access" guards the network, not results already on disk."""
    assert formats.step("online off")["online_access"] is False
    step = formats.imported("again offline")
    assert "(mushroom.obj, from the library)" in step["message"], step["message"]
    assert all(img["exists"] for img in images_of(step)), images_of(step)


# -- errors ---------------------------------------------------------------------------------


def refused(sc: Scenario, name: str) -> str:
    step = sc.step(name)
    assert step["result"] == [] and step["error"], f"'{name}' was not refused: {step}"
    assert step["new_objects"] == [], f"'{name}' left objects behind: {step['new_objects']}"
    return str(step["error"])


def test_failed_task_reports_arks_code_and_message(errors: Scenario) -> None:
    message = refused(errors, "failed")
    assert "InputImageSensitiveContentDetected.PrivacyInformation" in message
    assert "The input image may contain real-person portrait information" in message
    assert errors.ids["failed"] not in errors.step("failed")["facts"]["collections"]


def test_a_failing_importer_shows_its_cause_not_where_blender_called_it(errors: Scenario) -> None:
    """Blender's report of an importer's exception ends with "Location: .../ops.py:NNN" (5.0 shows
    that line last): the user must read the exception's message instead, and what to do."""
    message = refused(errors, "damaged")
    assert "Blender could not import damaged.glb: " in message, message
    cause = message.split("Blender could not import damaged.glb: ", 1)[1].split(" (code ImportFailed")[0]
    assert re.match(r"\w*(Error|Exception): \S", cause), cause
    assert "Location" not in message and "Traceback" not in message and ".py" not in message, message
    assert "File > Import" in message, message  # what to do
    assert errors.ids["damaged"] not in errors.step("damaged")["facts"]["collections"]


def test_cancelled_task_is_reported(errors: Scenario) -> None:
    message = refused(errors, "cancelled")
    assert "cancelled" in message.lower() and errors.ids["cancelled"] in message


def test_unknown_task_reports_404_with_request_id(errors: Scenario) -> None:
    message = refused(errors, "unknown")
    assert "HTTP 404" in message and "ResourceNotFound" in message, message
    assert REQUEST_ID.search(message), message
    assert "7 days" in message, message
    assert errors.step("unknown")["requests"] == 1, "a 404 is not retried"


def test_bad_key_reports_401_with_request_id_and_where_to_set_the_key(errors: Scenario) -> None:
    message = refused(errors, "bad key")
    assert "AuthenticationError" in message and "HTTP 401" in message, message
    assert REQUEST_ID.search(message), message
    assert "Preferences" in message and "ARK_API_KEY" in message, message
    assert WRONG_KEY not in message and KEY not in message


def test_missing_key_is_refused_before_any_request(errors: Scenario) -> None:
    message = refused(errors, "no key")
    assert "API key" in message and "ARK_API_KEY" in message, message
    assert errors.step("no key")["requests"] == 0


def test_online_access_off_is_refused_before_any_request(errors: Scenario) -> None:
    assert errors.step("online off")["online_access"] is False
    message = refused(errors, "offline")
    # The bpy module runs in the background, where no Preferences window exists: the hint is the line of Python.
    assert "bpy.context.preferences.system.use_online_access = True" in message, message
    assert "Edit > Preferences" not in message, message
    assert errors.step("offline")["requests"] == 0


@pytest.mark.parametrize("n", range(len(INVALID_IDS)), ids=[repr(i)[1:-1] or "empty" for i in INVALID_IDS])
def test_invalid_task_ids_are_refused_before_any_request(errors: Scenario, n: int) -> None:
    message = refused(errors, f"invalid {n}")
    assert "not a valid Ark task id" in message or "No task id" in message, message
    assert errors.step(f"invalid {n}")["requests"] == 0


def test_a_good_key_imports_after_all_the_refusals(errors: Scenario) -> None:
    step = errors.imported("good")
    assert "downloaded" in step["message"]
    assert step["requests"] >= 1


def test_error_output_never_shows_a_key(errors: Scenario) -> None:
    assert errors.output, "no Blender output captured"
    assert KEY not in errors.output and WRONG_KEY not in errors.output
    for path in (errors.root / "library").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert KEY.encode() not in data and WRONG_KEY.encode() not in data, path
