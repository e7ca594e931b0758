"""Ark 3D for scripts: ``import_task``, ``import_tasks``, ``create_task``, ``list_models``, ``list_tasks``,
``cancel_task``, ``make_assets``, ``preview_path``.

    import bl_ext.user_default.ark3d.api as ark   # Blender 4.2+ (the extension)
    import ark3d_addon.api as ark                 # Blender 3.4-4.1 (the legacy add-on)
    ark.import_task("cgt-20251124123456-abcde")

Importing this module needs no ``bpy`` (so the package and its command line work without
Blender); the functions come from ``blender/scripting.py`` on first use, inside Blender with the
add-on enabled.  The README's "Scripting API" section has examples.
"""

from typing import Any

#: What the module offers, loaded lazily (module ``__getattr__``) from ``blender/scripting.py``.
_EXPORTS = (
    "MODELS",
    "ArkError",
    "ImportJob",
    "Imported",
    "Task",
    "cancel_task",
    "create_from_prompt",
    "create_task",
    "import_task",
    "import_tasks",
    "list_models",
    "list_tasks",
    "make_assets",
    "make_pictures",
    "preview_path",
    "resume_journaled",
)
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        from .blender import scripting

        return getattr(scripting, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(_EXPORTS)
