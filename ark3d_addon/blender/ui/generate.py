"""The "Generate" sub-panel of the Ark 3D sidebar: images (or a prompt) in, a 3D model out.

The first image is a file or an https link, an image already in Blender (the Render Result,
one open in the Image Editor), or the active camera's view rendered on the spot; models that
take several get more (files or links).  The model menu is the catalog's, narrowed by Ark's
own list once ⟳ asked it; the chosen model decides the formats, whether a prompt and a detail
level apply, and the faces and the price shown before anything is sent.  The button runs
``ark3d.create_task`` with the panel's choices: the same non-blocking job as an import, which
then shows in the main panel until the model is imported.  The panel only reads and sets its
own state (``WindowManager.ark3d_generate``); it never starts network work itself.
"""

from dataclasses import dataclass

import bpy
from bpy.props import CollectionProperty, EnumProperty, IntProperty, StringProperty

from ...core.catalog import DEFAULT_MODEL, ModelSpec, find_model
from ...core.errors import ArkError
from ...core.messages import Message
from .. import i18n, runner
from .._typing import OperatorResult
from ..env import online_access_allowed
from ..options import (
    endpoint_property,
    format_menu_property,
    image_path_property,
    model_menu_property,
    parameters_property,
    prompt_property,
    subdivision_property,
)
from . import thumbnails
from .common import wrap_width, wrapped

#: ``WindowManager.ark3d_generate``: the panel's state.
STATE = "ark3d_generate"

NOTE = "Generation takes several minutes; the model is imported when ready."


@dataclass
class _Status:
    """What the last model list refresh said (shown under the model menu), kept as a message and
    rendered as the panel draws (:attr:`text`): in the language of that moment."""

    message: Message | None = None

    @property
    def text(self) -> str:
        """The message in the user's language now ("" without one)."""
        return i18n.text(self.message) if self.message is not None else ""


status = _Status()


class ArkImagePath(bpy.types.PropertyGroup):
    path: image_path_property()  # type: ignore[valid-type]

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
    more_images: CollectionProperty(type=ArkImagePath)  # type: ignore[valid-type]
    model: model_menu_property()  # type: ignore[valid-type]
    subdivisionlevel: subdivision_property()  # type: ignore[valid-type]
    fileformat: format_menu_property()  # type: ignore[valid-type]
    prompt: prompt_property()  # type: ignore[valid-type]
    parameters: parameters_property()  # type: ignore[valid-type]
    endpoint: endpoint_property()  # type: ignore[valid-type]


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


class ARK3D_OT_generate_image_add(bpy.types.Operator):
    """Add one more input image (for models that take several)"""

    bl_idname = "ark3d.generate_image_add"
    bl_label = "Add Image"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        state = getattr(context.window_manager, STATE, None)
        if state is None:
            return {"CANCELLED"}
        state.more_images.add()
        return {"FINISHED"}


class ARK3D_OT_generate_image_remove(bpy.types.Operator):
    """Remove this input image"""

    bl_idname = "ark3d.generate_image_remove"
    bl_label = "Remove Image"
    bl_options = {"INTERNAL"}

    index: IntProperty(name="Index", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        state = getattr(context.window_manager, STATE, None)
        if state is None or not 0 <= self.index < len(state.more_images):
            return {"CANCELLED"}
        state.more_images.remove(self.index)
        return {"FINISHED"}


def _spec(state: "ArkGenerateState") -> ModelSpec:
    try:
        return find_model(state.model)
    except ArkError:  # the menu's value is no model (its items changed): the catalog's default
        return find_model(DEFAULT_MODEL)


def _hints(state: "ArkGenerateState", spec: ModelSpec) -> str:
    """Faces and price of what the panel would send, or why it would be refused (said before sending)."""
    try:
        params = spec.parse(state.parameters)
        if state.fileformat:
            params[spec.format_flag] = state.fileformat
        if spec.level_flag and state.subdivisionlevel != "DEFAULT":
            params[spec.level_flag] = state.subdivisionlevel
        images = (1 if state.source != "FILE" or state.image_path.strip() else 0) + sum(
            1 for item in state.more_images if item.path.strip())
        checked = spec.check(params, images=images, prompt=state.prompt.strip())
    except ArkError as exc:
        return i18n.error_text(exc, "iface")
    return " · ".join([spec.faces(checked).render(i18n.iface), spec.cost(checked).render(i18n.iface)])


def _ready(context: bpy.types.Context, state: ArkGenerateState) -> tuple[bool, str]:
    """Whether Generate can run, and if not, what to do first."""
    spec = _spec(state)
    if state.source == "FILE" and not state.image_path.strip() and not (spec.min_images == 0 and state.prompt.strip()):
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

    def draw_header_preset(self, context: bpy.types.Context) -> None:
        # In the header, not beside the Model menu: there it would take the width the model's name needs.
        if self.layout is not None:
            self.layout.operator("ark3d.refresh_models", text="", icon="FILE_REFRESH", emboss=False)

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
            layout.label(text=camera.name if camera is not None else i18n.iface("No active camera"),
                         icon="CAMERA_DATA" if camera is not None else "ERROR", translate=False)

        spec = _spec(state)
        if spec.max_images > 1:
            for index, item in enumerate(state.more_images):
                row = layout.row(align=True)
                row.prop(item, "path", text="")
                row.operator("ark3d.generate_image_remove", text="", icon="X").index = index
            if 1 + len(state.more_images) < spec.max_images:
                layout.operator("ark3d.generate_image_add", text="Add Image", icon="ADD")

        col = layout.column(align=True)
        col.use_property_split = True  # label | field, as Blender's own editors: no label is cut
        col.use_property_decorate = False
        col.prop(state, "model")
        if spec.level_flag:
            col.prop(state, "subdivisionlevel")
        col.prop(state, "fileformat")
        if spec.prompt:
            col.prop(state, "prompt")
        col.prop(state, "parameters")
        col.prop(state, "endpoint")
        if status.message is not None:
            wrapped(layout, status.text, "INFO", wrap_width(context))
        wrapped(layout, _hints(state, spec), "INFO", wrap_width(context))

        ready, why = _ready(context, state)
        row = layout.row()
        row.scale_y = 1.3
        row.enabled = ready and online_access_allowed()
        op = row.operator("ark3d.create_task", text="Generate", icon="SHADERFX")
        op.image_path = state.image_path if state.source == "FILE" else ""
        op.image_name = state.image_name if state.source == "IMAGE" else ""
        op.use_camera = state.source == "CAMERA"
        op.image_paths = "\n".join(item.path for item in state.more_images if item.path.strip()) \
            if spec.max_images > 1 else ""
        op.model = spec.id
        op.subdivisionlevel = state.subdivisionlevel if spec.level_flag else "DEFAULT"
        op.fileformat = state.fileformat
        op.prompt = state.prompt if spec.prompt else ""
        op.parameters = state.parameters
        op.endpoint = state.endpoint
        if not ready:
            wrapped(layout, i18n.iface(why), "INFO", wrap_width(context))

        draw_generated(layout)
        wrapped(layout, i18n.iface(NOTE), "INFO", wrap_width(context))


def draw_generated(layout: bpy.types.UILayout) -> None:
    """Pictures of the generates running now (their input image) and of the last one that ended."""
    shown = [entry.job.task_id for entry in runner.active.values() if entry.job.kind == "create" and entry.job.task_id]
    last = runner.last_message
    if last.kind == "create" and last.task_id and last.level != "ERROR" and last.task_id not in shown:
        shown.append(last.task_id)
    if not shown:
        return
    grid = layout.grid_flow(columns=min(3, len(shown)), even_columns=True, align=True)
    for task_id in shown[:3]:
        cell = grid.column(align=True)
        if not thumbnails.draw_picture(cell, task_id, scale=4.0):
            cell.label(text="", icon="SORTTIME")
        cell.label(text=task_id[-5:], translate=False)


CLASSES: tuple[type, ...] = (ArkImagePath, ArkGenerateState, ARK3D_OT_generate_use_editor_image,
                             ARK3D_OT_generate_image_add, ARK3D_OT_generate_image_remove)
PANELS: tuple[type, ...] = (ARK3D_PT_generate,)
