"""The Generate section from a prompt: what the helper adds, the pictures, each step's price.

Drawing only.  The pictures and what runs live in :mod:`..idea_pictures`; the plan and its
prices come from the core (:func:`~...core.idea.plan_idea`), so what is shown is what would be
sent.  The chain of a task made this way is drawn in the Tasks browser's details
(:func:`draw_chain`), with its one-click reuses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import bpy

from ...core.errors import ArkError
from ...core.messages import msg, plural
from ...core.prompting import prompt_for_3d
from .. import i18n, idea_pictures
from ..drawing import wrap_width, wrapped
from ..env import online_access_allowed

if TYPE_CHECKING:
    from ...core.catalog import ModelSpec
    from ...core.chain import Chain
    from ...core.idea import Plan
    from ...core.tasklist import TaskRow

__all__ = ["draw_chain", "draw_idea", "sends_text"]

#: Thumbnails large enough to judge a picture by (template_icon's scale: 1 is a 20-pixel icon).
PICTURE_SCALE = 9.0
SET_SCALE = 6.0


def sends_text(fields: Any, spec: ModelSpec) -> bool:
    """Hyper3D reads the prompt itself unless the user wants to see pictures first (or asks for views)."""
    return spec.prompt and not fields.through_pictures and not idea_pictures.panel_views(fields)


def _plan(fields: Any, spec: ModelSpec) -> Plan | ArkError:
    try:
        return idea_pictures.plan_from_panel(fields, spec)
    except ArkError as exc:
        return exc


def _set_models() -> tuple[str, ...]:
    """The models that take a multi-view set (Hyper3D up to 5 pictures, Hitem3D up to 4 with view bits)."""
    from ...core.catalog import HITEM3D, HYPER3D  # on first use: not when the add-on is enabled

    return (HYPER3D, HITEM3D)


def draw_idea(layout: bpy.types.UILayout, context: bpy.types.Context, fields: Any, spec: ModelSpec) -> None:
    """Prompt, helper, image model, views; then Make Pictures with its price, and the pictures."""
    width = wrap_width(context)
    layout.prop(fields, "prompt", text="")
    _draw_helper(layout, fields, width)
    col = layout.column(align=True)
    col.use_property_split = True
    col.use_property_decorate = False
    if spec.prompt:
        col.prop(fields, "through_pictures")
    if spec.id in _set_models():
        col.row(align=True).prop(fields, "views")
    if sends_text(fields, spec):
        _draw_text_button(layout, fields, width)
        return
    col.prop(fields, "image_model")
    plan = _plan(fields, spec)
    if isinstance(plan, ArkError):
        wrapped(layout, i18n.error_text(plan, "iface"), "ERROR", width)
    else:
        _draw_make_button(layout, plan, width)
    _draw_pictures(layout, fields, spec, width)


def _draw_helper(layout: bpy.types.UILayout, fields: Any, width: int) -> None:
    """The helper's checkbox and its words (editable), then exactly what it adds to the prompt."""
    row = layout.row(align=True)
    row.prop(fields, "use_helper")
    if not fields.use_helper:
        return
    layout.prop(fields, "helper_text", text="")
    _full, added = prompt_for_3d(fields.prompt, True, idea_pictures.panel_views(fields),
                                 idea_pictures.panel_helper_text(fields))
    wrapped(layout, i18n.iface("Adds: {text}").format(text=added), "PLUS", width)


def _draw_text_button(layout: bpy.types.UILayout, fields: Any, width: int) -> None:
    """Hyper3D reads the prompt itself: Generate sends it (the price is said above, with the faces)."""
    round_ = idea_pictures.pictures()
    row = layout.row()
    row.scale_y = 1.3
    row.enabled = bool(fields.prompt.strip()) and not round_.busy and online_access_allowed()
    row.operator("ark3d.create_from_prompt", text="Generate", icon="SHADERFX")
    _draw_status(layout, round_, width)


def _draw_status(layout: bpy.types.UILayout, round_: idea_pictures.PictureRound, width: int) -> None:
    if round_.status.what is not None:
        wrapped(layout, round_.status.text, "ERROR" if round_.status.level == "ERROR" else "INFO", width)


def _draw_make_button(layout: bpy.types.UILayout, plan: Plan, width: int) -> None:
    """Make Pictures, with both steps' prices above it; greyed out while a worker runs."""
    request = plan.image_request
    if request is None:
        return
    wrapped(layout, i18n.text(msg("Pictures: {cost}", cost=request.cost())), "IMAGE_DATA", width)
    wrapped(layout, i18n.text(msg("Then the 3D task: {cost}", cost=plan.spec.cost(plan.params))), "BLANK1", width)
    row = layout.row(align=True)
    row.scale_y = 1.3
    row.enabled = not idea_pictures.pictures().busy and bool(plan.idea.prompt)
    row.operator("ark3d.make_pictures", text="Make Pictures", icon="IMAGE_DATA").again = False


def _draw_pictures(layout: bpy.types.UILayout, fields: Any, spec: ModelSpec, width: int) -> None:
    """The pictures shown: each large, with its actions; the 3D task's price (the section's model now)
    before its button, or why that model cannot take them."""
    round_ = idea_pictures.pictures()
    _draw_status(layout, round_, width)
    plan = round_.plan
    if plan is None or not round_.shown:
        return
    try:
        target = idea_pictures.create_plan(fields, spec)
    except ArkError as exc:
        target = None
        wrapped(layout, i18n.error_text(exc, "iface"), "ERROR", width)
    box = layout.box()
    if plan.views:
        _draw_set(box, round_, plan)
        if plan.image_request is not None:  # a redone view is one picture
            from ...core.images import find_image_model

            one = find_image_model(plan.image_request.model).cost(1)
            wrapped(box, i18n.text(msg("Redo a view: {cost}", cost=one)), "IMAGE_DATA", width)
    else:
        _draw_singles(box, round_, target is not None)
    if target is not None:
        wrapped(box, i18n.text(msg("3D task: {cost}", cost=target.spec.cost(target.params))), "MESH_MONKEY", width)
    row = box.row(align=True)
    row.enabled = not round_.busy
    if plan.views:
        row.scale_y = 1.3
        sub = row.row(align=True)
        sub.enabled = target is not None
        sub.operator("ark3d.picture_create", text="Create 3D From This Set", icon="SHADERFX").index = -1
    row.operator("ark3d.make_pictures", text="Generate Again", icon="FILE_REFRESH").again = True


def _draw_singles(layout: bpy.types.UILayout, round_: idea_pictures.PictureRound, can_create: bool) -> None:
    for index, picture in enumerate(round_.shown):
        col = layout.column(align=True)
        col.template_icon(icon_value=idea_pictures.icon(picture), scale=PICTURE_SCALE)
        row = col.row(align=True)
        row.enabled = not round_.busy
        sub = row.row(align=True)
        sub.enabled = can_create
        sub.scale_y = 1.3
        sub.operator("ark3d.picture_create", text="Create 3D From This", icon="SHADERFX").index = index
        row.operator("ark3d.picture_reference", text="", icon="IMAGE_REFERENCE").index = index


def _draw_set(layout: bpy.types.UILayout, round_: idea_pictures.PictureRound, plan: Plan) -> None:
    """A multi-view set: each view named, with Redo and Drop."""
    pairs = list(zip(plan.views, round_.shown, strict=False))
    for index, (view, picture) in enumerate(pairs):
        if index % 2 == 0:  # two views a row
            line = layout.row(align=True)
        col = line.column(align=True)
        col.template_icon(icon_value=idea_pictures.icon(picture), scale=SET_SCALE)
        col.label(text=i18n.iface(view.capitalize()), translate=False)
        row = col.row(align=True)
        row.enabled = not round_.busy
        row.operator("ark3d.picture_redo", text="Redo", icon="FILE_REFRESH").index = index
        sub = row.row(align=True)
        sub.enabled = len(plan.views) > 1
        sub.operator("ark3d.picture_drop", text="", icon="X").index = index
        row.operator("ark3d.picture_reference", text="", icon="IMAGE_REFERENCE").index = index


def draw_chain(layout: bpy.types.UILayout, row: TaskRow) -> None:
    """A task made from an idea: its prompt, the image model, the pictures made and which were sent."""
    chain: Chain | None = row.chain
    if chain is None:
        return
    col = layout.column(align=True)
    if chain.prompt:
        wrapped(col, i18n.iface("Prompt: {text}").format(text=chain.prompt), "TEXT")
    if chain.image_model:
        from ...core.images import find_image_model

        try:
            name = find_image_model(chain.image_model).name
        except ArkError:
            name = chain.image_model
        made = plural(len(chain.images), "{n} picture made", "{n} pictures made")
        wrapped(col, f"{name} · {i18n.text(made)}", "IMAGE_DATA")
    if chain.sent:
        sent = ", ".join(chain.sent)
        views = f" ({chain.views})" if chain.views else ""
        wrapped(col, i18n.iface("Sent: {what}").format(what=sent + views), "EXPORT")
    buttons = layout.row(align=True)
    sub = buttons.row(align=True)
    sub.enabled = bool(chain.prompt)
    sub.operator("ark3d.reuse_prompt", text="Reuse Prompt", icon="TEXT").task_id = row.task_id
    sub = buttons.row(align=True)
    sub.enabled = bool(chain.sent or chain.images)
    sub.operator("ark3d.reuse_picture", text="Reuse Picture", icon="IMAGE_DATA").task_id = row.task_id
