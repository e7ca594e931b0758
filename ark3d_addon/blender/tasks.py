"""What the Tasks browser knows and does: its rows, its refresh, and what an action changes in them.

A row is the core's :class:`~..core.tasklist.TaskRow`, kept typed in the add-on's state
(:attr:`.state.TaskBrowser.rows`, by task id) from Ark's answer to the panel.  Blender's
properties hold only what the ``UIList`` needs to draw and select: one :class:`ArkTaskItem` per
row, named after its task id (the list's filter searches it), in a ``CollectionProperty`` of the
window manager, never the key.  The list (``ui/browser.py``) draws each item from its row.

Nothing here blocks the main thread on the network: a refresh is one background call
(:func:`~..core.tasklist.fetch_rows`) that :mod:`.runner` runs, and its result moves into the
state and the collection on the main thread (:func:`apply_refresh`).  Background Blender has no
event loop, so there it runs to the end in place.
"""

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import bpy
from bpy.props import CollectionProperty, EnumProperty, IntProperty

from ..core.errors import ArkError, ErrorCode
from ..core.messages import msg
from . import env, runner, state
from .preferences import library, read_settings
from .progress import redraw_sidebars

if TYPE_CHECKING:
    from ..core.settings import Settings
    from ..core.tasklist import CancelOutcome, TaskListResult, TaskRow
    from ..core.worker import Worker

__all__ = ["PAGE_SIZE", "PROPERTY_GROUPS", "ArkBrowserState", "ArkTaskItem", "TaskBrowser", "apply_cancel",
           "browser_state", "refresh_work", "row", "selected_row", "start_refresh", "update_library_flags"]

#: Tasks asked of Ark per page.
PAGE_SIZE = 20

_FILTERS = [
    ("ALL", "All Statuses", "Show tasks of every status"),
    ("queued", "Queued", "Only tasks waiting in Ark's queue"),
    ("running", "Running", "Only tasks being generated"),
    ("succeeded", "Succeeded", "Only tasks with a result"),
    ("failed", "Failed", "Only tasks that failed"),
    ("cancelled", "Cancelled", "Only cancelled tasks"),
]


class TaskBrowser:
    """What the Tasks browser learnt: its rows by task id (typed, as the core made them), the
    refresh running, and its status line (a part of the add-on's state: see :mod:`.state`)."""

    def __init__(self) -> None:
        self.rows: dict[str, TaskRow] = {}
        self.refresh: Worker[TaskListResult] | None = None
        self.status = state.StatusLine()
        self.fetched_at = 0.0

    @property
    def refreshing(self) -> bool:
        return self.refresh is not None and not self.refresh.done


def _mine() -> TaskBrowser:
    return state.get().part(TaskBrowser)


class ArkTaskItem(bpy.types.PropertyGroup):
    """One line of the list: its ``name`` is the task id, the key of its row in the add-on's state."""


def _filter_changed(self: "ArkBrowserState", context: bpy.types.Context) -> None:
    self.page = 1
    start_refresh(context)


class ArkBrowserState(bpy.types.PropertyGroup):
    tasks: CollectionProperty(type=ArkTaskItem)  # type: ignore[valid-type]
    index: IntProperty(name="Selected Task", default=0, options={"SKIP_SAVE"})  # type: ignore[valid-type]
    status_filter: EnumProperty(  # type: ignore[valid-type]
        name="Status",
        description="Show only the tasks of this status (Ark filters its list; the library is filtered alike)",
        items=_FILTERS,
        default="ALL",
        update=_filter_changed,
    )
    page: IntProperty(name="Page", default=1, min=1, options={"SKIP_SAVE"})  # type: ignore[valid-type]
    pages: IntProperty(default=1, min=1, options={"SKIP_SAVE"})  # type: ignore[valid-type]
    total: IntProperty(default=0, min=0, options={"SKIP_SAVE"})  # type: ignore[valid-type]
    hidden: IntProperty(default=0, min=0, options={"SKIP_SAVE"})  # type: ignore[valid-type]


def browser_state(context: bpy.types.Context | None = None) -> "ArkBrowserState | None":
    wm = (context or bpy.context).window_manager
    panel_state = getattr(wm, "ark3d", None) if wm is not None else None
    return getattr(panel_state, "browser", None)


def row(task_id: str) -> "TaskRow | None":
    """What the last refresh (and the actions since) know of ``task_id``; None: not listed."""
    return _mine().rows.get(task_id)


def selected_row(browser: ArkBrowserState) -> "TaskRow | None":
    if 0 <= browser.index < len(browser.tasks):
        return row(browser.tasks[browser.index].name)
    return None


def _index_of(browser: ArkBrowserState, task_id: str) -> int:
    return next((i for i, item in enumerate(browser.tasks) if item.name == task_id), -1)


# -- refreshing ---------------------------------------------------------------------------------


def refresh_work(context: bpy.types.Context) -> "runner.Work | None":
    """The list call for the state's page and filter, as work for the runner; None if one is running."""
    from ..core.tasklist import fetch_rows  # on first use: enabling the add-on needs no network code
    from ..core.worker import Worker

    browser, known = browser_state(context), _mine()
    if browser is None or known.refreshing:
        return None
    settings: Settings | None = None
    offline: ArkError | None = None
    try:
        settings = read_settings(context)
        offline = env.offline_error_or_none()
        if offline is None:
            settings.require_key()
    except ArkError as exc:  # settings that cannot be read (a bad base URL) still show the library, with why
        offline = exc
    where = library(context)
    page, page_size = max(1, browser.page), PAGE_SIZE
    wanted = None if browser.status_filter == "ALL" else browser.status_filter

    def work(cancel: Any) -> "TaskListResult":
        return fetch_rows(settings, where, page=page, page_size=page_size, status=wanted, offline=offline,
                          cancel=cancel)

    call: Worker[TaskListResult] = Worker(work, name="ark3d-tasks", secret=settings.api_key if settings else "")
    known.refresh = call
    return runner.Work(call=call, on_call_done=apply_refresh)


def start_refresh(context: bpy.types.Context | None = None) -> bool:
    """Refresh the list (one refresh at a time); False if one is already running."""
    context = context or bpy.context
    work = refresh_work(context)
    if work is None:
        return False
    runner.submit(work)
    runner.start(context)
    redraw_sidebars(context.window_manager)
    return True


def apply_refresh(context: bpy.types.Context, call: "Worker[TaskListResult]") -> "list[runner.Report]":
    """The finished call's rows into the state and the list (main thread); no report: the panel says it."""
    browser, known = browser_state(context), _mine()
    result = call.result
    redraw_sidebars(context.window_manager)
    if browser is None:
        return []
    if result is None:
        known.status.say(call.error or ArkError(msg("The refresh failed"), code=ErrorCode.UNKNOWN), "ERROR")
        return []
    selected = browser.tasks[browser.index].name if 0 <= browser.index < len(browser.tasks) else ""
    known.rows = {r.task_id: r for r in result.rows}
    browser.tasks.clear()
    for task_row in result.rows:
        browser.tasks.add().name = task_row.task_id
    browser.total, browser.hidden = result.total, result.hidden
    browser.pages, browser.page = result.pages, result.page
    browser.index = max(0, _index_of(browser, selected))
    known.fetched_at = result.fetched_at
    if result.error is not None:
        known.status.say(msg("Only the library is shown: {reason}", reason=result.error), "WARNING")
    else:
        known.status.say(None, "")
    return []


# -- what actions change ------------------------------------------------------------------------


def update_library_flags(task_id: str) -> None:
    """The row of ``task_id`` learns what the library now holds (after an import or a removal)."""
    from ..core.task import Status

    known = row(task_id)
    if known is None:
        return
    try:
        where = library()
        extracted, in_library = where.is_extracted(task_id), where.task_dir(task_id).is_dir()
    except ArkError:
        return
    status = Status.SUCCEEDED if extracted and known.status is Status.UNKNOWN else known.status
    _mine().rows[task_id] = replace(known, extracted=extracted, in_library=in_library, status=status,
                                              status_text="" if status is not known.status else known.status_text)
    redraw_sidebars(bpy.context.window_manager)


def apply_cancel(context: bpy.types.Context, outcome: "CancelOutcome") -> None:
    """Ark cancelled or deleted a task: its row says so, or goes (deleted, and not in the library)."""
    from ..core.task import Status

    known, browser = row(outcome.task_id), browser_state(context)
    rows = _mine().rows
    if known is None:
        return
    if outcome.action == "cancelled":
        rows[outcome.task_id] = replace(known, status=Status.CANCELLED, status_text="")
    elif known.in_library:
        rows[outcome.task_id] = replace(known, remote=False)
    else:
        del rows[outcome.task_id]
        index = _index_of(browser, outcome.task_id) if browser is not None else -1
        if browser is not None and index >= 0:
            browser.tasks.remove(index)
            browser.index = max(0, min(browser.index, len(browser.tasks) - 1))


#: Registered before the panel state (which points at ArkBrowserState).
PROPERTY_GROUPS: tuple[type, ...] = (ArkTaskItem, ArkBrowserState)
