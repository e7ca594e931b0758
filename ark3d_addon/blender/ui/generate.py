"""The "Generate" sub-panel of the Ark 3D sidebar: an image in, a Seed3D model out.

The image is a file, an image already in Blender (the Render Result, one open in the Image
Editor), or the active camera's view rendered on the spot.  The button runs
``ark3d.create_task`` with the panel's choices: the same non-blocking job as an import, which
then shows in the main panel until the model is imported.  The panel only reads and sets its
own state (``WindowManager.ark3d_generate``); it never starts network work itself.
"""

import bpy
from bpy.props import EnumProperty, StringProperty

from .. import runner, translations
from .._typing import OperatorResult
from ..env import online_access_allowed
from ..options import fileformat_property, image_path_property, model_property, subdivision_property
from . import thumbnails
from .common import wrap_width, wrapped

#: ``WindowManager.ark3d_generate``: the panel's state.
STATE = "ark3d_generate"

NOTE = "About 2.4 CNY a model (Seed3D 1.0). Generation takes several minutes; the model is imported when ready."

_SOURCES = [
    ("FILE", "File", "An image file: jpg, png, webp or bmp"),
    ("IMAGE", "Image", "An image already in Blender: the Render Result, or one open in the Image Editor"),
    ("CAMERA", "Camera", "Render the active camera's view and send that"),
]


class ArkGenerateState(bpy.types.PropertyGroup):
    source: EnumProperty(  # type: ignore[valid-type]
        name="Image Source",
        description="Where the input image comes from",
        items=_SOURCES,
        default="FILE",
    )
    image_path: image_path_property()  # type: ignore[valid-type]
    image_name: StringProperty(  # type: ignore[valid-type]
        name="Image",
        description="An image of this file (the Render Result, or one open in the Image Editor)",
    )
    model: model_property()  # type: ignore[valid-type]
    subdivisionlevel: subdivision_property()  # type: ignore[valid-type]
    fileformat: fileformat_property()  # type: ignore[valid-type]


def editor_image(context: bpy.types.Context) -> bpy.types.Image | None:
    """The image shown in the first Image Editor of the window, if any."""
    screen = context.screen
    for area in screen.areas if screen is not None else []:
        if area.type == "IMAGE_EDITOR":
            space = area.spaces.active
            image = getattr(space, "image", None)
            if image is not None:
                return image
    return None


class ARK3D_OT_generate_use_editor_image(bpy.types.Operator):
    """Use the image shown in the Image Editor as the input image"""

    bl_idname = "ark3d.generate_use_editor_image"
    bl_label = "Use Image Editor's Image"
    bl_options = {"INTERNAL"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return editor_image(context) is not None

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        state = getattr(context.window_manager, STATE, None)
        image = editor_image(context)
        if state is None or image is None:
            return {"CANCELLED"}
        state.image_name = image.name
        state.source = "IMAGE"
        return {"FINISHED"}


def _ready(context: bpy.types.Context, state: ArkGenerateState) -> tuple[bool, str]:
    """Whether Generate can run, and if not, what to do first."""
    if state.source == "FILE" and not state.image_path.strip():
        return False, "Pick an image file"
    if state.source == "IMAGE" and not state.image_name:
        return False, "Pick an image"
    if state.source == "CAMERA" and (context.scene is None or context.scene.camera is None):
        return False, "The scene has no active camera"
    return True, ""


class ARK3D_PT_generate(bpy.types.Panel):
    bl_label = "Generate"
    bl_idname = "ARK3D_PT_generate"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Ark 3D"
    bl_parent_id = "ARK3D_PT_import"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        state = getattr(context.window_manager, STATE, None)
        if layout is None or state is None:
            return
        layout.row().prop(state, "source", expand=True)
        if state.source == "FILE":
            layout.prop(state, "image_path", text="")
        elif state.source == "IMAGE":
            row = layout.row(align=True)
            row.prop_search(state, "image_name", bpy.data, "images", text="")
            row.operator("ark3d.generate_use_editor_image", text="", icon="IMAGE")
        else:
            camera = context.scene.camera if context.scene is not None else None
            layout.label(text=camera.name if camera is not None else translations.iface("No active camera"),
                         icon="CAMERA_DATA" if camera is not None else "ERROR", translate=False)

        col = layout.column(align=True)
        col.use_property_split = True  # label | field, as Blender's own editors: no label is cut
        col.use_property_decorate = False
        col.prop(state, "model")
        col.prop(state, "subdivisionlevel")
        col.prop(state, "fileformat")

        ready, why = _ready(context, state)
        row = layout.row()
        row.scale_y = 1.3
        row.enabled = ready and online_access_allowed()
        op = row.operator("ark3d.create_task", text="Generate", icon="SHADERFX")
        op.image_path = state.image_path if state.source == "FILE" else ""
        op.image_name = state.image_name if state.source == "IMAGE" else ""
        op.use_camera = state.source == "CAMERA"
        op.model = state.model
        op.subdivisionlevel = state.subdivisionlevel
        op.fileformat = state.fileformat
        if not ready:
            wrapped(layout, translations.iface(why), "INFO", wrap_width(context))

        draw_generated(layout)
        wrapped(layout, translations.iface(NOTE), "INFO", wrap_width(context))


def draw_generated(layout: bpy.types.UILayout) -> None:
    """Pictures of the generates running now (their input image) and of the last one that ended."""
    shown = [entry.job.task_id for entry in runner.active.values() if entry.job.kind == "create" and entry.job.task_id]
    last = runner.last_message
    if last["kind"] == "create" and last["task_id"] and last["level"] != "ERROR" and last["task_id"] not in shown:
        shown.append(last["task_id"])
    if not shown:
        return
    grid = layout.grid_flow(columns=min(3, len(shown)), even_columns=True, align=True)
    for task_id in shown[:3]:
        cell = grid.column(align=True)
        if not thumbnails.draw_picture(cell, task_id, scale=4.0):
            cell.label(text="", icon="SORTTIME")
        cell.label(text=task_id[-5:], translate=False)


CLASSES: tuple[type, ...] = (ArkGenerateState, ARK3D_OT_generate_use_editor_image)
PANELS: tuple[type, ...] = (ARK3D_PT_generate,)
