"""Cancel in every phase of the core job: it stops within a second and leaves no partial file.

tests/core/test_job.py::test_cancel_during_download_stops_fast_and_leaves_no_part and the
client/download cancel tests cover the mechanisms; here each phase is cancelled through a
running ImportJob, as the panel's cancel button does, with the invariants of support.Scenario.
(Cancel during the Blender import, unregister, load and quit are tests/blender and tests/window.)
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable

from ark3d_addon.core.job import ImportJob, JobState

from .support import Scenario, glb, zip_bytes

MODEL = ("model/m.glb", glb())


def wait_for(job: ImportJob, condition: Callable[[JobState], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition(job.snapshot()):
        assert time.monotonic() < deadline, f"never reached: {job.snapshot()}"
        assert job.alive, f"the job ended first: {job.snapshot()}"
        time.sleep(0.01)


def cancel_and_time(job: ImportJob) -> float:
    """Cancel as the UI does; returns how long the worker took to stop (it must stop)."""
    started = time.monotonic()
    job.cancel()
    assert job.join(5), "the worker did not stop"
    return time.monotonic() - started


def assert_cancelled(sc: Scenario, job: ImportJob, took: float) -> None:
    assert took < 1.0, f"took {took:.2f} s to stop"
    assert job.snapshot().phase == "cancelled" and str(job.snapshot().text) == "Cancelled"
    assert job.result is None
    leftovers = [name for name in sc.task_files(job.task_id)
                 if name.endswith(".part") or name.startswith((".tmp-", "files"))]
    assert leftovers == []


def test_lifecycle_cancel_while_queued(sc: Scenario) -> None:
    """expected: cancel while the task is queued (between two polls): stopped within 1 s, phase "cancelled", the task folder it made removed (no .lock, no task.json)."""  # noqa: E501
    tid = sc.server.add_task(file=sc.server.add_file("r.zip", zip_bytes([MODEL])), queued_s=60)
    job = sc.job(tid, settings=sc.settings(poll_interval=5.0))
    job.start()
    wait_for(job, lambda s: s.phase == "queued")
    assert_cancelled(sc, job, cancel_and_time(job))
    assert not sc.library.task_dir(tid).exists()


def test_lifecycle_cancel_during_retry_wait(sc: Scenario) -> None:
    """expected: cancel while the client waits out a 30 s Retry-After: stopped within 1 s."""
    tid = sc.serve(zip_bytes([MODEL]))
    sc.server.fail_next(5, status=429, retry_after=30)
    job = sc.job(tid)
    job.start()
    wait_for(job, lambda s: sc.server.count("api") >= 1)
    time.sleep(0.1)
    assert_cancelled(sc, job, cancel_and_time(job))


def test_lifecycle_cancel_while_waiting_for_the_library(sc: Scenario) -> None:
    """expected: cancel while another job (here: the test) holds the task's lock: stopped within 1 s, nothing asked."""
    tid = sc.serve(zip_bytes([MODEL]))
    with sc.library.lock(tid):
        job = sc.job(tid)
        job.start()
        wait_for(job, lambda s: str(s.text) == "Waiting for the library")
        assert_cancelled(sc, job, cancel_and_time(job))
    assert sc.server.requests_log == []


def test_lifecycle_cancel_during_download(sc: Scenario) -> None:
    """expected: cancel while bytes flow (400 kB/s): stopped within 1 s; no result.zip, no .part."""
    tid = sc.serve(zip_bytes([MODEL, ("model/pad.bin", bytes(4_000_000))], zipfile.ZIP_STORED), throttle_bps=400_000)
    job = sc.job(tid)
    job.start()
    wait_for(job, lambda s: s.phase == "downloading" and (s.fraction or 0) > 0.02)
    assert_cancelled(sc, job, cancel_and_time(job))
    assert "result.zip" not in sc.task_files(tid)


def test_lifecycle_cancel_during_stalled_download(sc: Scenario) -> None:
    """expected: cancel while the file host is silent (stall timeout 30 s): stopped within 1 s, not after the timeout; no .part."""  # noqa: E501
    tid = sc.serve(zip_bytes([MODEL, ("model/pad.bin", bytes(2_000_000))], zipfile.ZIP_STORED), stall_after=100_000)
    job = sc.job(tid, stall_timeout=30.0)
    job.start()
    wait_for(job, lambda s: s.phase == "downloading")
    time.sleep(0.3)  # the 100 kB are in: the read is now blocked on the silent socket
    assert_cancelled(sc, job, cancel_and_time(job))
    assert "result.zip" not in sc.task_files(tid)


def test_lifecycle_cancel_during_extract(sc: Scenario) -> None:
    """expected: cancel once extraction of a 48 MB zip has begun: stopped within 1 s; no files/ and no .tmp-; the complete result.zip is kept for the next try."""  # noqa: E501
    data = zip_bytes([MODEL] + [(f"model/part{i}.bin", bytes(6_000_000)) for i in range(8)], zipfile.ZIP_STORED)
    tid = sc.serve(data)
    cancelled_at: list[float] = []
    job: ImportJob | None = None

    def cancel_when_extracting(state: JobState) -> None:
        if state.phase == "extracting" and (state.fraction or 0) > 0 and not cancelled_at and job is not None:
            cancelled_at.append(time.monotonic())
            job.cancel()  # what the cancel button does (set from the worker here, so no race with the end)

    job = sc.job(tid, watch=cancel_when_extracting)
    job.start()
    assert job.join(15)
    assert cancelled_at, "the extraction finished before it could be cancelled"
    assert_cancelled(sc, job, time.monotonic() - cancelled_at[0])
    assert sc.library.zip_path(tid).read_bytes() == data
