"""The "Generate" sub-panel of the Ark 3D sidebar: images (or a prompt) in, a 3D model out.

The first image is a file or an https link, an image already in Blender (the Render Result,
one open in the Image Editor), or the active camera's view rendered on the spot; models that
take several get more (files or links).  Or only a prompt (source Prompt): Seedream's pictures
come first, shown with each step's price before it is spent (``ui/prompt_section.py``), unless Hyper3D
reads the prompt itself.  The model menu is the catalog's, narrowed by Ark's
own list once ⟳ asked it; the chosen model decides the formats, whether a prompt and a detail
level apply, and the faces and the price shown before anything is sent.  The button runs
``ark3d.create_task`` with the panel's choices: the same non-blocking job as an import, which
then shows in the main panel until the model is imported.  The panel only reads and sets its
own state (``WindowManager.ark3d_generate``, :mod:`..panel_state`); it never starts work itself.
"""

from typing import TYPE_CHECKING

import bpy

from ...core.errors import ArkError
from .. import i18n, runner, state
from ..drawing import wrap_width, wrapped
from ..env import online_access_allowed
from ..idea_pictures import panel_params
from ..options import ModelMenu
from ..panel_state import ArkGenerateState, generate_state
from .pictures import draw_picture
from .prompt_section import draw_idea, sends_text

if TYPE_CHECKING:
    from ...core.catalog import ModelSpec

NOTE = "Generation takes several minutes; the model is imported when ready."


def _spec(fields: ArkGenerateState) -> "ModelSpec":
    from ...core.catalog import DEFAULT_MODEL, find_model  # on first use: not when the add-on is enabled

    try:
        return find_model(fields.model)
    except ArkError:  # the menu's value is no model (its items changed): the catalog's default
        return find_model(DEFAULT_MODEL)


def _hints(fields: ArkGenerateState, spec: "ModelSpec") -> str:
    """Faces and price of what the panel would send, or why it would be refused (said before sending)."""
    try:
        params = panel_params(fields, spec)
        if fields.source == "PROMPT":
            images = 0
        else:
            images = (1 if fields.source != "FILE" or fields.image_path.strip() else 0) + sum(
                1 for item in fields.more_images if item.path.strip())
        checked = spec.check(params, images=images, prompt=fields.prompt.strip())
    except ArkError as exc:
        return i18n.error_text(exc, "iface")
    return " · ".join([spec.faces(checked).render(i18n.iface), spec.cost(checked).render(i18n.iface)])


def _ready(context: bpy.types.Context, fields: ArkGenerateState) -> tuple[bool, str]:
    """Whether Generate can run, and if not, what to do first."""
    spec = _spec(fields)
    if fields.source == "PROMPT" and not fields.prompt.strip():
        return False, "Type a prompt"
    if fields.source == "FILE" and not fields.image_path.strip() and not (spec.min_images == 0
                                                                          and fields.prompt.strip()):
        return False, "Pick an image file"
    if fields.source == "IMAGE" and not fields.image_name:
        return False, "Pick an image"
    if fields.source == "CAMERA" and (context.scene is None or context.scene.camera is None):
        return False, "The scene has no active camera"
    return True, ""


class ARK3D_PT_generate(bpy.types.Panel):
    bl_label = "Generate"
    bl_idname = "ARK3D_PT_generate"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Ark 3D"
    bl_parent_id = "ARK3D_PT_import"

    def draw_header_preset(self, context: bpy.types.Context) -> None:
        # In the header, not beside the Model menu: there it would take the width the model's name needs.
        if self.layout is not None:
            self.layout.operator("ark3d.refresh_models", text="", icon="FILE_REFRESH", emboss=False)

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        fields = generate_state(context)
        if layout is None or fields is None:
            return
        spec = _spec(fields)
        _draw_source(layout, context, fields, spec)
        _draw_choices(layout, context, fields, spec)
        if fields.source == "PROMPT":
            draw_idea(layout, context, fields, spec)  # the prompt, and pictures before the 3D task
        if fields.source != "PROMPT":  # (from a prompt, ui/prompt_section.py draws the buttons)
            _draw_generate_button(layout, context, fields, spec)
        draw_generated(layout)
        wrapped(layout, i18n.iface(NOTE), "INFO", wrap_width(context))


def _draw_source(layout: bpy.types.UILayout, context: bpy.types.Context, fields: ArkGenerateState,
                 spec: "ModelSpec") -> None:
    """Where the first image comes from, and the more images of models that take several."""
    layout.row().prop(fields, "source", expand=True)
    if fields.source == "FILE":
        layout.prop(fields, "image_path", text="")
    elif fields.source == "IMAGE":
        row = layout.row(align=True)
        row.prop_search(fields, "image_name", bpy.data, "images", text="")
        row.operator("ark3d.generate_use_editor_image", text="", icon="IMAGE")
    elif fields.source == "CAMERA":
        camera = context.scene.camera if context.scene is not None else None
        layout.label(text=camera.name if camera is not None else i18n.iface("No active camera"),
                     icon="CAMERA_DATA" if camera is not None else "ERROR", translate=False)
    if spec.max_images > 1 and fields.source != "PROMPT":
        for index, item in enumerate(fields.more_images):
            row = layout.row(align=True)
            row.prop(item, "path", text="")
            row.operator("ark3d.generate_image_remove", text="", icon="X").index = index
        if 1 + len(fields.more_images) < spec.max_images:
            layout.operator("ark3d.generate_image_add", text="Add Image", icon="ADD")


def _draw_choices(layout: bpy.types.UILayout, context: bpy.types.Context, fields: ArkGenerateState,
                  spec: "ModelSpec") -> None:
    """Model, detail, format, prompt, parameters and endpoint; the model list's status; faces and price."""
    col = layout.column(align=True)
    col.use_property_split = True  # label | field, as Blender's own editors: no label is cut
    col.use_property_decorate = False
    col.prop(fields, "model")
    if spec.level_flag:
        col.prop(fields, "subdivisionlevel")
    col.prop(fields, "fileformat")
    if spec.prompt and fields.source != "PROMPT":  # (drawn with the pictures' choices otherwise)
        col.prop(fields, "prompt")
    col.prop(fields, "parameters")
    col.prop(fields, "endpoint")
    status = state.get().part(ModelMenu).status
    if status.what is not None:
        wrapped(layout, status.text, "INFO", wrap_width(context))
    if fields.source != "PROMPT" or sends_text(fields, spec):  # (else each step's price is said with it)
        wrapped(layout, _hints(fields, spec), "INFO", wrap_width(context))


def _draw_generate_button(layout: bpy.types.UILayout, context: bpy.types.Context, fields: ArkGenerateState,
                          spec: "ModelSpec") -> None:
    """The Generate button, carrying the section's choices as ``ark3d.create_task``'s arguments."""
    ready, why = _ready(context, fields)
    row = layout.row()
    row.scale_y = 1.3
    row.enabled = ready and online_access_allowed()
    op = row.operator("ark3d.create_task", text="Generate", icon="SHADERFX")
    op.image_path = fields.image_path if fields.source == "FILE" else ""
    op.image_name = fields.image_name if fields.source == "IMAGE" else ""
    op.use_camera = fields.source == "CAMERA"
    op.image_paths = "\n".join(item.path for item in fields.more_images if item.path.strip()) \
        if spec.max_images > 1 and fields.source != "PROMPT" else ""
    op.model = spec.id
    op.subdivisionlevel = fields.subdivisionlevel if spec.level_flag else "DEFAULT"
    op.fileformat = fields.fileformat
    op.prompt = fields.prompt if spec.prompt else ""
    op.parameters = fields.parameters
    op.endpoint = fields.endpoint
    if not ready:
        wrapped(layout, i18n.iface(why), "INFO", wrap_width(context))


def draw_generated(layout: bpy.types.UILayout) -> None:
    """Pictures of the generates running now (their input image) and of the last one that ended."""
    shown = [entry.job.task_id for entry in runner.active_jobs().values()
             if entry.job.kind == "create" and entry.job.task_id]
    last = state.get().part(runner.RunnerState).message
    if last.kind == "create" and last.task_id and last.level != "ERROR" and last.task_id not in shown:
        shown.append(last.task_id)
    if not shown:
        return
    grid = layout.grid_flow(columns=min(3, len(shown)), even_columns=True, align=True)
    for task_id in shown[:3]:
        cell = grid.column(align=True)
        if not draw_picture(cell, task_id, scale=4.0):
            cell.label(text="", icon="SORTTIME")
        cell.label(text=task_id[-5:], translate=False)


PANELS: tuple[type, ...] = (ARK3D_PT_generate,)
