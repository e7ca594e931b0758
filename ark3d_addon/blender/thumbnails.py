"""Pictures of tasks in the interface, through ``bpy.utils.previews``.

Only the small PNGs the background Blender made (``preview.png``, ``input_preview.png``,
see :mod:`..core.assets`) are loaded, and Blender loads them itself when an icon is first
drawn.  A draw asks :func:`icon` per task shown; the answer is cached and the files are looked
at again at most every :data:`RECHECK` seconds (a picture made meanwhile shows up then, or at
once when :func:`forget` is called for it), so a panel draw costs dictionary look-ups.
A task with no picture gets 0 and the caller draws its status icon.  What was loaded and looked
up lives in the add-on's state (:class:`.Pictures`); ``ui/pictures.py`` draws them.
"""

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import bpy.utils.previews

from ..core.errors import ArkError
from . import state
from .preferences import library
from .progress import redraw_sidebars

if TYPE_CHECKING:
    from ..core.library import Library

__all__ = ["Pictures", "forget", "icon", "input_icon", "redraw", "register", "unregister"]

#: Seconds before the files of a task are looked at again.
RECHECK = 2.0


class Pictures:
    """The tasks' pictures loaded into Blender (``bpy.utils.previews``), and what was looked up
    (a part of the add-on's state: see :mod:`.state`)."""

    def __init__(self) -> None:
        self.previews: Any = None  # an ImagePreviewCollection while enabled
        #: (kind, task id) -> (when looked at, icon id or 0)
        self.looked_up: dict[tuple[str, str], tuple[float, int]] = {}
        #: (kind, task id) -> the key of its loaded picture (named after the file's time)
        self.keys: dict[tuple[str, str], str] = {}
        self.library: Library | None = None
        self.library_read_at = -1e9


def _mine() -> Pictures:
    return state.get().part(Pictures)


def _library_now(pictures: Pictures) -> "Library | None":
    now = time.monotonic()
    if now - pictures.library_read_at > RECHECK:
        try:
            pictures.library = library()
        except ArkError:
            pictures.library = None
        pictures.library_read_at = now
    return pictures.library


def _picture(pictures: Pictures, kind: str, task_id: str) -> Path | None:
    from ..core import assets  # on first use: enabling the add-on does not need it

    where = _library_now(pictures)
    if where is None or not task_id:
        return None
    try:
        folder = where.task_dir(task_id)
    except ArkError:
        return None
    path = folder / (assets.PREVIEW_FILE if kind == "model" else assets.INPUT_PREVIEW)
    return path if path.is_file() else None


def _icon(kind: str, task_id: str) -> int:
    pictures = _mine()
    previews = pictures.previews
    if previews is None:
        return 0
    now = time.monotonic()
    hit = pictures.looked_up.get((kind, task_id))
    if hit is not None and now - hit[0] < RECHECK:
        return hit[1]
    path = _picture(pictures, kind, task_id)
    icon_id = 0
    if path is not None:
        try:
            key = f"{kind}:{task_id}:{path.stat().st_mtime_ns}"
        except OSError:
            key = ""
        if key:
            old = pictures.keys.get((kind, task_id))
            if old is not None and old != key and old in previews:
                del previews[old]  # releases Blender's copy of the old picture
            pictures.keys[(kind, task_id)] = key
            preview = previews.get(key) or previews.load(key, str(path), "IMAGE")
            icon_id = preview.icon_id
    pictures.looked_up[(kind, task_id)] = (now, icon_id)
    return icon_id


def icon(task_id: str) -> int:
    """The task's picture: the model's, else its input image's, else 0."""
    return _icon("model", task_id) or _icon("input", task_id)


def input_icon(task_id: str) -> int:
    """The picture of the image a generate sent, or 0."""
    return _icon("input", task_id)


def forget(task_id: str) -> None:
    """A picture of ``task_id`` was made: look at its files at the next draw."""
    looked_up = _mine().looked_up
    looked_up.pop(("model", task_id), None)
    looked_up.pop(("input", task_id), None)


def redraw() -> None:
    redraw_sidebars(bpy.context.window_manager)


def register() -> None:
    _mine().previews = bpy.utils.previews.new()


def unregister() -> None:
    """Blender's copies of the pictures are released (the state that knew them is dropped next)."""
    pictures = _mine()
    if pictures.previews is not None:
        bpy.utils.previews.remove(pictures.previews)
    pictures.previews = None
