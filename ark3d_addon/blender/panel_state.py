"""What the sidebar's fields hold: the window manager's ``ark3d`` (the task id field, the
options fold, the Tasks browser's list) and ``ark3d_generate`` (the Generate section's choices).

Window-manager properties, so none of it is saved in a scene ``.blend``.  The panels in ``ui/``
draw them; the operators read them.
"""

import bpy
from bpy.props import BoolProperty, CollectionProperty, EnumProperty, PointerProperty, StringProperty

from ..core.prompting import HELPER_TEXT
from .idea_pictures import image_model_items
from .options import (
    endpoint_property,
    format_menu_property,
    image_path_property,
    model_menu_property,
    parameters_property,
    prompt_property,
    subdivision_property,
)
from .tasks import PROPERTY_GROUPS as TASK_PROPERTY_GROUPS
from .tasks import ArkBrowserState

__all__ = ["CLASSES", "GENERATE", "PANEL", "ArkGenerateState", "ArkImagePath", "ArkPanelState", "generate_state",
           "panel_state", "register", "unregister"]

#: ``WindowManager.ark3d``: the main panel's state.
PANEL = "ark3d"
#: ``WindowManager.ark3d_generate``: the Generate section's state.
GENERATE = "ark3d_generate"


class ArkPanelState(bpy.types.PropertyGroup):
    task_id: StringProperty(  # type: ignore[valid-type]
        name="Task ID",
        description="Paste the task id from the Ark console or API (cgt-...)",
        options={"SKIP_SAVE"},
    )
    browser: PointerProperty(type=ArkBrowserState)  # type: ignore[valid-type]
    show_options: BoolProperty(  # type: ignore[valid-type]
        name="Import Options",
        description="Show the import options (their values are the add-on preferences)",
        default=True,
    )


class ArkImagePath(bpy.types.PropertyGroup):
    path: image_path_property()  # type: ignore[valid-type]


_SOURCES = [
    ("FILE", "File", "An image file: jpg, png, webp or bmp"),
    ("IMAGE", "Image", "An image already in Blender: the Render Result, or one open in the Image Editor"),
    ("CAMERA", "Camera", "Render the active camera's view and send that"),
    ("PROMPT", "Prompt", "Only a prompt: Seedream makes the picture(s), shown before the 3D model is paid for"),
]
_VIEWS = [
    ("FRONT", "Front", "A picture of the front"),
    ("BACK", "Back", "A picture of the back"),
    ("LEFT", "Left", "A picture of the left side"),
    ("RIGHT", "Right", "A picture of the right side"),
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
    # -- from a prompt (source PROMPT): the pictures first (idea_pictures.py, ui/prompt_section.py) --
    use_helper: BoolProperty(  # type: ignore[valid-type]
        name="Prompt Helper",
        description="Add what image-to-3D models need to the prompt (one whole object, centred, plain background)",
        default=True,
    )
    helper_text: StringProperty(  # type: ignore[valid-type]
        name="Helper Text",
        description="What the prompt helper adds; edit it as you like",
        default=HELPER_TEXT,
    )
    image_model: EnumProperty(  # type: ignore[valid-type]
        name="Image Model",
        description="The Seedream model that makes the pictures",
        items=image_model_items,
    )
    through_pictures: BoolProperty(  # type: ignore[valid-type]
        name="See Pictures First",
        description="Make pictures from the prompt and look at them before the 3D model is paid for "
                    "(off: the prompt goes to the 3D model itself)",
        default=False,
    )
    views: EnumProperty(  # type: ignore[valid-type]
        name="Views",
        description="Make a set of pictures of the same object, one per view (two or more), sent together",
        items=_VIEWS,
        options={"ENUM_FLAG"},
        default=set(),
    )


#: In the order they are registered: a group before the groups that point at it.
CLASSES: tuple[type, ...] = (*TASK_PROPERTY_GROUPS, ArkPanelState, ArkImagePath, ArkGenerateState)


def panel_state(context: bpy.types.Context | None = None) -> "ArkPanelState | None":
    wm = (context or bpy.context).window_manager
    return getattr(wm, PANEL, None) if wm is not None else None


def generate_state(context: bpy.types.Context | None = None) -> "ArkGenerateState | None":
    wm = (context or bpy.context).window_manager
    return getattr(wm, GENERATE, None) if wm is not None else None


def register() -> None:
    """The classes are registered; the window manager gets its two pointers."""
    # setattr: the stubs know no WindowManager.ark3d (nor that PointerProperty returns a value)
    setattr(bpy.types.WindowManager, PANEL, PointerProperty(type=ArkPanelState))  # type: ignore[func-returns-value]
    setattr(bpy.types.WindowManager, GENERATE, PointerProperty(type=ArkGenerateState))  # type: ignore[func-returns-value]


def unregister() -> None:
    delattr(bpy.types.WindowManager, GENERATE)
    delattr(bpy.types.WindowManager, PANEL)
