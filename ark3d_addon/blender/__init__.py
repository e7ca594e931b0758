"""The Blender layer: preferences, operators, panel and importer.

Only this package imports ``bpy``.  It moves data between Blender and the core: the
operator turns a task id into an :class:`~ark3d_addon.core.job.ImportJob` run in a worker
thread, and the job's result into objects in the scene on the main thread.
"""

import bpy

from . import jobs, operators, preferences, translations
from .ui import browser, generate, panel

_CLASSES = (
    preferences.ArkPreferences,
    preferences.ARK3D_OT_open_preferences,
    *browser.PROPERTY_GROUPS,
    panel.ArkPanelState,
    operators.ARK3D_OT_import_task,
    operators.ARK3D_OT_create_task,
    operators.ARK3D_OT_cancel_import,
    *generate.CLASSES,
    *browser.CLASSES,
    panel.ARK3D_PT_import,
    *generate.PANELS,
    *browser.PANELS,
)


#: ``WindowManager.ark3d``: the panel's state (the task id field).
_STATE = "ark3d"


def register() -> None:
    translations.register()
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    # setattr: the stubs know no WindowManager.ark3d (nor that PointerProperty returns a value)
    state = bpy.props.PointerProperty(type=panel.ArkPanelState)  # type: ignore[func-returns-value]
    setattr(bpy.types.WindowManager, _STATE, state)
    generate_state = bpy.props.PointerProperty(type=generate.ArkGenerateState)  # type: ignore[func-returns-value]
    setattr(bpy.types.WindowManager, generate.STATE, generate_state)
    if jobs.on_load_pre not in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.append(jobs.on_load_pre)
    # Resume the jobs a previous Blender left unfinished -- only with a window: the bpy module
    # never runs timers, and a timer still registered when it exits hangs the process.
    if not bpy.app.background and not bpy.app.timers.is_registered(jobs.resume_on_start):
        # persistent: a .blend given on the command line loads after register(), which would drop it
        bpy.app.timers.register(jobs.resume_on_start, first_interval=jobs.RESUME_DELAY, persistent=True)


def unregister() -> None:
    if bpy.app.timers.is_registered(jobs.resume_on_start):
        bpy.app.timers.unregister(jobs.resume_on_start)
    # Stop workers first: a job must not outlive the code that would import its result.  They
    # are stopped, not cancelled: journal and partial download stay for the next Blender.
    jobs.cancel_all(wait=2.0)
    browser.cancel_refresh()
    if jobs.on_load_pre in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.remove(jobs.on_load_pre)
    delattr(bpy.types.WindowManager, generate.STATE)
    delattr(bpy.types.WindowManager, _STATE)
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
    translations.unregister()
