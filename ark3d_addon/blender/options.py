"""Every import and generate option, defined once: the operators, the panels and the preferences share it.

A property is made by a factory here, so its label, tooltip, items and default cannot drift
between the operator (``ark3d.import_task``, ``ark3d.create_task``), the panel state that
feeds it and the preference that gives its default.  The labels are short, as a sidebar at
its default width shows them.
"""

from typing import TYPE_CHECKING, Any, NamedTuple

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, StringProperty

from ..core.errors import ArkError, ErrorCode
from ..core.messages import msg, plural
from . import i18n, state
from .progress import redraw_sidebars

if TYPE_CHECKING:
    from ..core.catalog import ModelInfo
    from ..core.worker import Worker

__all__ = [
    "LEVEL_ITEMS",
    "ModelMenu",
    "apply_model_list",
    "ImportOptionProperties",
    "ImportOptions",
    "endpoint_property",
    "fileformat_property",
    "format_menu_property",
    "image_path_property",
    "merge_empty_property",
    "model_menu_property",
    "model_property",
    "options_from_preferences",
    "origin_to_base_property",
    "parameters_property",
    "prompt_property",
    "set_model_menu",
    "subdivision_property",
    "target_size_property",
    "variant_choice",
    "variant_property",
]

# -- import options ---------------------------------------------------------------------------


class ImportOptions(NamedTuple):
    """What to do with the import once it is in the scene (all off: as the file says).

    A named tuple, not a frozen dataclass: it is made when the add-on is enabled (see :mod:`.state`).
    """

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
#
# The model menu comes from the catalog (core/catalog.py), narrowed to what Ark's own list
# (GET /models) says the account's region offers once it was asked (set_model_menu), retiring
# models marked.  The format menu follows the chosen model.  The operator and the scripting
# API take plain strings (a model id, a format name), checked by the catalog, so a script is
# never at the mercy of a menu's current items.

#: Every format a model may make, in a fixed order: a menu item keeps its number when the model changes.
_FORMATS = {
    "glb": ("GLB", "glTF binary: meshes, PBR materials and textures in one file"),
    "obj": ("OBJ", "Wavefront OBJ with its MTL and textures"),
    "usd": ("USD", "Universal Scene Description"),
    "usdz": ("USDZ", "USD packed in one file with its textures"),
    "fbx": ("FBX", "Autodesk FBX, with its textures"),
    "stl": ("STL", "Triangles only, no materials (for 3D printing)"),
}
LEVEL_ITEMS = [
    ("DEFAULT", "Default", "The density the model chooses by itself"),
    ("low", "Low", "The fewest faces"),
    ("medium", "Medium", "More faces"),
    ("high", "High", "The most faces"),
]

#: Each model's format menu (a constant: the catalog decides).


class ModelMenu:
    """The Generate section's model menu: Ark's list once asked (else the built-in one), the
    items Blender shows (Blender keeps no copy of a dynamic menu's strings), and what the last
    model list refresh said (a part of the add-on's state: see :mod:`.state`)."""

    def __init__(self) -> None:
        self.models: list[ModelInfo] = []
        self.items: list[tuple[str, str, str, str, int]] = []
        #: Each model's format menu, made on first use (the catalog decides it).
        self.formats: dict[str, list[tuple[str, str, str, str, int]]] = {}
        self.status = state.StatusLine()


def set_model_menu(infos: "list[ModelInfo]") -> None:
    """What the model menu offers: Ark's list (3D models, retiring marked), or the built-in one.

    Kept in the add-on's state (:class:`.state.ModelMenu`): Blender keeps no copy of a dynamic
    menu's strings, so they live there while it shows them.
    """
    from ..core.catalog import CATALOG, available_models  # on first use: enabling the add-on does not need it

    menu = state.get().part(ModelMenu)
    menu.models = infos or available_models(None)
    menu.items.clear()
    for info in menu.models:
        spec = info.spec
        name = spec.name + (" (retiring)" if info.retiring else " (unlisted)" if info.unlisted else "")
        # The tooltip: the id, the faces of each level (low, medium, high) and the price.
        levels = [str(spec.faces({spec.level_flag: level})) for level in ("low", "medium", "high")
                  if spec.level_flag]
        hint = " · ".join([spec.id, *([" / ".join(levels)] if levels else []), str(spec.cost({}))])
        menu.items.append((spec.id, name, hint, "ERROR" if info.retiring else "NONE", CATALOG.index(spec)))


def apply_model_list(context: bpy.types.Context, call: "Worker[Any]") -> list[tuple[str, str]]:
    """Ark's model list, fetched: the menu learns what Ark offers (offline or empty, it keeps the
    built-in list), and the Generate section's status line says so (main thread; one report line)."""
    infos: list[ModelInfo] | None = call.result
    if infos is None:
        error = call.error or ArkError(msg("The request failed"), code=ErrorCode.UNKNOWN)
        said = msg("Ark's model list could not be read, the built-in list is shown: {reason}", reason=error)
        level = "WARNING"
    elif not infos:
        said = msg("Ark lists no 3D model this add-on knows for your region: the built-in list is shown")
        level = "WARNING"
    else:
        retiring = [info.spec.name for info in infos if info.retiring]
        unlisted = [info.spec.name for info in infos if info.unlisted]
        said = plural(len(infos) - len(unlisted), "Ark offers {n} 3D model", "Ark offers {n} 3D models")
        if retiring:
            said = msg("{offered} · {retiring}", offered=said,
                       retiring=msg("retiring: {models}", models=", ".join(retiring)))
        if unlisted:
            said = msg("{offered} · {unlisted}", offered=said,
                       unlisted=msg("not in Ark's list, still offered: {models}", models=", ".join(unlisted)))
        level = "INFO"
    set_model_menu(infos or [])
    state.get().part(ModelMenu).status.say(said, level)  # rendered as the panel draws
    redraw_sidebars(context.window_manager)
    return [(level, i18n.report(said))]


def _models(_self: Any, _context: Any) -> list[tuple[str, str, str, str, int]]:
    menu = state.get().part(ModelMenu)
    if not menu.items:
        set_model_menu(menu.models)
    return menu.items


def _formats(self: Any, _context: Any) -> list[tuple[str, str, str, str, int]]:
    from ..core.catalog import CATALOG, DEFAULT_MODEL

    menu = state.get().part(ModelMenu)
    if not menu.formats:
        menu.formats = {spec.id: [(f, _FORMATS[f][0], _FORMATS[f][1], "NONE", list(_FORMATS).index(f))
                                  for f in spec.formats] for spec in CATALOG}
    return menu.formats.get(getattr(self, "model", ""), menu.formats[DEFAULT_MODEL])


def image_path_property(**options: Any) -> Any:
    return StringProperty(
        name="Image File",
        description="An image of the object (a file, or an https link), within the chosen model's limits",
        subtype="FILE_PATH",
        **options,
    )


def model_menu_property(**options: Any) -> Any:
    """The panel's model menu (the operator takes the id as text: :func:`model_property`)."""
    return EnumProperty(name="Model", description="The 3D model on Ark (retiring ones are marked)", items=_models,
                        **options)


def model_property(**options: Any) -> Any:
    return StringProperty(name="Model",
                          description="The id of the 3D model on Ark (see the model menu; empty: the default model)",
                          default="", **options)


def subdivision_property(**options: Any) -> Any:
    # "Detail", not Ark's "Subdivision Level": a label the sidebar shows whole.
    return EnumProperty(name="Detail", description="Mesh density of the result (Ark's subdivision level)",
                        items=LEVEL_ITEMS, default="DEFAULT", **options)


def format_menu_property(**options: Any) -> Any:
    """The panel's format menu: the chosen model's formats."""
    return EnumProperty(name="Format", description="The format Ark makes the model in", items=_formats, **options)


def fileformat_property(**options: Any) -> Any:
    return StringProperty(name="Format", description="The format Ark makes the model in (empty: the model's default)",
                          default="", **options)


def prompt_property(**options: Any) -> Any:
    return StringProperty(name="Prompt", description="What to make: Hyper3D reads it; with the Prompt source, "
                          "Seedream makes pictures of it first, for any model", **options)


def parameters_property(**options: Any) -> Any:
    return StringProperty(name="Parameters", description="More of the model's documented parameters, as --name "
                          "value (e.g. --mesh_mode Raw)", **options)


def endpoint_property(**options: Any) -> Any:
    return StringProperty(name="Endpoint", description="An endpoint id (ep-...) where your account must call the model "
                          "through one; empty: the model id", **options)
