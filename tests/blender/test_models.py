"""Creating with every 3D model, in real Blender against the local server's per-model create rules.

One Blender session per version of the matrix (``jobs_session.py``), the built zip installed:
Hyper3D Gen2 from two image files and a prompt (its bare FBX imported), Hitem3D 2.0 from two
image links (its bare STL imported), an endpoint id instead of the model id, the model menu
before and after Ark's model list (retiring marked, offline the built-in list), and what the
catalog refuses before anything is sent: two images for Seed3D, an image file for Hitem3D
(links only), an undocumented flag, a level Hyper3D does not have.
"""

from __future__ import annotations

import secrets
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ark_server import ArkServer
from harness import BlenderPython, Scenario, session

pytestmark = pytest.mark.blender

KEY = "ark-test-" + secrets.token_hex(16)
SEED3D_1 = "doubao-seed3d-1-0-250928"
SEED3D_2 = "doubao-seed3d-2-0-260328"
HYPER3D = "hyper3d-gen2-260112"
HITEM3D = "hitem3d-2-0-251223"


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"\x80\x40\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def models(blender_python: BlenderPython, extension_zip: Path, format_assets: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    with ArkServer(api_key=KEY) as server:
        server.create_schedule = (0.0, 0.0)
        server.set_create_result("fbx", format_assets / "embedded.fbx", model=HYPER3D)
        stl = tmp_path_factory.mktemp("stl") / "cube.stl"
        with zipfile.ZipFile(format_assets / "stl.zip") as zf:
            stl.write_bytes(zf.read(next(n for n in zf.namelist() if n.endswith(".stl"))))
        server.set_create_result("stl", stl, model=HITEM3D)
        server.set_create_result("glb", format_assets / "embedded.fbx", model=SEED3D_2)  # any result will do
        endpoint = server.add_endpoint(SEED3D_2)
        video = server.add_video_task()
        sc = Scenario({"endpoint": endpoint, "video": video}, server,
                      tmp_path_factory.mktemp(f"models-{blender_python.id}-"))
        images = sc.root / "images"
        images.mkdir()
        (images / "front.png").write_bytes(png(64, 64))
        (images / "back.png").write_bytes(png(64, 64))
        with session(sc, sc.root, {}, blender_python.python, script="jobs_session.py") as blender:

            def counted(name: str, cmd: str, **args: Any) -> None:
                before = server.count("api", "POST")
                step = sc.run(blender, name, cmd, **args)
                if step is not None:
                    step["posts"] = server.count("api", "POST") - before

            sc.run(blender, "install", "install", zip_path=str(extension_zip))
            sc.run(blender, "prefs", "prefs", region="CUSTOM", custom_base_url=server.api_base, api_key=KEY,
                   poll_interval=1.0)
            sc.run(blender, "menu built in", "menu")
            sc.run(blender, "hint seed3d 2 high", "hints", model=SEED3D_2, subdivisionlevel="high", fileformat="obj",
                   source="FILE", image_path=str(images / "front.png"))
            sc.run(blender, "hint hitem3d pro", "hints", model=HITEM3D, fileformat="fbx",
                   parameters="--resolution 1536pro --face 2000000")
            sc.run(blender, "hint hyper3d prompt only", "hints", model=HYPER3D, image_path="", prompt="a red chair",
                   parameters="--mesh_mode Raw", fileformat="glb", subdivisionlevel="DEFAULT")
            sc.run(blender, "hint hyper3d bad", "hints", model=HYPER3D,
                   parameters="--mesh_mode Quad --quality_override 500000")
            sc.run(blender, "hint reset", "hints", model=SEED3D_1, parameters="", prompt="", fileformat="glb")
            counted("hyper3d", "create", image_path=str(images / "front.png"),
                    image_paths=str(images / "back.png"), model=HYPER3D, fileformat="fbx",
                    prompt="a small red cube", parameters="--mesh_mode Raw --material PBR")
            counted("hitem3d", "api", fn="create_task", args=["https://images.example/front.png"],
                    images=["https://images.example/back.png"], model=HITEM3D, fileformat="stl",
                    parameters="--multi_images_bit 1100")
            counted("endpoint", "api", fn="create_task", args=[str(images / "front.png")], model=SEED3D_2,
                    endpoint=endpoint, fileformat="glb")
            counted("seed3d two images", "create", image_path=str(images / "front.png"),
                    image_paths=str(images / "back.png"), model=SEED3D_1)
            counted("hitem3d file", "api", fn="create_task", args=[str(images / "front.png")], model=HITEM3D)
            counted("undocumented flag", "create", image_path=str(images / "front.png"), model=SEED3D_2,
                    parameters="--texture_size 4096")
            counted("no such level", "create", image_path=str(images / "front.png"), model=HYPER3D,
                    parameters="--sl ultra")
            sc.run(blender, "list tasks", "api", fn="list_tasks", page_size=50)
            sc.run(blender, "list models", "api", fn="list_models")
            sc.run(blender, "menu listed", "menu")
            sc.run(blender, "online off", "online", value=False)
            sc.run(blender, "list models offline", "api", fn="list_models")
            sc.run(blender, "menu after offline", "menu")
        yield sc


def test_hyper3d_from_two_images_and_a_prompt_imports_its_fbx(models: Scenario) -> None:
    step = models.step("hyper3d")
    assert step["error"] is None and step["result"] == ["FINISHED"], step
    assert step["posts"] == 1 and step["new_objects"], step
    assert ".fbx" in step["message"], step["message"]


def test_hitem3d_from_two_image_links_imports_its_stl(models: Scenario) -> None:
    step = models.step("hitem3d")
    assert step["error"] is None, step
    assert step["value"]["kind"] == "Imported" and ".stl" in step["value"]["message"], step["value"]
    assert step["posts"] == 1


def test_an_endpoint_id_is_named_instead_of_the_model(models: Scenario) -> None:
    step = models.step("endpoint")
    assert step["error"] is None, step
    task_id = step["value"]["task_id"]
    assert models.server._tasks[task_id].endpoint == models.ids["endpoint"]


@pytest.mark.parametrize(("name", "says"), [
    ("seed3d two images", "Seed3D 1.0 takes exactly one image, not 2"),
    ("hitem3d file", "Hitem3D 2.0 takes image links only"),
    ("undocumented flag", "Seed3D 2.0 has no parameter --texture_size"),
    ("no such level", "--subdivisionlevel cannot be 'ultra'"),
])
def test_what_a_model_does_not_take_is_refused_before_anything_is_sent(models: Scenario, name: str,
                                                                       says: str) -> None:
    step = models.step(name)
    error = step["error"]
    assert error and says in error, error
    assert step["posts"] == 0


def test_the_model_menu_follows_arks_list_and_falls_back_offline(models: Scenario) -> None:
    built_in = models.step("menu built in")
    assert [m[0] for m in built_in["models"]] == [SEED3D_1, SEED3D_2, HYPER3D, HITEM3D]
    assert built_in["formats"][HYPER3D] == ["glb", "obj", "usdz", "fbx", "stl"]
    assert built_in["formats"][HITEM3D] == ["obj", "glb", "stl", "fbx", "usdz"]
    listed = models.step("list models")
    assert listed["error"] is None
    assert [(m["id"], m["retiring"]) for m in listed["value"]] == [
        (SEED3D_1, True), (SEED3D_2, False), (HYPER3D, False), (HITEM3D, False)]
    menu = models.step("menu listed")["models"]
    assert menu[0] == [SEED3D_1, "Seed3D 1.0 (retiring)", "ERROR"], menu
    offline = models.step("list models offline")
    assert offline["error"] and "online access" in offline["error"].lower(), offline
    assert models.step("menu after offline")["models"] == menu  # what was known stays


def test_the_panel_shows_faces_and_price_before_sending_or_why_it_would_be_refused(models: Scenario) -> None:
    assert models.step("hint seed3d 2 high")["hint"] == "about 1,000,000 faces · about 2.40 CNY a task"
    assert models.step("hint hitem3d pro")["hint"] == "about 2,000,000 faces · about 13.05 CNY a task"
    prompt_only = models.step("hint hyper3d prompt only")
    assert prompt_only["hint"] == "about 500,000 faces · about 1.80 CNY a task"
    assert prompt_only["ready"], prompt_only  # Hyper3D takes a prompt without an image
    bad = models.step("hint hyper3d bad")["hint"]
    assert "with mesh mode Quad, --quality_override must be from 1,000 to 200,000" in bad, bad


def test_the_api_lists_3d_tasks_only(models: Scenario) -> None:
    step = models.step("list tasks")
    assert step["error"] is None, step
    listed = {task["id"]: task["model"] for task in step["value"]}
    assert models.ids["video"] not in listed
    assert {HYPER3D, HITEM3D, SEED3D_2} <= set(listed.values()), listed
