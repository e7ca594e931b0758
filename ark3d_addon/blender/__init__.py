"""The Blender layer: preferences, operators, the runner, panels and the importer.

Only this package imports ``bpy``.  It moves data between Blender and the core: an operator
turns what the user asked into :class:`~ark3d_addon.core.job.ImportJob` work, the runner
runs it in worker threads and turns its states into the UI, and the importer puts the result
into the scene on the main thread.
"""

import bpy

from . import asset_library, i18n, operators, preferences, runner
from .ui import browser, generate, panel, thumbnails

_CLASSES = (
    preferences.ArkPreferences,
    preferences.ARK3D_OT_open_preferences,
    *browser.PROPERTY_GROUPS,
    panel.ArkPanelState,
    *runner.CLASSES,
    *operators.CLASSES,
    *generate.CLASSES,
    *browser.CLASSES,
    panel.ARK3D_PT_import,
    *generate.PANELS,
    *browser.PANELS,
)


#: ``WindowManager.ark3d``: the panel's state (the task id field).
_STATE = "ark3d"


def register() -> None:
    i18n.register()
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    # setattr: the stubs know no WindowManager.ark3d (nor that PointerProperty returns a value)
    state = bpy.props.PointerProperty(type=panel.ArkPanelState)  # type: ignore[func-returns-value]
    setattr(bpy.types.WindowManager, _STATE, state)
    generate_state = bpy.props.PointerProperty(type=generate.ArkGenerateState)  # type: ignore[func-returns-value]
    setattr(bpy.types.WindowManager, generate.STATE, generate_state)
    runner.register()
    thumbnails.register()
    asset_library.register()


def unregister() -> None:
    runner.unregister()  # first: no job, loop or timer may outlive the code below
    asset_library.unregister()
    thumbnails.unregister()
    browser.status.job = None
    delattr(bpy.types.WindowManager, generate.STATE)
    delattr(bpy.types.WindowManager, _STATE)
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
    i18n.unregister()
