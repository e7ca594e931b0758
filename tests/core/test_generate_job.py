"""Generate, resume and batch through the one job machine (ImportJob) against the local server."""

from __future__ import annotations

import struct
import threading
import time
import zlib
from pathlib import Path

import pytest

from ark3d_addon.core.catalog import find_model
from ark3d_addon.core.client import ArkClient
from ark3d_addon.core.create import create_body
from ark3d_addon.core.errors import ApiError, Cancelled, ConfigError, TaskFailed
from ark3d_addon.core.image_input import image_data_url
from ark3d_addon.core.job import ImportJob, JobState
from ark3d_addon.core.library import Library
from ark3d_addon.core.settings import Settings
from ark3d_addon.core.slots import DownloadSlots
from ark3d_addon.core.task import Status, parse_task_ids

from .test_job import result_zip

KEY = "test-key"


def png(width: int, height: int) -> bytes:
    """A valid, tiny RGB PNG (all black) made by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def settings_for(server) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(api_key=KEY, base_url=server.api_base, poll_interval=0.1)


def body_for(tmp_path: Path, fileformat: str = "obj", model: str = "doubao-seed3d-1-0-250928") -> dict[str, object]:
    image = tmp_path / "input.png"
    image.write_bytes(png(64, 48))
    url, info = image_data_url(image, find_model(model))
    assert (info.format, info.width, info.height) == ("png", 64, 48)
    return create_body(model, [url], params={"--fileformat": fileformat})


def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


# -- generate --------------------------------------------------------------------------------


def test_create_then_import_through_the_same_job(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ark_server.set_create_result("obj", result_zip())
    library = Library(tmp_path / "library")
    states: list[JobState] = []
    job = ImportJob(None, settings_for(ark_server), library, create=body_for(tmp_path), journal=True,
                    on_state=states.append)
    assert job.task_id == "" and job.key.startswith("new-") and job.label == "New task"
    result = job.run()
    tid = job.task_id
    assert tid.startswith("cgt-") and result.task_id == tid and not result.from_library
    assert result.model.path.is_file() and result.model.path.is_relative_to(library.files_dir(tid))
    assert ark_server.count("api", "POST") == 1
    phases = [s.phase for s in states]
    assert phases[0] == "creating" and phases.index("creating") < phases.index("queued") < phases.index("ready")
    saved = library.load_task(tid)
    assert saved is not None and saved["status"] == "succeeded" and saved["fileformat"] == "obj"
    # Journaled until the Blender layer has imported the model.
    entry = library.journal_read(tid)
    assert entry is not None and entry.kind == "create" and entry.fileformat == "obj"
    assert entry.model == "doubao-seed3d-1-0-250928" and entry.import_when_ready
    job.close_journal()
    assert library.journal_read(tid) is None


def test_a_refused_create_leaves_nothing_behind(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    library = Library(tmp_path / "library")
    body = dict(body_for(tmp_path), model="doubao-pro-32k-241215")  # not a Seed3D model: Ark answers 404
    job = ImportJob(None, settings_for(ark_server), library, create=body, journal=True)
    with pytest.raises(ApiError) as info:
        job.run()
    assert info.value.http_status == 404 and job.task_id == ""
    assert ark_server.count("api", "POST") == 1
    assert job.snapshot().phase == "failed"
    assert not [p for p in library.root.iterdir() if p.name.startswith("cgt-")]


def test_cancelling_a_new_task_still_queued_cancels_it_on_ark(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ark_server.set_create_result("obj", result_zip())
    ark_server.create_schedule = (60.0, 1.0)
    library = Library(tmp_path / "library")
    job = ImportJob(None, settings_for(ark_server), library, create=body_for(tmp_path), journal=True)
    job.start()
    wait_for(lambda: job.task is not None)
    tid = job.task_id
    assert library.journal_read(tid) is not None
    job.cancel()
    assert job.join(5)
    assert job.snapshot().phase == "cancelled"
    assert ark_server.count("api", "DELETE") == 1
    task = ArkClient(settings_for(ark_server)).get_task(tid)
    assert task.status is Status.CANCELLED
    assert library.journal_read(tid) is None


# -- the journal -----------------------------------------------------------------------------


def slow_task(server, seconds: float, padding: int = 1_500_000) -> str:  # type: ignore[no-untyped-def]
    data = result_zip(padding=padding)
    url = server.add_file("r.zip", data, throttle_bps=int(len(data) / seconds))
    return str(server.add_task(file=url, fileformat="obj"))


def test_stop_keeps_the_part_and_the_journal_and_a_resumed_job_continues(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = slow_task(ark_server, 3.0)
    library = Library(tmp_path / "library")
    part = library.task_dir(tid) / "result.zip.part"
    job = ImportJob(tid, settings_for(ark_server), library, variant="rgb", journal=True)
    job.start()
    wait_for(lambda: part.exists() and part.stat().st_size > 300_000)
    job.stop()  # Blender quits
    assert job.join(3)
    state = job.snapshot()
    assert state.phase == "cancelled" and "resumes" in str(state.text) and isinstance(state.error, Cancelled)
    kept = part.stat().st_size
    assert kept > 300_000
    entry = library.journal_read(tid)
    assert entry is not None and entry.variant == "rgb" and entry.kind == "import"

    # The next Blender: the journal says what to do.
    [pending] = library.journal_entries()
    resumed = ImportJob(pending.task_id, settings_for(ark_server), library, resumed=pending)
    result = resumed.run()
    assert result.model.path.is_file() and not part.exists()
    ranges = [r.header("Range") for r in ark_server.requests_log if r.server == "file"]
    assert ranges == [None, f"bytes={kept}-"], ranges
    assert library.journal_read(tid) is not None, "still journaled until the model is imported"
    resumed.close_journal()
    assert library.journal_entries() == []


def test_the_users_cancel_removes_part_and_journal(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = slow_task(ark_server, 3.0)
    library = Library(tmp_path / "library")
    part = library.task_dir(tid) / "result.zip.part"
    job = ImportJob(tid, settings_for(ark_server), library, journal=True)
    job.start()
    wait_for(lambda: part.exists() and part.stat().st_size > 100_000)
    job.cancel()
    assert job.join(3)
    assert str(job.snapshot().text) == "Cancelled"
    assert not part.exists() and library.journal_read(tid) is None
    assert ark_server.count("api", "DELETE") == 0, "an import job never deletes the task on Ark"


def test_a_failed_job_removes_its_journal(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(outcome="failed", error_code="InternalServiceError", error_message="boom")
    library = Library(tmp_path / "library")
    seen: list[bool] = []
    job = ImportJob(tid, settings_for(ark_server), library, journal=True,
                    on_state=lambda s: seen.append(library.journal_read(tid) is not None))
    with pytest.raises(TaskFailed):
        job.run()
    assert any(seen), "the job was journaled while it ran"
    assert library.journal_read(tid) is None


def test_a_job_that_only_downloads_ends_its_journal_when_ready(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()), fileformat="obj")
    library = Library(tmp_path / "library")
    ImportJob(tid, settings_for(ark_server), library, journal=True, import_when_ready=False).run()
    assert library.journal_read(tid) is None and library.is_extracted(tid)


def test_a_result_already_in_the_library_is_never_journaled(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()), fileformat="obj")
    library = Library(tmp_path / "library")
    ImportJob(tid, settings_for(ark_server), library).run()
    seen: list[bool] = []
    again = ImportJob(tid, settings_for(ark_server), library, journal=True,
                      on_state=lambda s: seen.append((library.task_dir(tid) / "job.json").exists()))
    assert again.run().from_library and not any(seen)


# -- batch -----------------------------------------------------------------------------------


def test_a_batch_downloads_at_most_the_slots_at_once(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ids = [slow_task(ark_server, 0.8, padding=300_000) for _ in range(4)]
    library = Library(tmp_path / "library")
    slots = DownloadSlots(2)
    texts: list[str] = []
    lock = threading.Lock()

    def record(state: JobState) -> None:
        with lock:
            texts.append(str(state.text))

    jobs = [ImportJob(tid, settings_for(ark_server), library, slots=slots, on_state=record) for tid in ids]
    for job in jobs:
        job.start()
    assert all(job.join(20) for job in jobs)
    assert [job.snapshot().phase for job in jobs] == ["ready"] * 4
    assert ark_server.max_concurrent_downloads() == 2 and slots.peak == 2
    assert len(ark_server.download_spans) == 4
    assert any(t.startswith("Waiting to download (2 at a time)") for t in texts)


def test_a_pasted_list_of_ids() -> None:
    text = (" cgt-20251124000001-aaaaa, cgt-20251124000002-bbbbb\n"
            "https://ark.cn-beijing.volces.com/api/v3/contents/generations/tasks/cgt-20251124000003-ccccc\t"
            "cgt-20251124000001-aaaaa；cgt-20251124000004-ddddd，\n")
    assert parse_task_ids(text) == [f"cgt-2025112400000{n}-{c * 5}" for n, c in ((1, "a"), (2, "b"), (3, "c"),
                                                                                  (4, "d"))]
    assert parse_task_ids("cgt-20251124000001-aaaaa") == ["cgt-20251124000001-aaaaa"]
    with pytest.raises(ConfigError) as info:
        parse_task_ids("cgt-20251124000001-aaaaa, ../../etc")
    assert "not a valid Ark task id" in info.value.message
    with pytest.raises(ConfigError):
        parse_task_ids(" ,\n ")
