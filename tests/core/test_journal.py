"""The jobs journal in the library: ``<library>/<task id>/job.json`` while a job is in flight."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from ark3d_addon.core.library import JobJournal, Library
from ark3d_addon.core.phases import JobKind

A = "cgt-20251124000001-aaaaa"
B = "cgt-20251124000002-bbbbb"
C = "cgt-20251124000003-ccccc"


def test_write_read_remove(tmp_path: Path) -> None:
    library = Library(tmp_path)
    entry = JobJournal(A, kind=JobKind.GENERATE, variant="rgb", import_when_ready=False, created_at=1700000000.5,
                       model="doubao-seed3d-1-0-250928", fileformat="obj")
    path = library.journal_write(entry)
    assert path == tmp_path / A / "job.json"
    assert json.loads(path.read_text(encoding="utf-8"))["version"] == 1
    assert library.journal_read(A) == entry
    assert library.journal_entries() == [entry]
    library.journal_remove(A)
    assert library.journal_read(A) is None and library.journal_entries() == []
    library.journal_remove(A)  # twice is fine
    assert not [p for p in (tmp_path / A).iterdir() if p.name.startswith(".tmp-")], "no temporary file left"


def test_entries_are_oldest_first_and_skip_what_is_not_a_journal(tmp_path: Path) -> None:
    library = Library(tmp_path)
    library.journal_write(JobJournal(B, created_at=20.0))
    library.journal_write(JobJournal(A, created_at=30.0))
    library.journal_write(JobJournal(C, created_at=10.0))
    (tmp_path / "not-a-task").mkdir()
    (tmp_path / "not-a-task" / "job.json").write_text("{}")
    (tmp_path / "cgt-20251124000004-ddddd").mkdir()
    (tmp_path / "cgt-20251124000004-ddddd" / "job.json").write_text("{ not json")
    (tmp_path / "cgt-20251124000005-eeeee").mkdir()  # a finished task: no journal
    foreign = tmp_path / "cgt-20251124000006-fffff"
    foreign.mkdir()
    (foreign / "job.json").write_text(json.dumps({"task_id": A}))  # names another task: ignored
    assert [e.task_id for e in library.journal_entries()] == [C, B, A]


def test_a_journal_is_read_leniently() -> None:
    entry = JobJournal.from_json({"task_id": A, "kind": "weird", "variant": "gold", "created_at": "soon",
                                  "import_when_ready": 0, "future_field": [1, 2]})
    assert entry == JobJournal(A, kind=JobKind.IMPORT, variant=None, import_when_ready=True, created_at=0.0)
    assert JobJournal.from_json({"task_id": "../../etc"}) is None
    assert JobJournal.from_json({}) is None
    assert JobJournal.from_json({"task_id": A, "import_when_ready": False}).import_when_ready is False  # type: ignore[union-attr]


def test_is_locked_sees_a_job_of_this_process_or_another(tmp_path: Path) -> None:
    library = Library(tmp_path)
    assert not library.is_locked(A), "no folder yet: not locked"
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with library.lock(A):
            holding.set()
            release.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    assert holding.wait(5)
    try:
        assert library.is_locked(A)
    finally:
        release.set()
        worker.join()
    assert not library.is_locked(A)
    with library.lock(A, timeout=0.5):  # is_locked did not leave a lock behind
        pass
