"""The Blender layer: preferences, operators, panel and importer.

Only this package imports ``bpy``.  It moves data between Blender and the core: the
operator turns a task id into an :class:`~ark3d_addon.core.job.ImportJob` run in a worker
thread, and the job's result into objects in the scene on the main thread.
"""

import bpy

from . import jobs, operators, panel, preferences

_CLASSES = (
    preferences.ArkPreferences,
    preferences.ARK3D_OT_open_preferences,
    panel.ArkPanelState,
    operators.ARK3D_OT_import_task,
    operators.ARK3D_OT_cancel_import,
    panel.ARK3D_PT_import,
)


#: ``WindowManager.ark3d``: the panel's state (the task id field).
_STATE = "ark3d"


def register() -> None:
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    # setattr: the stubs know no WindowManager.ark3d (nor that PointerProperty returns a value)
    state = bpy.props.PointerProperty(type=panel.ArkPanelState)  # type: ignore[func-returns-value]
    setattr(bpy.types.WindowManager, _STATE, state)
    if jobs.on_load_pre not in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.append(jobs.on_load_pre)


def unregister() -> None:
    # Stop workers first: a job must not outlive the code that would import its result.
    jobs.cancel_all(wait=2.0)
    if jobs.on_load_pre in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.remove(jobs.on_load_pre)
    delattr(bpy.types.WindowManager, _STATE)
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
