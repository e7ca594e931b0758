"""Ark 3D for scripts: import, generate, list and cancel tasks as plain functions.

What it offers is listed once, in the bpy-free front (``ark3d_addon/api.py``), which loads
these names from here on first use: this module is the add-on's side of that front.  Reach it as
``bl_ext.user_default.ark3d.api`` (Blender 4.2+ extension) or ``ark3d_addon.api`` (legacy add-on);
see the README's "Scripting API".
Everything goes through the same jobs and runner as the panel: the same settings
(preferences, or ``ARK_API_KEY``/``ARK_BASE_URL``/``ARK3D_LIBRARY``), library, journal,
download slots and rate limit.  Call these from Blender's main thread (the Python console, a
script, a handler); errors are raised as :class:`ArkError` (``str(error)`` is the whole
story: what, Ark's code and request id, what to do).

``wait``: ``True`` runs the job to the end before returning (a window stays frozen meanwhile);
``False`` starts it as the panel does and returns the running :class:`ImportJob` at once (its
progress shows in the panel; it imports when ready; needs a window); ``None`` (the default)
waits only when there is no window (``blender --background``, the ``bpy`` module).
"""

import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import bpy

from ..core import assets, idea
from ..core.catalog import MODELS, ModelInfo, available_models
from ..core.client import ArkClient
from ..core.errors import ArkError, Cancelled, ConfigError, ErrorCode
from ..core.idea import DEFAULT_SIZE, Idea, plan_idea
from ..core.job import ImportJob
from ..core.messages import msg
from ..core.task import Status, Task, parse_task_ids, validate_task_id
from ..core.tasklist import cancel_or_delete
from ..core.worker import Worker
from . import asset_library, env, i18n, job_builder, runner
from .options import ImportOptions, options_from_preferences, set_model_menu
from .preferences import get_preferences, library, read_settings

T = TypeVar("T")


@dataclass
class Imported:
    """A model in the scene: its task, its collection, the objects made, the report line, and its
    picture (None while the background Blender has not made it: with a window it comes later)."""

    task_id: str
    collection: str
    objects: list[bpy.types.Object]
    message: str
    from_library: bool
    preview: Path | None = None


def _context() -> bpy.types.Context:
    return bpy.context


def _waits(context: bpy.types.Context, wait: bool | None) -> bool:
    loop = env.has_event_loop(context)
    if wait is None:
        return not loop
    if not wait and not loop:
        raise ConfigError(msg("wait=False needs a Blender window: there is no event loop to import the model later"),
                          code=ErrorCode.NO_EVENT_LOOP, hint=msg("Leave wait unset (or True) in background Blender"))
    return wait


def _imported(outcome: runner.Outcome) -> Imported:
    if outcome.error is not None:
        raise outcome.error
    if outcome.cancelled:
        raise Cancelled(outcome.message)
    collection = bpy.data.collections.get(outcome.collection) if outcome.collection else None
    objects: list[bpy.types.Object] = list(collection.all_objects) if collection is not None else []
    result = outcome.job.result
    task_id = outcome.job.task_id or ""
    return Imported(task_id, outcome.collection, objects, i18n.report(outcome.message),
                    bool(result and result.from_library),
                    preview_path(task_id) if task_id else None)


def make_assets(task_ids: str | list[str] | None = None) -> list[Path | None]:
    """Make the pictures and asset files still missing, of ``task_ids`` (None: the whole library).

    Without a window (``blender --background``, the ``bpy`` module) nothing is made behind a
    script's back; this makes it, in a background Blender process, and returns when it is done.
    With a window it starts that process and returns at once.  Returns each given task's
    :func:`preview_path` (an empty list for the whole library).
    """
    context = _context()
    ids = None if task_ids is None else parse_task_ids(task_ids if isinstance(task_ids, str) else " ".join(task_ids))
    asset_library.make(context, ids)
    return [preview_path(task_id) for task_id in ids or []]


def preview_path(task_id: str) -> Path | None:
    """The task's picture in the library: the model's ``preview.png``, else the small copy of the
    image it was generated from, else None (nothing made yet, or the asset library is off)."""
    return assets.preview_path(library(_context()), validate_task_id(task_id))


def _options(context: bpy.types.Context) -> ImportOptions:
    try:
        return options_from_preferences(get_preferences(context))
    except ArkError:
        return ImportOptions()


def _outcomes(context: bpy.types.Context, new_jobs: list[ImportJob]) -> list[runner.Outcome]:
    """Run the jobs to the end here (the runner, without a loop)."""
    return runner.run_blocking(context, runner.Work(new_jobs, _options(context))).outcomes


def _run(context: bpy.types.Context, new_jobs: list[ImportJob]) -> list[Imported]:
    return [_imported(o) for o in _outcomes(context, new_jobs)]


def _start(context: bpy.types.Context, new_jobs: list[ImportJob]) -> list[ImportJob]:
    """Queue the jobs with the runner, which runs them as it runs the panel's."""
    runner.submit(runner.Work(new_jobs, _options(context)))
    runner.start(context)
    return new_jobs


def import_task(task_id: str, *, variant: str | None = None, wait: bool | None = None) -> Imported | ImportJob:
    """Import one task's result (downloaded, or from the library) into the current scene.

    ``variant``: ``"pbr"`` or ``"rgb"`` (None: the preferences' choice).  Returns
    :class:`Imported` when it waited, else the running :class:`ImportJob`.
    """
    context = _context()
    new_jobs = job_builder.import_jobs(context, validate_task_id(task_id), _variant(variant),
                                       busy=runner.active_jobs().keys())
    if _waits(context, wait):
        return _run(context, new_jobs)[0]
    return _start(context, new_jobs)[0]


def import_tasks(task_ids: str | list[str], *, variant: str | None = None,
                 wait: bool | None = None) -> list[Imported] | list[ImportJob]:
    """Several tasks at once: downloaded side by side (up to 20 at a time), imported one by one.

    ``task_ids``: a list, or one string of ids (or console URLs) separated by commas, spaces or
    new lines.  Waiting, a failed task raises its error after the others were imported.
    """
    context = _context()
    text = task_ids if isinstance(task_ids, str) else " ".join(task_ids)
    new_jobs = job_builder.import_jobs(context, text, _variant(variant), busy=runner.active_jobs().keys())
    if not _waits(context, wait):
        return _start(context, new_jobs)
    outcomes = _outcomes(context, new_jobs)
    imported = [_imported(o) for o in outcomes if o.ok]
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise failed[0].error or Cancelled(failed[0].message)
    return imported


def create_task(image_path: str | os.PathLike[str] | None = None, *, image: str | bpy.types.Image | None = None,
                camera: bool = False, images: Sequence[str | os.PathLike[str]] = (), model: str = MODELS[0],
                subdivisionlevel: str = "", fileformat: str = "", prompt: str = "", parameters: str = "",
                endpoint: str = "", variant: str | None = None, wait: bool | None = None) -> Imported | ImportJob:
    """Generate a model from images or a prompt (minutes; it costs money) and import it.

    The first image is ``image_path`` (a file, or an https link), ``image`` (an image of this
    file, or its name: e.g. ``"Render Result"``), or with ``camera=True`` the active camera's
    view rendered now; ``images`` are more (files or links) for models that take several.
    ``model`` is one of ``MODELS`` (``list_models()`` says which Ark offers); ``fileformat``,
    ``subdivisionlevel`` (empty: the model's default), ``prompt`` (Hyper3D) and ``parameters``
    (its other documented flags, as ``"--mesh_mode Raw"``) are checked against the model's
    documented rules, and the images against its limits, before anything is sent.
    ``endpoint``: an endpoint id (``ep-...``) to call the model through.  Not waiting, the
    job's ``task_id`` is set once Ark has answered.
    """
    context = _context()
    image_name = image if isinstance(image, str) else (image.name if image is not None else "")
    job = job_builder.create_job(context, image_path=os.fspath(image_path) if image_path else "",
                          image_name=image_name, use_camera=camera, images=[os.fspath(i) for i in images],
                          model=model, subdivisionlevel=subdivisionlevel, fileformat=fileformat, prompt=prompt,
                          parameters=parameters, endpoint=endpoint, variant=_variant(variant),
                          keep_input=asset_library.keep_input)
    if _waits(context, wait):
        return _run(context, [job])[0]
    return _start(context, [job])[0]


def _paid_call(context: bpy.types.Context, fn: Callable[[ArkClient], T]) -> T:
    """One paid step in a worker, waited for here (the runner's blocking watch): its result or its error."""
    settings = read_settings(context)
    env.require_network(settings)

    def call(cancel: threading.Event) -> T:
        client = ArkClient(settings, cancel=cancel)
        try:
            return fn(client)
        finally:
            client.close()

    work = runner.run_blocking(context, runner.Work(call=Worker(call, "ark3d-idea", settings.api_key)))
    assert work.call is not None
    if work.call.error is not None:
        raise work.call.error
    return work.call.result  # type: ignore[return-value]


def make_pictures(prompt: str, *, model: str = MODELS[0], views: Sequence[str] = (), count: int = 1,
                  size: str = DEFAULT_SIZE, image_model: str = "", references: Sequence[str | os.PathLike[str]] = (),
                  helper: bool = True, seed: int | None = None) -> list[Path]:
    """Seedream pictures of ``prompt`` for ``model`` (paid per picture; seconds), no 3D task: look before paying.

    The prompt helper adds what image-to-3D models need (``helper=False``: the prompt as written);
    ``views`` (some of front, back, left, right) asks a consistent multi-view set; ``references``
    (files or links) are pictures to start from ("the same object, plain background").  The
    pictures are checked against ``model``'s limits and saved in the library's ``pictures``
    folder; pass them to :func:`create_task` (``image_path``/``images``) to make the model.
    """
    context = _context()
    plan = plan_idea(Idea(model, prompt, tuple(os.fspath(r) for r in references), image_model=image_model,
                          helper=helper, views=tuple(views), count=count, size=size, seed=seed,
                          through_pictures=True))
    folder = library(context).root / "pictures" / time.strftime("%Y%m%d-%H%M%S")
    result = _paid_call(context, lambda client: idea.make_pictures(client, idea.prefer_listed(client, plan), folder))
    return [picture.path for picture in result.images]


def create_from_prompt(prompt: str, *, model: str = MODELS[0], params: dict[str, str] | None = None,
                       views: Sequence[str] = (), image_model: str = "", helper: bool = True,
                       through_pictures: bool = False, variant: str | None = None,
                       wait: bool | None = None) -> Imported | ImportJob:
    """A model from a sentence, for any model: the picture(s) first where the model takes no text
    (Seed3D, Hitem3D; Hyper3D with ``through_pictures`` or ``views``), then the 3D task, then the
    import (``wait`` as for :func:`import_task`).  The prompt, the pictures and which were sent are
    kept with the task in the library (``chain.json``).  ``params``: the model's parameters by name
    (``{"subdivisionlevel": "high"}``).  The pictures and the create are waited for (seconds).
    """
    context = _context()
    plan = plan_idea(Idea(model, prompt, params=dict(params or {}), image_model=image_model, helper=helper,
                          views=tuple(views), through_pictures=through_pictures))
    lib = library(context)
    with tempfile.TemporaryDirectory(prefix="ark3d-pictures-") as staging:
        created = _paid_call(context, lambda client: idea.run_idea(client, idea.prefer_listed(client, plan), lib,
                                                                   Path(staging)))
    return import_task(created.task_id, variant=variant, wait=wait)


def list_models() -> list[ModelInfo]:
    """The 3D models Ark offers the account's region (``GET /models``; retiring ones marked), as
    the model menu shows them afterwards.  Without the network: :class:`ArkError`; the menu then
    keeps the built-in list."""
    settings = read_settings(_context())
    env.require_network(settings)
    client = ArkClient(settings)
    try:
        infos = available_models(client.list_models())
    finally:
        client.close()
    set_model_menu(infos)
    return infos


def list_tasks(*, status: str | None = None, page_size: int = 20, page_num: int = 1) -> list[Task]:
    """The account's 3D tasks of the last 7 days, newest first (page ``page_num``, from 1), from Ark's list call.

    ``status``: queued, running, cancelled, succeeded, failed or expired (None: all).  The list call also
    returns video tasks (Seedance): they are left out here, as in the Tasks browser, so a page
    may hold fewer than ``page_size``.  An empty list past the last page.
    """
    if status is not None and (Status.parse(status) is Status.UNKNOWN):
        raise ConfigError(msg("Unknown task status '{status}'", status=status), code=ErrorCode.INVALID_PARAMETER,
                          hint=msg("Use queued, running, cancelled, succeeded, failed or expired"))
    if not 1 <= page_size <= 500:
        raise ConfigError(msg("page_size must be between 1 and 500, not {n}", n=str(page_size)),
                          code=ErrorCode.INVALID_PARAMETER, hint=msg("Ark returns at most 500 tasks a page"))
    if page_num < 1:
        raise ConfigError(msg("page_num must be 1 or more, not {n}", n=str(page_num)),
                          code=ErrorCode.INVALID_PARAMETER, hint=msg("Pages are numbered from 1"))
    settings = read_settings(_context())
    env.require_network(settings)
    client = ArkClient(settings)
    try:
        tasks, _total = client.list_tasks(page_num=page_num, page_size=page_size,
                                          status=Status.parse(status).value if status else None)
    finally:
        client.close()
    return [task for task in tasks if not task.is_video]


def cancel_task(task_id: str) -> None:
    """Ark's DELETE call: cancels a queued task, deletes a finished one's record (not your library copy).

    The status is asked first, as the Tasks browser's button does: a running or cancelled task
    (which Ark refuses to cancel or delete) raises why and what to do, and no DELETE is sent.
    A job of this Blender working on the task is cancelled too, and its journal removed.
    """
    tid = validate_task_id(task_id)
    settings = read_settings(_context())
    env.require_network(settings)
    client = ArkClient(settings)
    try:
        cancel_or_delete(client, tid)
    finally:
        client.close()
    entry = runner.active_jobs().get(tid)
    if entry is not None:
        entry.job.cancel()
    else:
        library(_context()).journal_remove(tid)


def resume_journaled() -> list[str]:
    """Resume the jobs a previous Blender left unfinished (an interactive Blender does it by itself)."""
    return runner.resume_journaled(_context())


def _variant(variant: str | None) -> str | None:
    if variant not in (None, "pbr", "rgb"):
        raise ConfigError(msg("Unknown variant '{variant}'", variant=str(variant)), code=ErrorCode.INVALID_PARAMETER,
                          hint=msg("Use pbr or rgb (or None)"))
    return variant
