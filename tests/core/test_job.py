"""The whole job (poll, download, extract, choose) against the local server, and the library."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from pathlib import Path

import pytest

from ark3d_addon.core import archive
from ark3d_addon.core.errors import ArkError, Cancelled, ConfigError, LinkExpired, TaskCancelled, TaskFailed
from ark3d_addon.core.job import ImportJob, JobState
from ark3d_addon.core.library import Library
from ark3d_addon.core.poller import Poller
from ark3d_addon.core.settings import Settings

KEY = "test-key"
OBJ = "mtllib m.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\nusemtl mat\nf 1/1 2/2 3/3\n"
MTL = "newmtl mat\nmap_Kd textures/m.png\n"


def result_zip(variants: bool = False, padding: int = 0) -> bytes:
    """A small zip shaped like a Seed3D result (optionally with pbr/rgb variants)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        folders = ["model/pbr/", "model/rgb/"] if variants else ["model/"]
        for folder in folders:
            zf.writestr(folder + "m.obj", OBJ)
            zf.writestr(folder + "m.mtl", MTL)
            zf.writestr(folder + "textures/m.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
        zf.writestr("model/readme.txt", "hello")
        if padding:
            zf.writestr("model/padding.bin", bytes(padding), compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()


def make_job(server, tmp_path: Path, tid: str, **kwargs) -> tuple[ImportJob, Library, list[JobState]]:  # type: ignore[no-untyped-def]
    settings = Settings(api_key=KEY, base_url=server.api_base, poll_interval=0.1)
    library = Library(tmp_path / "library")
    states: list[JobState] = []
    return ImportJob(tid, settings, library, on_state=states.append, **kwargs), library, states


def test_queued_to_model_then_offline_from_the_library(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip(variants=True)), fileformat="obj",
                              queued_s=0.3, running_s=0.3)
    job, library, states = make_job(ark_server, tmp_path, tid)
    result = job.run()
    assert result.model.path == library.files_dir(tid) / "model" / "pbr" / "m.obj"
    assert result.model.variant == "pbr" and not result.from_library
    phases = [s.phase for s in states]
    for phase in ("queued", "running", "downloading", "extracting", "ready"):
        assert phase in phases
    assert phases.index("queued") < phases.index("running") < phases.index("downloading") < phases.index("ready")
    saved = library.load_task(tid)
    assert saved is not None and saved["status"] == "succeeded"
    for path in library.task_dir(tid).rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    # The file host never saw the key.
    assert all(r.header("Authorization") is None for r in ark_server.requests_log if r.server == "file")

    # The link dies after 24 h and the network may be gone: the library still serves it.
    ark_server.stop()
    again, _, _ = make_job(ark_server, tmp_path, tid, variant="rgb")
    second = again.run()
    assert second.from_library and second.model.variant == "rgb"


def test_failed_task_reports_arks_code_and_message(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(outcome="failed", error_code="InputImageSensitiveContentDetected",
                              error_message="The input image may contain sensitive information.")
    job, _, states = make_job(ark_server, tmp_path, tid)
    with pytest.raises(TaskFailed) as info:
        job.run()
    text = info.value.user_message()
    assert "InputImageSensitiveContentDetected" in text and "sensitive information" in text
    assert states[-1].phase == "failed" and states[-1].text == info.value.what


def test_cancelled_task_says_so(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(outcome="cancelled")
    job, _, _ = make_job(ark_server, tmp_path, tid)
    with pytest.raises(TaskCancelled) as info:
        job.run()
    assert "cancelled" in info.value.user_message()


def test_an_expired_task_ends_the_job_at_once(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``expired`` (a task past its ``execution_expires_after``) is final: no polling for hours."""
    tid = ark_server.add_task(outcome="expired", extra_fields={"execution_expires_after": 172800})
    job, _, states = make_job(ark_server, tmp_path, tid)
    with pytest.raises(TaskCancelled) as info:
        job.run()
    assert info.value.code == "TaskExpired" and "expired" in info.value.user_message()
    assert "create the task again" in info.value.user_message()
    assert ark_server.count("api", path_contains=tid) == 1 and states[-1].phase == "failed"


def test_an_id_ark_does_not_know_leaves_nothing_in_the_library(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A mistyped (or 8-day-old) id gets Ark's 404; no folder of it may stay, or the Tasks browser
    and ``list`` would show it as a partial result for ever."""
    job, library, _ = make_job(ark_server, tmp_path, "cgt-20990101000000-nope0")
    with pytest.raises(ArkError) as info:
        job.run()
    assert info.value.http_status == 404
    assert not library.task_dir("cgt-20990101000000-nope0").exists()
    assert [entry.task_id for entry in library.entries()] == []


def test_an_import_that_never_reached_ark_leaves_nothing_in_the_library(tmp_path: Path) -> None:
    settings = Settings(api_key=KEY, base_url="http://127.0.0.1:9/api/v3", poll_interval=0.1)  # nothing listens
    library = Library(tmp_path / "library")
    with pytest.raises(ArkError) as info:
        ImportJob("cgt-20251124123456-abcde", settings, library).run()
    assert info.value.code == "ConnectionRefused"
    assert not library.task_dir("cgt-20251124123456-abcde").exists()


def test_expired_link_says_24_hours(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip(), expired=True))
    job, library, _ = make_job(ark_server, tmp_path, tid)
    with pytest.raises(LinkExpired) as info:
        job.run()
    assert "24 hours" in info.value.user_message() and "AccessDenied" in info.value.user_message()
    assert not library.zip_path(tid).exists()


def test_an_expired_hyper3d_link_says_the_models_own_week(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Hyper3D's and Hitem3D's links live 7 days, not Seed3D's 24 hours: the hint says which."""
    tid = ark_server.add_task(file=ark_server.add_file("0217ab.glb", b"glTF", expired=True),
                              model="hyper3d-gen2-260112")
    job, _, _ = make_job(ark_server, tmp_path, tid)
    with pytest.raises(LinkExpired) as info:
        job.run()
    message = info.value.user_message()
    assert "7 d after the task finished" in message and "24 hours" not in message


def test_plain_http_link_to_a_remote_host_is_refused(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()),
                              extra_fields={"content": {"file_url": "http://files.example.com/r.zip"}})
    job, _, _ = make_job(ark_server, tmp_path, tid)
    with pytest.raises(ConfigError):
        job.run()
    assert ark_server.count("file", None) == 0


def test_cancel_during_download_stops_fast_and_leaves_no_part(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = ark_server.add_file("r.zip", result_zip(padding=4_000_000), throttle_bps=400_000)
    tid = ark_server.add_task(file=url)
    job, library, _ = make_job(ark_server, tmp_path, tid)
    job.start()
    deadline = time.monotonic() + 10
    while job.snapshot().phase != "downloading" and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    started = time.monotonic()
    job.cancel()
    assert job.join(2.0)
    assert time.monotonic() - started < 1.0
    assert job.snapshot().phase == "cancelled"
    leftovers = [p for p in library.task_dir(tid).rglob("*") if p.name.endswith(".part") or p.name == "result.zip"]
    assert leftovers == []
    assert not [t for t in threading.enumerate() if t.name.startswith("ark3d-")]


def test_two_jobs_for_one_task_download_once(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = ark_server.add_file("r.zip", result_zip(padding=500_000), throttle_bps=2_000_000)
    tid = ark_server.add_task(file=url)
    first, _, _ = make_job(ark_server, tmp_path, tid)
    second, _, _ = make_job(ark_server, tmp_path, tid)
    first.start()
    second.start()
    assert first.join(15) and second.join(15)
    assert first.result is not None and second.result is not None
    assert first.result.model.path == second.result.model.path
    assert ark_server.count("file", "GET") == 1
    assert second.result.from_library or first.result.from_library


def test_damaged_download_is_not_kept(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", b"<!DOCTYPE html><html>error</html>"))
    job, library, _ = make_job(ark_server, tmp_path, tid)
    with pytest.raises(Exception) as info:
        job.run()
    assert "not a zip" in str(info.value)
    assert not library.zip_path(tid).exists()


def test_unknown_status_is_waited_through(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A status this add-on does not know yet (and new fields) is treated as still in progress."""
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()))
    odd = {"id": tid, "status": "post_processing", "progress": {"stage": 3}, "created_at": 1}
    ark_server.set_raw_response(tid, 200, json.dumps(odd).encode(), times=2)
    job, _, states = make_job(ark_server, tmp_path, tid)
    assert job.run().model.format == "obj"
    assert any("post_processing" in str(s.text) for s in states)
    assert ark_server.count("api") == 3


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_poller_backs_off_while_queued(ark_server) -> None:  # type: ignore[no-untyped-def]
    """While queued, waits grow 1.5x up to 30 s: a 10-minute queue costs ~25 queries, not 120."""
    from ark3d_addon.core.client import ArkClient

    tid = ark_server.add_task(queued_s=3600)
    waits: list[float] = []

    class RecordingEvent(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout or 0.0)
            clock.now += timeout or 0.0
            if clock.now > 600:
                raise Cancelled()
            return False

    clock = FakeClock()
    cancel = RecordingEvent()
    client = ArkClient(Settings(api_key=KEY, base_url=ark_server.api_base), cancel=cancel)
    with pytest.raises(Cancelled):
        Poller(client, 5.0, cancel, clock=clock).wait_final(tid, lambda task: None)
    assert waits[0] == 7.5 and max(waits) == 30.0
    assert all(b >= a for a, b in zip(waits, waits[1:], strict=False))
    assert ark_server.count("api") == len(waits) <= 25


def test_poller_makes_one_request_per_poll_after_an_error(ark_server) -> None:  # type: ignore[no-untyped-def]
    """Once the task was seen, a failed poll is not retried by the client 0.5 s later: the next
    request comes after the poller's own (doubled) wait, so errors never cause a burst."""
    from ark3d_addon.core.client import ArkClient

    tid = ark_server.add_task(queued_s=0, running_s=3600)
    waits: list[float] = []

    class RecordingEvent(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout or 0.0)
            clock.now += timeout or 0.0
            if len(waits) == 2:
                ark_server.fail_next(2, 503)  # the third and fourth polls fail
            if len(waits) >= 6:
                raise Cancelled()
            return False

    clock = FakeClock()
    cancel = RecordingEvent()
    client = ArkClient(Settings(api_key=KEY, base_url=ark_server.api_base), cancel=cancel)
    with pytest.raises(Cancelled):
        Poller(client, 5.0, cancel, clock=clock).wait_final(tid, lambda task: None)
    # Every wait is the poller's (none is the client's sub-second backoff), one request each.
    assert waits == [5.0, 5.0, 10.0, 20.0, 5.0, 5.0]
    assert ark_server.count("api") == len(waits)


# -- other models' results, tasks that are not 3D, and what a cancel leaves -----------------------

SEEDANCE = "doubao-seedance-2-0-260128"


def video_task(server, **kwargs) -> str:  # type: ignore[no-untyped-def]
    """A Seedance task as the query call returns it (content.video_url, no file_url)."""
    return server.add_task(model=SEEDANCE, extra_fields={
        "content": {"video_url": server.file_base + "/files/v/clip.mp4"}, "resolution": "720p", "ratio": "16:9",
        "duration": 5, "framespersecond": 24}, **kwargs)


def test_a_video_task_is_told_apart_on_the_first_answer(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for tid in (video_task(ark_server), video_task(ark_server, queued_s=3600)):
        job, library, states = make_job(ark_server, tmp_path, tid)
        with pytest.raises(ArkError) as info:
            job.run()
        text = info.value.user_message()
        assert "is a video generation task, not a 3D one" in text and SEEDANCE in text, text
        assert info.value.code == "NotA3DTask" and "again" not in text.lower()
        assert states[-1].phase == "failed"
        assert ark_server.count("api", path_contains=tid) == 1, "no waiting on a video task"
        assert not library.task_dir(tid).exists(), "nothing of a video task is kept"
    assert ark_server.count("file", None) == 0


def test_a_bare_fbx_link_as_hyper3d_serves_it(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fbx = b"Kaydara FBX Binary  \x00\x1a\x00" + (7400).to_bytes(4, "little") + b"\0" * 13
    tid = ark_server.add_task(file=ark_server.add_file("5d1c0e.fbx", fbx), model="hyper3d-gen2-260112")
    job, library, _ = make_job(ark_server, tmp_path, tid)
    result = job.run()
    assert result.model.path == library.files_dir(tid) / "5d1c0e.fbx" and result.model.format == "fbx"
    assert result.model.path.read_bytes() == fbx
    again, _, _ = make_job(ark_server, tmp_path, tid)
    assert again.run().from_library and ark_server.count("file", "GET") == 1


def test_a_cancel_leaves_no_folder_it_made(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(queued_s=3600)
    job, library, _ = make_job(ark_server, tmp_path, tid, journal=True)
    job.start()
    deadline = time.monotonic() + 10
    while job.snapshot().phase != "queued" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (library.task_dir(tid) / ".lock").exists() and (library.task_dir(tid) / "task.json").exists()
    job.cancel()
    assert job.join(5.0) and job.snapshot().phase == "cancelled"
    assert not library.task_dir(tid).exists(), sorted(p.name for p in library.task_dir(tid).iterdir())
    assert list(library.root.iterdir()) == []


def test_a_cancel_keeps_a_folder_that_was_there(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(queued_s=3600)
    job, library, _ = make_job(ark_server, tmp_path, tid)
    library.save_task({"id": tid, "status": "queued"})  # an earlier look at it, kept in the library
    job.start()
    deadline = time.monotonic() + 10
    while job.snapshot().phase != "queued" and time.monotonic() < deadline:
        time.sleep(0.02)
    job.cancel()
    assert job.join(5.0)
    assert (library.task_dir(tid) / "task.json").is_file()


def test_a_bug_in_the_worker_fails_the_job_and_prints_its_traceback(ark_server, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                     monkeypatch, capsys) -> None:
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()))

    def broken_zipfile(*args: object, **kwargs: object) -> None:
        raise RuntimeError("zipfile broke")

    monkeypatch.setattr(archive.zipfile, "ZipFile", broken_zipfile)
    job, library, _ = make_job(ark_server, tmp_path, tid, journal=True)
    job.start()
    assert job.join(20)
    state = job.snapshot()
    assert state.phase == "failed" and state.error is not None and state.error.code == "InternalError"
    assert str(state.text) == "An internal error stopped the job: RuntimeError: zipfile broke"
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError: zipfile broke" in err
    assert library.journal_read(tid) is None, "a job a bug ended is not resumed"
