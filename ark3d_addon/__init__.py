"""Ark 3D for Blender: import Volcengine Ark Seed3D results by task id.

This package imports without ``bpy``: ``core`` is plain Python (the Ark client, polling,
download, archive handling, the library) and ``python -m ark3d_addon`` is a command line
for pipelines.  The Blender layer in ``blender/`` is loaded only by :func:`register`.

``bl_info`` serves Blender 3.4-4.1, which load this folder as a legacy add-on; Blender 4.2+
installs it as the extension described by ``blender_manifest.toml`` and ignores ``bl_info``.
"""

bl_info = {
    "name": "Ark 3D",
    "author": "ark3d contributors",
    "version": (1, 0, 0),
    "blender": (3, 4, 0),
    "location": "3D Viewport > Sidebar > Ark 3D",
    "description": "Make 3D models on Volcengine Ark from text, images or task ids",
    "category": "Import-Export",
}

__version__ = "1.0.0"

from . import api as api  # noqa: E402 - the scripting API (needs no bpy until used): ark3d_addon.api.import_task(...)


def register() -> None:
    from .blender import register as _register

    _register()


def unregister() -> None:
    from .blender import unregister as _unregister

    _unregister()
