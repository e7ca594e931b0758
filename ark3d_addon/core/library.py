"""Per-task storage of results, so a model outlives its 24-hour link and re-imports offline.

Layout of one task folder (named by the validated task id, so nothing path-like gets in)::

    <root>/<task id>/task.json        the task exactly as Ark returned it
                     result.zip       the downloaded zip (result.zip.part while downloading)
                     files/           the extracted result
                     extracted.json   written last: the extraction is complete
                     job.json         the journal of a job in flight (see below)
                     chain.json       how a task made from an idea was made, images/ its pictures
                                      (:mod:`.chain`)
                     .lock            exists only while a job works on the task

Every file that marks progress is written atomically (temporary file + ``os.replace``), so a
crash or a second Blender never sees half a state.

The jobs journal: a job in flight writes ``job.json`` (what to do: import or create, the
variant, when it began, whether to import the model when it is ready) and removes it when it
ends -- done, failed, or cancelled by the user.  When Blender quits or crashes it stays, and
the next Blender resumes the job (polling, then the download from its ``.part``).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ArkError, Cancelled, ConfigError, ErrorCode
from .messages import msg
from .phases import JobKind
from .task import validate_task_id

__all__ = ["JobJournal", "Library", "LibraryEntry", "default_library_root", "held"]

_TASK_JSON = "task.json"
_MARKER = "extracted.json"
_JOURNAL = "job.json"
_LOCK = ".lock"
#: What a job writes about a task, as opposed to what it downloads or the user adds.
_RECORDS = frozenset({_TASK_JSON, _JOURNAL, _LOCK})
_TMP_PREFIX = ".tmp-"
_LOCK_POLL = 0.1


def default_library_root() -> Path:
    """The platform's per-user data folder: where results go when nothing else is set.

    ``ARK3D_LIBRARY`` is read where every setting's precedence is, in :meth:`Settings.resolve`.
    """
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "ark3d" / "library"


@dataclass(frozen=True)
class LibraryEntry:
    """One stored task, for the library list in the panel and ``ark3d list``."""

    task_id: str
    dir: Path
    task_json: dict[str, Any] | None
    extracted: bool
    size_bytes: int


@dataclass(frozen=True)
class JobJournal:
    """A job in flight, as ``job.json`` records it, so a restarted Blender can finish it.

    ``kind`` is :attr:`~.JobKind.IMPORT` (started from a task id) or :attr:`~.JobKind.GENERATE`
    (started from an image: the create call is done once the journal exists, so a resume only
    polls and downloads).
    ``variant`` is None for the preferences' choice.  ``created_at`` is when the job began
    (Unix seconds).  ``model`` and ``fileformat`` are shown to the user, nothing more.
    """

    task_id: str
    kind: JobKind = JobKind.IMPORT
    variant: str | None = None
    import_when_ready: bool = True
    created_at: float = 0.0
    model: str = ""
    fileformat: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "task_id": self.task_id,
            "kind": self.kind.value,
            "variant": self.variant,
            "import_when_ready": self.import_when_ready,
            "created_at": self.created_at,
            "model": self.model,
            "fileformat": self.fileformat,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobJournal | None:
        """Leniently: a journal this version cannot read is None (and is left alone)."""
        try:
            task_id = validate_task_id(str(data.get("task_id", "")))
        except ConfigError:
            return None
        variant = data.get("variant")
        created = data.get("created_at")
        return cls(
            task_id=task_id,
            kind=JobKind.GENERATE if data.get("kind") == JobKind.GENERATE else JobKind.IMPORT,
            variant=variant if variant in ("pbr", "rgb") else None,
            import_when_ready=data.get("import_when_ready") is not False,
            created_at=float(created) if isinstance(created, (int, float)) and not isinstance(created, bool) else 0.0,
            model=str(data.get("model") or "")[:200],
            fileformat=str(data.get("fileformat") or "")[:20],
        )


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary sibling and ``os.replace``: readers see the old file or the new one."""
    tmp = path.with_name(f"{_TMP_PREFIX}{path.name}-{secrets.token_hex(4)}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _tree_size(folder: Path) -> int:
    total = 0
    for base, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(base, name)).st_size
            except OSError:
                continue
    return total


def _created(entry: LibraryEntry) -> float:
    """When the task was created (Ark's ``created_at``), else when its folder last changed."""
    value = (entry.task_json or {}).get("created_at")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        try:
            return entry.dir.stat().st_mtime
        except OSError:
            return 0.0


class Library:
    """The folder of downloaded results, one sub-folder per task."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser()

    def task_dir(self, task_id: str) -> Path:
        return self.root / validate_task_id(task_id)

    def zip_path(self, task_id: str) -> Path:
        return self.task_dir(task_id) / "result.zip"

    def files_dir(self, task_id: str) -> Path:
        return self.task_dir(task_id) / "files"

    def save_task(self, task_json: dict[str, Any]) -> Path:
        """Store the task JSON exactly as Ark returned it (it holds no key)."""
        folder = self.task_dir(str(task_json.get("id", "")))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / _TASK_JSON
        text = json.dumps(task_json, ensure_ascii=False, indent=2) + "\n"
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\ud800" in the JSON): keep it escaped
            text = json.dumps(task_json, ensure_ascii=True, indent=2) + "\n"
        _write_atomic(path, text)
        return path

    def load_task(self, task_id: str) -> dict[str, Any] | None:
        return _read_json(self.task_dir(task_id) / _TASK_JSON)

    def is_extracted(self, task_id: str) -> bool:
        return (self.task_dir(task_id) / _MARKER).is_file() and self.files_dir(task_id).is_dir()

    def mark_extracted(self, task_id: str, model: Path | None) -> None:
        """Record a finished extraction; call it last, after ``files/`` is complete."""
        rel = None
        if model is not None:
            rel = Path(model).resolve().relative_to(self.files_dir(task_id).resolve()).as_posix()
        marker = {"model": rel, "time": int(time.time())}
        _write_atomic(self.task_dir(task_id) / _MARKER, json.dumps(marker, ensure_ascii=False, indent=2) + "\n")

    def extracted_model(self, task_id: str) -> Path | None:
        """The model chosen at extraction, if the marker names one that still exists inside ``files/``."""
        marker = _read_json(self.task_dir(task_id) / _MARKER)
        rel = marker.get("model") if marker else None
        if not isinstance(rel, str) or not rel:
            return None
        files = self.files_dir(task_id).resolve()
        path = (files / rel).resolve()
        return path if path.is_relative_to(files) and path.is_file() else None

    def part_path(self, task_id: str) -> Path:
        """The download in progress (``result.zip.part``): what a resumed download continues."""
        return self.task_dir(task_id) / "result.zip.part"

    def clear_partial(self, task_id: str) -> None:
        """Drop what an interrupted download or extraction left: ``result.zip.part``, ``.tmp-*``."""
        self.part_path(task_id).unlink(missing_ok=True)
        self.clear_temp(task_id)

    def holds_only_records(self, task_id: str) -> bool:
        """True when the task's folder holds nothing but the add-on's own records (``task.json``,
        ``job.json``, ``.lock``, ``.tmp-*``): no download, no result, nothing the user made.

        Such a folder, left by a job that failed or was stopped before it downloaded anything,
        is worth nothing (a run again starts from Ark's answer) and would show in the library
        as a partial result.
        """
        try:
            names = [item.name for item in self.task_dir(task_id).iterdir()]
        except OSError:
            return False
        return all(name in _RECORDS or name.startswith(_TMP_PREFIX) for name in names)

    def clear_temp(self, task_id: str) -> None:
        """Drop the ``.tmp-*`` files and folders a crashed job left (an extraction can be GBs).

        Call it holding :meth:`lock`: then no other job can be writing them.  The resumable
        ``result.zip.part`` is kept.
        """
        folder = self.task_dir(task_id)
        if not folder.is_dir():
            return
        for item in folder.glob(_TMP_PREFIX + "*"):
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)

    # -- the jobs journal ----------------------------------------------------------------

    def journal_write(self, entry: JobJournal) -> Path:
        """Record a job in flight (atomically: a crash leaves the old journal or the new one)."""
        folder = self.task_dir(entry.task_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / _JOURNAL
        _write_atomic(path, json.dumps(entry.to_json(), ensure_ascii=False, indent=2) + "\n")
        return path

    def journal_read(self, task_id: str) -> JobJournal | None:
        data = _read_json(self.task_dir(task_id) / _JOURNAL)
        entry = JobJournal.from_json(data) if data is not None else None
        return entry if entry is not None and entry.task_id == validate_task_id(task_id) else None

    def journal_remove(self, task_id: str) -> None:
        """The job ended (done, failed, or cancelled by the user): nothing to resume."""
        (self.task_dir(task_id) / _JOURNAL).unlink(missing_ok=True)

    def journal_entries(self) -> list[JobJournal]:
        """Every journaled job, oldest first: what a restarted Blender should resume."""
        found: list[JobJournal] = []
        try:
            children = list(self.root.iterdir())
        except OSError:
            return found
        for child in children:
            if child.is_symlink() or not (child / _JOURNAL).is_file():
                continue
            try:
                task_id = validate_task_id(child.name)
            except ConfigError:
                continue
            entry = self.journal_read(task_id) if task_id == child.name else None
            if entry is not None:
                found.append(entry)
        found.sort(key=lambda e: (e.created_at, e.task_id))
        return found

    def is_locked(self, task_id: str) -> bool:
        """True while a job (of this process or another) holds the task's lock."""
        path = self.task_dir(task_id) / _LOCK
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            return False
        try:
            if not _try_lock(fd):
                return True
            _unlock(fd)
            return False
        finally:
            os.close(fd)

    def remove(self, task_id: str) -> None:
        """Delete the task's folder and everything in it."""
        folder = self.task_dir(task_id)
        try:
            shutil.rmtree(folder)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise ArkError(
                msg("Could not remove {folder}: {reason}", folder=str(folder), reason=exc.strerror or str(exc)),
                code=ErrorCode.REMOVE_FAILED,
                hint=msg("Close any program using those files (or wait for the running job), then try again"),
            ) from exc

    def entries(self) -> list[LibraryEntry]:
        """Every stored task, newest first."""
        found: list[LibraryEntry] = []
        try:
            children = list(self.root.iterdir())
        except OSError:
            return found
        for child in children:
            if not child.is_dir() or child.is_symlink():
                continue
            try:
                task_id = validate_task_id(child.name)
            except ConfigError:
                continue
            if task_id != child.name:
                continue
            found.append(
                LibraryEntry(
                    task_id=task_id,
                    dir=child,
                    task_json=self.load_task(task_id),
                    extracted=self.is_extracted(task_id),
                    size_bytes=_tree_size(child),
                )
            )
        found.sort(key=lambda e: (_created(e), e.task_id), reverse=True)
        return found

    @contextmanager
    def lock(self, task_id: str, timeout: float | None = None, cancel: threading.Event | None = None) -> Iterator[None]:
        """Exclusive hold on one task, across threads and processes (two Blenders, the CLI).

        Polls a non-blocking OS lock so a waiting job can give up on ``timeout`` or ``cancel``.
        The ``.lock`` file goes when the hold ends (:func:`_release`): a task folder at rest
        holds no lock file, and a job that waited on the removed one takes a new one.
        """
        folder = self.task_dir(task_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(folder / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                while not _try_lock(fd):
                    if cancel is not None and cancel.is_set():
                        raise Cancelled()
                    if deadline is not None and time.monotonic() >= deadline:
                        raise ArkError(
                            msg("Task {task_id} is busy: another job or Blender is working on it", task_id=task_id),
                            code=ErrorCode.BUSY,
                            hint=msg("Wait for the other job to finish, or cancel it, then try again"),
                        )
                    if cancel is not None:
                        cancel.wait(_LOCK_POLL)
                    else:
                        time.sleep(_LOCK_POLL)
                if _is_current(fd, folder / _LOCK):
                    break
                # The holder before us removed the folder (a cancelled job's, see discard()):
                # this lock guards nothing any more; take the one of the folder as it is now.
                _unlock(fd)
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
        try:
            yield
        finally:
            _release(fd, folder / _LOCK)

    def discard(self, task_id: str) -> None:
        """Remove the folder of a task whose job ended with nothing to keep (cancelled, not 3D).

        Everything goes, ``.lock`` and ``task.json`` included, so the library holds nothing that
        was not there before.  Skipped while another job holds the task's lock; a job waiting
        for it notices the lock file is gone and takes the new one (:meth:`lock`).
        """
        folder = self.task_dir(task_id)
        path = folder / _LOCK
        try:
            fd: int | None = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            fd = None
        except OSError:
            return
        if fd is not None and not _try_lock(fd):
            os.close(fd)
            return
        try:
            for item in folder.iterdir():
                if item.name == _LOCK:
                    continue
                if item.is_dir() and not item.is_symlink():
                    shutil.rmtree(item, ignore_errors=True)
                else:
                    item.unlink(missing_ok=True)
            if sys.platform != "win32":
                path.unlink(missing_ok=True)  # while it is held: no one can take it in between
        except OSError:
            pass
        finally:
            if fd is not None:
                _unlock(fd)
                os.close(fd)
        try:
            if sys.platform == "win32":
                path.unlink(missing_ok=True)  # Windows deletes no file that is open
            folder.rmdir()
        except OSError:
            pass

    def check_writable(self) -> None:
        """Fail early, with a useful message, before a download is started into a dead end."""
        probe = self.root / f"{_TMP_PREFIX}probe-{secrets.token_hex(4)}"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(
                msg("The library folder {folder} is not writable ({reason})", folder=str(self.root),
                    reason=exc.strerror or str(exc)),
                code=ErrorCode.LIBRARY_NOT_WRITABLE,
                hint=msg("Choose another folder in the add-on preferences or set ARK3D_LIBRARY"),
            ) from exc


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        # flock locks belong to the open file description, so two threads of one process
        # that each opened the file exclude each other as two processes do.
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def held(path: Path) -> Iterator[None]:
    """An exclusive hold on ``path`` (a lock file, made if missing) while the block runs, across
    processes; :class:`ArkError` (``Busy``) at once if another holds it.  The file stays: removing
    it could let a third process lock a new file while the second still holds the old one."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ArkError(msg("Cannot open {path}: {reason}", path=str(path), reason=exc.strerror or str(exc)),
                       code=ErrorCode.WRITE_FAILED, hint=msg("Make the folder writable")) from None
    try:
        if not _try_lock(fd):
            raise ArkError(msg("{path} is held by another run", path=str(path)), code=ErrorCode.BUSY,
                           hint=msg("Wait for the other run to end: running the same file twice at once could pay "
                                    "twice for its rows"))
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def _release(fd: int, path: Path) -> None:
    """Give up a hold taken by :meth:`Library.lock` and remove its lock file.

    Elsewhere the file is removed while it is still held, so no job can take it in between;
    Windows deletes no open file, so there it goes after, unless another job opened it
    meanwhile (that job then holds it, and removes it in turn).
    """
    try:
        if sys.platform != "win32" and _is_current(fd, path):
            path.unlink(missing_ok=True)
    finally:
        _unlock(fd)
        os.close(fd)
    if sys.platform == "win32":
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def _is_current(fd: int, path: Path) -> bool:
    """Whether the open lock file ``fd`` is still the one at ``path`` (not removed or replaced)."""
    try:
        mine, now = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)
