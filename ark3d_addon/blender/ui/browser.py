"""The Tasks browser: the account's recent tasks and the library, listed in the sidebar.

A sub-panel of the Ark 3D sidebar holds a ``UIList`` of :class:`ArkTaskItem` rows (status,
id, format, age, time left before the file link dies, in the library or not) and, below it,
the selected task's details and actions (operators in :mod:`..operators`).  The rows live in
a ``CollectionProperty`` of the window manager (ids and statuses only, never the key).

Nothing here blocks the main thread on the network: a refresh is one background call
(:func:`~ark3d_addon.core.tasklist.fetch_rows`) that :mod:`..runner` runs, and its result
moves into the collection on the main thread.  Background Blender has no event loop, so
there it runs to the end in place.
"""

import time
from dataclasses import dataclass
from typing import Any

import bpy
from bpy.props import BoolProperty, CollectionProperty, EnumProperty, IntProperty, StringProperty

from ...core import retention
from ...core.errors import ArkError, ErrorCode
from ...core.messages import Message, format_bytes, format_duration, msg, plural
from ...core.settings import Settings
from ...core.task import Status, Task
from ...core.tasklist import TaskListResult, delete_action, delete_refusal, fetch_rows
from ...core.worker import Worker
from .. import env, i18n, runner
from .._typing import Icon
from ..importer import format_problem
from ..preferences import library_for, library_of_preferences, read_settings
from . import thumbnails
from .common import short_id, wrapped
from .progress import redraw_sidebars

PAGE_SIZE = 20

STATUS_ICONS: dict[str, Icon] = {
    "queued": "SORTTIME",
    "running": "PLAY",
    "succeeded": "CHECKMARK",
    "failed": "ERROR",
    "cancelled": "CANCEL",
    "expired": "TIME",
}
STATUS_NAMES = {
    "queued": "Queued",
    "running": "Running",
    "succeeded": "Succeeded",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "expired": "Expired",
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
    hidden: IntProperty(default=0, min=0, options={"SKIP_SAVE"})  # type: ignore[valid-type]


@dataclass
class BrowserStatus:
    """Main-thread state of the browser that is not worth a property.

    Its message is kept as what it says, not as text (a ``StringProperty`` could only hold text
    rendered once): the panel draws :attr:`text`, so a switch of Blender's language shows at once.
    """

    job: "Worker[TaskListResult] | None" = None
    message: Message | ArkError | None = None  # why only the library is shown, or what the last action did
    level: str = ""
    fetched_at: float = 0.0

    @property
    def text(self) -> str:
        """The message in the user's language now ("" without one)."""
        return i18n.text(self.message) if self.message is not None else ""


status = BrowserStatus()


def browser_state(context: bpy.types.Context | None = None) -> "ArkBrowserState | None":
    wm = (context or bpy.context).window_manager
    panel_state = getattr(wm, "ark3d", None) if wm is not None else None
    return getattr(panel_state, "browser", None)


def _set_item(item: ArkTaskItem, row: Any) -> None:
    item.name = row.task_id
    item.task_id = row.task_id
    item.status = row.status_text or row.status.value
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
    """Seconds before the result link dies (the core's rule); None: no link."""
    task = Task(item.task_id, Status.parse(item.status), model=item.model, updated_at=_int(item.updated_at))
    return task.link_seconds_left(now)


def find_item(state: "ArkBrowserState | None", task_id: str) -> "tuple[int, ArkTaskItem | None]":
    if state is not None:
        for i, item in enumerate(state.tasks):
            if item.task_id == task_id:
                return i, item
    return -1, None


# -- refreshing ---------------------------------------------------------------------------------


def refresh_work(context: bpy.types.Context) -> "runner.Work | None":
    """The list call for the state's page and filter, as work for the runner; None if one is running."""
    state = browser_state(context)
    if state is None or (status.job is not None and not status.job.done):
        return None
    settings: Settings | None = None
    offline: ArkError | None = None
    try:
        settings = read_settings(context)
        offline = env.offline_error_or_none()
        if offline is None:
            settings.require_key()
    except ArkError as exc:
        offline = exc
    # Settings that cannot be read (a bad base URL) still show the library, with the reason.
    library = library_for(settings) if settings is not None else library_of_preferences(context)
    page, page_size = max(1, state.page), PAGE_SIZE
    wanted = None if state.status_filter == "ALL" else state.status_filter

    def work(cancel: Any) -> TaskListResult:
        return fetch_rows(settings, library, page=page, page_size=page_size, status=wanted, offline=offline,
                          cancel=cancel)

    secret = settings.api_key if settings is not None else ""
    call: Worker[TaskListResult] = Worker(work, name="ark3d-tasks", secret=secret)
    status.job = call
    return runner.Work(call=call, on_call_done=_apply)


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


def _apply(context: bpy.types.Context, job: "Worker[TaskListResult]") -> "list[runner.Report]":
    """The finished call's rows into the list (main thread); no report: the panel shows the outcome."""
    state = browser_state(context)
    result = job.result
    redraw_sidebars(context.window_manager)
    if state is None:
        return []
    if result is None:
        status.message = job.error or ArkError(msg("The refresh failed"), code=ErrorCode.UNKNOWN)
        status.level = "ERROR"
        return []
    selected = state.tasks[state.index].task_id if 0 <= state.index < len(state.tasks) else ""
    state.tasks.clear()
    for row in result.rows:
        _set_item(state.tasks.add(), row)
    state.total = result.total
    state.hidden = result.hidden
    state.pages = result.pages
    state.page = result.page
    index, _item = find_item(state, selected)
    state.index = max(0, index)
    status.fetched_at = result.fetched_at
    if result.error is not None:
        status.message = msg("Only the library is shown: {reason}", reason=result.error)
        status.level = "WARNING"
    else:
        status.message, status.level = None, ""
    return []


def update_library_flags(task_id: str) -> None:
    """The row of ``task_id`` learns what the library now holds (after an import or a removal)."""
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
    redraw_sidebars(bpy.context.window_manager)


# -- the list and the panel ---------------------------------------------------------------------


def age_text(seconds: float) -> str:
    if seconds < 3600:
        return i18n.iface("{n} min").format(n=max(1, int(seconds // 60)))
    if seconds < 2 * 86400:
        return i18n.iface("{n} h").format(n=int(seconds // 3600))
    return i18n.iface("{n} d").format(n=int(seconds // 86400))


#: The list's columns, most important first, with the least width their widest text needs, in
#: UI units (20 px at scale 1): a label's icon takes 1 unit and its margins 0.8 (Blender clips a
#: label's text before it touches the edge).  tests/blender/test_ui.py measures the widest texts
#: with Blender's font: the id ("…235959-mmmmm"), the link's hours ("23 小时"), the age
#: ("59 分钟"), the format ("USDZ").
COLUMN_UNITS: dict[str, float] = {"id": 7.3, "link": 3.9, "library": 1.2, "age": 2.8, "format": 2.3}
#: Left to right.
COLUMN_ORDER = ("id", "format", "age", "link", "library")
#: What a row of the list lacks of the sidebar's width: the panel's margins, the list's box
#: and its scrollbar (UI units; about 70 of the 440 px sidebar of the window tests).
LIST_CHROME_UNITS = 3.3


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
        picture = thumbnails.icon(item.task_id) if item.in_library else 0
        if picture:
            cell.label(text=short_id(item.task_id), icon_value=picture, translate=False)
        else:
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
            cell.label(text=i18n.iface("{n} h").format(n=max(1, int(left // 3600))), icon="TIME",
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
            text = i18n.iface("Refreshing...")
        elif status.fetched_at:
            text = i18n.iface("Page {page} / {pages} · {total} on Ark").format(
                page=state.page, pages=state.pages, total=state.total)
        else:
            text = i18n.iface("Press Refresh to list your tasks")
        row.label(text=text, translate=False)
        nxt = row.row(align=True)
        nxt.enabled = state.page < state.pages and not refreshing
        nxt.operator("ark3d.tasks_page", text="", icon="TRIA_RIGHT").step = 1
        if state.hidden and not refreshing:  # Ark's list also holds video tasks: only 3D ones are shown
            layout.label(text=i18n.text(plural(state.hidden, "{n} video task on this page is not shown",
                                               "{n} video tasks on this page are not shown")), icon="INFO",
                         translate=False)

        if status.message is not None:
            icon: Icon = {"ERROR": "ERROR", "WARNING": "INFO"}.get(status.level, "CHECKMARK")  # type: ignore[assignment]
            wrapped(layout.box(), status.text, icon)

        if 0 <= state.index < len(state.tasks):
            draw_details(layout.box(), state.tasks[state.index])


def draw_details(layout: bpy.types.UILayout, item: ArkTaskItem) -> None:
    """The selected task: what it is, how old, its link and library copy, and what can be done."""
    now = time.time()
    iface = i18n.iface
    if item.in_library:
        _draw_pictures(layout, item.task_id)
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
    # Which of Ark's retention clocks this task is under, and the time left (core/retention.py).
    rule = retention.rule(item.status, item.model, created, _int(item.updated_at), listed=item.remote, now=now)
    wrapped(layout, rule.render(iface), "TIME")
    if item.error_code or item.error_message:
        wrapped(layout, f"{item.error_code}: {item.error_message}".strip(": "), "ERROR")

    problem = format_problem(item.fileformat) if item.fileformat else None
    if problem is not None:  # said before the user tries: Import is off
        wrapped(layout, i18n.error_text(problem, "iface"), "ERROR")
    busy = item.task_id in runner.active or problem is not None
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
    # Ark's DELETE cancels a queued task and deletes a succeeded or failed one; nothing else is
    # offered, and a running task says why before anyone asks (core/tasklist.py decides).
    # (Greyed out while Ark was not asked: only what Ark lists can be cancelled or deleted there.)
    action = delete_action(item.status)
    if action:
        row = layout.row()
        row.enabled = item.remote
        if action == "cancel":
            row.operator("ark3d.cancel_task", text="Cancel Task", icon="CANCEL").task_id = item.task_id
        else:
            row.operator("ark3d.cancel_task", text="Delete from Ark", icon="TRASH").task_id = item.task_id
    elif item.remote and item.status == "running":
        refusal = delete_refusal(item.task_id, item.status)
        if refusal is not None:
            wrapped(layout, i18n.error_text(refusal, "iface"), "INFO")


def _draw_pictures(layout: bpy.types.UILayout, task_id: str) -> None:
    """The model's picture and, for a task generated from Blender, the image it was made from."""
    model = thumbnails.icon(task_id)
    given = thumbnails.input_icon(task_id)
    if not model:
        return
    row = layout.row()
    row.alignment = "CENTER"
    row.template_icon(icon_value=model, scale=6.0)
    if given and given != model:
        row.template_icon(icon_value=given, scale=3.0)


#: Registered before the panel state (which points at ArkBrowserState).
PROPERTY_GROUPS: tuple[type, ...] = (ArkTaskItem, ArkBrowserState)
#: Registered after ARK3D_PT_import, the parent of ARK3D_PT_tasks.
PANELS: tuple[type, ...] = (ARK3D_PT_tasks,)
CLASSES: tuple[type, ...] = (ARK3D_UL_tasks,)
