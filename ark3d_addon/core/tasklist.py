"""The tasks browser's data: the account's recent tasks merged with the library, and cancel/delete.

Plain Python (no ``bpy``), run in a worker thread by the Blender layer, whose timer moves the
result into the panel.  A refresh is one list call (a page, optionally filtered by status),
plus, on the last page only, one ``filter.task_ids`` call that tells which recent library
tasks Ark no longer lists (their record was deleted).  Library tasks Ark does not list (older
than its 7-day window, deleted, or from another region) are shown after the last page, so a
result stays visible as long as its files are kept.  Without the network (no key, online
access off, no connection) the rows are the library alone, with the reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from .chain import CHAIN_FILE, Chain, read_chain
from .client import ArkClient
from .errors import ArkError, ErrorCode
from .library import Library, LibraryEntry
from .messages import Message, msg
from .retention import LIST_WINDOW_S, rule
from .settings import Settings
from .task import Status, Task, parse_task, signed_link_expiry

__all__ = [
    "CancelOutcome",
    "TaskListResult",
    "TaskRow",
    "cancel_or_delete",
    "delete_action",
    "delete_refusal",
    "fetch_rows",
    "merge_rows",
]

#: Most ids asked about in one ``filter.task_ids`` call.
_IDS_PER_CALL = 100
STATUSES = tuple(s.value for s in Status if s is not Status.UNKNOWN)


@dataclass(frozen=True)
class TaskRow:
    """One line of the browser: what Ark says (``remote``) and what the library holds."""

    task_id: str
    status: Status
    #: Ark's own word for a status this add-on does not know (``UNKNOWN``), to show it as Ark says it.
    status_text: str = ""
    model: str = ""
    fileformat: str = ""
    subdivisionlevel: str = ""
    created_at: int | None = None
    updated_at: int | None = None
    error_code: str = ""
    error_message: str = ""
    remote: bool = False  # Ark listed it in this refresh
    in_library: bool = False  # the library has a folder for it
    extracted: bool = False  # ... with a complete, extracted result
    size_bytes: int = 0
    #: How the task was made from an idea (prompt, pictures, which was sent); None for others.
    chain: Chain | None = None
    #: When the result link dies, as the link itself says (``X-Tos-Date`` + ``X-Tos-Expires``); None
    #: when it does not, and the model's documented lifetime after ``updated_at`` applies.
    link_expires: int | None = None

    def link_expires_at(self) -> int | None:
        if self.status is not Status.SUCCEEDED:
            return None
        if self.link_expires is not None:
            return self.link_expires
        if self.updated_at is None:
            return None
        return Task(self.task_id, Status.SUCCEEDED, model=self.model, updated_at=self.updated_at).link_expires_at()

    def link_seconds_left(self, now: float | None = None) -> float | None:
        expires = self.link_expires_at()
        return None if expires is None else expires - (time.time() if now is None else now)

    def retention(self, now: float | None = None) -> Message:
        """Which of Ark's retention rules applies to this task now, and the time left under it."""
        return rule(self.status, self.model, self.created_at, self.updated_at, listed=self.remote, now=now,
                    link_expires=self.link_expires)

    def age(self, now: float | None = None) -> float | None:
        if self.created_at is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.created_at)


@dataclass(frozen=True)
class TaskListResult:
    rows: list[TaskRow]
    page: int
    page_size: int
    total: int  # tasks Ark has for this filter (all pages); 0 when it could not be asked
    error: ArkError | None = None  # why only the library is shown
    hidden: int = 0  # tasks of this page that are not 3D (video tasks), left out
    fetched_at: float = field(default_factory=time.time)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _row_from_task(task: Task, entry: LibraryEntry | None) -> TaskRow:
    err = task.error
    return TaskRow(
        task_id=task.id,
        status=task.status,
        status_text=task.status_text if task.status is Status.UNKNOWN else "",
        model=task.model,
        fileformat=task.fileformat,
        subdivisionlevel=task.subdivisionlevel,
        created_at=task.created_at,
        updated_at=task.updated_at,
        error_code=err.code if err else "",
        error_message=err.message if err else "",
        remote=True,
        in_library=entry is not None,
        extracted=bool(entry and entry.extracted),
        size_bytes=entry.size_bytes if entry else 0,
        chain=read_chain(entry.dir / CHAIN_FILE) if entry else None,
        link_expires=signed_link_expiry(task.file_url),
    )


def _row_from_entry(entry: LibraryEntry) -> TaskRow:
    task: Task | None = None
    if entry.task_json:
        try:
            task = parse_task(entry.task_json)
        except ValueError:
            task = None
    if task is not None and task.id == entry.task_id:
        row = _row_from_task(task, entry)
        if entry.extracted:
            return replace(row, status=Status.SUCCEEDED, status_text="", remote=False)
        return replace(row, remote=False)
    return TaskRow(
        task_id=entry.task_id,
        status=Status.SUCCEEDED if entry.extracted else Status.UNKNOWN,
        in_library=True,
        extracted=entry.extracted,
        size_bytes=entry.size_bytes,
        chain=read_chain(entry.dir / CHAIN_FILE),
    )


def merge_rows(
    remote: Iterable[Task],
    entries: Iterable[LibraryEntry],
    *,
    last_page: bool,
    listed_elsewhere: Iterable[str] = (),
    status: str | None = None,
) -> list[TaskRow]:
    """The rows of one page: Ark's tasks in its order, then (on the last page) library-only tasks.

    ``listed_elsewhere`` are library task ids Ark still has (on another page); every other
    library task not on this page is shown after the last page, newest first, filtered by
    ``status`` like Ark filtered its own.
    """
    by_id = {e.task_id: e for e in entries}
    rows = [_row_from_task(task, by_id.get(task.id)) for task in remote]
    if last_page:
        shown = {r.task_id for r in rows} | set(listed_elsewhere)
        for entry in by_id.values():
            if entry.task_id in shown:
                continue
            row = _row_from_entry(entry)
            if status and row.status != status:
                continue
            rows.append(row)
    return rows


def fetch_rows(
    settings: Settings | None,
    library: Library,
    *,
    page: int = 1,
    page_size: int = 20,
    status: str | None = None,
    offline: ArkError | None = None,
    cancel: threading.Event | None = None,
    now: float | None = None,
) -> TaskListResult:
    """One refresh of the browser (network and disk: call it in a worker thread).

    ``offline`` (or no ``settings``) skips the network and shows the library with that reason;
    an error of the list call does the same.
    """
    status = status if status in STATUSES else None
    entries = library.entries()
    if offline is not None or settings is None:
        reason = offline or ArkError(msg("Ark was not asked"), code=ErrorCode.OFFLINE)
        return TaskListResult(merge_rows((), entries, last_page=True, status=status), 1, page_size, 0, reason)
    client = ArkClient(settings, cancel=cancel, max_retries=1)
    try:
        try:
            listed, total = client.list_tasks(page_num=page, page_size=page_size, status=status)
            # The same calls list video tasks (Seedance): the browser shows 3D tasks only.
            tasks = [task for task in listed if not task.is_video]
            last_page = page * page_size >= total
            elsewhere: set[str] = set()
            if last_page:
                elsewhere = _still_listed(client, tasks, entries, now)
        except ArkError as exc:
            return TaskListResult(merge_rows((), entries, last_page=True, status=status), 1, page_size, 0, exc)
    finally:
        client.close()
    rows = merge_rows(tasks, entries, last_page=last_page, listed_elsewhere=elsewhere, status=status)
    return TaskListResult(rows, page, page_size, total, hidden=len(listed) - len(tasks))


def _still_listed(client: ArkClient, tasks: list[Task], entries: list[LibraryEntry], now: float | None) -> set[str]:
    """Library tasks of the last 7 days not on this page: which of them does Ark still have?"""
    cutoff = (time.time() if now is None else now) - LIST_WINDOW_S
    on_page = {t.id for t in tasks}
    recent = []
    for entry in entries:
        created = (entry.task_json or {}).get("created_at")
        try:
            is_recent = float(created) >= cutoff  # type: ignore[arg-type]
        except (TypeError, ValueError):
            is_recent = True  # unknown age: ask
        if entry.task_id not in on_page and is_recent:
            recent.append(entry.task_id)
    found: set[str] = set()
    for start in range(0, len(recent), _IDS_PER_CALL):
        chunk = recent[start : start + _IDS_PER_CALL]
        listed, _total = client.list_tasks(page_num=1, page_size=len(chunk), task_ids=chunk)
        found.update(t.id for t in listed)
    return found


@dataclass(frozen=True)
class CancelOutcome:
    task_id: str
    action: str  # "cancelled" (was queued) or "deleted" (the record of a finished task)
    status_before: str


def delete_action(status: str) -> str:
    """What Ark's DELETE does to a task in ``status``: ``cancel`` (queued), ``delete`` (succeeded,
    failed, or expired: final, as the local server models it), or "" (refused: running, cancelled,
    or a status this add-on does not know)."""
    if status == Status.QUEUED.value:
        return "cancel"
    if status in (Status.SUCCEEDED.value, Status.FAILED.value, Status.EXPIRED.value):
        return "delete"
    return ""


def delete_refusal(task_id: str, status: str, status_text: str = "") -> ArkError | None:
    """Why Ark's DELETE cannot be sent for a task in ``status``, said before the user is asked."""
    if delete_action(status):
        return None
    if status == Status.RUNNING.value:
        return ArkError(
            msg("Task {task_id} is running and cannot be cancelled", task_id=task_id),
            code=ErrorCode.TASK_RUNNING,
            hint=msg("Ark only cancels queued tasks; wait until it finishes, then delete it"),
        )
    if status == Status.CANCELLED.value:
        return ArkError(
            msg("Task {task_id} is already cancelled", task_id=task_id),
            code=ErrorCode.ALREADY_CANCELLED,
            hint=msg("Ark removes cancelled tasks by itself after 24 hours"),
        )
    return ArkError(
        msg("Task {task_id} has the status '{status}', which this add-on cannot cancel or delete",
            task_id=task_id, status=status_text or status),
        code=ErrorCode.UNKNOWN_STATUS,
        hint=msg("Try again later"),
    )


def cancel_or_delete(client: ArkClient, task_id: str) -> CancelOutcome:
    """``DELETE`` a task after checking it can be: queued is cancelled, succeeded/failed deleted.

    The status is asked again first (it may have moved on since the list was drawn); running
    and cancelled tasks are refused here, before the DELETE is sent (Ark would refuse it too).
    """
    task = client.get_task(task_id)
    refusal = delete_refusal(task.id, task.status.value, task.status_text)
    if refusal is not None:
        raise refusal
    client.delete_task(task.id)
    action = "cancelled" if task.status is Status.QUEUED else "deleted"
    return CancelOutcome(task.id, action, task.status.value)
