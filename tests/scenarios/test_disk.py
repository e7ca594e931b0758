"""The library's disk: unwritable, full, shared by two jobs and by two processes, left over by a crash.

tests/core/test_library.py covers the lock and the atomic writes on their own and
tests/core/test_job.py::test_two_jobs_for_one_task_download_once the two-job case; here the
whole job runs, with the invariants of support.Scenario.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from ark3d_addon.core import archive as archive_module
from ark3d_addon.core import download as download_module
from ark3d_addon.core.errors import ArchiveError, ArkError, ConfigError, DownloadError
from ark3d_addon.core.library import Library

from .support import Scenario, glb, zip_bytes

MODEL = glb({"asset": {"version": "2.0"}, "extras": {"padding": "x" * 1000}})


def result(size: int = 1_000_000) -> bytes:
    return zip_bytes([("model/m.glb", MODEL), ("model/pad.bin", os.urandom(size))], zipfile.ZIP_STORED)


class FillingDisk:
    """A file object whose disk is full once ``room`` bytes were written to it."""

    def __init__(self, inner: Any, room: int) -> None:
        self.inner, self.room = inner, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return int(self.inner.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __enter__(self) -> FillingDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()


def fill_disk(monkeypatch: pytest.MonkeyPatch, module: Any, room: int) -> None:
    """Make ``open`` of ``module`` hand out files on a disk with ``room`` bytes left."""
    real_open = open

    def filling_open(*args: Any, **kwargs: Any) -> FillingDisk:
        return FillingDisk(real_open(*args, **kwargs), room)

    monkeypatch.setattr(module, "open", filling_open, raising=False)


def test_disk_library_under_a_file(sc: Scenario) -> None:
    """expected: ConfigError LibraryNotWritable "The library folder ... is not writable (Not a directory)", hint ARK3D_LIBRARY; no request."""  # noqa: E501
    tid = sc.serve(result())
    library = Library(sc.root / "outside" / "keep.txt" / "library")
    error = sc.fail(tid, ConfigError, library=library)
    assert error.code == "LibraryNotWritable" and "is not writable (Not a directory)" in error.message
    assert "ARK3D_LIBRARY" in str(error.hint) and "preferences" in str(error.hint)
    assert sc.server.requests_log == []


def _read_only_mount_works(folder: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && ! touch "$0/probe" 2>/dev/null'
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, str(folder)],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


def test_disk_library_read_only(sc: Scenario) -> None:
    """expected: on a read-only file system (a read-only bind mount, which stops root too) `fetch` exits 1: "is not writable (Read-only file system)"; no request."""  # noqa: E501
    sc.lib_root.mkdir()
    if not _read_only_mount_works(sc.lib_root):
        pytest.skip("unshare cannot make a read-only bind mount here (needs user namespaces)")
    tid = sc.serve(result())
    mount = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    proc = sc.cli("fetch", tid, "--dest", str(sc.lib_root),
                  prefix=["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", mount, str(sc.lib_root)])
    assert proc.returncode == 1 and proc.stdout == ""
    assert f"The library folder {sc.lib_root} is not writable (Read-only file system)" in proc.stderr
    assert "code LibraryNotWritable" in proc.stderr
    assert sc.server.requests_log == [] and list(sc.lib_root.iterdir()) == []


def test_disk_task_folder_is_a_file(sc: Scenario) -> None:
    """expected: a file where the task's folder should be: ArkError DiskError "Could not write to the library (<path>): File exists"; the file is left alone."""  # noqa: E501
    tid = sc.serve(result())
    sc.lib_root.mkdir()
    (sc.lib_root / tid).write_text("not a folder")
    error = sc.fail(tid, ArkError)
    assert error.code == "DiskError" and f"({sc.lib_root / tid}): File exists" in error.message
    assert (sc.lib_root / tid).read_text() == "not a folder"


def test_disk_full_while_downloading(sc: Scenario, monkeypatch: pytest.MonkeyPatch, fast_retries: None) -> None:
    """expected: DownloadError DiskFull "The disk is full", hint "Free some space in <task folder>"; the .part is kept and, with space again, the next import resumes it."""  # noqa: E501
    data = result()
    tid = sc.serve(data)
    fill_disk(monkeypatch, download_module, 300_000)
    error = sc.fail(tid, DownloadError)
    assert error.code == "DiskFull" and error.message == "The disk is full"
    assert f"Free some space in {sc.library.task_dir(tid)}" in str(error.hint)
    part = sc.library.task_dir(tid) / "result.zip.part"
    kept = part.stat().st_size
    assert 0 < kept <= 300_000 and part.read_bytes() == data[:kept]

    monkeypatch.undo()  # space again
    sc.run(tid)
    assert [r.header("Range") for r in sc.file_gets()] == [None, f"bytes={kept}-"]
    assert sc.library.zip_path(tid).read_bytes() == data


def test_disk_full_while_extracting(sc: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """expected: ArchiveError DiskFull "The disk is full"; the paid download is kept (no .tmp- left) and the next import extracts it without a request."""  # noqa: E501
    data = result()
    tid = sc.serve(data)
    fill_disk(monkeypatch, archive_module, 100_000)
    error = sc.fail(tid, ArchiveError)
    assert error.code == "DiskFull" and error.message == "The disk is full"
    assert sc.library.zip_path(tid).read_bytes() == data, "a full disk says nothing against the zip"
    assert not sc.library.files_dir(tid).exists()

    monkeypatch.undo()
    requests_before = len(sc.server.requests_log)
    result_ = sc.run(tid)
    assert result_.from_library and len(sc.server.requests_log) == requests_before


def test_disk_second_import_while_first_runs(sc: Scenario) -> None:
    """expected: a second import of the same task waits ("Waiting for the library") and takes the first one's files: one download."""  # noqa: E501
    tid = sc.serve(result(2_000_000), throttle_bps=4_000_000)
    first, second = sc.job(tid), sc.job(tid)
    first.start()
    deadline = time.monotonic() + 10
    while first.snapshot().phase != "downloading":
        assert first.alive and time.monotonic() < deadline, first.snapshot()
        time.sleep(0.01)
    second.start()
    assert first.join(15) and second.join(15)
    assert first.result is not None and second.result is not None
    assert second.result.from_library and not first.result.from_library
    assert first.result.model.path == second.result.model.path
    assert len(sc.file_gets()) == 1
    assert any(str(s.text) == "Waiting for the library" for s in sc.states)


def test_disk_two_processes_share_the_library(sc: Scenario) -> None:
    """expected: two `python -m ark3d_addon fetch` of one task into one library: one download, both print the same model path, the files are intact."""  # noqa: E501
    data = result(2_000_000)
    tid = sc.serve(data, throttle_bps=4_000_000)
    procs = [sc.cli_popen("fetch", tid, "--dest", str(sc.lib_root)) for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        sc.outputs += [out, err]
        assert proc.returncode == 0, err
    paths = {out.strip() for out, _ in outputs}
    assert paths == {str(sc.library.files_dir(tid) / "model" / "m.glb")}
    assert sc.library.zip_path(tid).read_bytes() == data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            assert (sc.library.files_dir(tid) / name).read_bytes() == zf.read(name), name
    assert len(sc.file_gets()) == 1


def test_disk_crash_leftovers(sc: Scenario, fast_retries: None) -> None:
    """expected: a crash's result.zip.part is resumed ("Range: bytes=300000-") and its .tmp-files-* folder removed; the import succeeds."""  # noqa: E501
    data = result()
    tid = sc.serve(data)
    folder = sc.library.task_dir(tid)
    (folder / ".tmp-files-dead" / "model").mkdir(parents=True)
    (folder / ".tmp-files-dead" / "model" / "half.bin").write_bytes(b"\0" * 1000)
    (folder / "result.zip.part").write_bytes(data[:300_000])
    sc.run(tid)
    assert [r.header("Range") for r in sc.file_gets()] == ["bytes=300000-"]
    assert sc.library.zip_path(tid).read_bytes() == data
    assert not any(p.name.startswith(".tmp-") for p in folder.iterdir())
