"""The Generate section's operators: its input images, and the pictures made from a prompt
before the 3D model (``idea_pictures.py`` runs them), with their reuse from a task's details.

Generate itself (``ark3d.create_task``) and the other operators are in :mod:`.operators` and
:mod:`.browser_operators`.
"""

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import bpy
from bpy.props import BoolProperty, IntProperty, StringProperty

from ..core.errors import ArkError
from . import i18n, idea_pictures, runner
from ._typing import OperatorResult
from .options import ImportOptionProperties
from .panel_state import generate_state
from .preferences import get_preferences, library
from .progress import redraw_sidebars
from .runner import RunnerOperator, Work

if TYPE_CHECKING:
    from pathlib import Path

    from ..core.chain import Chain


class ARK3D_OT_generate_use_editor_image(bpy.types.Operator):
    """Use the image shown in the Image Editor as the input image"""

    bl_idname = "ark3d.generate_use_editor_image"
    bl_label = "Use Image Editor's Image"
    bl_options = {"INTERNAL"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        from .image_source import editor_image  # on first use: not when the add-on is enabled

        return editor_image(context) is not None

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        fields = generate_state(context)
        from .image_source import editor_image

        image = editor_image(context)
        if fields is None or image is None:
            return {"CANCELLED"}
        fields.image_name = image.name
        fields.source = "IMAGE"
        return {"FINISHED"}


class ARK3D_OT_generate_image_add(bpy.types.Operator):
    """Add one more input image (for models that take several)"""

    bl_idname = "ark3d.generate_image_add"
    bl_label = "Add Image"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        fields = generate_state(context)
        if fields is None:
            return {"CANCELLED"}
        fields.more_images.add()
        return {"FINISHED"}


class ARK3D_OT_generate_image_remove(bpy.types.Operator):
    """Remove this input image"""

    bl_idname = "ark3d.generate_image_remove"
    bl_label = "Remove Image"
    bl_options = {"INTERNAL"}

    index: IntProperty(name="Index", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        fields = generate_state(context)
        if fields is None or not 0 <= self.index < len(fields.more_images):
            return {"CANCELLED"}
        fields.more_images.remove(self.index)
        return {"FINISHED"}


# -- the Generate section from a prompt: pictures first (idea_pictures.py) ------------------------


class ARK3D_OT_make_pictures(RunnerOperator):
    """Make pictures from the prompt with Seedream (paid per picture), to look at before the 3D model"""

    bl_idname = "ark3d.make_pictures"
    bl_label = "Make Pictures"
    bl_options = {"INTERNAL"}

    again: BoolProperty(  # type: ignore[valid-type]
        name="Again",
        description="Make the pictures shown again, with a new seed",
        default=False,
        options={"SKIP_SAVE"},
    )

    def make_work(self, context: bpy.types.Context) -> Work | None:
        from ..core.catalog import find_model
        from ..core.rounds import new_seed

        fields = generate_state(context)
        if fields is None:
            return None
        spec = find_model(fields.model)
        if self.again:
            return idea_pictures.again_work(context, fields, spec)
        idea = idea_pictures.idea_from_panel(fields, spec)
        return idea_pictures.pictures_work(context, replace(idea, seed=new_seed()))

    def work_done(self, context: bpy.types.Context, works: list[Work]) -> OperatorResult:
        return runner.report_works(self, works)


class _PictureOperator(RunnerOperator):
    """An operator on one of the pictures shown (by its index)."""

    bl_options = {"INTERNAL"}

    index: IntProperty(name="Index", default=0, min=-1, options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def work_done(self, context: bpy.types.Context, works: list[Work]) -> OperatorResult:
        return runner.report_works(self, works)


class ARK3D_OT_picture_create(_PictureOperator, ImportOptionProperties):
    """Create the 3D model from this picture (or the whole set) and import it (it costs money; several minutes)"""

    bl_idname = "ark3d.picture_create"
    bl_label = "Create 3D From This"

    def make_work(self, context: bpy.types.Context) -> Work | None:
        from ..core.catalog import find_model

        fields = generate_state(context)
        if fields is None:
            return None
        try:
            prefs = get_preferences(context)
        except ArkError:
            prefs = None
        return idea_pictures.create_chosen_work(context, self.index, self.import_options(prefs), fields,
                                                find_model(fields.model))


class ARK3D_OT_create_from_prompt(RunnerOperator, ImportOptionProperties):
    """Generate the 3D model from the prompt itself and import it (it costs money; several minutes)"""

    bl_idname = "ark3d.create_from_prompt"
    bl_label = "Generate 3D Model"
    bl_options = {"INTERNAL"}

    def make_work(self, context: bpy.types.Context) -> Work | None:
        from ..core.catalog import find_model

        fields = generate_state(context)
        if fields is None:
            return None
        try:
            prefs = get_preferences(context)
        except ArkError:
            prefs = None
        return idea_pictures.text_work(context, fields, find_model(fields.model), self.import_options(prefs))

    def work_done(self, context: bpy.types.Context, works: list[Work]) -> OperatorResult:
        return runner.report_works(self, works)


class ARK3D_OT_picture_reference(_PictureOperator):
    """Make new pictures with this one as Seedream's reference: the same object, on a plain background"""

    bl_idname = "ark3d.picture_reference"
    bl_label = "Use as Reference"

    def make_work(self, context: bpy.types.Context) -> Work | None:
        from ..core.catalog import find_model

        fields = generate_state(context)
        if fields is None:
            return None
        return idea_pictures.reference_work(context, self.index, fields, find_model(fields.model))


class ARK3D_OT_picture_redo(_PictureOperator):
    """Make this view again, the other views of the set as references"""

    bl_idname = "ark3d.picture_redo"
    bl_label = "Redo View"

    def make_work(self, context: bpy.types.Context) -> Work | None:
        return idea_pictures.redo_work(context, self.index)


class ARK3D_OT_picture_drop(bpy.types.Operator):
    """Leave this view out of the set: the others are sent, with their view bits"""

    bl_idname = "ark3d.picture_drop"
    bl_label = "Drop View"
    bl_options = {"INTERNAL"}

    index: IntProperty(name="Index", default=0, options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        try:
            idea_pictures.drop_view(self.index)
        except ArkError as exc:
            self.report({"ERROR"}, i18n.error_text(exc))
            return {"CANCELLED"}
        redraw_sidebars(context.window_manager)
        return {"FINISHED"}


class _ReuseFromChain(bpy.types.Operator):
    """Both reuse buttons of the Tasks browser's details: read the task's chain, fill the Generate section."""

    bl_options = {"INTERNAL"}

    task_id: StringProperty(name="Task ID", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        from ..core.chain import load_chain

        fields = generate_state(context)
        where = library(context)
        chain = load_chain(where, self.task_id) if self.task_id else None
        if fields is None or chain is None or not self.fill(fields, chain, where.task_dir(self.task_id)):
            self.report({"ERROR"}, i18n.rpt(self.refusal))
            return {"CANCELLED"}
        redraw_sidebars(context.window_manager)
        return {"FINISHED"}

    #: What the report says when the task has nothing to reuse.
    refusal = ""

    def fill(self, fields: Any, chain: "Chain", folder: "Path") -> bool:
        """Put what the chain holds into the Generate section; False when it holds nothing of it."""
        raise NotImplementedError


class ARK3D_OT_reuse_prompt(_ReuseFromChain):
    """Put this task's prompt into the Generate section, to make pictures from it again"""

    bl_idname = "ark3d.reuse_prompt"
    bl_label = "Reuse Prompt"
    refusal = "This task was not made from a prompt"

    def fill(self, fields: Any, chain: "Chain", folder: "Path") -> bool:
        if not chain.prompt:
            return False
        fields.prompt = chain.prompt
        fields.source = "PROMPT"
        return True


class ARK3D_OT_reuse_picture(_ReuseFromChain):
    """Use the picture this task was made from as the Generate section's input image"""

    bl_idname = "ark3d.reuse_picture"
    bl_label = "Reuse Picture"
    refusal = "This task keeps no picture it was made from"

    def fill(self, fields: Any, chain: "Chain", folder: "Path") -> bool:
        picture = next((path for path in (folder / name for name in (*chain.sent, *chain.images)) if path.is_file()),
                       None)
        if picture is None:
            return False
        fields.image_path = str(picture)
        fields.source = "FILE"
        return True


CLASSES: tuple[type, ...] = (
    ARK3D_OT_generate_use_editor_image,
    ARK3D_OT_generate_image_add,
    ARK3D_OT_generate_image_remove,
    ARK3D_OT_make_pictures,
    ARK3D_OT_picture_create,
    ARK3D_OT_create_from_prompt,
    ARK3D_OT_picture_reference,
    ARK3D_OT_picture_redo,
    ARK3D_OT_picture_drop,
    ARK3D_OT_reuse_prompt,
    ARK3D_OT_reuse_picture,
)
