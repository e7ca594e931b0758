"""``ark3d.import_task``, ``ark3d.create_task`` and ``ark3d.cancel_import``: thin, they only move data.

Every flow is the same job machine (:class:`ImportJob`): an import of one task id or of a
pasted list of them (a batch), a generate (``create_task``: the image is checked and encoded
here, the task is created by the job), and the jobs a restarted Blender resumes from the
library's journal (``import_task(resume=True)``, see ``jobs.resume_journaled``).

With a window (the panel buttons, the Python console) the operator starts its jobs in worker
threads and returns ``RUNNING_MODAL`` at once; a window-manager timer then moves their states
to the UI and imports the ready ones on the main thread, one per tick.  Without a window
(background Blender, the ``bpy`` module) there is no event loop to drive a modal operator, so
it runs the jobs to the end in place and returns ``FINISHED``, or reports an error
(``bpy.ops`` then raises ``RuntimeError``) and returns ``CANCELLED``.  A batch overlaps its
downloads (at most ``core.slots.DOWNLOAD_SLOTS`` at once) either way.
"""

from dataclasses import dataclass

import bpy
from bpy.props import BoolProperty, EnumProperty, StringProperty

from ..core.errors import ArkError, ConfigError
from ..core.image_input import MODELS, create_body, image_data_url
from ..core.job import ImportJob
from ..core.library import JobJournal, Library
from ..core.settings import Settings
from ..core.task import parse_task_ids
from . import image_source, jobs, translations
from ._typing import OperatorResult
from .importer import ImportOptionProperties, ImportOptions, ImportSummary, import_model
from .preferences import get_preferences, library_for, read_settings
from .ui.progress import ProgressDisplay

TIMER_STEP = 0.1
#: How often a blocking run (no event loop) looks at its jobs.
BLOCKING_STEP = 0.05

_VARIANTS = [
    ("PREFS", "Preferences", "Use the variant chosen in the add-on preferences"),
    ("pbr", "PBR", "Physically based materials"),
    ("rgb", "Baked Colour", "Baked colour only"),
]
_MODELS = [
    (MODELS[0], "Seed3D 1.0", "doubao-seed3d-1-0-250928: 30k / 100k / 200k faces (low / medium / high)"),
    (MODELS[1], "Seed3D 2.0", "doubao-seed3d-2-0-260328: 100k / 500k / 1M faces (low / medium / high)"),
]
_LEVELS = [
    ("low", "Low", "The fewest faces"),
    ("medium", "Medium", "Ark's default"),
    ("high", "High", "The most faces"),
]
_FORMATS = [
    ("glb", "GLB", "glTF binary: meshes, PBR materials and textures in one file"),
    ("obj", "OBJ", "Wavefront OBJ with its MTL and textures"),
    ("usd", "USD", "Universal Scene Description"),
    ("usdz", "USDZ", "USD packed in one file with its textures"),
]

ONLINE_HINT = "Turn on Edit > Preferences > System > Network > Allow Online Access, then try again"


def online_access_allowed() -> bool:
    """Blender 4.2+ lets users forbid network use; older Blenders have no such switch."""
    return bool(getattr(bpy.app, "online_access", True))


def has_event_loop(context: bpy.types.Context) -> bool:
    return not bpy.app.background and context.window is not None


def require_network(settings: Settings) -> None:
    """Refuse, before any request, what needs the network when Blender may not use it or has no key."""
    if not online_access_allowed():
        raise ConfigError("Blender's online access is turned off", code="OnlineAccessDisabled", hint=ONLINE_HINT)
    settings.require_key()


def in_library(library: Library, task_id: str) -> bool:
    """The result is on disk (extracted, or its zip): importing it needs no network."""
    return library.is_extracted(task_id) or library.zip_path(task_id).exists()


def options_from_preferences(context: bpy.types.Context | None = None) -> ImportOptions:
    """The import options of the add-on preferences (for jobs that no operator call configured)."""
    try:
        prefs = get_preferences(context)
    except ArkError:
        return ImportOptions()
    return ImportOptions(
        target_size=max(0.0, float(getattr(prefs, "target_size", 0.0))),
        merge_empty=bool(getattr(prefs, "merge_empty", False)),
        origin_to_base=bool(getattr(prefs, "origin_to_base", False)),
    )


# -- building jobs (main thread) --------------------------------------------------------------


def import_jobs(context: bpy.types.Context, text: str, variant: str | None = None) -> list[ImportJob]:
    """One journaled job per task id of ``text`` (one id or a pasted list); refuses before any request."""
    task_ids = parse_task_ids(text)
    busy = [t for t in task_ids if t in jobs.active]
    if busy and len(busy) == len(task_ids):
        raise ArkError(f"Task {busy[0]} is already being imported", code="Busy",
                       hint="Wait for it to finish, or cancel it in the Ark 3D panel")
    task_ids = [t for t in task_ids if t not in busy]
    settings = read_settings(context)
    library = library_for(settings)
    if not all(in_library(library, t) for t in task_ids):
        require_network(settings)  # only now: results in the library import offline
    return [ImportJob(t, settings, library, variant=variant, journal=True) for t in task_ids]


def create_job(context: bpy.types.Context, *, image_path: str = "", image_name: str = "", use_camera: bool = False,
               model: str = MODELS[0], subdivisionlevel: str = "medium", fileformat: str = "glb",
               variant: str | None = None) -> ImportJob:
    """Check the image against Ark's limits, encode it, and make the generate job (no request yet)."""
    settings = read_settings(context)
    require_network(settings)
    path, temporary = image_source.resolve(context, image_path=image_path, image_name=image_name,
                                           use_camera=use_camera)
    try:
        url, _info = image_data_url(path)
    finally:
        if temporary:
            path.unlink(missing_ok=True)
    body = create_body(url, model=model, subdivisionlevel=subdivisionlevel, fileformat=fileformat)
    return ImportJob(None, settings, library_for(settings), variant=variant, create=body, journal=True)


#: Jobs made by the scripting API, waiting for ``import_task(adopt=True)`` to run them modally.
_adopted: list[ImportJob] = []


def adopt(new_jobs: list[ImportJob]) -> None:
    """Give jobs made elsewhere (``api.py``) to the next ``ark3d.import_task(adopt=True)``."""
    _adopted[:] = new_jobs


def resume_jobs(context: bpy.types.Context, only: list[str] | None = None) -> list[ImportJob]:
    """Jobs for the journal's unfinished entries that can run now.

    Skipped (and left journaled for later): those running here or held by another Blender,
    and those that need the network while Blender may not use it or has no key.
    """
    settings = read_settings(context)
    library = library_for(settings)
    network = online_access_allowed() and bool(settings.api_key)
    entries: list[JobJournal] = []
    for entry in library.journal_entries():
        if only is not None and entry.task_id not in only:
            continue
        if entry.task_id in jobs.active or library.is_locked(entry.task_id):
            continue
        if not network and not in_library(library, entry.task_id):
            continue
        entries.append(entry)
    return [ImportJob(e.task_id, settings, library, variant=e.variant, resumed=e) for e in entries]


# -- finishing jobs (main thread) -------------------------------------------------------------


@dataclass
class Outcome:
    """How one job ended, once the main thread has imported its model."""

    job: ImportJob
    summary: ImportSummary | None = None
    collection: str = ""
    error: ArkError | None = None
    cancelled: bool = False
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled


def finish(context: bpy.types.Context, job: ImportJob, options: ImportOptions) -> Outcome:
    """Import a ready job's model (if it should be imported) and end its journal; or say how it ended."""
    state = job.snapshot()
    result = job.result
    if state.phase == "cancelled":
        text = translations.rpt("Cancelled {task_id}").format(task_id=job.label)
        return Outcome(job, cancelled=True, message=text)
    if state.phase != "ready" or result is None:
        error = state.error or ArkError(
            f"The import of {job.label} stopped unexpectedly during '{state.text}'",
            code="WorkerDied",
            hint="The system console shows the error; please report it with the task id",
        )
        return Outcome(job, error=error, message=translations.error_text(error))
    if not job.import_when_ready:
        text = translations.rpt("Downloaded {task_id} into the library").format(task_id=result.task_id)
        return Outcome(job, message=text)
    try:
        summary = import_model(context, result.task_id, result.model.path, result.model.format, options)
    except ArkError as exc:
        return Outcome(job, error=exc, message=translations.error_text(exc))
    finally:
        job.close_journal()  # imported, or its import failed: either way the job is over
    source = "from the library" if result.from_library else "downloaded"
    variant = f", {result.model.variant}" if result.model.variant else ""
    template = "Created and imported {task_id} ({file}, {source}): {summary}" if job.kind == "create" else \
        "Imported {task_id} ({file}, {source}): {summary}"
    text = translations.rpt(template).format(
        task_id=result.task_id, file=f"{result.model.path.name}{variant}", source=translations.rpt(source),
        summary=summary.text("rpt"))
    return Outcome(job, summary=summary, collection=summary.collection, message=text)


def _worker_died(job: ImportJob) -> bool:
    """Liveness first, then the state: a worker sets its final state before it exits, so a dead
    worker with an unfinished state died of an unexpected error and would never finish."""
    alive = job.alive
    return not alive and not job.snapshot().finished


def run_blocking(context: bpy.types.Context, new_jobs: list[ImportJob], options: ImportOptions) -> list[Outcome]:
    """Run the jobs side by side in worker threads and import each on this thread as it is ready."""
    for job in new_jobs:
        jobs.active[job.key] = jobs.ActiveJob(job)
        job.start()
    pending = list(new_jobs)
    outcomes: list[Outcome] = []
    try:
        while pending:
            jobs.sync_keys()
            done = next((j for j in pending if j.snapshot().finished or _worker_died(j)), None)
            if done is None:
                pending[0].join(BLOCKING_STEP)  # back at once when it ends: a library hit takes ms
                continue
            done.join(1.0)
            pending.remove(done)
            jobs.forget(done)
            outcomes.append(finish(context, done, options))
    except BaseException:  # KeyboardInterrupt in a script: nothing may keep running unseen
        for job in pending:
            job.cancel()
            jobs.forget(job)
        raise
    return outcomes


# -- the operators ----------------------------------------------------------------------------


class _JobsOperator(bpy.types.Operator):
    """What the import and the generate operator share: running jobs with or without a window.

    Not registered itself (no ``bl_idname``): the two operators below derive from it.
    """

    bl_options = {"UNDO"}  # no REGISTER: a redo panel would re-run execute() and start other jobs

    def _options(self, context: bpy.types.Context) -> ImportOptions:
        import_options = getattr(self, "import_options", None)
        if import_options is None:
            return options_from_preferences(context)
        try:
            return import_options(get_preferences(context))
        except ArkError:
            return ImportOptions()

    def _fail(self, error: ArkError) -> OperatorResult:
        text = translations.error_text(error)
        jobs.set_message(text, "ERROR")
        self.report({"ERROR"}, text)
        return {"CANCELLED"}

    def _launch(self, context: bpy.types.Context, new_jobs: list[ImportJob]) -> OperatorResult:
        if not new_jobs:
            return {"CANCELLED"}
        self._options_value = self._options(context)
        if not has_event_loop(context) or context.window_manager is None:
            return self._conclude(run_blocking(context, new_jobs, self._options_value))
        return self._start_modal(context, new_jobs)

    def _conclude(self, outcomes: list[Outcome]) -> OperatorResult:
        """Report every job's end; ``FINISHED`` when at least one did its work."""
        good = [o for o in outcomes if o.ok]
        failed = [o for o in outcomes if o.error is not None]
        for outcome in outcomes:
            if outcome.ok:
                self.report({"INFO"}, outcome.message)
            elif outcome.error is not None and good:
                self.report({"WARNING"}, outcome.message)  # the others were imported: no exception
        if failed and not good:
            for outcome in failed[:-1]:
                self.report({"ERROR"}, outcome.message)
            last = failed[-1]
            jobs.set_message(last.message, "ERROR")
            self.report({"ERROR"}, last.message)
            return {"CANCELLED"}
        if len(outcomes) > 1:
            done = ", ".join(o.job.label for o in good)
            text = translations.rpt("Imported {count} of {total} tasks: {task_ids}").format(
                count=len(good), total=len(outcomes), task_ids=done or "-")
            if failed:
                text += " " + translations.rpt("{count} failed").format(count=len(failed))
            jobs.set_message(text, "WARNING" if failed else "INFO")
            self.report({"INFO"}, text)
        elif good:
            jobs.set_message(good[0].message, "INFO")
        elif outcomes:  # one job, cancelled
            jobs.set_message(outcomes[0].message, "INFO")
            self.report({"INFO"}, translations.rpt("Cancelled the import of {task_id}").format(
                task_id=outcomes[0].job.label))
        return {"FINISHED"} if good else {"CANCELLED"}

    # -- with an event loop -----------------------------------------------------------

    def _start_modal(self, context: bpy.types.Context, new_jobs: list[ImportJob]) -> OperatorResult:
        wm = context.window_manager
        assert wm is not None
        self._jobs = new_jobs
        self._outcomes: list[Outcome] = []
        self._display = ProgressDisplay(new_jobs[0].label)
        for job in new_jobs:
            jobs.active[job.key] = jobs.ActiveJob(job)
        jobs.set_message("", "")
        for job in new_jobs:
            job.start()
        self._timer: bpy.types.Timer | None = wm.event_timer_add(TIMER_STEP, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> OperatorResult:
        pending = [j for j in self._jobs if not any(o.job is j for o in self._outcomes)]
        if event.type == "ESC" and event.value == "PRESS" and any(not j.snapshot().finished for j in pending):
            for job in pending:
                job.cancel()
            return {"RUNNING_MODAL"}
        # Event has no ``timer`` attribute: any TIMER event is a cue to look at the jobs.
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        jobs.sync_keys()
        # At most one import per tick: each is a main-thread stall of its own.
        done = next((j for j in pending if j.snapshot().finished or _worker_died(j)), None)
        if done is not None:
            done.join(1.0)
            jobs.forget(done)
            outcome = finish(context, done, self._options_value)
            self._outcomes.append(outcome)
            pending.remove(done)
            if outcome.ok or outcome.error is not None:
                level = "INFO" if outcome.ok else "ERROR"
                jobs.set_message(outcome.message, level)
        if pending:
            current = pending[0]
            label = current.label + (f" (+{len(pending) - 1})" if len(pending) > 1 else "")
            self._display.task_id = label
            self._display.update(context, current.snapshot())
            return {"PASS_THROUGH"}
        self._cleanup(context)
        return self._conclude(self._outcomes)

    def cancel(self, context: bpy.types.Context) -> None:
        """Blender ends the operator (a file is loaded, Blender quits): stop the workers.

        They keep their journal and partial download (``ImportJob.stop``), so the next
        Blender resumes them; a file load has cancelled them already (``jobs.on_load_pre``).
        """
        for job in getattr(self, "_jobs", []):
            jobs.stop(job)  # bounded: the load_pre handler may have waited for it already
        if getattr(self, "_jobs", None) is not None:
            self._cleanup(context)

    def _cleanup(self, context: bpy.types.Context) -> None:
        timer = getattr(self, "_timer", None)
        if timer is not None and context.window_manager is not None:
            context.window_manager.event_timer_remove(timer)
            self._timer = None
        for job in self._jobs:
            jobs.forget(job)
        self._display.clear(context)


class ARK3D_OT_import_task(_JobsOperator, ImportOptionProperties):
    """Fetch a Seed3D task's result (or take it from the library) and import it into the scene"""

    bl_idname = "ark3d.import_task"
    bl_label = "Import Ark Task"

    task_id: StringProperty(  # type: ignore[valid-type]
        name="Task ID",
        description="The Ark task id, cgt-...; empty uses the panel's field",
        options={"SKIP_SAVE"},
    )
    task_ids: StringProperty(  # type: ignore[valid-type]
        name="Task IDs",
        description="Several task ids (or console URLs) separated by commas, spaces or new lines: "
                    "downloaded side by side, imported one after the other",
        options={"SKIP_SAVE"},
    )
    variant: EnumProperty(  # type: ignore[valid-type]
        name="Variant",
        description="Which model to import when the result holds both",
        items=_VARIANTS,
        default="PREFS",
        options={"SKIP_SAVE"},
    )
    resume: BoolProperty(  # type: ignore[valid-type]
        name="Resume",
        description="Resume the unfinished jobs of the library's journal (those of Task IDs, or all)",
        default=False,
        options={"SKIP_SAVE", "HIDDEN"},
    )
    adopt: BoolProperty(  # type: ignore[valid-type]
        name="Adopt",
        description="Run the jobs the scripting API has just made",
        default=False,
        options={"SKIP_SAVE", "HIDDEN"},
    )

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> OperatorResult:
        return self.execute(context)

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        try:
            if self.adopt:
                new_jobs = list(_adopted)
                _adopted.clear()
                return self._launch(context, new_jobs)
            if self.resume:
                only = parse_task_ids(self.task_ids) if self.task_ids.strip() else None
                return self._launch(context, resume_jobs(context, only))
            state = getattr(context.window_manager, "ark3d", None)  # the panel's PointerProperty
            text = self.task_ids or self.task_id or (state.task_id if state is not None else "")
            variant = None if self.variant == "PREFS" else self.variant
            new_jobs = import_jobs(context, text, variant)
        except ArkError as exc:
            return self._fail(exc)
        return self._launch(context, new_jobs)


class ARK3D_OT_create_task(_JobsOperator, ImportOptionProperties):
    """Generate a 3D model from an image with Seed3D, then import it (about 2.4 CNY a model, several minutes)"""

    bl_idname = "ark3d.create_task"
    bl_label = "Generate 3D Model"

    image_path: StringProperty(  # type: ignore[valid-type]
        name="Image File",
        description="A jpg, png, webp or bmp image of the object: at most 10 MB and 4096 x 4096 pixels",
        subtype="FILE_PATH",
        options={"SKIP_SAVE"},
    )
    image_name: StringProperty(  # type: ignore[valid-type]
        name="Blender Image",
        description="An image of this file (e.g. Render Result, or one open in the Image Editor)",
        options={"SKIP_SAVE"},
    )
    use_camera: BoolProperty(  # type: ignore[valid-type]
        name="Active Camera",
        description="Render the active camera's view (scene engine, at most 1024 pixels) and send that",
        default=False,
        options={"SKIP_SAVE"},
    )
    model: EnumProperty(  # type: ignore[valid-type]
        name="Model",
        description="The Seed3D model version",
        items=_MODELS,
        default=MODELS[0],
        options={"SKIP_SAVE"},
    )
    subdivisionlevel: EnumProperty(  # type: ignore[valid-type]
        name="Subdivision Level",
        description="Mesh density of the result",
        items=_LEVELS,
        default="medium",
        options={"SKIP_SAVE"},
    )
    fileformat: EnumProperty(  # type: ignore[valid-type]
        name="File Format",
        description="The format Ark makes the model in",
        items=_FORMATS,
        default="glb",
        options={"SKIP_SAVE"},
    )
    variant: EnumProperty(  # type: ignore[valid-type]
        name="Variant",
        description="Which model to import when the result holds both",
        items=_VARIANTS,
        default="PREFS",
        options={"SKIP_SAVE"},
    )

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> OperatorResult:
        return self.execute(context)

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        try:
            job = create_job(
                context, image_path=self.image_path, image_name=self.image_name, use_camera=self.use_camera,
                model=self.model, subdivisionlevel=self.subdivisionlevel, fileformat=self.fileformat,
                variant=None if self.variant == "PREFS" else self.variant,
            )
        except ArkError as exc:
            return self._fail(exc)
        return self._launch(context, [job])


class ARK3D_OT_cancel_import(bpy.types.Operator):
    """Stop a running import; partial downloads are removed"""

    bl_idname = "ark3d.cancel_import"
    bl_label = "Cancel Import"
    bl_options = {"INTERNAL"}

    task_id: StringProperty(name="Task ID", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        targets = [self.task_id] if self.task_id else list(jobs.active)
        for task_id in targets:
            entry = jobs.active.get(task_id)
            if entry is not None:
                entry.job.cancel()
        return {"FINISHED"}
