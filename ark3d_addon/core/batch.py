"""Row files: many ideas at once from a pipeline, each paid for once, whatever crashes.

A row file holds one JSON object a line: ``{"prompt": ..., "image": ..., "model": ...,
"params": {...}}`` (and optionally ``endpoint``, ``image_model``, ``views``, ``size``, ``seed``, ``helper``,
``through_pictures``).  The whole file is read and every row checked first
(:func:`read_rows`, :func:`plan_rows`): one malformed row stops the run before anything is paid
for, and the error names its line.

A journal beside the file (``FILE.journal.jsonl``) records each paid step the moment it is
done: the pictures made (where they are saved), then the task created.  Run the file again and
a row whose task exists costs nothing (its task id is printed again); a row whose pictures
exist skips Seedream.  A create is journaled as begun just before it is sent: after a crash in
between, the row is created again only if Ark lists no new task of its model, so a row is never
paid for twice (a task that may be it is named for the user to check).  Each entry is one line
appended with a single write and flushed to the disk, so a crash leaves at most a torn last
line, which the reader skips.  A run holds the file (``FILE.journal.lock``): a second run of the
same file at once is refused, as it could pay twice.  A studio runs one row file per machine:
nothing is shared but the library.

Rows are created side by side (:data:`CONCURRENCY` at a time); every request draws from the
process's one rate limiter, and a 429 waits as Ark says (:mod:`.client`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .chain import load_chain
from .client import ArkClient
from .create import SKEW_S
from .errors import ArkError, Cancelled, ConfigError, ErrorCode
from .idea import Created, Idea, Plan, create_from_plan, make_pictures, plan_idea
from .images import GeneratedImage
from .library import Library
from .messages import msg
from .settings import Settings

__all__ = ["CONCURRENCY", "Journal", "Row", "journal_path", "plan_rows", "read_rows", "run_rows", "with_image_model"]

#: Rows worked on at once: Ark runs a few 3D tasks of an account at a time and queues the rest.
CONCURRENCY = 4
#: A row's calls wait out this many 429s (each as long as Ark's Retry-After says) before the row fails.
ROW_RETRIES = 6
_KEYS = frozenset({"prompt", "image", "model", "params", "image_model", "views", "size", "seed", "helper",
                   "through_pictures", "endpoint"})


@dataclass(frozen=True)
class Row:
    line: int
    key: str  # the row's content, hashed, and its occurrence: what the journal knows it by
    idea: Idea


def _bad_row(line: int, what: str) -> ConfigError:
    return ConfigError(msg("line {n}: {what}", n=str(line), what=what), code=ErrorCode.INVALID_PARAMETER,
                       hint=msg("Each line is one JSON object with model, and prompt or image (params: an object)"))


def _strings(line: int, name: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip()) if name == "views" else (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise _bad_row(line, f"{name} must be a string or a list of strings")


def _idea(line: int, data: dict[str, Any]) -> Idea:
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise _bad_row(line, f"unknown field {unknown[0]!r}")
    model, prompt, params = data.get("model"), data.get("prompt", ""), data.get("params", {})
    if not isinstance(model, str) or not model:
        raise _bad_row(line, "model is missing")
    if not isinstance(prompt, str):
        raise _bad_row(line, "prompt must be a string")
    if not isinstance(params, dict) or not all(isinstance(v, (str, int, float)) for v in params.values()):
        raise _bad_row(line, "params must be an object of names and values")
    seed = data.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise _bad_row(line, "seed must be a whole number")
    size, image_model, endpoint = data.get("size", ""), data.get("image_model", ""), data.get("endpoint", "")
    if not all(isinstance(value, str) for value in (size, image_model, endpoint)):
        raise _bad_row(line, "size, image_model and endpoint must be strings")
    extra: dict[str, Any] = {"size": size} if size else {}
    # JSON's true/false as the flags write them ("true"), numbers as written.
    named = {str(k): json.dumps(v) if isinstance(v, bool) else str(v) for k, v in params.items()}
    return Idea(model, prompt, _strings(line, "image", data.get("image")), named,
                image_model=image_model, helper=data.get("helper") is not False,
                views=_strings(line, "views", data.get("views")), seed=seed,
                through_pictures=data.get("through_pictures") is True, endpoint=endpoint, **extra)


def read_rows(path: Path) -> list[Row]:
    """Every row of the file, parsed; :class:`ConfigError` naming the first bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(msg("Cannot read the row file {path}: {reason}", path=str(path), reason=str(exc)),
                          code=ErrorCode.INVALID_PARAMETER, hint=msg("Give a UTF-8 file of JSON lines")) from None
    rows: list[Row] = []
    seen: Counter[str] = Counter()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _bad_row(number, f"not JSON ({exc.msg})") from None
        except (ValueError, RecursionError):
            raise _bad_row(number, "not JSON") from None
        if not isinstance(data, dict):
            raise _bad_row(number, "not a JSON object")
        digest = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:20]
        seen[digest] += 1
        rows.append(Row(number, f"{digest}-{seen[digest]}", _idea(number, data)))
    if not rows:
        raise ConfigError(msg("The row file {path} has no rows", path=str(path)), code=ErrorCode.INVALID_PARAMETER,
                          hint=msg("Each line is one JSON object with model, and prompt or image (params: an object)"))
    return rows


def plan_rows(rows: list[Row], image_model: str) -> list[Plan]:
    """Every row checked as a create would be; the first refusal names its line."""
    plans = []
    for row in rows:
        try:
            plans.append(plan_idea(row.idea, image_model))
        except ConfigError as exc:
            raise ConfigError(msg("line {n}: {what}", n=str(row.line), what=exc.what), code=exc.code,
                              hint=exc.hint) from None
    return plans


def journal_path(rows_file: Path) -> Path:
    return rows_file.with_name(rows_file.name + ".journal.jsonl")


class Journal:
    """The record of paid steps beside a row file: append-only JSON lines, read leniently."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.tasks: dict[str, str] = {}  # row key -> task id
        self.pictures: dict[str, list[GeneratedImage]] = {}  # row key -> pictures made
        self.creating: dict[str, float] = {}  # row key -> when its create was about to be sent
        for entry in self._entries():
            key = str(entry.get("row", ""))
            if entry.get("event") == "task" and isinstance(entry.get("task_id"), str):
                self.tasks[key] = entry["task_id"]
            elif entry.get("event") == "creating" and isinstance(entry.get("at"), (int, float)):
                self.creating[key] = float(entry["at"])
            elif entry.get("event") == "pictures" and isinstance(entry.get("pictures"), list):
                pictures = [GeneratedImage(Path(p["path"]), str(p.get("url", "")), str(p.get("size", "")))
                            for p in entry["pictures"] if isinstance(p, dict) and isinstance(p.get("path"), str)]
                if all(p.path.is_file() for p in pictures):
                    self.pictures[key] = pictures

    def _entries(self) -> Iterator[dict[str, Any]]:
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:  # a torn last line of a crashed run
                continue
            if isinstance(entry, dict):
                yield entry

    def append(self, entry: dict[str, Any]) -> None:
        """One line, one write, on the disk before the next paid step."""
        data = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    if os.fstat(fd).st_size and not self._ends_with_newline(fd):
                        data = b"\n" + data  # after a torn line: start a fresh one
                    os.write(fd, data)
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as exc:
                raise ArkError(msg("Cannot write the journal {path}: {reason}", path=str(self.path),
                                   reason=exc.strerror or str(exc)),
                               code=ErrorCode.WRITE_FAILED,
                               hint=msg("Free some disk space or make the row file's folder writable")) from None

    @staticmethod
    def _ends_with_newline(fd: int) -> bool:
        return os.pread(fd, 1, os.fstat(fd).st_size - 1) == b"\n" if hasattr(os, "pread") else True


@dataclass
class _Run:
    settings: Settings
    library: Library
    journal: Journal
    staging: Path
    report: Callable[[dict[str, Any]], None]
    cancel: threading.Event


def _row(run: _Run, row: Row, plan: Plan) -> dict[str, Any]:
    """One row: its task id from the journal, or the pictures (journaled) then the task (journaled)."""
    if row.key in run.journal.tasks:
        return _reused(run, row, plan)
    client = ArkClient(run.settings, cancel=run.cancel, max_retries=ROW_RETRIES)
    try:
        pictures = run.journal.pictures.get(row.key, [])
        if plan.makes_pictures and not pictures:
            pictures = make_pictures(client, plan, run.staging / row.key).images
            run.journal.append({"row": row.key, "line": row.line, "event": "pictures",
                                "pictures": [{"path": str(p.path), "url": p.url, "size": p.size} for p in pictures]})
        run.journal.append({"row": row.key, "line": row.line, "event": "creating", "at": time.time()})
        created = create_from_plan(client, plan, pictures, run.library)
        run.journal.append({"row": row.key, "line": row.line, "event": "task", "task_id": created.task_id})
    finally:
        client.close()
    shutil.rmtree(run.staging / row.key, ignore_errors=True)
    return _created(row.line, created, plan)


def _cut_short(run: _Run, rows: list[Row], plans: list[Plan]) -> dict[str, ArkError]:
    """The rows an earlier run stopped creating, refused where Ark lists a task they may have made.

    Asked once, before this run creates anything (its own new tasks would look the same).  A task
    of the row's model created since, that no row of this file has, may be this row's or another
    machine's: either way it is not taken blindly, and the row is not paid for twice.
    """
    cut = [(row, plan) for row, plan in zip(rows, plans, strict=True)
           if row.key in run.journal.creating and row.key not in run.journal.tasks]
    if not cut:
        return {}
    client = ArkClient(run.settings, cancel=run.cancel, max_retries=ROW_RETRIES)
    try:
        tasks, _total = client.list_tasks(page_size=100)
    finally:
        client.close()
    known = set(run.journal.tasks.values())
    refused: dict[str, ArkError] = {}
    for row, plan in cut:
        since = run.journal.creating[row.key] - SKEW_S
        found = [t.id for t in tasks if t.model == plan.spec.id and (t.created_at or 0) >= since and t.id not in known]
        if found:
            refused[row.key] = _uncertain(run, row, plan, found)
    return refused


def _uncertain(run: _Run, row: Row, plan: Plan, found: list[str]) -> ArkError:
    """Why a row cut short is not created again: the tasks that may be it, and how to go on."""
    return ArkError(msg("line {n}: a run stopped while creating this row, and these tasks of {model} were made "
                        "since: {ids}", n=str(row.line), model=plan.spec.name, ids=", ".join(found[:5])),
                    code=ErrorCode.CREATE_UNCERTAIN,
                    hint=msg("If one is this row's, fetch it by its id; to create the row again, delete its "
                             "'creating' line from {journal}", journal=str(run.journal.path)))


def _reused(run: _Run, row: Row, plan: Plan) -> dict[str, Any]:
    """A row created by an earlier run: its task id, and the pictures it was given as the library keeps them."""
    task_id = run.journal.tasks[row.key]
    folder = run.library.task_dir(task_id)
    chain = load_chain(run.library, task_id)
    images = [str(folder / item) if (folder / item).is_file() else item for item in chain.sent] if chain else []
    return {"line": row.line, "task_id": task_id, "model": plan.spec.id, "images": images, "reused": True}


def _created(line: int, created: Created, plan: Plan) -> dict[str, Any]:
    return {"line": line, "task_id": created.task_id, "model": plan.spec.id,
            "images": created.used, "pictures": [str(p) for p in created.pictures]}


def run_rows(rows: list[Row], plans: list[Plan], journal: Journal, *, settings: Settings, library: Library,
             report: Callable[[dict[str, Any]], None], cancel: threading.Event | None = None) -> int:
    """Create every row (:data:`CONCURRENCY` at a time), reporting each as it ends; returns how many failed."""
    staging = journal.path.with_name(journal.path.name.removesuffix(".journal.jsonl") + ".pictures")
    run = _Run(settings, library, journal, staging, report, cancel or threading.Event())
    failed = 0
    lock = threading.Lock()
    refused = _cut_short(run, rows, plans)

    def one(row: Row, plan: Plan) -> None:
        nonlocal failed
        try:
            if row.key in refused:
                raise refused[row.key]
            outcome = _row(run, row, plan)
        except Cancelled:
            raise
        except ArkError as exc:
            outcome = {"line": row.line, "model": plan.spec.id, **exc.as_dict()}
        with lock:
            failed += "error" in outcome
            run.report(outcome)

    with ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="ark3d-row") as pool:
        for future in [pool.submit(one, row, plan) for row, plan in zip(rows, plans, strict=True)]:
            future.result()
    try:
        staging.rmdir()  # each row's pictures went to its task: left only if a row failed after its pictures
    except OSError:
        pass
    return failed


def with_image_model(plans: list[Plan], image_model: str) -> list[Plan]:
    """The plans, their pictures asked of ``image_model`` where the row named none."""
    return [replace(plan, image_request=replace(plan.image_request, model=image_model))
            if plan.image_request is not None and not plan.idea.image_model else plan for plan in plans]
