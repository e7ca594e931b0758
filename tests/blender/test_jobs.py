"""Generate, batch, restart-safe jobs and the scripting API in real Blender.

As in test_extension.py (and through the same ``harness.py``): the built zip is installed into a
``bpy`` wheel in a subprocess (``jobs_session.py``, a superset of ``bpy_session.py``), with a
fresh HOME and library, once per Blender of the version matrix; the Ark server runs in this process on loopback.  A
module-scoped fixture plays each scenario once and records every step; the tests read them.

* ``flows``: configured through the preferences.  ``create_task`` from a PNG file, from the
  active camera (Cycles) and from the Render Result; refused images (aspect ratio, size, not an
  image) with no request at all; a batch of three ids with two download slots; the console API.
* ``resume``: configured through the environment.  A journaled job whose Blender is killed
  mid-download (SIGKILL: a crash), then a second Blender resumes it from the journal
  (``runner.resume_journaled``: background Blender runs no timers) with a Range request.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import struct
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ark_server import ArkServer
from harness import BlenderPython, BlenderSession, Steps, session

pytestmark = pytest.mark.blender

KEY = "ark-test-" + secrets.token_hex(16)
#: ``harness.BlenderSession``'s options: this module's session script, its output in ``blender-output.txt``.
SESSION: dict[str, Any] = {"script": "jobs_session.py", "timeout": 60.0, "merged_output": True}
MODEL_1 = "doubao-seed3d-1-0-250928"
MODEL_2 = "doubao-seed3d-2-0-260328"
HITEM3D = "hitem3d-2-0-251223"

def png(width: int, height: int, declared: tuple[int, int] | None = None) -> bytes:
    """A valid grey RGB PNG made by hand; ``declared`` writes another size into its header only."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    w, h = declared or (width, height)
    rows = b"".join(b"\x00" + bytes([128]) * (width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def own_copy(asset: Path, folder: Path) -> Path:
    """A private copy of a demo zip: another test session may be rebuilding ``.cache/demo_assets``
    while this one serves it, and a file that changes under the file host truncates downloads."""
    for _ in range(50):
        data = asset.read_bytes()
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if archive.testzip() is None:
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / asset.name).write_bytes(data)
                    return folder / asset.name
        except zipfile.BadZipFile:
            pass
        time.sleep(0.2)
    pytest.fail(f"{asset} stayed unreadable (being rebuilt?)")


@dataclass
class Record(Steps):
    """Every step's answer (or the error that stopped it), plus what the server saw."""

    server: ArkServer
    root: Path
    ids: dict[str, str] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    requests_before: dict[str, int] = field(default_factory=dict)

    def run(self, blender: BlenderSession, name: str, cmd: str, **args: Any) -> dict[str, Any] | None:
        self.requests_before[name] = len(self.server.requests_log)
        if super().run(blender, name, cmd, **args) is None:
            return None
        self.steps[name]["requests"] = len(self.server.requests_log) - self.requests_before[name]
        return self.steps[name]

    def log(self, name: str) -> list[Any]:
        """The requests the server received during one step."""
        start = self.requests_before[name]
        return self.server.requests_log[start:start + self.step(name)["requests"]]


def imported(step: dict[str, Any]) -> list[str]:
    """Task ids of the collections a step made (each import makes one, named after its task)."""
    assert step["error"] is None, step["error"]
    assert step["result"] == ["FINISHED"], step
    return [c for c in step["new_collections"] if c.startswith("cgt-")]


def tagged(step: dict[str, Any], task_id: str) -> list[str]:
    return [n for n in step["new_objects"] if step["facts"]["objects"][n]["task_id"] == task_id]


# -- fixtures (blender_python and extension_zip: harness.py, through conftest.py) ------------


@pytest.fixture(scope="module")
def flows(blender_python: BlenderPython, extension_zip: Path, demo_assets: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Record]:
    server = ArkServer(api_key=KEY).start()
    root = tmp_path_factory.mktemp(f"flows-{blender_python.id}-")
    glb = own_copy(demo_assets / "seed3d_glb.zip", root / "assets")
    server.set_create_result("glb", glb)
    server.create_schedule = (0.0, 0.0)  # done at the first query: the poll interval is not what is tested
    rec = Record(server, root)
    images = root / "images"
    images.mkdir()
    (images / "good.png").write_bytes(png(96, 64))
    (images / "wide.png").write_bytes(png(200, 40))  # aspect ratio 5
    (images / "huge.png").write_bytes(png(8, 8, declared=(5000, 5000)))  # over 4096 a side
    (images / "text.png").write_text("not an image at all")
    slow = server.add_file(glb.name, glb, throttle_bps=int(glb.stat().st_size / 1.2))  # about 1.2 s a download
    rec.ids.update({f"batch{n}": server.add_task(file=slow, fileformat="glb") for n in range(3)})
    rec.ids["api"] = server.add_task(file=server.add_file(glb.name, glb), fileformat="glb")
    rec.ids["queued"] = server.add_task(fileformat="glb", queued_s=3600)
    rec.ids["running"] = server.add_task(fileformat="glb", running_s=3600)
    with session(rec, root, {}, blender_python.python, library=root / "library", **SESSION) as blender:
        rec.run(blender, "install", "install", zip_path=str(extension_zip))
        rec.run(blender, "prefs", "prefs", region="CUSTOM", custom_base_url=server.api_base, api_key=KEY,
                poll_interval=2.0)
        rec.run(blender, "registered", "registered")
        rec.run(blender, "create", "create", image_path=str(images / "good.png"), fileformat="glb")
        for name in ("wide", "huge", "text"):
            rec.run(blender, f"refused {name}", "create", image_path=str(images / f"{name}.png"))
        rec.run(blender, "refused missing", "create", image_path=str(images / "missing.png"))
        rec.run(blender, "refused none", "create")
        rec.run(blender, "camera scene", "camera_scene")
        rec.run(blender, "camera", "create", use_camera=True, model=MODEL_2, subdivisionlevel="low")
        rec.run(blender, "after camera", "render_settings")
        rec.run(blender, "render", "render")
        rec.run(blender, "render result", "create", image_name="Render Result")
        rec.run(blender, "slots", "slots", limit=2)
        pasted = f"{rec.ids['batch0']}, {rec.ids['batch1']}\nhttps://x.example/tasks/{rec.ids['batch2']}"
        rec.run(blender, "batch", "import_ids", task_ids=pasted)
        rec.steps["batch spans"] = {"spans": [s.__dict__ for s in server.download_spans if s.path == slow.split(
            server.file_base, 1)[1]], "peak": server.max_concurrent_downloads()}
        rec.run(blender, "slots back", "slots", limit=3)
        rec.run(blender, "api import", "api", fn="import_task", args=[rec.ids["api"]])
        rec.run(blender, "api import again", "api", fn="import_task", args=[rec.ids["api"]], variant="rgb")
        rec.run(blender, "api list", "api", fn="list_tasks", status="succeeded", page_size=50)
        rec.run(blender, "api list page 1", "api", fn="list_tasks", page_size=2)
        rec.run(blender, "api list page 2", "api", fn="list_tasks", page_size=2, page_num=2)
        rec.run(blender, "api cancel", "api", fn="cancel_task", args=[rec.ids["queued"]])
        rec.run(blender, "api list queued", "api", fn="list_tasks", status="queued")
        rec.run(blender, "api cancel running", "api", fn="cancel_task", args=[rec.ids["running"]])
        rec.run(blender, "api create", "api", fn="create_task", args=[str(images / "good.png")], fileformat="glb")
        rec.run(blender, "api prompt", "api", fn="create_from_prompt", args=["a red teapot"],
                params={"fileformat": "glb"})
        rec.run(blender, "api pictures", "api", fn="make_pictures", args=["a robot toy"], model=HITEM3D,
                views=["front", "back"])
        rec.run(blender, "api bad id", "api", fn="import_task", args=["../../etc"])
        rec.run(blender, "api bad image", "api", fn="create_task", args=[str(images / "wide.png")])
        rec.run(blender, "api no wait", "api", fn="import_task", args=[rec.ids["api"]], wait=False)
        rec.run(blender, "journal at the end", "journal")
    yield rec
    server.stop()


@pytest.fixture(scope="module")
def resume(blender_python: BlenderPython, extension_zip: Path, demo_assets: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Record]:
    server = ArkServer(api_key=KEY).start()
    root = tmp_path_factory.mktemp(f"resume-{blender_python.id}-")
    library = root / "library"
    rec = Record(server, root)
    glb = own_copy(demo_assets / "seed3d_glb.zip", root / "assets")
    # Padded past the download's 1 MiB write buffer, so a part of it is on disk when Blender dies.
    with zipfile.ZipFile(glb, "a") as archive:
        archive.writestr("mushroom/padding.bin", os.urandom(3 << 20), compress_type=zipfile.ZIP_STORED)
    size = glb.stat().st_size
    rec.ids["slow"] = server.add_file(glb.name, glb, throttle_bps=size // 4)  # about 4 s
    rec.ids["slow"] = server.add_task(file=rec.ids["slow"], fileformat="glb")
    env = {"ARK_BASE_URL": server.api_base, "ARK_API_KEY": KEY}
    part = library / rec.ids["slow"] / "result.zip.part"
    first = BlenderSession(root / "first", env, blender_python.python, library=library, **SESSION)
    try:
        rec.run(first, "install 1", "install", zip_path=str(extension_zip))
        rec.run(first, "start", "start_journaled", task_id=rec.ids["slow"])
        deadline = time.monotonic() + 20
        while not (part.exists() and part.stat().st_size >= 1 << 20) and time.monotonic() < deadline:
            time.sleep(0.05)
        rec.run(first, "mid-download", "job_state", task_id=rec.ids["slow"])
        first.kill()
        rec.steps["after kill"] = {
            "part": part.stat().st_size if part.exists() else None,
            "journal": json.loads((part.parent / "job.json").read_text()) if (part.parent / "job.json").exists()
            else None,
            "zip": (part.parent / "result.zip").exists(),
            "size": size,
        }
    finally:
        first.close()
    with session(rec, root / "second", env, blender_python.python, library=library, **SESSION) as second:
        rec.run(second, "install 2", "install", zip_path=str(extension_zip))
        rec.run(second, "journal", "journal")
        rec.run(second, "resume", "resume")
        rec.run(second, "files", "files", task_id=rec.ids["slow"])
        rec.run(second, "resume again", "resume")
    yield rec
    server.stop()


# -- generate --------------------------------------------------------------------------------


def test_the_generate_panel_and_operator_are_registered(flows: Record) -> None:
    step = flows.step("registered")
    assert step["panel"] and step["parent"] == "ARK3D_PT_import" and step["operator"], step
    assert step["state"]["sources"] == ["FILE", "IMAGE", "CAMERA", "PROMPT"]
    assert step["state"]["models"] == [MODEL_1, MODEL_2, "hyper3d-gen2-260112", "hitem3d-2-0-251223"]
    assert (step["state"]["model"], step["state"]["subdivisionlevel"], step["state"]["fileformat"]) == (
        MODEL_1, "DEFAULT", "glb")
    assert {"task_id", "task_ids", "variant"} <= set(step["import_props"])
    assert step["timer"] is False, "background Blender must not register the resume timer"


def test_create_from_an_image_file_imports_the_new_task(flows: Record) -> None:
    step = flows.step("create")
    [task_id] = imported(step)
    assert step["message"].startswith(f"Created and imported {task_id} (mushroom.glb, pbr, downloaded)"), step
    assert len(tagged(step, task_id)) == len(step["new_objects"]) > 0
    log = flows.log("create")
    posts = [r for r in log if r.method == "POST"]
    assert len(posts) == 1, "one create call, never repeated"
    assert any(r.server == "file" for r in log)
    assert step["active"] == [] and step["journal"] == [], "the job ended: nothing left to resume"
    assert step["threads"] == []


@pytest.mark.parametrize("name, needle", [
    ("wide", "aspect ratio is 5.00"),
    ("huge", "5000 x 5000 pixels"),
    ("text", "not a jpg, png, webp or bmp"),
    ("missing", "Cannot read the image"),
    ("none", "No input image was chosen"),
])
def test_an_image_ark_would_refuse_is_refused_before_any_request(flows: Record, name: str, needle: str) -> None:
    step = flows.step(f"refused {name}")
    assert step["result"] == [] and step["error"] and needle in step["error"], step["error"]
    assert step["requests"] == 0, "nothing may be sent for a refused image"
    assert step["new_objects"] == [] and step["journal"] == []


def test_create_from_the_active_camera_renders_with_cycles(flows: Record) -> None:
    step = flows.step("camera")
    [task_id] = imported(step)
    assert tagged(step, task_id)
    assert flows.step("camera scene")["engine"] == "CYCLES"
    # The render settings were put back.
    assert flows.step("after camera") == flows.step("camera scene")


def test_create_from_the_render_result(flows: Record) -> None:
    assert "Render Result" in flows.step("render")["images"]
    step = flows.step("render result")
    [task_id] = imported(step)
    assert tagged(step, task_id)


def test_the_server_saw_one_create_per_generate_with_the_chosen_parameters(flows: Record) -> None:
    posts = [r.path for r in flows.server.requests_log if r.method == "POST"]
    creates = [path for path in posts if path.endswith("/contents/generations/tasks")]
    pictures = [path for path in posts if path.endswith("/images/generations")]
    # file, camera, render result, API, and the scripting API's sentence (after its picture)
    assert len(creates) == 5, posts
    # the sentence's picture, and the view set the scripting API made alone
    assert len(pictures) == 2 and len(posts) == 7, posts
    tasks = {t["id"]: t for t in json.loads(
        _get(flows.server, "/contents/generations/tasks?page_size=100"))["items"]}
    camera_task = imported(flows.step("camera"))[0]
    assert tasks[camera_task]["model"] == MODEL_2 and tasks[camera_task]["subdivisionlevel"] == "low"


def _get(server: ArkServer, path: str) -> str:
    import urllib.request

    request = urllib.request.Request(server.api_base + path, headers={"Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(answer.read().decode())


# -- batch -----------------------------------------------------------------------------------


def test_a_pasted_batch_imports_each_task_into_its_own_collection(flows: Record) -> None:
    step = flows.step("batch")
    ids = [flows.ids[f"batch{n}"] for n in range(3)]
    assert sorted(imported(step)) == sorted(ids)
    for task_id in ids:
        assert tagged(step, task_id), task_id
        assert step["facts"]["collections"][task_id] == sorted(tagged(step, task_id))
    assert step["message"].startswith("Imported 3 of 3 tasks"), step["message"]
    assert step["active"] == [] and step["threads"] == [] and step["journal"] == []


def test_a_batch_overlaps_its_downloads_within_the_slots(flows: Record) -> None:
    spans = flows.step("batch spans")
    assert len(spans["spans"]) == 3
    assert spans["peak"] == 2, spans
    first_two = sorted(spans["spans"], key=lambda s: s["start"])[:2]
    third = sorted(spans["spans"], key=lambda s: s["start"])[2]
    assert first_two[1]["start"] < first_two[0]["end"], "the first two downloads overlapped"
    assert third["start"] >= min(s["end"] for s in first_two) - 0.05, "the third waited for a free slot"


# -- the scripting API -----------------------------------------------------------------------


def test_api_import_task_returns_the_objects(flows: Record) -> None:
    step = flows.step("api import")
    assert step["error"] is None, step
    value = step["value"]
    task_id = flows.ids["api"]
    assert value["kind"] == "Imported" and value["task_id"] == task_id and value["collection"] == task_id
    assert value["objects"] and set(value["tagged"]) == {task_id}
    assert value["from_library"] is False and "(mushroom.glb, pbr, downloaded)" in value["message"]
    assert step["legacy_name"], "the package has an api attribute"
    again = flows.step("api import again")["value"]
    assert again["from_library"] is True and again["collection"] != task_id and "rgb" in again["message"]


def test_api_list_and_cancel(flows: Record) -> None:
    listed = flows.step("api list")
    ids = {t["id"] for t in listed["value"]}
    assert flows.ids["api"] in ids and all(t["status"] == "succeeded" for t in listed["value"])
    assert flows.step("api cancel")["error"] is None and flows.step("api cancel")["value"] is None
    assert [r.method for r in flows.log("api cancel")] == ["GET", "DELETE"]  # the status asked first
    assert flows.ids["queued"] not in {t["id"] for t in flows.step("api list queued")["value"]}
    status = json.loads(_get(flows.server, f"/contents/generations/tasks/{flows.ids['queued']}"))["status"]
    assert status == "cancelled"


def test_api_list_turns_pages(flows: Record) -> None:
    """Ark's list call is paged (``page_num`` from 1): the API reaches past the first page."""
    first, second = flows.step("api list page 1"), flows.step("api list page 2")
    assert first["error"] is None and second["error"] is None, (first, second)
    assert len(first["value"]) == len(second["value"]) == 2
    assert not {t["id"] for t in first["value"]} & {t["id"] for t in second["value"]}
    assert "page_num=2" in flows.log("api list page 2")[0].query


def test_api_cancel_of_a_running_task_says_why_and_sends_no_delete(flows: Record) -> None:
    """Ark refuses to cancel a running task: the API says so, and what to do, as the browser does."""
    step = flows.step("api cancel running")
    assert step["is_ark_error"] and "is running and cannot be cancelled" in step["error"], step
    assert "wait until it finishes" in step["error"]
    assert [r.method for r in flows.log("api cancel running")] == ["GET"]


def test_api_create_task(flows: Record) -> None:
    step = flows.step("api create")
    assert step["error"] is None, step
    value = step["value"]
    assert value["kind"] == "Imported" and value["task_id"].startswith("cgt-") and value["objects"]
    assert value["message"].startswith(f"Created and imported {value['task_id']}")


def test_api_makes_a_model_from_a_sentence_and_pictures_alone(flows: Record) -> None:
    step = flows.step("api prompt")
    assert step["error"] is None, step
    value = step["value"]
    assert value["kind"] == "Imported" and value["objects"], value
    chain = json.loads((flows.root / "library" / value["task_id"] / "chain.json").read_text(encoding="utf-8"))
    assert chain["prompt"] == "a red teapot" and chain["sent"] == ["images/image-1.png"]
    assert chain["model"] == MODEL_1 and chain["params"]["--fileformat"] == "glb"
    pictures = flows.step("api pictures")
    assert pictures["error"] is None and len(pictures["value"]) == 2, pictures
    first, second = flows.server.image_requests
    assert first["watermark"] is False and second["watermark"] is False
    assert second["sequential_image_generation_options"] == {"max_images": 2} and "front view, back view" in second[
        "prompt"]


def test_api_errors_are_ark_errors_raised_before_any_request(flows: Record) -> None:
    for name, needle in (("api bad id", "not a valid Ark task id"), ("api bad image", "aspect ratio")):
        step = flows.step(name)
        assert step["is_ark_error"] and needle in step["error"], step
        assert step["requests"] == 0
    no_wait = flows.step("api no wait")
    assert no_wait["is_ark_error"] and "needs a Blender window" in no_wait["error"], no_wait


def test_nothing_is_left_journaled_or_running(flows: Record) -> None:
    assert flows.step("journal at the end")["entries"] == []
    assert KEY not in (flows.root / "blender-output.txt").read_text(encoding="utf-8", errors="replace")


# -- restart-safe jobs -----------------------------------------------------------------------


def test_a_killed_blender_leaves_the_journal_and_the_partial_download(resume: Record) -> None:
    assert resume.step("mid-download")["phase"] == "downloading", resume.step("mid-download")
    after = resume.step("after kill")
    assert after["part"] and 0 < after["part"] < after["size"] and not after["zip"], after
    journal = after["journal"]
    assert journal and journal["task_id"] == resume.ids["slow"] and journal["import_when_ready"] is True


def test_the_next_blender_resumes_the_download_with_a_range_request(resume: Record) -> None:
    listed = resume.step("journal")
    assert [e["task_id"] for e in listed["entries"]] == [resume.ids["slow"]]
    assert listed["timer"] is False
    step = resume.step("resume")
    assert step["resumed"] == [resume.ids["slow"]]
    assert tagged(step, resume.ids["slow"]), "the resumed job imported its model"
    assert step["message"].startswith(f"Imported {resume.ids['slow']} (mushroom.glb, pbr, downloaded)"), step
    ranges = [r.header("Range") for r in resume.server.requests_log if r.server == "file"]
    kept = resume.step("after kill")["part"]
    assert ranges[0] is None and len(ranges) == 2, ranges
    start = int(ranges[1].removeprefix("bytes=").rstrip("-"))
    assert start == kept > 0, (start, kept)
    files = resume.step("files")["files"]
    assert "result.zip" in files and "extracted.json" in files, files
    assert "job.json" not in files and "result.zip.part" not in files, files
    assert resume.step("resume again")["resumed"] == [], "a finished job is not resumed twice"
