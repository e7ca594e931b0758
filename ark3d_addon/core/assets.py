"""The visual library: each result's picture, its input image, and its Blender asset file.

Plain Python (no ``bpy``): where the files of the visual library live, what is missing, the
asset catalogs, and the background Blender process that makes the pictures and the asset
files (run from a worker thread, so the main thread never waits for it).  Inside a task
folder (see :mod:`.library`)::

    <root>/<task id>/preview.png        the model's picture (rendered by the background process)
                     asset.blend        a collection asset of the model, with that picture
                     asset_error.txt    why the last try failed (not retried until the result changes)
                     input.<ext>        the image a generate sent (tasks created from Blender)
                     input_preview.png  a small copy of it, for the interface
    <root>/blender_assets.cats.txt      the catalogs, by model then month

The asset files are made after the result's ``extracted.json``: an asset older than that
marker (a re-download) is made again; a deleted task takes its whole folder with it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .chain import Chain
from .library import Library, _write_atomic
from .task import parse_task

__all__ = [
    "ASSET_FILE",
    "AssetInfo",
    "CATALOG_FILE",
    "INPUT_PREVIEW",
    "PREVIEW_FILE",
    "asset_state",
    "catalog_lines",
    "input_image",
    "needs_asset",
    "needs_input_preview",
    "pending",
    "preview_path",
    "remove_result",
    "run_process",
    "store_input",
    "write_catalogs",
]

PREVIEW_FILE = "preview.png"
ASSET_FILE = "asset.blend"
ERROR_FILE = "asset_error.txt"
INPUT_PREVIEW = "input_preview.png"
CATALOG_FILE = "blender_assets.cats.txt"
_INPUT_STEM = "input"
_INPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
_MARKER = "extracted.json"
#: The namespace of the catalogs' UUIDs: a catalog path always gets the same UUID, so files
#: written by two Blenders (or rewritten after a delete) agree with the assets already saved.
_CATALOG_NS = uuid.UUID("6f1d0c52-7d8e-4c1b-9a57-2b3c8e4e0a31")
_CATALOG_ROOT = "Ark 3D"


@dataclass(frozen=True)
class AssetInfo:
    """What the asset says about its task: the description, tags and catalog."""

    task_id: str
    model: str
    level: str
    fileformat: str
    created_at: int | None
    prompt: str = ""  # the user's words, for a task made from a prompt (its chain)
    image_model: str = ""  # the Seedream model that made its picture

    @classmethod
    def from_task(cls, task_id: str, task_json: dict[str, Any] | None, chain: Chain | None = None) -> AssetInfo:
        """From the stored ``task.json`` (the core's one reading of it) and the task's chain, if it
        was made from a prompt; blanks where they are missing."""
        made = (chain.prompt, chain.image_model) if chain is not None else ("", "")
        try:
            task = parse_task(task_json)
        except ValueError:  # no task.json (a bare download), or one without an id
            return cls(task_id, "", "", "", None, *made)
        return cls(task_id, task.model, task.subdivisionlevel, task.fileformat, task.created_at, *made)

    @property
    def date(self) -> str:
        """``2026-11-27`` (UTC), or empty when Ark gave no time."""
        return "" if self.created_at is None else time.strftime("%Y-%m-%d", time.gmtime(self.created_at))

    @property
    def month(self) -> str:
        return self.date[:7] or "undated"

    @property
    def catalog(self) -> str:
        """``Ark 3D/<model>/<month>``: a model's catalog shows all its months, a month narrows it."""
        return "/".join((_CATALOG_ROOT, _catalog_part(self.model or "unknown model"), self.month))

    @property
    def catalog_id(self) -> str:
        return str(uuid.uuid5(_CATALOG_NS, self.catalog))

    @property
    def description(self) -> str:
        parts = [self.task_id, self.model, self.level, self.fileformat.upper(), self.date]
        made = f"{self.prompt} ({self.image_model})" if self.prompt and self.image_model else self.prompt
        return " · ".join(p for p in [*parts, made] if p)

    @property
    def tags(self) -> list[str]:
        """Searchable in the Asset Browser: the id, model, level, format, day and month (and the image model)."""
        found = ["Ark 3D", self.task_id, self.model, self.level, self.fileformat.lower(), self.date, self.month,
                 self.image_model]
        return list(dict.fromkeys(t for t in found if t))


def _catalog_part(text: str) -> str:
    """A catalog path element: no ``/`` (the separator), no ``:`` (the file's field separator)."""
    return text.replace("/", "-").replace(":", "-").replace("\\", "-").strip() or "-"


def catalog_lines(catalogs: Iterable[str]) -> list[str]:
    """The catalog definition file's lines for ``catalogs`` and every parent of them."""
    paths: set[str] = set()
    for path in catalogs:
        parts = path.split("/")
        paths.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    lines = [
        "# This is an Asset Catalog Definition file for Blender.",
        "# Written by the Ark 3D add-on from the library's tasks: edits are overwritten.",
        "",
        "VERSION 1",
        "",
    ]
    for path in sorted(paths):
        simple = path.replace("/", "-")
        lines.append(f"{uuid.uuid5(_CATALOG_NS, path)}:{path}:{simple}")
    return lines


def write_catalogs(library: Library) -> Path:
    """Write ``blender_assets.cats.txt`` for every task of the library that has an asset file."""
    catalogs = [
        AssetInfo.from_task(entry.task_id, entry.task_json).catalog
        for entry in library.entries()
        if (entry.dir / ASSET_FILE).is_file()
    ]
    path = library.root / CATALOG_FILE
    library.root.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, "\n".join(catalog_lines(catalogs)) + "\n")
    return path


# -- what is there, what is missing ---------------------------------------------------------------


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def asset_state(library: Library, task_id: str) -> str:
    """``none`` (no result), ``missing``, ``stale`` (older than the result), ``failed`` or ``ready``."""
    folder = library.task_dir(task_id)
    result = _mtime(folder / _MARKER) if library.is_extracted(task_id) else None
    if result is None:
        return "none"
    asset = _mtime(folder / ASSET_FILE)
    if asset is not None and asset >= result and (folder / PREVIEW_FILE).is_file():
        return "ready"
    error = _mtime(folder / ERROR_FILE)
    if error is not None and error >= result:
        return "failed"
    return "stale" if asset is not None else "missing"


def needs_asset(library: Library, task_id: str) -> bool:
    return asset_state(library, task_id) in ("missing", "stale")


def input_image(library: Library, task_id: str) -> Path | None:
    folder = library.task_dir(task_id)
    for suffix in _INPUT_SUFFIXES:
        path = folder / (_INPUT_STEM + suffix)
        if path.is_file():
            return path
    return None


def needs_input_preview(library: Library, task_id: str) -> bool:
    source = input_image(library, task_id)
    if source is None:
        return False
    made = _mtime(library.task_dir(task_id) / INPUT_PREVIEW)
    return made is None or made < (_mtime(source) or 0.0)


def pending(library: Library) -> list[str]:
    """Tasks whose picture, asset or input preview is to be made, newest first (the catch-up)."""
    found: list[str] = []
    try:
        children = sorted(library.root.iterdir(), key=lambda p: _mtime(p) or 0.0, reverse=True)
    except OSError:
        return found
    for child in children:
        if not child.is_dir() or child.is_symlink() or not (child / "task.json").is_file():
            continue
        task_id = child.name
        try:
            if needs_asset(library, task_id) or needs_input_preview(library, task_id):
                found.append(task_id)
        except Exception:  # a folder that is not a task (validate_task_id refused it)
            continue
    return found


def preview_path(library: Library, task_id: str) -> Path | None:
    """The model's picture if made, else the input image's small copy, else None."""
    folder = library.task_dir(task_id)
    for name in (PREVIEW_FILE, INPUT_PREVIEW):
        if (folder / name).is_file():
            return folder / name
    return None


def store_input(library: Library, task_id: str, source: Path) -> Path:
    """Keep the image a generate sent, beside the task's result (copied atomically).

    It runs in the assets worker while the task's job may be downloading: its copy is not named
    ``.tmp-*``, which the job's :meth:`Library.clear_temp` removes as a crashed job's leftover.
    """
    suffix = source.suffix.lower() if source.suffix.lower() in _INPUT_SUFFIXES else ".png"
    folder = library.task_dir(task_id)
    folder.mkdir(parents=True, exist_ok=True)
    for old in _INPUT_SUFFIXES:
        (folder / (_INPUT_STEM + old)).unlink(missing_ok=True)
    target = folder / (_INPUT_STEM + suffix)
    tmp = folder / f".{_INPUT_STEM}-{uuid.uuid4().hex}{suffix}.part"
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    return target


def remove_result(library: Library, task_id: str) -> None:
    """Remove a task's result and everything made from it, but keep its input image (a re-download).

    Its catalog goes at the next write of the catalogs (an empty catalog hides nothing).
    """
    folder = library.task_dir(task_id)
    keep = {_INPUT_STEM + suffix for suffix in _INPUT_SUFFIXES} | {INPUT_PREVIEW, "task.json"}
    if not folder.is_dir():
        return
    if not any((folder / name).is_file() for name in keep - {"task.json"}):
        library.remove(task_id)
        return
    for item in folder.iterdir():
        if item.name in keep or item.name == ".lock":
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink(missing_ok=True)


# -- the background process -----------------------------------------------------------------------

#: Longest one background process may take (a Blender start, one import, one small render).
PROCESS_TIMEOUT = 600.0
#: The background Blender's niceness (POSIX): the user's Blender gets the CPU first.
PROCESS_NICENESS = 15
_POLL = 0.1


def run_process(argv: Sequence[str], cancel: threading.Event | None = None,
                timeout: float = PROCESS_TIMEOUT, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the background Blender to its end (in a worker thread): ``(exit status, output tail)``.

    ``cancel`` kills it (the add-on is disabled, Blender quits).  The output is kept for the
    error file and the console, never parsed.
    """
    # Below the user's Blender in the scheduler: the render must not take the interface's CPU.
    flags = getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0)  # Windows only
    with subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=env, creationflags=flags) as proc:
        if hasattr(os, "setpriority"):
            try:
                os.setpriority(os.PRIO_PROCESS, proc.pid, PROCESS_NICENESS)
            except OSError:  # gone already, or not allowed: it runs at the normal priority
                pass
        chunks: list[bytes] = []
        reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: proc.stdout.read(65536), b"")),  # type: ignore[union-attr]
                                  name="ark3d-assets-output", daemon=True)
        reader.start()
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            if (cancel is not None and cancel.is_set()) or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                break
            if cancel is not None:
                cancel.wait(_POLL)
            else:
                time.sleep(_POLL)
        reader.join(5.0)
        output = b"".join(chunks).decode("utf-8", "replace")
        return proc.returncode, output[-4000:]
