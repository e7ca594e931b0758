"""The library as Blender's asset library "Ark 3D", and the queue of pictures and asset files to make.

Pictures and asset files are made by a background Blender process (:mod:`.asset_maker`), one
at a time, started and awaited by a worker thread the runner polls like any background call:
the user's main thread only submits the work and, once it has ended, shows the new pictures.

- After every import or download (:func:`after_result`), the task's picture and asset are
  made unless they are up to date (a re-import costs one look at two file times).
- A generate's input image is kept (:func:`keep_input`) and moved into the task's folder as
  soon as Ark has given the task id (:func:`adopt_inputs`), with a small copy to show.
- Turning the preference on (and enabling the add-on with it on) registers the folder as the
  asset library "Ark 3D" and catches up with results already in the library, newest first.

The entry in the Preferences' *File Paths > Asset Libraries* is removed when the add-on is
disabled or the preference turned off: it is the add-on's, and an entry left pointing at a
folder nothing updates any more would be a surprise.  The files stay on disk, so the folder
can still be added by hand.  Blender saves the preferences when it quits *before* add-ons
are disabled, so a Blender restarted with the add-on on finds its entry as it was.
"""

import sys
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy

from ..core.errors import ArkError
from . import runner, state, thumbnails
from .preferences import get_preferences, library

if TYPE_CHECKING:
    from ..core.job import ImportJob
    from ..core.library import Library

__all__ = ["LIBRARY_NAME", "AssetQueue", "adopt_inputs", "after_result", "catch_up", "enabled", "keep_input", "make",
           "register", "remove_library", "sync_library", "unregister"]

LIBRARY_NAME = "Ark 3D"
#: The add-on's own folder: the background Blender loads the package from there.
PACKAGE_DIR = Path(__file__).resolve().parents[1]


class AssetQueue:
    """The pictures and asset files being made: generate inputs waiting for their task id, the task
    ids queued (``*`` for the catch-up), and the lock that runs one background Blender at a time
    (a part of the add-on's state: see :mod:`.state`)."""

    def __init__(self) -> None:
        self.inputs: weakref.WeakKeyDictionary[ImportJob, Path] = weakref.WeakKeyDictionary()
        self.making: set[str] = set()
        self.one_process = threading.Lock()


def _mine() -> AssetQueue:
    return state.get().part(AssetQueue)


def enabled(context: bpy.types.Context | None = None) -> bool:
    try:
        return bool(get_preferences(context).use_asset_library)
    except ArkError:
        return False


# -- the asset library entry -----------------------------------------------------------------------


def _entries() -> Any:
    """The preferences' asset libraries.  Blender 3.x's collection has no ``new()``: there the
    Preferences' own operator adds the entry, which needs a window (see :func:`register`)."""
    prefs = bpy.context.preferences
    return prefs.filepaths.asset_libraries if prefs is not None else None


def sync_library(context: bpy.types.Context | None = None) -> None:
    """The "Ark 3D" entry as the preference says: pointing at the library folder, or gone."""
    if not enabled(context):
        remove_library()
        return
    libraries = _entries()
    if libraries is None:
        return
    root = library(context).root
    root.mkdir(parents=True, exist_ok=True)
    entry = libraries.get(LIBRARY_NAME)
    if entry is None:
        if hasattr(libraries, "new"):
            entry = libraries.new(name=LIBRARY_NAME, directory=str(root))
        else:  # Blender 3.x: only the operator adds one (named after the folder)
            bpy.ops.preferences.asset_library_add(directory=str(root))
            entry = libraries[len(libraries) - 1]
            entry.name = LIBRARY_NAME
    if Path(entry.path) != root:
        entry.path = str(root)
    if hasattr(entry, "import_method"):
        # A dragged result is the user's own copy, sharing its textures.  Blender 5.0+ refuses
        # "Append (Reuse Data)" for a library (only LINK, APPEND and PACK are accepted there):
        # a plain copy then, still the user's own.
        try:
            entry.import_method = "APPEND_REUSE"
        except TypeError:
            entry.import_method = "APPEND"


def remove_library() -> None:
    libraries = _entries()
    if libraries is None or libraries.get(LIBRARY_NAME) is None:
        return
    if hasattr(libraries, "remove"):
        libraries.remove(libraries[LIBRARY_NAME])
    else:  # Blender 3.x
        bpy.ops.preferences.asset_library_remove(index=libraries.find(LIBRARY_NAME))


# -- inputs -------------------------------------------------------------------------------------------


def keep_input(job: "ImportJob", image: Path) -> None:
    """Keep a copy of a generate's input image until the job knows its task id."""
    import shutil

    from .image_source import temp_png

    copy = temp_png("input").with_suffix(image.suffix.lower() or ".png")
    shutil.copyfile(image, copy)
    _mine().inputs[job] = copy


def adopt_inputs(context: bpy.types.Context) -> None:
    """Inputs whose job now has a task id go to the library (in the worker), with their small copy."""
    inputs = _mine().inputs
    for job, image in list(inputs.items()):
        if job.task_id:
            del inputs[job]
            _submit(context, [job.task_id], job.library, inputs={job.task_id: image})


# -- the queue ----------------------------------------------------------------------------------------


def after_result(context: bpy.types.Context, task_id: str, where: "Library") -> None:
    """A result is (again) in the library: make its picture and asset unless they are up to date.

    Only in a Blender with windows: without one the runner would wait for the process, and a
    script importing results would stall seconds per result behind its own back (scripts call
    :func:`make` -- ``ark.make_assets()`` -- when they want them).
    """
    if enabled(context) and not bpy.app.background:
        _submit(context, [task_id], where)


def make(context: bpy.types.Context, task_ids: Iterable[str] | None = None) -> None:
    """Make what is missing for ``task_ids`` (None: the whole library, newest first).

    With a window the runner runs it in the background; without one it returns when done.
    """
    if enabled(context):
        _submit(context, None if task_ids is None else list(task_ids), library(context))


def catch_up(context: bpy.types.Context | None = None) -> None:
    """Every result of the library without a picture or an up-to-date asset, newest first."""
    make(context or bpy.context)


def _submit(context: bpy.types.Context, task_ids: Iterable[str] | None, where: "Library",
            inputs: dict[str, Path] | None = None) -> None:
    """Submit one background call making ``task_ids`` (None: the catch-up) and start the runner."""
    from ..core.worker import Worker  # on first use: enabling the add-on does not need it

    queue = _mine()
    wanted = ["*"] if task_ids is None else [t for t in task_ids if t not in queue.making or (inputs and t in inputs)]
    if not wanted:
        return
    queue.making.update(wanted)
    # off, or an input image without a window: the image is kept, nothing is made
    render = enabled(context) and (inputs is None or not bpy.app.background)
    todo, one_process = None if task_ids is None else wanted, queue.one_process

    def make_missing(cancel: threading.Event) -> list[str]:
        with one_process:  # one background Blender at a time: two cores render one picture faster
            return _make_in_background(where, todo, dict(inputs or {}), render, cancel)

    def ended(work: runner.Work) -> None:
        queue.making.difference_update(wanted)
        _made(work)

    call: Worker[list[str]] = Worker(make_missing, name="ark3d-assets")
    runner.submit(runner.Work(call=call, after=ended))
    runner.start(context)


def _make_in_background(where: "Library", task_ids: list[str] | None, inputs: dict[str, Path], render: bool,
                        cancel: threading.Event) -> list[str]:
    """In the worker: store the input images, then run the background Blender for what is missing
    (``task_ids`` None: the whole library); returns the task ids it was run for."""
    from ..core import assets
    from .asset_maker import INTERNAL_ERROR, command

    for task_id, image in inputs.items():
        assets.store_input(where, task_id, image)
        image.unlink(missing_ok=True)
    ids = assets.pending(where) if task_ids is None else task_ids
    todo = [t for t in ids if render and (assets.needs_asset(where, t) or assets.needs_input_preview(where, t))]
    if todo and not cancel.is_set():
        status, output = assets.run_process(command(PACKAGE_DIR, where.root, todo), cancel)
        if status != 0 and not cancel.is_set():
            # a bug's traceback whole; else the lines saying which result has no asset, and why
            said = output if INTERNAL_ERROR in output else "\n".join(
                line for line in output.splitlines() if line.startswith("ark3d: no asset"))
            print(f"Ark 3D: pictures or asset files could not be made:\n{said}", file=sys.stderr)
    return todo


def _made(work: runner.Work) -> None:
    """New pictures: forget the old ones and redraw (main thread)."""
    call = work.call
    for task_id in (call.result or []) if call is not None else []:
        thumbnails.forget(task_id)
    thumbnails.redraw()


# -- the add-on's life --------------------------------------------------------------------------------


def _on_result(context: bpy.types.Context, job: "ImportJob") -> None:
    if job.task_id:
        after_result(context, job.task_id, job.library)


def _on_preferences(context: bpy.types.Context) -> None:
    """The preference or the folder changed: the entry follows, and (on) the library is caught up with."""
    sync_library(context)
    catch_up(context)


def register() -> None:
    hooks = state.get().hooks
    hooks.result.append(_on_result)
    hooks.tick.append(adopt_inputs)
    hooks.startup.append(_on_preferences)
    hooks.library.append(_on_preferences)
    libraries = _entries()
    if libraries is not None and not hasattr(libraries, "new"):
        return  # Blender 3.x adds one by an operator, which cannot run yet: the start-up hook does it
    try:
        sync_library()
    except Exception:  # the rest of the add-on works without it: said in the console, not fatal
        import traceback

        traceback.print_exc()


def unregister() -> None:
    """The entry goes, and the input images still waiting (the hooks go with the state)."""
    remove_library()
    for image in _mine().inputs.values():
        image.unlink(missing_ok=True)
