"""``ark3d.import_task`` and ``ark3d.cancel_import``: thin, they only move data.

With a window (the panel button, the Python console) the import operator starts an
:class:`ImportJob` in a worker thread and returns ``RUNNING_MODAL`` at once; a window-manager
timer then moves the job's state to the UI and, when the files are ready, imports them on the
main thread.  Without a window (background Blender, the ``bpy`` module) there is no event loop
to drive a modal operator, so it runs the job to the end in place and returns ``FINISHED``,
or reports an error (``bpy.ops`` then raises ``RuntimeError``) and returns ``CANCELLED``.
"""

import bpy
from bpy.props import EnumProperty, StringProperty

from ..core.errors import ArkError, Cancelled, ConfigError
from ..core.job import ImportJob, JobResult
from ..core.task import validate_task_id
from . import jobs
from ._typing import OperatorResult
from .importer import ImportSummary, import_model
from .preferences import library_for, read_settings
from .progress import ProgressDisplay

TIMER_STEP = 0.1

_VARIANTS = [
    ("PREFS", "Preferences", "Use the variant chosen in the add-on preferences"),
    ("pbr", "PBR", "Physically based materials"),
    ("rgb", "Baked Colour", "Baked colour only"),
]

ONLINE_HINT = "Turn on Edit > Preferences > System > Network > Allow Online Access, then try again"


def online_access_allowed() -> bool:
    """Blender 4.2+ lets users forbid network use; older Blenders have no such switch."""
    return bool(getattr(bpy.app, "online_access", True))


def has_event_loop(context: bpy.types.Context) -> bool:
    return not bpy.app.background and context.window is not None


class ARK3D_OT_import_task(bpy.types.Operator):
    """Fetch a Seed3D task's result (or take it from the library) and import it into the scene"""

    bl_idname = "ark3d.import_task"
    bl_label = "Import Ark Task"
    bl_options = {"UNDO"}  # no REGISTER: a redo panel would re-run execute() and start another job

    task_id: StringProperty(  # type: ignore[valid-type]
        name="Task ID",
        description="The Ark task id, cgt-...; empty uses the panel's field",
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
            job = self._make_job(context)
        except ArkError as exc:
            return self._fail(exc)
        if not has_event_loop(context):
            return self._run_blocking(context, job)
        return self._start_modal(context, job)

    # -- setting up -------------------------------------------------------------------

    def _make_job(self, context: bpy.types.Context) -> ImportJob:
        state = getattr(context.window_manager, "ark3d", None)  # the panel's PointerProperty
        raw_id = self.task_id or (state.task_id if state is not None else "")
        task_id = validate_task_id(raw_id)
        if task_id in jobs.active:
            raise ArkError(f"Task {task_id} is already being imported", code="Busy",
                           hint="Wait for it to finish, or cancel it in the Ark 3D panel")
        settings = read_settings(context)
        library = library_for(settings)
        if not (library.is_extracted(task_id) or library.zip_path(task_id).exists()):
            # Only now is the network needed: results in the library import offline.
            if not online_access_allowed():
                raise ConfigError("Blender's online access is turned off", code="OnlineAccessDisabled",
                                  hint=ONLINE_HINT)
            settings.require_key()
        variant = None if self.variant == "PREFS" else self.variant
        return ImportJob(task_id, settings, library, variant=variant)

    def _fail(self, error: ArkError) -> OperatorResult:
        text = error.user_message()
        jobs.set_message(text, "ERROR")
        self.report({"ERROR"}, text)
        return {"CANCELLED"}

    def _finish(self, context: bpy.types.Context, result: JobResult) -> OperatorResult:
        try:
            summary: ImportSummary = import_model(context, result.task_id, result.model.path, result.model.format)
        except ArkError as exc:
            return self._fail(exc)
        source = "from the library" if result.from_library else "downloaded"
        variant = f", {result.model.variant}" if result.model.variant else ""
        text = f"Imported {result.task_id} ({result.model.path.name}{variant}, {source}): {summary.text()}"
        jobs.set_message(text, "INFO")
        self.report({"INFO"}, text)
        return {"FINISHED"}

    # -- without an event loop --------------------------------------------------------

    def _run_blocking(self, context: bpy.types.Context, job: ImportJob) -> OperatorResult:
        jobs.active[job.task_id] = jobs.ActiveJob(job)
        try:
            result = job.run()
        except Cancelled:
            jobs.set_message("Cancelled", "INFO")
            return {"CANCELLED"}
        except ArkError as exc:
            return self._fail(exc)
        finally:
            jobs.active.pop(job.task_id, None)
        return self._finish(context, result)

    # -- with an event loop -----------------------------------------------------------

    def _start_modal(self, context: bpy.types.Context, job: ImportJob) -> OperatorResult:
        wm = context.window_manager
        if wm is None:
            return self._run_blocking(context, job)
        self._job = job
        self._display = ProgressDisplay(job.task_id)
        jobs.active[job.task_id] = jobs.ActiveJob(job)
        jobs.set_message("", "")
        job.start()
        self._timer: bpy.types.Timer | None = wm.event_timer_add(TIMER_STEP, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> OperatorResult:
        job = self._job
        if event.type == "ESC" and event.value == "PRESS" and not job.snapshot().finished:
            job.cancel()
            return {"RUNNING_MODAL"}
        # Event has no ``timer`` attribute: any TIMER event is a cue to look at the job.
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        # Liveness first, then the state: a worker sets its final state before it exits, so a
        # dead worker with an unfinished state died of an unexpected error and would never finish.
        alive = job.alive
        state = job.snapshot()
        if not state.finished and not alive:
            self._cleanup(context)
            return self._fail(ArkError(
                f"The import of {job.task_id} stopped unexpectedly during '{state.text}'",
                code="WorkerDied",
                hint="The system console shows the error; please report it with the task id",
            ))
        if not state.finished:
            self._display.update(context, state)
            return {"PASS_THROUGH"}
        self._cleanup(context)
        if state.phase == "cancelled":
            jobs.set_message(f"Cancelled {job.task_id}", "INFO")
            self.report({"INFO"}, f"Cancelled the import of {job.task_id}")
            return {"CANCELLED"}
        if state.phase == "failed" or job.result is None:
            return self._fail(state.error or ArkError("The import failed", code="Unknown"))
        return self._finish(context, job.result)

    def cancel(self, context: bpy.types.Context) -> None:
        """Blender ends the operator (a file is loaded, Blender quits): stop the worker."""
        job = getattr(self, "_job", None)
        if job is not None:
            jobs.stop(job)  # bounded: the load_pre handler may have waited for it already
            self._cleanup(context)

    def _cleanup(self, context: bpy.types.Context) -> None:
        timer = getattr(self, "_timer", None)
        if timer is not None and context.window_manager is not None:
            context.window_manager.event_timer_remove(timer)
            self._timer = None
        jobs.active.pop(self._job.task_id, None)
        self._display.clear(context)


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
