"""Per-task storage: atomic files, the extraction marker, listing, and the task lock."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from ark3d_addon.core import library as library_module
from ark3d_addon.core.errors import ArkError, Cancelled, ConfigError
from ark3d_addon.core.library import Library, default_library_root

REPO = Path(__file__).resolve().parents[2]
TID = "cgt-20251124123456-abcde"
TID2 = "cgt-20251125000000-zzzzz"


def task_json(task_id: str = TID, created: object = 1718049470) -> dict[str, object]:
    return {
        "id": task_id,
        "model": "doubao-seed3d-1-0-250928",
        "status": "succeeded",
        "created_at": created,
        "content": {"file_url": "https://example.invalid/r.zip?X-Tos-Signature=abc"},
        "note": "中文 ✓",
        "usage": {"total_tokens": 30000},
    }


def test_paths_and_id_validation(tmp_path: Path) -> None:
    lib = Library(str(tmp_path))
    assert lib.root == tmp_path
    assert lib.task_dir(f"  {TID} ") == tmp_path / TID
    assert lib.zip_path(TID) == tmp_path / TID / "result.zip"
    assert lib.files_dir(TID) == tmp_path / TID / "files"
    assert not (tmp_path / TID).exists()  # nothing created
    for bad in ("../etc", "cgt-../../x", "cgt-a/b", "", "cgt-%2e%2e"):
        with pytest.raises(ConfigError):
            lib.task_dir(bad)


def test_default_library_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The platform's folder; ``ARK3D_LIBRARY`` is Settings' to read (test_settings.py), not this one's."""
    monkeypatch.setenv("ARK3D_LIBRARY", str(tmp_path / "lib"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    root = default_library_root()
    assert root.parts[-2:] == ("ark3d", "library")
    if sys.platform.startswith("linux"):
        assert root == Path.home() / ".local" / "share" / "ark3d" / "library"


def test_save_and_load_task_exactly(tmp_path: Path) -> None:
    lib = Library(tmp_path)
    data = task_json()
    path = lib.save_task(data)
    assert path == tmp_path / TID / "task.json"
    assert lib.load_task(TID) == data
    assert json.loads(path.read_text(encoding="utf-8")) == data
    assert "中文 ✓" in path.read_text(encoding="utf-8")  # UTF-8, not \\u escapes
    assert [p.name for p in path.parent.iterdir()] == ["task.json"]
    assert lib.load_task(TID2) is None
    path.write_text("{not json", encoding="utf-8")
    assert lib.load_task(TID) is None


def test_save_task_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = Library(tmp_path)
    lib.save_task(task_json())

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(library_module.os, "replace", broken_replace)
    changed = dict(task_json(), status="failed")
    with pytest.raises(OSError):
        lib.save_task(changed)
    assert lib.load_task(TID) == task_json()  # old content intact
    assert sorted(p.name for p in (tmp_path / TID).iterdir()) == ["task.json"]  # no temp left


def test_save_task_refuses_bad_id(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        Library(tmp_path).save_task({"id": "../../escape"})
    assert list(tmp_path.iterdir()) == []


def test_marker_semantics(tmp_path: Path) -> None:
    lib = Library(tmp_path)
    assert not lib.is_extracted(TID)
    files = lib.files_dir(TID)
    (files / "chair" / "pbr").mkdir(parents=True)
    model = files / "chair" / "pbr" / "chair.glb"
    model.write_bytes(b"glb")
    assert not lib.is_extracted(TID)  # files without the marker: an interrupted extraction
    lib.mark_extracted(TID, model)
    marker = json.loads((lib.task_dir(TID) / "extracted.json").read_text())
    assert marker["model"] == "chair/pbr/chair.glb"
    assert isinstance(marker["time"], int)
    assert lib.is_extracted(TID)
    assert lib.extracted_model(TID) == model.resolve()
    model.unlink()
    assert lib.extracted_model(TID) is None
    (lib.task_dir(TID) / "extracted.json").write_text(json.dumps({"model": "../task.json"}))
    assert lib.extracted_model(TID) is None  # a tampered marker cannot point outside files/
    lib.mark_extracted(TID, None)
    assert lib.is_extracted(TID) and lib.extracted_model(TID) is None
    shutil.rmtree(files)
    assert not lib.is_extracted(TID)


def test_clear_partial_and_remove(tmp_path: Path) -> None:
    lib = Library(tmp_path)
    lib.clear_partial(TID)  # nothing there: fine
    lib.save_task(task_json())
    folder = lib.task_dir(TID)
    (folder / "result.zip").write_bytes(b"zip")
    (folder / "result.zip.part").write_bytes(b"part")
    (folder / ".tmp-files-1234" / "sub").mkdir(parents=True)
    (folder / ".tmp-task.json-abcd").write_text("x")
    lib.clear_partial(TID)
    assert sorted(p.name for p in folder.iterdir()) == ["result.zip", "task.json"]
    lib.remove(TID)
    assert not folder.exists()
    lib.remove(TID)  # already gone: fine


def test_entries_newest_first(tmp_path: Path) -> None:
    lib = Library(tmp_path)
    lib.save_task(task_json(TID, created="1700000000"))
    lib.save_task(task_json(TID2, created=1800000000))
    lib.files_dir(TID).mkdir()
    (lib.files_dir(TID) / "m.glb").write_bytes(b"x" * 1000)
    lib.mark_extracted(TID, lib.files_dir(TID) / "m.glb")
    bare = tmp_path / "cgt-20200101000000-older"
    bare.mkdir()
    os.utime(bare, (1000, 1000))
    (tmp_path / "not-a-task").mkdir()
    (tmp_path / "cgt-file-not-dir").write_text("x")
    entries = lib.entries()
    assert [e.task_id for e in entries] == [TID2, TID, "cgt-20200101000000-older"]
    first, second, third = entries
    assert first.task_json == task_json(TID2, created=1800000000) and not first.extracted
    assert second.extracted and second.dir == tmp_path / TID
    assert second.size_bytes >= 1000 + (tmp_path / TID / "task.json").stat().st_size
    assert third.task_json is None and third.size_bytes == 0
    assert Library(tmp_path / "missing").entries() == []


def test_lock_excludes_threads(tmp_path: Path) -> None:
    lib = Library(tmp_path)
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with lib.lock(TID):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(5)
    start = time.monotonic()
    with pytest.raises(ArkError) as info:
        with lib.lock(TID, timeout=0.3):
            pass
    assert info.value.code == "Busy" and info.value.hint
    assert 0.25 <= time.monotonic() - start < 2

    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    with pytest.raises(Cancelled):
        with lib.lock(TID, cancel=cancel):
            pass

    threading.Timer(0.2, release.set).start()
    with lib.lock(TID, timeout=5):  # acquired once the holder lets go
        pass
    thread.join(5)
    with lib.lock(TID2, timeout=0):  # another task is independent
        assert (tmp_path / TID2 / ".lock").exists()


_CHILD = textwrap.dedent(
    """
    import sys, time
    from ark3d_addon.core.errors import ArkError
    from ark3d_addon.core.library import Library
    lib = Library({root!r})
    mode = sys.argv[1]
    if mode == "hold":
        with lib.lock({tid!r}):
            print("held", flush=True)
            sys.stdin.readline()
    else:
        try:
            with lib.lock({tid!r}, timeout=0.3):
                print("acquired", flush=True)
        except ArkError as exc:
            print(exc.code, flush=True)
    """
)


def test_lock_excludes_processes(tmp_path: Path) -> None:
    lib = Library(tmp_path)
    code = _CHILD.format(root=str(tmp_path), tid=TID)

    def run_try() -> str:
        out = subprocess.run([sys.executable, "-c", code, "try"], capture_output=True, text=True, timeout=30,
                             cwd=REPO)  # ``-c`` puts the working folder on the path: ark3d_addon
        return out.stdout.strip()

    with lib.lock(TID):
        assert run_try() == "Busy"
    assert run_try() == "acquired"

    holder = subprocess.Popen(
        [sys.executable, "-c", code, "hold"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ArkError, match="busy"):
            with lib.lock(TID, timeout=0.3):
                pass
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.wait(10) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
    with lib.lock(TID, timeout=2):
        pass


def test_check_writable(tmp_path: Path) -> None:
    Library(tmp_path / "new" / "lib").check_writable()
    assert (tmp_path / "new" / "lib").is_dir()
    assert list((tmp_path / "new" / "lib").iterdir()) == []  # the probe is gone
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError) as info:
        Library(tmp_path / "afile" / "lib").check_writable()
    assert "is not writable" in info.value.message
    assert "ARK3D_LIBRARY" in str(info.value.hint)


def test_a_job_waiting_on_a_lock_file_that_was_removed_takes_the_new_one(tmp_path: Path) -> None:
    # discard() removes the folder, .lock included, while it holds the lock; a job that was
    # waiting on the old file must not go on under a lock nobody else can see.
    library = Library(tmp_path)
    tid = "cgt-20260101000000-abcde"
    got: list[bool] = []
    with library.lock(tid):
        waiter = threading.Thread(target=lambda: _hold(library, tid, got))
        waiter.start()
        time.sleep(0.3)  # the waiter has opened the lock file and polls it
        shutil.rmtree(library.task_dir(tid))
    waiter.join(5)
    assert got == [True]


def _hold(library: Library, task_id: str, got: list[bool]) -> None:
    with library.lock(task_id, timeout=5):
        got.append((library.task_dir(task_id) / ".lock").exists())


def test_discard_skips_a_folder_another_job_holds(tmp_path: Path) -> None:
    library = Library(tmp_path)
    tid = "cgt-20260101000000-abcde"
    with library.lock(tid):
        library.save_task({"id": tid, "status": "queued"})
        library.discard(tid)
        assert (library.task_dir(tid) / "task.json").exists()
    library.discard(tid)
    assert list(tmp_path.iterdir()) == []


def test_the_lock_file_goes_when_the_hold_ends_and_a_waiter_takes_a_new_one(tmp_path: Path) -> None:
    """A task folder at rest holds no ``.lock``; a job that waited on the removed file holds a new one
    that exists while it works, and exclusion still holds between the two."""
    library = Library(tmp_path)
    lock_file = library.task_dir(TID) / ".lock"
    got: list[bool] = []
    with library.lock(TID):
        assert lock_file.exists()
        waiter = threading.Thread(target=lambda: _hold(library, TID, got))
        waiter.start()
        time.sleep(0.3)  # the waiter has opened this lock file and polls it
        assert got == []
    waiter.join(5)
    assert got == [True] and not lock_file.exists()
    assert list(library.task_dir(TID).iterdir()) == []


def test_holds_only_records(tmp_path: Path) -> None:
    """A folder with only task.json (and the journal, a lock, temporary files) holds nothing worth keeping;
    a partial download or a file of the user's is."""
    library = Library(tmp_path)
    assert not library.holds_only_records(TID)  # no folder at all: nothing to forget
    library.save_task(task_json(TID))
    (library.task_dir(TID) / ".tmp-x").write_bytes(b"")
    assert library.holds_only_records(TID)
    library.part_path(TID).write_bytes(b"part")
    assert not library.holds_only_records(TID)
    library.part_path(TID).unlink()
    (library.task_dir(TID) / "input.png").write_bytes(b"png")
    assert not library.holds_only_records(TID)
