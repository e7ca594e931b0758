"""The Tasks browser's view: a sub-panel of the Ark 3D sidebar with the list of the account's
recent tasks and the library, and the selected task's details and actions.

Drawing only.  Each line of the ``UIList`` is an :class:`~..tasks.ArkTaskItem` named after its
task id; what it shows (status, id, format, age, time left before the file link dies, in the
library or not) is read from that task's row in the add-on's state (:mod:`..tasks`).  The
buttons are the operators of :mod:`..operators`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import bpy

from ...core.messages import format_bytes, format_duration, plural
from .. import i18n, runner, state, tasks, thumbnails
from .._typing import Icon
from ..drawing import short_id, wrapped
from .pictures import draw_task_pictures
from .prompt_section import draw_chain

if TYPE_CHECKING:
    from ...core.tasklist import TaskRow

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


def status_word(row: TaskRow) -> str:
    """The status as the user reads it: ours translated, or Ark's own word for one we do not know."""
    if row.status_text:
        return row.status_text
    return i18n.iface(STATUS_NAMES.get(row.status.value, "Unknown"))


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
        row = tasks.row(item.name)
        if row is None:
            return
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
            _draw_cell(cell, name, row, now)


def _draw_cell(cell: bpy.types.UILayout, column: str, row: TaskRow, now: float) -> None:
    if column == "id":
        picture = thumbnails.icon(row.task_id) if row.in_library else 0
        if picture:
            cell.label(text=short_id(row.task_id), icon_value=picture, translate=False)
        else:
            cell.label(text=short_id(row.task_id), icon=STATUS_ICONS.get(row.status.value, "QUESTION"),
                       translate=False)
    elif column == "format":
        cell.label(text=(row.fileformat or "?").upper(), translate=False)
    elif column == "age":
        age = row.age(now)
        cell.label(text=age_text(age) if age is not None else "", translate=False)
    elif column == "link":
        left = row.link_seconds_left(now)
        if left is None:
            cell.label(text="")
        elif left > 0:
            cell.label(text=i18n.iface("{n} h").format(n=max(1, int(left // 3600))), icon="TIME",
                       translate=False)
        else:
            cell.label(text="", icon="UNLINKED")
    else:
        cell.label(text="", icon="FILE_FOLDER" if row.extracted else "BLANK1")


class ARK3D_PT_tasks(bpy.types.Panel):
    bl_label = "Tasks"
    bl_idname = "ARK3D_PT_tasks"
    bl_parent_id = "ARK3D_PT_import"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Ark 3D"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        browser = tasks.browser_state(context)
        if layout is None or browser is None:
            return
        known = state.get().part(tasks.TaskBrowser)
        row = layout.row(align=True)
        row.prop(browser, "status_filter", text="")
        sub = row.row(align=True)
        sub.enabled = not known.refreshing
        sub.operator("ark3d.refresh_tasks", text="", icon="FILE_REFRESH")
        layout.template_list("ARK3D_UL_tasks", "", browser, "tasks", browser, "index", rows=5)
        _draw_pages(layout, browser, known)
        if known.status.what is not None:
            icon: Icon = {"ERROR": "ERROR", "WARNING": "INFO"}.get(known.status.level, "CHECKMARK")  # type: ignore[assignment]
            wrapped(layout.box(), known.status.text, icon)
        selected = tasks.selected_row(browser)
        if selected is not None:
            draw_details(layout.box(), selected)


def _draw_pages(layout: bpy.types.UILayout, browser: tasks.ArkBrowserState, known: tasks.TaskBrowser) -> None:
    """Previous, "page 1 / 3 · 45 on Ark", next; and the video tasks the page leaves out."""
    refreshing = known.refreshing
    row = layout.row(align=True)
    prev = row.row(align=True)
    prev.enabled = browser.page > 1 and not refreshing
    prev.operator("ark3d.tasks_page", text="", icon="TRIA_LEFT").step = -1
    if refreshing:
        text = i18n.iface("Refreshing...")
    elif known.fetched_at:
        text = i18n.iface("Page {page} / {pages} · {total} on Ark").format(
            page=browser.page, pages=browser.pages, total=browser.total)
    else:
        text = i18n.iface("Press Refresh to list your tasks")
    row.label(text=text, translate=False)
    nxt = row.row(align=True)
    nxt.enabled = browser.page < browser.pages and not refreshing
    nxt.operator("ark3d.tasks_page", text="", icon="TRIA_RIGHT").step = 1
    if browser.hidden and not refreshing:  # Ark's list also holds video tasks: only 3D ones are shown
        layout.label(text=i18n.text(plural(browser.hidden, "{n} video task on this page is not shown",
                                           "{n} video tasks on this page are not shown")), icon="INFO",
                     translate=False)


def draw_details(layout: bpy.types.UILayout, row: TaskRow) -> None:
    """The selected task: what it is, how old, its link and library copy, and what can be done."""
    now = time.time()
    if row.in_library:
        draw_task_pictures(layout, row.task_id)
    title = layout.row()
    title.label(text=row.task_id, icon=STATUS_ICONS.get(row.status.value, "QUESTION"), translate=False)
    title.operator("ark3d.copy_task_id", text="", icon="COPYDOWN").task_id = row.task_id
    _draw_facts(layout, row, now)
    # Which of Ark's retention clocks this task is under, and the time left (core/retention.py).
    wrapped(layout, row.retention(now).render(i18n.iface), "TIME")
    if row.error_code or row.error_message:
        wrapped(layout, f"{row.error_code}: {row.error_message}".strip(": "), "ERROR")
    draw_chain(layout, row)  # made from a prompt: the prompt, the pictures, what was sent; reuse them
    _draw_actions(layout, row, now)


def _draw_facts(layout: bpy.types.UILayout, row: TaskRow, now: float) -> None:
    """Status, format and detail, model, creation, link and library copy: one short line each."""
    iface = i18n.iface
    col = layout.column(align=True)
    col.scale_y = 0.85
    what = status_word(row)
    extra = ", ".join(x for x in ((row.fileformat or "").upper(), row.subdivisionlevel) if x)
    col.label(text=f"{what} · {extra}" if extra else what, translate=False)
    if row.model:
        col.label(text=row.model, icon="BLANK1", translate=False)
    if row.created_at is not None:
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(row.created_at))
        col.label(text=iface("Created {date} ({age} ago)").format(date=stamp, age=age_text(now - row.created_at)),
                  icon="BLANK1", translate=False)
    left = row.link_seconds_left(now)
    if left is not None and left > 0:
        col.label(text=iface("Link expires in {time}").format(time=format_duration(left)), icon="TIME",
                  translate=False)
    elif left is not None:
        col.label(text=iface("Link expired {age} ago").format(age=age_text(-left)), icon="UNLINKED", translate=False)
    if row.extracted:
        size = format_bytes(float(row.size_bytes))
        col.label(text=iface("In the library ({size})").format(size=size), icon="FILE_FOLDER", translate=False)
    elif row.in_library:
        col.label(text=iface("Partly in the library (not extracted)"), icon="FILE_FOLDER", translate=False)
    else:
        col.label(text=iface("Not in the library"), icon="BLANK1", translate=False)
    if not row.remote:
        col.label(text=iface("Not listed by Ark (older than 7 days or deleted)"), icon="INFO", translate=False)


def _draw_actions(layout: bpy.types.UILayout, row: TaskRow, now: float) -> None:
    """Import, Re-download, and Cancel or Delete on Ark, each greyed out where it cannot work."""
    from ...core.tasklist import delete_action, delete_refusal  # on first use: not when the add-on is enabled
    from ..importer import format_problem

    status = row.status.value
    problem = format_problem(row.fileformat) if row.fileformat else None
    if problem is not None:  # said before the user tries: Import is off
        wrapped(layout, i18n.error_text(problem, "iface"), "ERROR")
    busy = row.task_id in runner.active_jobs() or problem is not None
    buttons = layout.row(align=True)
    sub = buttons.row(align=True)
    sub.enabled = not busy and (row.extracted or status in ("queued", "running", "succeeded", "unknown"))
    sub.operator("ark3d.browser_import", text="Import", icon="IMPORT").task_id = row.task_id
    sub = buttons.row(align=True)
    sub.enabled = not busy and row.in_library and row.remote and (row.link_seconds_left(now) or 0) > 60
    op = sub.operator("ark3d.browser_import", text="Re-download", icon="FILE_REFRESH")
    op.task_id = row.task_id
    op.redownload = True
    # Ark's DELETE cancels a queued task and deletes a succeeded or failed one; nothing else is
    # offered, and a running task says why before anyone asks (core/tasklist.py decides).
    # (Greyed out while Ark was not asked: only what Ark lists can be cancelled or deleted there.)
    action = delete_action(status)
    if action:
        line = layout.row()
        line.enabled = row.remote
        if action == "cancel":
            line.operator("ark3d.cancel_task", text="Cancel Task", icon="CANCEL").task_id = row.task_id
        else:
            line.operator("ark3d.cancel_task", text="Delete from Ark", icon="TRASH").task_id = row.task_id
    elif row.remote and status == "running":
        refusal = delete_refusal(row.task_id, status)
        if refusal is not None:
            wrapped(layout, i18n.error_text(refusal, "iface"), "INFO")


#: Registered after ARK3D_PT_import, the parent of ARK3D_PT_tasks.
PANELS: tuple[type, ...] = (ARK3D_PT_tasks,)
CLASSES: tuple[type, ...] = (ARK3D_UL_tasks,)
