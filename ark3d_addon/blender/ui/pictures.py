"""Pictures of tasks in the panels: the model's, and the image a generate was made from.

Drawing only: which picture a task has is :mod:`..thumbnails`'s to say.
"""

import bpy

from .. import thumbnails

__all__ = ["draw_picture", "draw_task_pictures"]


def draw_picture(layout: bpy.types.UILayout, task_id: str, scale: float = 5.0) -> bool:
    """The task's picture, centred, if it has one yet; False if not (the caller's icons say the state)."""
    picture = thumbnails.icon(task_id) if task_id else 0
    if picture:
        row = layout.row()
        row.alignment = "CENTER"
        row.template_icon(icon_value=picture, scale=scale)
    return bool(picture)


def draw_task_pictures(layout: bpy.types.UILayout, task_id: str) -> None:
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
