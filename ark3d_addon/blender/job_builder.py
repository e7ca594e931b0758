"""Jobs built from what the user asked and the preferences, on the main thread, before any request.

Every flow is the same job machine (:class:`ImportJob`): an import of one task id or of a
pasted list of them (a batch), a generate (the image is checked and encoded here, the task is
created by the job), and the jobs a restarted Blender resumes from the library's journal.
Building refuses early what cannot work (no key, online access off, a task already running
here) so nothing is half started; :mod:`.runner` then runs what was built.  A job takes the
settings (how to reach Ark) and the library (where the result goes), both read from the
preferences (:func:`~.preferences.read_settings`, :func:`~.preferences.library`).
"""

import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import bpy

from ..core.catalog import DEFAULT_MODEL, find_model
from ..core.create import create_body
from ..core.image_input import image_input
from ..core.job import ImportJob
from ..core.library import JobJournal, Library
from ..core.task import parse_task_ids
from . import env, image_source
from .preferences import library, read_settings

__all__ = ["create_job", "import_jobs", "in_library", "resume_jobs"]


def in_library(library: Library, task_id: str) -> bool:
    """The result is on disk (extracted, or its zip): importing it needs no network."""
    return library.is_extracted(task_id) or library.zip_path(task_id).exists()


def import_jobs(context: bpy.types.Context, text: str, variant: str | None = None, *,
                busy: Collection[str] = ()) -> list[ImportJob]:
    """One journaled job per task id of ``text`` (one id or a pasted list), but those in ``busy``.

    Raises when every id is busy (a second import of a running task) or when one needs the
    network and Blender may not use it.
    """
    task_ids = parse_task_ids(text)
    running = [t for t in task_ids if t in busy]
    if running and len(running) == len(task_ids):
        raise env.busy_error(running[0])
    task_ids = [t for t in task_ids if t not in running]
    settings, where = read_settings(context), library(context)
    if not all(in_library(where, t) for t in task_ids):
        env.require_network(settings)  # only now: results in the library import offline
    return [ImportJob(t, settings, where, variant=variant, journal=True) for t in task_ids]


def create_job(context: bpy.types.Context, *, image_path: str = "", image_name: str = "", use_camera: bool = False,
               images: Sequence[str] = (), model: str = "", subdivisionlevel: str = "",
               fileformat: str = "", prompt: str = "", parameters: str = "", endpoint: str = "",
               variant: str | None = None, keep_input: Callable[[ImportJob, Path], None] | None = None) -> ImportJob:
    """Check the inputs against the model's rules, encode the images, make the generate job (no request yet).

    The first image is ``image_path`` (a file or an https link), ``image_name`` (an image of
    this file) or the active camera's view; ``images`` are more, as files or links, where the
    model takes several.  ``parameters`` holds the model's other documented flags as typed
    (``--mesh_mode Raw``); ``subdivisionlevel`` and ``fileformat`` empty (or ``DEFAULT``) leave
    the model's defaults.  The catalog checks everything before anything is sent.
    ``keep_input`` gets the job and the first image's file before a temporary one is removed.
    """
    spec = find_model(model or DEFAULT_MODEL)
    params = spec.parse(parameters)
    if fileformat:
        params[spec.format_flag] = fileformat
    if subdivisionlevel and subdivisionlevel != "DEFAULT" and spec.level_flag:
        params[spec.level_flag] = subdivisionlevel
    settings = read_settings(context)
    env.require_network(settings)
    urls: list[str] = []
    first = image_path.strip()
    path: Path | None = None
    temporary = False
    nothing = not (first or image_name or use_camera or any(str(i).strip() for i in images))
    try:
        if image_name or use_camera or (first and not _is_link(first)) or (nothing and spec.min_images):
            # (with nothing given, the image source's own refusal says what to pick)
            path, temporary = image_source.resolve(context, image_path=first, image_name=image_name,
                                                   use_camera=use_camera)
            urls.append(image_input(path, spec))
        elif first:
            urls.append(image_input(first, spec))
        for more in images:
            text = str(more).strip()
            if text:
                urls.append(image_input(text if _is_link(text) else os.path.normpath(bpy.path.abspath(text)), spec))
        body = create_body(spec.id, urls, params=params, prompt=prompt.strip(), endpoint=endpoint.strip())
        job = ImportJob(None, settings, library(context), variant=variant, create=body, journal=True)
        if keep_input is not None and path is not None:
            keep_input(job, path)
    finally:
        if temporary and path is not None:
            path.unlink(missing_ok=True)
    return job


def _is_link(text: str) -> bool:
    return text.lower().startswith(("https://", "http://"))


def resume_jobs(context: bpy.types.Context, *, busy: Collection[str] = ()) -> list[ImportJob]:
    """Jobs for the journal's unfinished entries that can run now.

    Skipped (and left journaled for later): those in ``busy`` (running here) or held by another
    Blender, and those that need the network while Blender may not use it or has no key.
    """
    settings, where = read_settings(context), library(context)
    network = env.online_access_allowed() and bool(settings.api_key)
    entries: list[JobJournal] = []
    for entry in where.journal_entries():
        if entry.task_id in busy or where.is_locked(entry.task_id):
            continue
        if not network and not in_library(where, entry.task_id):
            continue
        entries.append(entry)
    return [ImportJob(e.task_id, settings, where, variant=e.variant, resumed=e) for e in entries]
