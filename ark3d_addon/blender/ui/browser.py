"""The Tasks browser: the account's recent tasks and the library, with import, cancel and delete.

A sub-panel of the Ark 3D sidebar holds a ``UIList`` of :class:`ArkTaskItem` rows (status,
id, format, age, time left before the file link dies, in the library or not) and, below it,
the selected task's details and actions.  The rows live in a ``CollectionProperty`` of the
window manager (ids and statuses only, never the key).

Nothing here blocks the main thread on the network: a refresh runs
:func:`~ark3d_addon.core.tasklist.fetch_rows` in a worker thread (a
:class:`~ark3d_addon.core.tasklist.Background`) and a ``bpy.app.timers`` function moves its
result into the collection; ``ark3d.cancel_task`` and ``ark3d.check_connection`` run their
request in a worker too, as modal operators with a timer (like the import).  Background
Blender has no event loop, so there each runs to the end in place.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bpy
from bpy.props import BoolProperty, CollectionProperty, EnumProperty, IntProperty, StringProperty

from ...core.client import ArkClient
from ...core.diagnose import Check, check_connection
from ...core.errors import ArkError, ConfigError
from ...core.job import format_bytes, format_duration
from ...core.library import Library
from ...core.settings import Settings
from ...core.task import validate_task_id
from ...core.tasklist import Background, CancelOutcome, TaskListResult, cancel_or_delete, fetch_rows
from .. import jobs, translations
from .._typing import Icon, OperatorResult
from ..importer import format_problem
from ..operators import ONLINE_HINT, has_event_loop, online_access_allowed
from ..preferences import connection_report, get_preferences, library_for, library_root, read_settings
from .progress import redraw_sidebars

TIMER_STEP = 0.1
PAGE_SIZE = 20

STATUS_ICONS: dict[str, Icon] = {
    "queued": "SORTTIME",
    "running": "PLAY",
    "succeeded": "CHECKMARK",
    "failed": "ERROR",
    "cancelled": "CANCEL",
}
STATUS_NAMES = {
    "queued": "Queued",
    "running": "Running",
    "succeeded": "Succeeded",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "unknown": "Unknown",
}
_FILTERS = [
    ("ALL", "All Statuses", "Show tasks of every status"),
    ("queued", "Queued", "Only tasks waiting in Ark's queue"),
    ("running", "Running", "Only tasks being generated"),
    ("succeeded", "Succeeded", "Only tasks with a result"),
    ("failed", "Failed", "Only tasks that failed"),
    ("cancelled", "Cancelled", "Only cancelled tasks"),
]


# -- data ---------------------------------------------------------------------------------------


class ArkTaskItem(bpy.types.PropertyGroup):
    """One row: a copy of what the last refresh learnt (``name`` is the task id, for the list filter)."""

    task_id: StringProperty()  # type: ignore[valid-type]
    status: StringProperty()  # type: ignore[valid-type]
    model: StringProperty()  # type: ignore[valid-type]
    fileformat: StringProperty()  # type: ignore[valid-type]
    subdivisionlevel: StringProperty()  # type: ignore[valid-type]
    # Unix seconds as text: an IntProperty ends in 2038, a FloatProperty is single precision.
    created_at: StringProperty()  # type: ignore[valid-type]
    updated_at: StringProperty()  # type: ignore[valid-type]
    error_code: StringProperty()  # type: ignore[valid-type]
    error_message: StringProperty()  # type: ignore[valid-type]
    remote: BoolProperty()  # type: ignore[valid-type]
    in_library: BoolProperty()  # type: ignore[valid-type]
    extracted: BoolProperty()  # type: ignore[valid-type]
    size_bytes: StringProperty()  # type: ignore[valid-type]


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


@dataclass
class BrowserStatus:
    """Main-thread state of the browser that is not worth a property."""

    job: "Background[TaskListResult] | None" = None
    message: str = ""  # why only the library is shown, or what the last action did
    level: str = ""
    fetched_at: float = 0.0


status = BrowserStatus()


def browser_state(context: bpy.types.Context | None = None) -> "ArkBrowserState | None":
    wm = (context or bpy.context).window_manager
    panel_state = getattr(wm, "ark3d", None) if wm is not None else None
    return getattr(panel_state, "browser", None)


def _set_item(item: ArkTaskItem, row: Any) -> None:
    item.name = row.task_id
    item.task_id = row.task_id
    item.status = row.status
    item.model = row.model
    item.fileformat = row.fileformat
    item.subdivisionlevel = row.subdivisionlevel
    item.created_at = "" if row.created_at is None else str(row.created_at)
    item.updated_at = "" if row.updated_at is None else str(row.updated_at)
    item.error_code = row.error_code
    item.error_message = row.error_message[:500]
    item.remote = row.remote
    item.in_library = row.in_library
    item.extracted = row.extracted
    item.size_bytes = str(row.size_bytes)


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def link_seconds_left(item: ArkTaskItem, now: float | None = None) -> float | None:
    """Seconds before the result link dies (24 h after the task finished); None: no link."""
    updated = _int(item.updated_at)
    if item.status != "succeeded" or updated is None:
        return None
    return updated + 24 * 3600 - (time.time() if now is None else now)


def find_item(state: "ArkBrowserState | None", task_id: str) -> "tuple[int, ArkTaskItem | None]":
    if state is not None:
        for i, item in enumerate(state.tasks):
            if item.task_id == task_id:
                return i, item
    return -1, None


# -- refreshing ---------------------------------------------------------------------------------


def _library(context: bpy.types.Context, settings: Settings | None) -> Library:
    if settings is not None:
        return library_for(settings)
    env = os.environ.get("ARK3D_LIBRARY", "").strip()
    return Library(env or library_root(get_preferences(context)))


def start_refresh(context: bpy.types.Context | None = None) -> bool:
    """Start a refresh of the list (one at a time); False if one is already running."""
    context = context or bpy.context
    state = browser_state(context)
    if state is None or (status.job is not None and not status.job.done):
        return False
    settings: Settings | None = None
    offline: ArkError | None = None
    try:
        settings = read_settings(context)
        if not online_access_allowed():
            offline = ConfigError("Blender's online access is turned off", code="OnlineAccessDisabled",
                                  hint=ONLINE_HINT)
        else:
            settings.require_key()
    except ArkError as exc:
        offline = exc
    library = _library(context, settings)
    page, page_size = max(1, state.page), PAGE_SIZE
    wanted = None if state.status_filter == "ALL" else state.status_filter

    def work(cancel: Any) -> TaskListResult:
        return fetch_rows(settings, library, page=page, page_size=page_size, status=wanted, offline=offline,
                          cancel=cancel)

    job: Background[TaskListResult] = Background(work, name="ark3d-tasks", secret=settings.api_key if settings else "")
    status.job = job
    if bpy.app.background or context.window_manager is None or not context.window_manager.windows:
        job.run()
        _apply(job)
        return True
    job.start()
    redraw_sidebars(context.window_manager)
    if not bpy.app.timers.is_registered(_poll_refresh):
        bpy.app.timers.register(_poll_refresh, first_interval=TIMER_STEP)
    return True


def _poll_refresh() -> float | None:
    """``bpy.app.timers``: move a finished refresh into the list (main thread)."""
    job = status.job
    if job is None:
        return None
    if not job.done:
        return TIMER_STEP
    _apply(job)
    redraw_sidebars(bpy.context.window_manager)
    return None


def _apply(job: "Background[TaskListResult]") -> None:
    state = browser_state()
    result = job.result
    if state is None:
        return
    if result is None:
        status.message = translations.error_text(job.error or ArkError("The refresh failed", code="Unknown"),
                                                 "iface")
        status.level = "ERROR"
        return
    selected = state.tasks[state.index].task_id if 0 <= state.index < len(state.tasks) else ""
    state.tasks.clear()
    for row in result.rows:
        _set_item(state.tasks.add(), row)
    state.total = result.total
    state.pages = result.pages
    state.page = result.page
    index, _item = find_item(state, selected)
    state.index = max(0, index)
    status.fetched_at = result.fetched_at
    if result.error is not None:
        status.message = translations.iface("Only the library is shown: {reason}").format(
            reason=translations.error_text(result.error, "iface"))
        status.level = "WARNING"
    else:
        status.message, status.level = "", ""


def cancel_refresh() -> None:
    if status.job is not None:
        status.job.cancel()
    if bpy.app.timers.is_registered(_poll_refresh):
        bpy.app.timers.unregister(_poll_refresh)


# -- operators ----------------------------------------------------------------------------------


class _WorkerOperator:
    """Runs one function off the main thread; ``worker_done`` then finishes on the main thread."""

    _call: "Background[Any] | None" = None
    _timer: "bpy.types.Timer | None" = None

    def run_worker(self, context: bpy.types.Context, fn: Callable[[Any], Any], secret: str = "") -> OperatorResult:
        call: Background[Any] = Background(fn, name=f"ark3d-{type(self).__name__}", secret=secret)
        wm = context.window_manager
        if not has_event_loop(context) or wm is None:
            call.run()
            return self.worker_done(context, call)
        self._call = call.start()
        self._timer = wm.event_timer_add(TIMER_STEP, window=context.window)
        wm.modal_handler_add(self)  # type: ignore[arg-type]
        return {"RUNNING_MODAL"}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> OperatorResult:
        call = self._call
        if call is None:
            return {"CANCELLED"}
        if event.type != "TIMER" or not call.done:
            return {"PASS_THROUGH"}
        self._end(context)
        return self.worker_done(context, call)

    def cancel(self, context: bpy.types.Context) -> None:
        if self._call is not None:
            self._call.cancel()
        self._end(context)

    def _end(self, context: bpy.types.Context) -> None:
        if self._timer is not None and context.window_manager is not None:
            context.window_manager.event_timer_remove(self._timer)
        self._timer = None

    def worker_done(self, context: bpy.types.Context, call: "Background[Any]") -> OperatorResult:
        raise NotImplementedError


class ARK3D_OT_refresh_tasks(bpy.types.Operator):
    """Ask Ark for your recent tasks and list them with the ones in your library"""

    bl_idname = "ark3d.refresh_tasks"
    bl_label = "Refresh Tasks"
    bl_options = {"INTERNAL"}

    page: IntProperty(name="Page", description="The page to show (0: the current one)", default=0, min=0,  # type: ignore[valid-type]
                      options={"SKIP_SAVE"})

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        state = browser_state(context)
        if state is None:
            return {"CANCELLED"}
        if self.page:
            state.page = max(1, min(self.page, state.pages))
        if not start_refresh(context):
            self.report({"INFO"}, translations.rpt("The task list is already being refreshed"))
        return {"FINISHED"}


class ARK3D_OT_tasks_page(bpy.types.Operator):
    """Show the previous or next page of your tasks"""

    bl_idname = "ark3d.tasks_page"
    bl_label = "Change Page"
    bl_options = {"INTERNAL"}

    step: IntProperty(name="Step", default=1, options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        state = browser_state(context)
        if state is None:
            return {"CANCELLED"}
        state.page = max(1, min(state.page + self.step, state.pages))
        start_refresh(context)
        return {"FINISHED"}


class ARK3D_OT_copy_task_id(bpy.types.Operator):
    """Copy the task id to the clipboard"""

    bl_idname = "ark3d.copy_task_id"
    bl_label = "Copy Task ID"
    bl_options = {"INTERNAL"}

    task_id: StringProperty(name="Task ID", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        wm = context.window_manager
        if wm is None or not self.task_id:
            return {"CANCELLED"}
        wm.clipboard = self.task_id
        self.report({"INFO"}, translations.rpt("Copied {task_id} to the clipboard").format(task_id=self.task_id))
        return {"FINISHED"}


class ARK3D_OT_browser_import(bpy.types.Operator):
    """Import this task's result (from the library when it is there)"""

    bl_idname = "ark3d.browser_import"
    bl_label = "Import Task"
    bl_options = {"INTERNAL"}

    task_id: StringProperty(name="Task ID", options={"SKIP_SAVE"})  # type: ignore[valid-type]
    redownload: BoolProperty(  # type: ignore[valid-type]
        name="Re-download",
        description="Remove the library copy first, so the result is downloaded again",
        default=False,
        options={"SKIP_SAVE"},
    )

    @classmethod
    def description(cls, context: bpy.types.Context, properties: Any) -> str:
        if properties.redownload:
            return translations.tip("Remove the library copy and download the result again, then import it")
        return translations.tip("Import this task's result (from the library when it is there)")

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> OperatorResult:
        if self.redownload and context.window_manager is not None:
            return confirm(context, self, event, "Re-download {task_id}?",
                           "The library copy is removed, then the result is downloaded again.", "Re-download")
        return self.execute(context)

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        try:
            task_id = validate_task_id(self.task_id)
            _, item = find_item(browser_state(context), task_id)
            problem = format_problem(item.fileformat) if item is not None and item.fileformat else None
            if problem is not None:  # said before anything is removed or downloaded
                raise problem
            if self.redownload:
                self._remove_copy(context, task_id)
        except ArkError as exc:
            self.report({"ERROR"}, translations.error_text(exc))
            return {"CANCELLED"}
        mode = "INVOKE_DEFAULT" if has_event_loop(context) else "EXEC_DEFAULT"
        try:
            result = getattr(bpy.ops, "ark3d").import_task(mode, task_id=task_id)  # noqa: B009 - unknown to the stubs
        except RuntimeError as exc:  # background Blender: the import reported an error
            self.report({"ERROR"}, str(exc).strip().removeprefix("Error: "))
            return {"CANCELLED"}
        finally:
            watch_import(task_id)
        return {"FINISHED"} if result & {"FINISHED", "RUNNING_MODAL"} else {"CANCELLED"}

    def _remove_copy(self, context: bpy.types.Context, task_id: str) -> None:
        if task_id in jobs.active:
            raise ArkError(f"Task {task_id} is already being imported", code="Busy",
                           hint="Wait for it to finish, or cancel it in the Ark 3D panel")
        _index, item = find_item(browser_state(context), task_id)
        left = link_seconds_left(item) if item is not None else None
        if item is not None and item.in_library and (not item.remote or left is None or left <= 60):
            # The library holds the only copy left: never delete it for a download that must fail.
            raise ArkError(
                f"The download link of {task_id} has expired, so the library copy is the only one left",
                code="LinkExpired",
                hint="It was kept; import it from the library instead",
            )
        settings = read_settings(context)
        library_for(settings).remove(task_id)


def confirm(context: bpy.types.Context, op: bpy.types.Operator, event: bpy.types.Event, title: str, message: str,
            button: str) -> OperatorResult:
    """``invoke_confirm`` with a title and a message where Blender has them (4.1+), translated."""
    wm = context.window_manager
    assert wm is not None
    task_id = getattr(op, "task_id", "")
    wanted: dict[str, Any] = {
        "title": translations.iface(title).format(task_id=task_id),
        "message": translations.iface(message),
        "confirm_text": translations.iface(button),
        "icon": "WARNING",
        "translate": False,
    }
    rna: Any = wm.bl_rna  # (the stubs know no BlenderRNA.functions)
    accepted = rna.functions["invoke_confirm"].parameters.keys()  # 3.x: (operator, event) only
    return wm.invoke_confirm(op, event, **{k: v for k, v in wanted.items() if k in accepted})


_watched: set[str] = set()


def watch_import(task_id: str) -> None:
    """Update the row's library flags once the import of ``task_id`` has ended."""
    if task_id not in jobs.active:
        _update_library_flags(task_id)
        return
    _watched.add(task_id)
    if not bpy.app.timers.is_registered(_poll_imports):
        bpy.app.timers.register(_poll_imports, first_interval=0.5)


def _poll_imports() -> float | None:
    for task_id in [t for t in _watched if t not in jobs.active]:
        _watched.discard(task_id)
        _update_library_flags(task_id)
        redraw_sidebars(bpy.context.window_manager)
    return 0.5 if _watched else None


def _update_library_flags(task_id: str) -> None:
    _index, item = find_item(browser_state(), task_id)
    if item is None:
        return
    try:
        library = library_for(read_settings())
        item.extracted = library.is_extracted(task_id)
        item.in_library = library.task_dir(task_id).is_dir()
    except ArkError:
        return
    if item.extracted and item.status in ("", "unknown"):
        item.status = "succeeded"


class ARK3D_OT_cancel_task(_WorkerOperator, bpy.types.Operator):
    """Cancel a queued task, or delete the record of a finished one, on Ark (the library copy is kept)"""

    bl_idname = "ark3d.cancel_task"
    bl_label = "Cancel or Delete Task"
    bl_options = {"INTERNAL"}

    task_id: StringProperty(  # type: ignore[valid-type]
        name="Task ID",
        description="The task to cancel (queued) or delete (succeeded or failed)",
        options={"SKIP_SAVE"},
    )

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> OperatorResult:
        _index, item = find_item(browser_state(context), self.task_id.strip())
        if item is not None and item.status == "queued":
            return confirm(context, self, event, "Cancel task {task_id}?",
                           "Ark stops it before it runs; this cannot be undone.", "Cancel Task")
        return confirm(context, self, event, "Delete task {task_id} from Ark?",
                       "Ark forgets the task and its result link; your library copy is kept.", "Delete")

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        try:
            task_id = validate_task_id(self.task_id)
            if not online_access_allowed():
                raise ConfigError("Blender's online access is turned off", code="OnlineAccessDisabled",
                                  hint=ONLINE_HINT)
            settings = read_settings(context)
            settings.require_key()
        except ArkError as exc:
            self.report({"ERROR"}, translations.error_text(exc))
            return {"CANCELLED"}

        def work(cancel: Any) -> CancelOutcome:
            client = ArkClient(settings, cancel=cancel)
            try:
                return cancel_or_delete(client, task_id)
            finally:
                client.close()

        return self.run_worker(context, work, settings.api_key)

    def worker_done(self, context: bpy.types.Context, call: "Background[Any]") -> OperatorResult:
        outcome: CancelOutcome | None = call.result
        if outcome is None:
            text = translations.error_text(call.error or ArkError("The request failed", code="Unknown"))
            status.message, status.level = text, "ERROR"
            self.report({"ERROR"}, text)
            redraw_sidebars(context.window_manager)
            return {"CANCELLED"}
        state = browser_state(context)
        index, item = find_item(state, outcome.task_id)
        if outcome.action == "cancelled":
            text = translations.rpt("Cancelled task {task_id}: it was queued and will not run").format(
                task_id=outcome.task_id)
            if item is not None:
                item.status = "cancelled"
        else:
            text = translations.rpt("Deleted task {task_id} from Ark; a copy in your library is kept").format(
                task_id=outcome.task_id)
            if item is not None and state is not None:
                if item.in_library:
                    item.remote = False
                else:
                    state.tasks.remove(index)
                    state.index = max(0, min(state.index, len(state.tasks) - 1))
        status.message, status.level = text, "INFO"
        self.report({"INFO"}, text)
        redraw_sidebars(context.window_manager)
        return {"FINISHED"}


class ARK3D_OT_check_connection(_WorkerOperator, bpy.types.Operator):
    """Check the proxy, DNS, the connection, TLS and the API key, one by one, without blocking Blender"""

    bl_idname = "ark3d.check_connection"
    bl_label = "Check Connection"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        report = connection_report
        if report.running:
            return {"CANCELLED"}
        report.checks, report.error, report.base_url = [], "", ""
        try:
            if not online_access_allowed():
                raise ConfigError("Blender's online access is turned off", code="OnlineAccessDisabled",
                                  hint=ONLINE_HINT)
            settings = read_settings(context)
        except ArkError as exc:
            report.error = exc.user_message()
            self.report({"ERROR"}, translations.error_text(exc))
            _redraw_preferences(context)
            return {"CANCELLED"}
        report.running = True
        report.base_url = settings.base_url
        _redraw_preferences(context)
        return self.run_worker(context, lambda cancel: check_connection(settings), settings.api_key)

    def worker_done(self, context: bpy.types.Context, call: "Background[Any]") -> OperatorResult:
        report = connection_report
        report.running = False
        checks: list[Check] = call.result or []
        report.checks = checks
        if call.error is not None:
            report.error = call.error.user_message()
        _redraw_preferences(context)
        failed = next((c for c in checks if not c.ok), None)
        if call.error is not None:
            self.report({"ERROR"}, translations.error_text(call.error))
            return {"CANCELLED"}
        if failed is not None:
            from ..preferences import CHECK_NAMES

            self.report({"ERROR"}, translations.rpt("Connection check failed at {step}: {message}").format(
                step=translations.rpt(CHECK_NAMES.get(failed.name, failed.name)),
                message=translations.localize(failed.message, "rpt")))
            return {"CANCELLED"}
        self.report({"INFO"}, translations.rpt("Connection OK: Ark answered and accepted the API key"))
        return {"FINISHED"}


def _redraw_preferences(context: bpy.types.Context) -> None:
    wm = context.window_manager
    if wm is None:
        return
    for window in wm.windows:
        for area in window.screen.areas:
            if area.type == "PREFERENCES":
                area.tag_redraw()


# -- the list and the panel ---------------------------------------------------------------------


def age_text(seconds: float) -> str:
    if seconds < 3600:
        return translations.iface("{n} min").format(n=max(1, int(seconds // 60)))
    if seconds < 2 * 86400:
        return translations.iface("{n} h").format(n=int(seconds // 3600))
    return translations.iface("{n} d").format(n=int(seconds // 86400))


def short_id(task_id: str) -> str:
    """``cgt-…053021-s3phl``: the tail that tells tasks apart (a clipped label would lose it).

    The full id is in the details below the list, and the list's filter searches it.
    """
    return f"{task_id[:4]}…{task_id[-12:]}" if len(task_id) > 20 else task_id


#: The list's columns, most important first, with the least width their widest text needs, in
#: UI units (20 px at scale 1): a label's icon takes 1 unit and its margins about 1 more.
#: tests/blender/test_ui.py measures the widest texts with Blender's font: the id
#: ("cgt-…235959-mmmmm"), the link's hours ("23 小时"), the age ("59 分钟"), the format ("USDZ").
COLUMN_UNITS: dict[str, float] = {"id": 8.8, "link": 4.0, "library": 1.2, "age": 3.0, "format": 2.5}
#: Left to right.
COLUMN_ORDER = ("id", "format", "age", "link", "library")
#: What a row of the list lacks of the sidebar's width: the panel's margins, the list's box
#: and its scrollbar (UI units).
LIST_CHROME_UNITS = 3.0


def list_columns(row_units: float) -> list[tuple[str, float]]:
    """The columns that fit in a row ``row_units`` wide, left to right, each with its share of
    the row.  The least important go first when the sidebar is narrow (the selected task's
    details below show everything); the id takes what is left over."""
    chosen: dict[str, float] = {}
    for name, need in COLUMN_UNITS.items():
        if not chosen or sum(chosen.values()) + need <= row_units:
            chosen[name] = need
    chosen["id"] += max(0.0, row_units - sum(chosen.values()))
    total = sum(chosen.values())
    return [(name, chosen[name] / total) for name in COLUMN_ORDER if name in chosen]


def _row_units(context: bpy.types.Context) -> float:
    region = context.region
    prefs = context.preferences
    scale = prefs.system.ui_scale if prefs is not None and prefs.system.ui_scale > 0 else 1.0
    if region is None or region.width <= 1:
        return sum(COLUMN_UNITS.values())  # no region to measure (scripts): every column
    return region.width / (20.0 * scale) - LIST_CHROME_UNITS


class ARK3D_UL_tasks(bpy.types.UIList):
    """Status, id, format, age, link time left, in the library"""

    def draw_item(self, context: bpy.types.Context, layout: bpy.types.UILayout, data: Any, item: Any,
                  icon: int | None, active_data: Any, active_property: str | None, index: int | None = 0,
                  flt_flag: int | None = 0) -> None:
        now = time.time()
        # Columns of the same width on every row, as many as the sidebar's width holds.
        columns = list_columns(_row_units(context))
        rest = 1.0
        for n, (name, share) in enumerate(columns):
            if n < len(columns) - 1:
                split = layout.split(factor=share / rest, align=True)
                cell, layout, rest = split, split, rest - share
            else:
                cell = layout
            _draw_cell(cell, name, item, now)


def _draw_cell(cell: bpy.types.UILayout, column: str, item: Any, now: float) -> None:
    if column == "id":
        cell.label(text=short_id(item.task_id), icon=STATUS_ICONS.get(item.status, "QUESTION"), translate=False)
    elif column == "format":
        cell.label(text=(item.fileformat or "?").upper(), translate=False)
    elif column == "age":
        created = _int(item.created_at)
        cell.label(text=age_text(now - created) if created is not None else "", translate=False)
    elif column == "link":
        left = link_seconds_left(item, now)
        if left is None:
            cell.label(text="")
        elif left > 0:
            cell.label(text=translations.iface("{n} h").format(n=max(1, int(left // 3600))), icon="TIME",
                       translate=False)
        else:
            cell.label(text="", icon="UNLINKED")
    else:
        cell.label(text="", icon="FILE_FOLDER" if item.extracted else "BLANK1")


class ARK3D_PT_tasks(bpy.types.Panel):
    bl_label = "Tasks"
    bl_idname = "ARK3D_PT_tasks"
    bl_parent_id = "ARK3D_PT_import"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Ark 3D"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        state = browser_state(context)
        if layout is None or state is None:
            return
        refreshing = status.job is not None and not status.job.done
        row = layout.row(align=True)
        row.prop(state, "status_filter", text="")
        sub = row.row(align=True)
        sub.enabled = not refreshing
        sub.operator("ark3d.refresh_tasks", text="", icon="FILE_REFRESH")

        layout.template_list("ARK3D_UL_tasks", "", state, "tasks", state, "index", rows=5)

        row = layout.row(align=True)
        prev = row.row(align=True)
        prev.enabled = state.page > 1 and not refreshing
        prev.operator("ark3d.tasks_page", text="", icon="TRIA_LEFT").step = -1
        if refreshing:
            text = translations.iface("Refreshing...")
        elif status.fetched_at:
            text = translations.iface("Page {page} / {pages} · {total} on Ark").format(
                page=state.page, pages=state.pages, total=state.total)
        else:
            text = translations.iface("Press Refresh to list your tasks")
        row.label(text=text, translate=False)
        nxt = row.row(align=True)
        nxt.enabled = state.page < state.pages and not refreshing
        nxt.operator("ark3d.tasks_page", text="", icon="TRIA_RIGHT").step = 1

        if status.message:
            icon: Icon = {"ERROR": "ERROR", "WARNING": "INFO"}.get(status.level, "CHECKMARK")  # type: ignore[assignment]
            wrapped(layout.box(), translations.localize(status.message), icon)

        if 0 <= state.index < len(state.tasks):
            draw_details(layout.box(), state.tasks[state.index])


def wrapped(layout: bpy.types.UILayout, text: str, icon: Icon = "NONE", width: int = 38) -> None:
    col = layout.column(align=True)
    col.scale_y = 0.8
    for i, line in enumerate(translations.wrap(text, width) or [""]):
        col.label(text=line, icon=icon if i == 0 else "BLANK1", translate=False)


def draw_details(layout: bpy.types.UILayout, item: ArkTaskItem) -> None:
    """The selected task: what it is, how old, its link and library copy, and what can be done."""
    now = time.time()
    iface = translations.iface
    row = layout.row()
    row.label(text=item.task_id, icon=STATUS_ICONS.get(item.status, "QUESTION"), translate=False)
    row.operator("ark3d.copy_task_id", text="", icon="COPYDOWN").task_id = item.task_id

    col = layout.column(align=True)
    col.scale_y = 0.85
    what = iface(STATUS_NAMES.get(item.status, item.status or "Unknown"))
    extra = ", ".join(x for x in ((item.fileformat or "").upper(), item.subdivisionlevel) if x)
    col.label(text=f"{what} · {extra}" if extra else what, translate=False)
    if item.model:
        col.label(text=item.model, icon="BLANK1", translate=False)
    created = _int(item.created_at)
    if created is not None:
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(created))
        col.label(text=iface("Created {date} ({age} ago)").format(date=stamp, age=age_text(now - created)),
                  icon="BLANK1", translate=False)
    left = link_seconds_left(item, now)
    if left is not None:
        if left > 0:
            col.label(text=iface("Link expires in {time}").format(time=format_duration(left)), icon="TIME",
                      translate=False)
        else:
            col.label(text=iface("Link expired {age} ago").format(age=age_text(-left)), icon="UNLINKED",
                      translate=False)
    if item.extracted:
        size = format_bytes(float(_int(item.size_bytes) or 0))
        col.label(text=iface("In the library ({size})").format(size=size), icon="FILE_FOLDER", translate=False)
    elif item.in_library:
        col.label(text=iface("Partly in the library (not extracted)"), icon="FILE_FOLDER", translate=False)
    else:
        col.label(text=iface("Not in the library"), icon="BLANK1", translate=False)
    if not item.remote:
        col.label(text=iface("Not listed by Ark (older than 7 days or deleted)"), icon="INFO", translate=False)
    if item.error_code or item.error_message:
        wrapped(layout, f"{item.error_code}: {item.error_message}".strip(": "), "ERROR")

    problem = format_problem(item.fileformat) if item.fileformat else None
    if problem is not None:  # said before the user tries: Import is off
        wrapped(layout, translations.error_text(problem, "iface"), "ERROR")
    busy = item.task_id in jobs.active or problem is not None
    row = layout.row(align=True)
    sub = row.row(align=True)
    sub.enabled = not busy and (item.extracted or item.status in ("queued", "running", "succeeded", "unknown"))
    op = sub.operator("ark3d.browser_import", text="Import", icon="IMPORT")
    op.task_id = item.task_id
    sub = row.row(align=True)
    sub.enabled = not busy and item.in_library and item.remote and (left or 0) > 60
    op = sub.operator("ark3d.browser_import", text="Re-download", icon="FILE_REFRESH")
    op.task_id = item.task_id
    op.redownload = True
    row = layout.row(align=True)
    sub = row.row(align=True)
    if item.status == "queued":
        sub.operator("ark3d.cancel_task", text="Cancel Task", icon="CANCEL").task_id = item.task_id
    else:
        sub.enabled = item.remote and item.status in ("succeeded", "failed")
        sub.operator("ark3d.cancel_task", text="Delete from Ark", icon="TRASH").task_id = item.task_id


#: Registered before the panel state (which points at ArkBrowserState).
PROPERTY_GROUPS: tuple[type, ...] = (ArkTaskItem, ArkBrowserState)
#: Registered after ARK3D_PT_import, the parent of ARK3D_PT_tasks.
PANELS: tuple[type, ...] = (ARK3D_PT_tasks,)
CLASSES: tuple[type, ...] = (
    ARK3D_UL_tasks,
    ARK3D_OT_refresh_tasks,
    ARK3D_OT_tasks_page,
    ARK3D_OT_copy_task_id,
    ARK3D_OT_browser_import,
    ARK3D_OT_cancel_task,
    ARK3D_OT_check_connection,
)
