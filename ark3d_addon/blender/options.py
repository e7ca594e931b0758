"""Every import and generate option, defined once: the operators, the panels and the preferences share it.

A property is made by a factory here, so its label, tooltip, items and default cannot drift
between the operator (``ark3d.import_task``, ``ark3d.create_task``), the panel state that
feeds it and the preference that gives its default.  The labels are short, as a sidebar at
its default width shows them.
"""

from dataclasses import dataclass
from typing import Any

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, StringProperty

from ..core.catalog import MODELS

__all__ = [
    "FORMAT_ITEMS",
    "LEVEL_ITEMS",
    "MODEL_ITEMS",
    "ImportOptionProperties",
    "ImportOptions",
    "fileformat_property",
    "image_path_property",
    "merge_empty_property",
    "model_property",
    "options_from_preferences",
    "origin_to_base_property",
    "subdivision_property",
    "target_size_property",
    "variant_choice",
    "variant_property",
]

# -- import options ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportOptions:
    """What to do with the import once it is in the scene (all off: as the file says)."""

    target_size: float = 0.0  # metres for the largest dimension; 0 keeps the size
    merge_empty: bool = False  # parent every root object to one empty named after the task
    origin_to_base: bool = False  # the bottom centre of the bounding box at the 3D cursor


def target_size_property(**options: Any) -> Any:
    return FloatProperty(
        name="Target Size",
        description="Scale the import so that its largest dimension is this long (0: keep the size)",
        default=0.0,
        min=0.0,
        soft_max=100.0,
        subtype="DISTANCE",
        unit="LENGTH",
        **options,
    )


def merge_empty_property(**options: Any) -> Any:
    return BoolProperty(
        name="Group Under an Empty",
        description="Parent the imported objects to one empty named after the task",
        default=False,
        **options,
    )


def origin_to_base_property(**options: Any) -> Any:
    return BoolProperty(
        name="Base at Cursor",
        description="Place the bottom centre of the import's bounding box at the 3D cursor",
        default=False,
        **options,
    )


_VARIANTS = [
    ("pbr", "PBR", "Physically based materials (base colour, roughness, metallic, normal)"),
    ("rgb", "Baked Colour", "Baked colour only"),
]
#: An operator's variant may also defer to the preferences.
_PREFS_VARIANT = ("PREFS", "Preferences", "Use the variant chosen in the add-on preferences")


def variant_property(*, of_operator: bool, **options: Any) -> Any:
    """The preference (PBR by default), or an operator's choice (the preference's by default)."""
    items = [_PREFS_VARIANT, *_VARIANTS] if of_operator else _VARIANTS
    return EnumProperty(
        name="Variant",
        description="Which model to import when the result holds both",
        items=items,
        default=items[0][0],
        **options,
    )


def variant_choice(value: str) -> str | None:
    """An operator's variant as a job takes it (None: the preferences decide)."""
    return None if value == _PREFS_VARIANT[0] else value


class ImportOptionProperties:
    """The import options as operator properties (a mixin).

    A property the caller did not set takes the add-on preferences' value, so the panel's
    defaults apply to the button and to scripts alike, and a script can still override them.
    """

    target_size: target_size_property(options={"SKIP_SAVE"})  # type: ignore[valid-type]
    merge_empty: merge_empty_property(options={"SKIP_SAVE"})  # type: ignore[valid-type]
    origin_to_base: origin_to_base_property(options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def import_options(self, prefs: bpy.types.AddonPreferences | None) -> ImportOptions:
        """The operator's options; those the caller left unset come from ``prefs``."""
        props = getattr(self, "properties", None)

        def pick(name: str) -> Any:
            if prefs is None or (props is not None and props.is_property_set(name)):
                return getattr(self, name)
            return getattr(prefs, name)

        return ImportOptions(
            target_size=max(0.0, float(pick("target_size"))),
            merge_empty=bool(pick("merge_empty")),
            origin_to_base=bool(pick("origin_to_base")),
        )


def options_from_preferences(prefs: bpy.types.AddonPreferences | None) -> ImportOptions:
    """The preferences' import options, for jobs that no operator call configured (resume, API)."""
    if prefs is None:
        return ImportOptions()
    return ImportOptions(
        target_size=max(0.0, float(getattr(prefs, "target_size", 0.0))),
        merge_empty=bool(getattr(prefs, "merge_empty", False)),
        origin_to_base=bool(getattr(prefs, "origin_to_base", False)),
    )


# -- generate options -------------------------------------------------------------------------

MODEL_ITEMS = [
    (MODELS[0], "Seed3D 1.0", "doubao-seed3d-1-0-250928: 30k / 100k / 200k faces (low / medium / high)"),
    (MODELS[1], "Seed3D 2.0", "doubao-seed3d-2-0-260328: 100k / 500k / 1M faces (low / medium / high)"),
]
LEVEL_ITEMS = [
    ("low", "Low", "The fewest faces"),
    ("medium", "Medium", "Ark's default"),
    ("high", "High", "The most faces"),
]
FORMAT_ITEMS = [
    ("glb", "GLB", "glTF binary: meshes, PBR materials and textures in one file"),
    ("obj", "OBJ", "Wavefront OBJ with its MTL and textures"),
    ("usd", "USD", "Universal Scene Description"),
    ("usdz", "USDZ", "USD packed in one file with its textures"),
]


def image_path_property(**options: Any) -> Any:
    return StringProperty(
        name="Image File",
        description="A jpg, png, webp or bmp image of the object: at most 10 MB and 4096 x 4096 pixels",
        subtype="FILE_PATH",
        **options,
    )


def model_property(**options: Any) -> Any:
    return EnumProperty(name="Model", description="The Seed3D model version", items=MODEL_ITEMS,
                        default=MODELS[0], **options)


def subdivision_property(**options: Any) -> Any:
    # "Detail", not Ark's "Subdivision Level": a label the sidebar shows whole.
    return EnumProperty(name="Detail", description="Mesh density of the result (Ark's subdivision level)",
                        items=LEVEL_ITEMS, default="medium", **options)


def fileformat_property(**options: Any) -> Any:
    return EnumProperty(name="Format", description="The format Ark makes the model in", items=FORMAT_ITEMS,
                        default="glb", **options)
