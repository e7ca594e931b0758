"""The Blender layer: preferences, operators, the runner, panels and the importer.

Only this package imports ``bpy``.  It moves data between Blender and the core: an operator
turns what the user asked into :class:`~ark3d_addon.core.job.ImportJob` work, the runner
runs it in worker threads and turns its states into the UI, and the importer puts the result
into the scene on the main thread.  ``ui/`` only draws.  What the add-on remembers while it is
enabled is one object (:mod:`.state`), made here by :func:`register` and dropped by
:func:`unregister`.

Enabling imports only what the registered classes need; the rest (the client, the importer,
the job builder, the asset maker) is imported by the functions that use it, on first use.
"""

import bpy

from . import (
    asset_library,
    browser_operators,
    generate_operators,
    i18n,
    idea_pictures,
    operators,
    panel_state,
    preferences,
    runner,
    state,
    thumbnails,
)
from .ui import browser, generate, panel

_CLASSES = (
    preferences.ArkPreferences,
    *panel_state.CLASSES,
    *runner.CLASSES,
    *operators.CLASSES,
    *browser_operators.CLASSES,
    *generate_operators.CLASSES,
    *browser.CLASSES,
    panel.ARK3D_PT_import,
    *generate.PANELS,
    *browser.PANELS,
)


def register() -> None:
    state.create()
    i18n.register()
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    panel_state.register()
    runner.register()
    thumbnails.register()
    idea_pictures.register()
    asset_library.register()


def unregister() -> None:
    runner.unregister()  # first: no job, loop or timer may outlive the code below
    asset_library.unregister()
    idea_pictures.unregister()
    thumbnails.unregister()
    panel_state.unregister()
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
    i18n.unregister()
    state.drop()
