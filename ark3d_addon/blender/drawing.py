"""Drawing helpers the panels and the preferences share: wrapped text (one CJK-aware wrap), wrap
widths, short ids, label-value rows and the import options.

Blender's labels do not wrap, so long texts are cut into lines here, by
:func:`~...core.linebreak.wrap`, which counts a Chinese character as two columns.
"""

import bpy

from . import i18n
from ._typing import Icon

__all__ = ["WRAP", "draw_import_options", "field_row", "short_id", "wrap_width", "wrapped"]

#: Columns of text on one line of the sidebar at its default width.
WRAP = 38


def wrapped(layout: bpy.types.UILayout, text: str, icon: Icon = "NONE", width: int = WRAP,
            indent: Icon = "BLANK1") -> None:
    """``text`` as tight labels of at most ``width`` columns; ``icon`` on the first, ``indent`` on the others."""
    from ..core.linebreak import wrap  # on first use (its Unicode tables): not when the add-on is enabled

    col = layout.column(align=True)
    col.scale_y = 0.8
    for i, line in enumerate(wrap(text, width) or [""]):
        col.label(text=line, icon=icon if i == 0 else indent, translate=False)


def wrap_width(context: bpy.types.Context, default: int = WRAP) -> int:
    """How many columns fit on a line of this region (an icon's width less)."""
    region = context.region
    prefs = context.preferences
    scale = prefs.system.ui_scale if prefs is not None else 1.0
    if region is None or region.width <= 1:
        return default
    return max(16, min(default * 2, int((region.width - 50 * scale) / (6.5 * scale))))


def short_id(task_id: str) -> str:
    """``…053021-s3phl``: the tail that tells tasks apart (a clipped label would lose it; every id
    starts with ``cgt-``, which would only take room).

    The full id is in the browser's details, and its list's filter searches it.
    """
    return f"…{task_id[-12:]}" if len(task_id) > 20 else task_id


def field_row(layout: bpy.types.UILayout, label: str, value: str, icon: Icon = "NONE") -> None:
    """A read-only "label  value" row in the columns of ``use_property_split`` (label right-aligned)."""
    split = layout.split(factor=0.36, align=True)
    left = split.row()
    left.alignment = "RIGHT"
    left.label(text=label, translate=False)
    split.label(text=value, icon=icon, translate=False)


def draw_import_options(layout: bpy.types.UILayout, prefs: bpy.types.AddonPreferences) -> None:
    """The import options of the preferences (the panel shows the same, as defaults of the button).

    Label and field in two columns, as Blender's own properties editors draw them; the checkboxes
    across the whole width, where their names fit a sidebar at its default width.
    """
    col = layout.column()
    col.use_property_split = True
    col.use_property_decorate = False
    # Its own context: Blender's catalog has "Variant" as a variable (变量), not a model variant.
    col.prop(prefs, "variant", text="Variant", text_ctxt=i18n.CONTEXT)
    col.prop(prefs, "target_size", text="Size")
    col = layout.column(align=True)
    col.prop(prefs, "origin_to_base")
    col.prop(prefs, "merge_empty")
