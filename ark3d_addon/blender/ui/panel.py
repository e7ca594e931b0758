"""The "Ark 3D" tab of the 3D Viewport sidebar: task id in, live status out.

It only reads: the task id field (:mod:`..panel_state`, a window-manager property, so it is not
part of the scene), the running jobs' snapshots, and the last message (the add-on's state).
It never starts work.
The Tasks browser is its sub-panel (``browser.py``), Generate another (``generate.py``).
Job texts and the last message come as messages (or an error) and are translated here, at
each draw (``i18n.text``): a switch of Blender's language shows at the next redraw.
"""

import bpy

from ...core.errors import ArkError
from ...core.settings import Settings
from .. import i18n, runner, state, thumbnails
from ..drawing import draw_import_options, field_row, short_id, wrapped
from ..env import online_access_allowed
from ..finish import Outcome
from ..panel_state import panel_state
from ..preferences import ArkPreferences, get_preferences
from .pictures import draw_picture


def _progress(layout: bpy.types.UILayout, fraction: float | None, text: str) -> None:
    """One row whatever the phase or the text's length: a panel whose height changes makes Blender
    animate the panels into place, 2-3 more sidebar frames (100 ms each in software OpenGL)."""
    if fraction is not None and hasattr(layout, "progress"):  # UILayout.progress: Blender 4.0+
        layout.progress(factor=fraction, type="BAR", text=text)
    else:
        layout.label(text=text, icon="TIME", translate=False)  # clipped, never wrapped


def _has_key(prefs: ArkPreferences) -> bool:
    """A key is set (the preferences' or ``ARK_API_KEY``, as :class:`Settings` decides)."""
    try:
        return bool(Settings.resolve(api_key=prefs.api_key).api_key)
    except ArkError:  # a bad base URL: said when a request is made; the key may well be set
        return True


class ARK3D_PT_import(bpy.types.Panel):
    bl_label = "Ark 3D"
    bl_idname = "ARK3D_PT_import"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Ark 3D"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        fields = panel_state(context)
        if layout is None or fields is None:
            return
        prefs = get_preferences(context)

        if not _has_key(prefs):
            box = layout.box()
            box.label(text="No API key set", icon="ERROR")
            box.operator("ark3d.open_preferences", icon="PREFERENCES")
        if not online_access_allowed():
            wrapped(layout, i18n.iface("Online access is off (Preferences > System)"), "INTERNET_OFFLINE")

        col = layout.column(align=True)
        col.prop(fields, "task_id", text="", icon="URL")
        typed = fields.task_id.strip()
        jobs = runner.active_jobs()
        # The button becomes the typed task's progress (an id, a URL ending in it, a list of ids):
        # the panel keeps its height when Import is clicked.
        in_place = [key for key in jobs if key in typed]
        for key in in_place:
            _draw_job(col.row(align=True), key, jobs[key], named=len(in_place) > 1)
        if not in_place:
            row = col.row(align=True)
            row.enabled = bool(typed)
            row.operator("ark3d.import_task", text="Import", icon="IMPORT")

        header = layout.row()
        header.alignment = "LEFT"
        header.prop(fields, "show_options", text="Import Options",
                    icon="TRIA_DOWN" if fields.show_options else "TRIA_RIGHT", emboss=False)
        if fields.show_options:
            draw_import_options(layout.box(), prefs)
        for key, entry in list(jobs.items()):
            if key not in in_place:
                _draw_job(layout.row(align=True), key, entry, named=True)
        _draw_last(layout)


def _draw_job(row: bpy.types.UILayout, key: str, entry: runner.ActiveJob, named: bool) -> None:
    """A running job in one row: its picture or a clock, its progress (``named``: after its id), Cancel."""
    snap = entry.job.snapshot()
    picture = thumbnails.icon(entry.job.task_id or "")
    if picture:
        row.label(text="", icon_value=picture)
    else:
        row.label(text="", icon="SORTTIME")
    text = i18n.text(snap.text)
    _progress(row, snap.fraction, f"{short_id(key)}: {text}" if named else text)
    cancel = row.operator("ark3d.cancel_import", text="", icon="CANCEL")
    cancel.task_id = key


def _draw_last(layout: bpy.types.UILayout) -> None:
    """The last finished work: an import's figures, else its message; greyed while new work runs
    (it stays until that work ends, so the panel keeps its height)."""
    last = state.get().part(runner.RunnerState)
    message = last.message
    if last.last_import is not None:
        box = layout.box()
        box.active = not runner.active_jobs()
        draw_picture(box, last.last_import.job.task_id or "")
        _draw_imported(box, last.last_import)
    elif message.what is not None:
        box = layout.box()
        box.active = not runner.active_jobs()
        draw_picture(box, message.task_id if message.level != "ERROR" else "")
        wrapped(box, message.text, icon="ERROR" if message.level == "ERROR" else "CHECKMARK")


def _draw_imported(layout: bpy.types.UILayout, outcome: Outcome) -> None:
    """The last import as short rows: what, from where, and its figures (the report has it all in one line)."""
    summary, result = outcome.summary, outcome.job.result
    if summary is None or result is None:
        return
    iface = i18n.iface
    created = outcome.job.kind == "create"
    layout.label(text=iface("Created and imported" if created else "Imported"), icon="CHECKMARK", translate=False)
    layout.label(text=short_id(result.task_id), icon="BLANK1", translate=False)
    col = layout.column(align=True)
    col.scale_y = 0.85
    variant = f" · {result.model.variant}" if result.model.variant else ""
    field_row(col, iface("File"), f"{result.model.path.name}{variant}")
    field_row(col, iface("Source"), iface("from the library" if result.from_library else "downloaded"))
    field_row(col, iface("Objects"), f"{summary.objects:,}")
    field_row(col, iface("Triangles"), f"{summary.triangles:,}")
    field_row(col, iface("Materials"), f"{summary.materials:,}")
    field_row(col, iface("Textures"), f"{summary.images:,}")
    # One row per axis, as Blender's own vector properties ("Location X", "Y", "Z").
    for axis, size in zip(("Size X", "Y", "Z"), summary.dimensions, strict=True):
        field_row(col, iface(axis), f"{size:.2f} m")
