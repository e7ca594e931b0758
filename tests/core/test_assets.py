"""The visual library's files: what is missing, the catalogs, the input image, a re-download."""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from pathlib import Path

from ark3d_addon.core import assets
from ark3d_addon.core.chain import Chain
from ark3d_addon.core.library import Library

TID = "cgt-20261127120000-abcde"
NOV = 1795780800  # 2026-11-27 (UTC)


def stored(tmp_path: Path, task_id: str = TID, model: str = "doubao-seed3d-2-0-260328",
           created: int = NOV) -> Library:
    library = Library(tmp_path)
    library.save_task({"id": task_id, "model": model, "status": "succeeded", "created_at": created,
                       "subdivisionlevel": "high", "fileformat": "GLB"})
    files = library.files_dir(task_id)
    files.mkdir(parents=True)
    (files / "m.glb").write_bytes(b"glTF")
    library.mark_extracted(task_id, files / "m.glb")
    return library


def age(path: Path, seconds: float) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def test_an_asset_is_missing_then_ready_then_stale_after_a_new_result(tmp_path: Path) -> None:
    library = stored(tmp_path)
    assert assets.asset_state(library, TID) == "missing" and assets.pending(library) == [TID]
    folder = library.task_dir(TID)
    age(folder / "extracted.json", 60)
    (folder / assets.ASSET_FILE).write_bytes(b"BLENDER")
    (folder / assets.PREVIEW_FILE).write_bytes(b"png")
    assert assets.asset_state(library, TID) == "ready" and assets.pending(library) == []
    assert assets.preview_path(library, TID) == folder / assets.PREVIEW_FILE
    library.mark_extracted(TID, library.files_dir(TID) / "m.glb")  # a re-download, later
    age(folder / assets.ASSET_FILE, 120)
    assert assets.asset_state(library, TID) == "stale" and assets.needs_asset(library, TID)


def test_a_failure_is_not_retried_until_the_result_changes(tmp_path: Path) -> None:
    library = stored(tmp_path)
    folder = library.task_dir(TID)
    age(folder / "extracted.json", 60)
    (folder / assets.ERROR_FILE).write_text("RuntimeError: no model", encoding="utf-8")
    assert assets.asset_state(library, TID) == "failed" and assets.pending(library) == []
    library.mark_extracted(TID, library.files_dir(TID) / "m.glb")
    age(folder / assets.ERROR_FILE, 120)
    assert assets.asset_state(library, TID) == "missing"


def test_no_result_no_asset(tmp_path: Path) -> None:
    library = Library(tmp_path)
    library.save_task({"id": TID, "status": "running"})
    assert assets.asset_state(library, TID) == "none" and assets.pending(library) == []
    assert assets.preview_path(library, TID) is None


def test_description_tags_and_catalog_come_from_the_task(tmp_path: Path) -> None:
    library = stored(tmp_path)
    info = assets.AssetInfo.from_task(TID, library.load_task(TID))
    assert info.description == f"{TID} · doubao-seed3d-2-0-260328 · high · GLB · 2026-11-27"
    assert info.tags == ["Ark 3D", TID, "doubao-seed3d-2-0-260328", "high", "glb", "2026-11-27", "2026-11"]
    assert info.catalog == "Ark 3D/doubao-seed3d-2-0-260328/2026-11"
    assert uuid.UUID(info.catalog_id) == uuid.uuid5(assets._CATALOG_NS, info.catalog)
    bare = assets.AssetInfo.from_task(TID, None)
    assert bare.catalog == "Ark 3D/unknown model/undated" and bare.tags == ["Ark 3D", TID, "undated"]


def test_a_task_made_from_a_prompt_says_its_prompt_and_image_model(tmp_path: Path) -> None:
    library = stored(tmp_path)
    chain = Chain(prompt="a red teapot", image_model="doubao-seedream-4-5-251128", model="doubao-seed3d-2-0-260328")
    info = assets.AssetInfo.from_task(TID, library.load_task(TID), chain)
    assert info.description.endswith(" · 2026-11-27 · a red teapot (doubao-seedream-4-5-251128)")
    assert info.tags[-1] == "doubao-seedream-4-5-251128" and "2026-11" in info.tags


def test_catalogs_by_model_then_month_for_tasks_with_an_asset(tmp_path: Path) -> None:
    library = stored(tmp_path)
    other = "cgt-20261001120000-fghij"
    stored(tmp_path, other, model="doubao-seed3d-1-0-250928", created=NOV - 60 * 86400)
    no_asset = "cgt-20261002120000-klmno"
    stored(tmp_path, no_asset, model="a/b:c")
    for task_id in (TID, other):
        (library.task_dir(task_id) / assets.ASSET_FILE).write_bytes(b"BLENDER")
    text = assets.write_catalogs(library).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "VERSION 1"
    paths = {line.split(":")[1] for line in lines[1:]}
    assert paths == {"Ark 3D", "Ark 3D/doubao-seed3d-2-0-260328", "Ark 3D/doubao-seed3d-2-0-260328/2026-11",
                     "Ark 3D/doubao-seed3d-1-0-250928", "Ark 3D/doubao-seed3d-1-0-250928/2026-09"}
    for line in lines[1:]:
        catalog_id, path, _simple = line.split(":")
        assert uuid.UUID(catalog_id) == uuid.uuid5(assets._CATALOG_NS, path)
    assert assets.AssetInfo.from_task(no_asset, library.load_task(no_asset)).catalog == "Ark 3D/a-b-c/2026-11"


def test_the_input_image_is_kept_and_survives_a_redownload(tmp_path: Path) -> None:
    library = stored(tmp_path)
    image = tmp_path / "photo.JPG"
    image.write_bytes(b"\xff\xd8jpeg")
    kept = assets.store_input(library, TID, image)
    assert kept == library.task_dir(TID) / "input.jpg" and kept.read_bytes() == b"\xff\xd8jpeg"
    assert assets.input_image(library, TID) == kept and assets.needs_input_preview(library, TID)
    (library.task_dir(TID) / assets.INPUT_PREVIEW).write_bytes(b"png")
    assert not assets.needs_input_preview(library, TID)
    assert assets.preview_path(library, TID) == library.task_dir(TID) / assets.INPUT_PREVIEW
    (library.task_dir(TID) / assets.ASSET_FILE).write_bytes(b"BLENDER")

    assets.remove_result(library, TID)
    left = sorted(p.name for p in library.task_dir(TID).iterdir() if p.name != ".lock")
    assert left == ["input.jpg", assets.INPUT_PREVIEW, "task.json"]
    assert not library.is_extracted(TID)


def test_a_redownload_without_an_input_removes_the_folder(tmp_path: Path) -> None:
    library = stored(tmp_path)
    assets.remove_result(library, TID)
    assert not library.task_dir(TID).exists()


def test_the_process_output_and_status_are_kept_and_a_cancel_kills_it() -> None:
    status, output = assets.run_process([sys.executable, "-c", "print('made'); raise SystemExit(3)"])
    assert status == 3 and "made" in output
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    status, _output = assets.run_process([sys.executable, "-c", "import time; time.sleep(30)"], cancel)
    assert status != 0 and time.monotonic() - started < 20


def test_the_input_image_survives_a_job_clearing_its_temporary_files_meanwhile(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The assets worker stores the input while the task's job may run ``clear_temp`` (its crash cleanup)."""
    library = Library(tmp_path / "lib")
    source = tmp_path / "picture.png"
    source.write_bytes(b"\x89PNG picture")
    task_id = "cgt-20261207123456-abcde"
    replace = os.replace

    def job_cleans_first(src: str, dst: str) -> None:
        library.clear_temp(task_id)  # the job, between the copy and its rename
        replace(src, dst)

    monkeypatch.setattr(assets.os, "replace", job_cleans_first)
    kept = assets.store_input(library, task_id, source)
    assert kept.read_bytes() == b"\x89PNG picture"
