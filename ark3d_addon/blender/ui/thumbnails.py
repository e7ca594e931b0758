"""Pictures of tasks in the interface, through ``bpy.utils.previews``.

Only the small PNGs the background Blender made (``preview.png``, ``input_preview.png``,
see :mod:`...core.assets`) are loaded, and Blender loads them itself when an icon is first
drawn.  A draw asks :func:`icon` per task shown; the answer is cached and the files are looked
at again at most every :data:`RECHECK` seconds (a picture made meanwhile shows up then, or at
once when :func:`forget` is called for it), so a panel draw costs dictionary look-ups.
A task with no picture gets 0 and the caller draws its status icon.
"""

import time
from pathlib import Path
from typing import Any

import bpy
import bpy.utils.previews

from ...core import assets
from ...core.errors import ArkError
from ...core.library import Library
from ..preferences import library_of_preferences
from .progress import redraw_sidebars

__all__ = ["draw_picture", "forget", "icon", "input_icon", "redraw", "register", "unregister"]

#: Seconds before the files of a task are looked at again.
RECHECK = 2.0

_previews: Any = None  # bpy.utils.previews.ImagePreviewCollection while registered
#: (kind, task id) -> (when looked at, icon id or 0)
_cache: dict[tuple[str, str], tuple[float, int]] = {}
#: (kind, task id) -> the key of its loaded picture (named after the file's time: a new picture is
#: a new key, and the old one is released)
_keys: dict[tuple[str, str], str] = {}
_library: list[Any] = [None, 0.0]  # the library and when its root was read


def _library_now() -> Library | None:
    now = time.monotonic()
    if _library[0] is None or now - _library[1] > RECHECK:
        try:
            _library[0] = library_of_preferences()
        except ArkError:
            _library[0] = None
        _library[1] = now
    return _library[0]


def _picture(kind: str, task_id: str) -> Path | None:
    library = _library_now()
    if library is None or not task_id:
        return None
    try:
        folder = library.task_dir(task_id)
    except ArkError:
        return None
    path = folder / (assets.PREVIEW_FILE if kind == "model" else assets.INPUT_PREVIEW)
    return path if path.is_file() else None


def _icon(kind: str, task_id: str) -> int:
    if _previews is None:
        return 0
    now = time.monotonic()
    hit = _cache.get((kind, task_id))
    if hit is not None and now - hit[0] < RECHECK:
        return hit[1]
    path = _picture(kind, task_id)
    icon_id = 0
    if path is not None:
        try:
            key = f"{kind}:{task_id}:{path.stat().st_mtime_ns}"
        except OSError:
            key = ""
        if key:
            old = _keys.get((kind, task_id))
            if old is not None and old != key and old in _previews:
                del _previews[old]  # releases Blender's copy of the old picture
            _keys[(kind, task_id)] = key
            preview = _previews.get(key) or _previews.load(key, str(path), "IMAGE")
            icon_id = preview.icon_id
    _cache[(kind, task_id)] = (now, icon_id)
    return icon_id


def icon(task_id: str) -> int:
    """The task's picture: the model's, else its input image's, else 0."""
    return _icon("model", task_id) or _icon("input", task_id)


def input_icon(task_id: str) -> int:
    """The picture of the image a generate sent, or 0."""
    return _icon("input", task_id)


def draw_picture(layout: bpy.types.UILayout, task_id: str, scale: float = 5.0) -> bool:
    """The task's picture, centred, if it has one yet; False if not (the caller's icons say the state)."""
    picture = icon(task_id) if task_id else 0
    if picture:
        row = layout.row()
        row.alignment = "CENTER"
        row.template_icon(icon_value=picture, scale=scale)
    return bool(picture)


def forget(task_id: str) -> None:
    """A picture of ``task_id`` was made: look at its files at the next draw."""
    _cache.pop(("model", task_id), None)
    _cache.pop(("input", task_id), None)


def redraw() -> None:
    redraw_sidebars(bpy.context.window_manager)


def register() -> None:
    global _previews
    _previews = bpy.utils.previews.new()


def unregister() -> None:
    global _previews
    if _previews is not None:
        bpy.utils.previews.remove(_previews)
    _previews = None
    _cache.clear()
    _keys.clear()
    _library[0] = None
