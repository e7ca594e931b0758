"""Every operator of the add-on, thin: it turns what the user asked into work and hands it to the runner.

Jobs are built by :mod:`.jobs`, run by :mod:`.runner` (``RunnerOperator``: ``make_work``
builds, ``work_done`` reports); what the browser shows lives in :mod:`.ui.browser`.
"""

from pathlib import Path
from typing import Any

import bpy
from bpy.props import BoolProperty, IntProperty, StringProperty

from ..core import assets
from ..core.catalog import ModelInfo, available_models
from ..core.client import ArkClient
from ..core.diagnose import Check, check_connection
from ..core.errors import ArkError, Cancelled, ErrorCode
from ..core.messages import msg, plural
from ..core.task import validate_task_id
from ..core.tasklist import CancelOutcome, cancel_or_delete, delete_action, delete_refusal
from ..core.worker import Worker
from . import asset_library, env, i18n, image_source, jobs, runner
from ._typing import OperatorResult
from .importer import format_problem
from .options import (
    ImportOptionProperties,
    endpoint_property,
    fileformat_property,
    image_path_property,
    model_property,
    parameters_property,
    prompt_property,
    set_model_menu,
    subdivision_property,
    variant_choice,
    variant_property,
)
from .preferences import get_preferences, library_for, read_settings
from .runner import RunnerOperator, Work
from .ui import browser, generate
from .ui.common import redraw_preferences
from .ui.connection import CHECK_NAMES, connection_report
from .ui.progress import redraw_sidebars


def confirm(context: bpy.types.Context, op: bpy.types.Operator, event: bpy.types.Event, title: str, message: str,
            button: str) -> OperatorResult:
    """``invoke_confirm`` with a title and a message where Blender has them (4.1+), translated."""
    wm = context.window_manager
    assert wm is not None
    task_id = getattr(op, "task_id", "")
    wanted: dict[str, Any] = {
        "title": i18n.iface(title).format(task_id=task_id),
        "message": i18n.iface(message),
        "confirm_text": i18n.iface(button),
        "icon": "WARNING",
        "translate": False,
    }
    rna: Any = wm.bl_rna  # (the stubs know no BlenderRNA.functions)
    accepted = rna.functions["invoke_confirm"].parameters.keys()  # 3.x: (operator, event) only
    return wm.invoke_confirm(op, event, **{k: v for k, v in wanted.items() if k in accepted})


class _ImportsOperator(RunnerOperator, ImportOptionProperties):
    """Import and generate: jobs whose models land in the scene (one undo step for the run)."""

    bl_options = {"UNDO"}  # no REGISTER: a redo panel would re-run execute() and start other jobs

    def jobs_work(self, context: bpy.types.Context, new_jobs: list[Any]) -> Work | None:
        if not new_jobs:
            return None
        try:
            prefs = get_preferences(context)
        except ArkError:
            prefs = None
        return Work(new_jobs, self.import_options(prefs))

    def fail(self, error: ArkError) -> OperatorResult:
        runner.set_message(error, "ERROR")  # the panel shows it too
        return super().fail(error)

    def work_done(self, context: bpy.types.Context, works: list[Work]) -> OperatorResult:
        return runner.report_works(self, works)


class ARK3D_OT_import_task(_ImportsOperator):
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
    variant: variant_property(of_operator=True, options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def make_work(self, context: bpy.types.Context) -> Work | None:
        state = getattr(context.window_manager, "ark3d", None)  # the panel's PointerProperty
        text = self.task_ids or self.task_id or (state.task_id if state is not None else "")
        new_jobs = jobs.import_jobs(context, text, variant_choice(self.variant), busy=runner.active.keys())
        return self.jobs_work(context, new_jobs)


class ARK3D_OT_create_task(_ImportsOperator):
    """Generate a 3D model on Ark from images or a prompt, then import it (it costs money; several minutes)"""

    bl_idname = "ark3d.create_task"
    bl_label = "Generate 3D Model"

    image_path: image_path_property(options={"SKIP_SAVE"})  # type: ignore[valid-type]
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
    image_paths: StringProperty(  # type: ignore[valid-type]
        name="More Images",
        description="More images (files or https links), one a line, for models that take several",
        options={"SKIP_SAVE"},
    )
    model: model_property(options={"SKIP_SAVE"})  # type: ignore[valid-type]
    subdivisionlevel: subdivision_property(options={"SKIP_SAVE"})  # type: ignore[valid-type]
    fileformat: fileformat_property(options={"SKIP_SAVE"})  # type: ignore[valid-type]
    prompt: prompt_property(options={"SKIP_SAVE"})  # type: ignore[valid-type]
    parameters: parameters_property(options={"SKIP_SAVE"})  # type: ignore[valid-type]
    endpoint: endpoint_property(options={"SKIP_SAVE"})  # type: ignore[valid-type]
    variant: variant_property(of_operator=True, options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def make_work(self, context: bpy.types.Context) -> Work | None:
        if self.use_camera and env.has_event_loop(context) and context.scene is not None:
            # As F12 renders: Blender's render job runs, the interface stays live; the runner
            # waits for it, then _send_render starts the generate with the picture.
            env.require_network(read_settings(context))  # before a render that could not be sent
            return Work(call=image_source.CameraRender(context.scene), on_call_done=self._send_render)
        job = jobs.create_job(
            context, image_path=self.image_path, image_name=self.image_name, use_camera=self.use_camera,
            variant=variant_choice(self.variant), keep_input=asset_library.keep_input, **self._choices(),
        )
        return self.jobs_work(context, [job])

    def _choices(self) -> dict[str, Any]:
        """What is asked of the model besides the first image (checked by the catalog in create_job)."""
        return {"images": self.image_paths.splitlines(), "model": self.model, "subdivisionlevel": self.subdivisionlevel,
                "fileformat": self.fileformat, "prompt": self.prompt, "parameters": self.parameters,
                "endpoint": self.endpoint}

    def _send_render(self, context: bpy.types.Context, render: Any) -> list[runner.Report]:
        """The camera's view is rendered: the generate job with it, run like any other."""
        if render.error is not None or render.result is None:
            if isinstance(render.error, Cancelled) or render.error is None:
                return [("INFO", i18n.rpt("Cancelled"))]
            runner.set_message(render.error, "ERROR")
            return [("ERROR", i18n.error_text(render.error))]
        picture: Path = render.result
        try:
            job = jobs.create_job(context, image_path=str(picture), variant=variant_choice(self.variant),
                                  keep_input=asset_library.keep_input, **self._choices())
        except ArkError as exc:
            runner.set_message(exc, "ERROR")
            return [("ERROR", i18n.error_text(exc))]
        finally:
            picture.unlink(missing_ok=True)
        work = self.jobs_work(context, [job])
        if work is not None:
            runner.submit(work)
            runner.start(context)
        return [("INFO", i18n.rpt("Rendered the camera's view: generating from it"))]


class ARK3D_OT_refresh_models(RunnerOperator):
    """Ask Ark which 3D models it offers (its model list): the model menu then shows them, retiring ones marked"""

    bl_idname = "ark3d.refresh_models"
    bl_label = "Refresh Models"
    bl_options = {"INTERNAL"}

    def make_work(self, context: bpy.types.Context) -> Work | None:
        settings = read_settings(context)
        env.require_network(settings)

        def work(cancel: Any) -> list[ModelInfo]:
            client = ArkClient(settings, cancel=cancel)
            try:
                return available_models(client.list_models())
            finally:
                client.close()

        call: Worker[list[ModelInfo]] = Worker(work, name="ark3d-models", secret=settings.api_key)
        return Work(call=call, on_call_done=_models_done)

    def work_done(self, context: bpy.types.Context, works: list[Work]) -> OperatorResult:
        return runner.report_works(self, works)


def _models_done(context: bpy.types.Context, call: "Worker[Any]") -> "list[runner.Report]":
    """The model menu learns what Ark offers; offline or empty, it keeps the built-in list."""
    infos: list[ModelInfo] | None = call.result
    if infos is None:
        error = call.error or ArkError(msg("The request failed"), code=ErrorCode.UNKNOWN)
        said = msg("Ark's model list could not be read, the built-in list is shown: {reason}", reason=error)
        level = "WARNING"
    elif not infos:
        said = msg("Ark lists no 3D model this add-on knows for your region: the built-in list is shown")
        level = "WARNING"
    else:
        retiring = [info.spec.name for info in infos if info.retiring]
        unlisted = [info.spec.name for info in infos if info.unlisted]
        said = plural(len(infos) - len(unlisted), "Ark offers {n} 3D model", "Ark offers {n} 3D models")
        if retiring:
            said = msg("{offered} · {retiring}", offered=said,
                       retiring=msg("retiring: {models}", models=", ".join(retiring)))
        if unlisted:
            said = msg("{offered} · {unlisted}", offered=said,
                       unlisted=msg("not in Ark's list, still offered: {models}", models=", ".join(unlisted)))
        level = "INFO"
    set_model_menu(infos or [])
    generate.status.message = said  # rendered as the panel draws
    redraw_sidebars(context.window_manager)
    return [(level, i18n.report(said))]


class ARK3D_OT_cancel_import(bpy.types.Operator):
    """Stop a running import; partial downloads are removed"""

    bl_idname = "ark3d.cancel_import"
    bl_label = "Cancel Import"
    bl_options = {"INTERNAL"}

    task_id: StringProperty(name="Task ID", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        targets = [self.task_id] if self.task_id else list(runner.active)
        for task_id in targets:
            entry = runner.active.get(task_id)
            if entry is not None:
                entry.job.cancel()
        return {"FINISHED"}


# -- the tasks browser --------------------------------------------------------------------------


class ARK3D_OT_refresh_tasks(bpy.types.Operator):
    """Ask Ark for your recent tasks and list them with the ones in your library"""

    bl_idname = "ark3d.refresh_tasks"
    bl_label = "Refresh Tasks"
    bl_options = {"INTERNAL"}

    page: IntProperty(name="Page", description="The page to show (0: the current one)", default=0, min=0,  # type: ignore[valid-type]
                      options={"SKIP_SAVE"})

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        state = browser.browser_state(context)
        if state is None:
            return {"CANCELLED"}
        if self.page:
            state.page = max(1, min(self.page, state.pages))
        if not browser.start_refresh(context):
            self.report({"INFO"}, i18n.rpt("The task list is already being refreshed"))
        return {"FINISHED"}


class ARK3D_OT_tasks_page(bpy.types.Operator):
    """Show the previous or next page of your tasks"""

    bl_idname = "ark3d.tasks_page"
    bl_label = "Change Page"
    bl_options = {"INTERNAL"}

    step: IntProperty(name="Step", default=1, options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        state = browser.browser_state(context)
        if state is None:
            return {"CANCELLED"}
        state.page = max(1, min(state.page + self.step, state.pages))
        browser.start_refresh(context)
        return {"FINISHED"}


class ARK3D_OT_copy_task_id(bpy.types.Operator):
    """Copy the task id to the clipboard"""

    bl_idname = "ark3d.copy_task_id"
    bl_label = "Copy Task ID"
    bl_options = {"INTERNAL"}

    task_id: StringProperty(name="Task ID", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        wm = context.window_manager
        if wm is None or not self.task_id:
            return {"CANCELLED"}
        wm.clipboard = self.task_id
        self.report({"INFO"}, i18n.rpt("Copied {task_id} to the clipboard").format(task_id=self.task_id))
        return {"FINISHED"}


class ARK3D_OT_browser_import(_ImportsOperator):
    """Import this task's result (from the library when it is there)"""

    bl_idname = "ark3d.browser_import"
    bl_label = "Import Task"
    bl_options = {"INTERNAL", "UNDO"}

    task_id: StringProperty(name="Task ID", options={"SKIP_SAVE"})  # type: ignore[valid-type]
    redownload: BoolProperty(  # type: ignore[valid-type]
        name="Re-download",
        description="Remove the library copy first, so the result is downloaded again",
        default=False,
        options={"SKIP_SAVE"},
    )

    @classmethod
    def description(cls, context: bpy.types.Context, properties: Any) -> str:
        if properties.redownload:
            return i18n.tip("Remove the library copy and download the result again, then import it")
        return i18n.tip("Import this task's result (from the library when it is there)")

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> OperatorResult:
        if self.redownload and context.window_manager is not None:
            return confirm(context, self, event, "Re-download {task_id}?",
                           "The library copy is removed, then the result is downloaded again.", "Re-download")
        return self.execute(context)

    def make_work(self, context: bpy.types.Context) -> Work | None:
        task_id = validate_task_id(self.task_id)
        _index, item = browser.find_item(browser.browser_state(context), task_id)
        problem = format_problem(item.fileformat) if item is not None and item.fileformat else None
        if problem is not None:  # said before anything is removed or downloaded
            raise problem
        if self.redownload:
            self._remove_copy(context, task_id)
            browser.update_library_flags(task_id)
        work = self.jobs_work(context, jobs.import_jobs(context, task_id, busy=runner.active.keys()))
        if work is not None:
            work.after = lambda _work: browser.update_library_flags(task_id)
        return work

    def _remove_copy(self, context: bpy.types.Context, task_id: str) -> None:
        if task_id in runner.active:
            raise env.busy_error(task_id)
        _index, item = browser.find_item(browser.browser_state(context), task_id)
        left = browser.link_seconds_left(item) if item is not None else None
        if item is not None and item.in_library and (not item.remote or left is None or left <= 60):
            # The library holds the only copy left: never delete it for a download that must fail.
            raise ArkError(
                msg("The download link of {task_id} has expired, so the library copy is the only one left",
                    task_id=task_id),
                code=ErrorCode.LINK_EXPIRED,
                hint=msg("It was kept; import it from the library instead"),
            )
        assets.remove_result(library_for(read_settings(context)), task_id)


class ARK3D_OT_cancel_task(RunnerOperator):
    """Cancel a queued task, or delete the record of a finished one, on Ark (the library copy is kept)"""

    bl_idname = "ark3d.cancel_task"
    bl_label = "Cancel or Delete Task"
    bl_options = {"INTERNAL"}

    task_id: StringProperty(  # type: ignore[valid-type]
        name="Task ID",
        description="The task to cancel (queued) or delete (succeeded or failed)",
        options={"SKIP_SAVE"},
    )

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> OperatorResult:
        _index, item = browser.find_item(browser.browser_state(context), self.task_id.strip())
        refusal = delete_refusal(item.task_id, item.status) if item is not None and item.remote else None
        if refusal is not None:  # a running task: said before anyone is asked to confirm
            self.report({"ERROR"}, i18n.error_text(refusal))
            return {"CANCELLED"}
        if item is not None and delete_action(item.status) == "cancel":
            return confirm(context, self, event, "Cancel task {task_id}?",
                           "Ark stops it before it runs; this cannot be undone.", "Cancel Task")
        return confirm(context, self, event, "Delete task {task_id} from Ark?",
                       "Ark forgets the task and its result link; your library copy is kept.", "Delete")

    def make_work(self, context: bpy.types.Context) -> Work | None:
        task_id = validate_task_id(self.task_id)
        settings = read_settings(context)
        env.require_network(settings)

        def work(cancel: Any) -> CancelOutcome:
            client = ArkClient(settings, cancel=cancel)
            try:
                return cancel_or_delete(client, task_id)
            finally:
                client.close()

        call: Worker[CancelOutcome] = Worker(work, name="ark3d-cancel-task", secret=settings.api_key)
        return Work(call=call, on_call_done=_cancel_done)

    def work_done(self, context: bpy.types.Context, works: list[Work]) -> OperatorResult:
        return runner.report_works(self, works)


def _cancel_done(context: bpy.types.Context, call: "Worker[Any]") -> "list[runner.Report]":
    """The row learns what Ark did; the browser's message says it."""
    outcome: CancelOutcome | None = call.result
    status = browser.status
    if outcome is None:
        error = call.error or ArkError(msg("The request failed"), code=ErrorCode.UNKNOWN)
        status.message, status.level = error, "ERROR"  # rendered as the browser draws
        redraw_sidebars(context.window_manager)
        return [("ERROR", i18n.report(error))]
    state = browser.browser_state(context)
    index, item = browser.find_item(state, outcome.task_id)
    if outcome.action == "cancelled":
        said = msg("Cancelled task {task_id}: it was queued and will not run", task_id=outcome.task_id)
        if item is not None:
            item.status = "cancelled"
    else:
        said = msg("Deleted task {task_id} from Ark; a copy in your library is kept", task_id=outcome.task_id)
        if item is not None and state is not None:
            if item.in_library:
                item.remote = False
            else:
                state.tasks.remove(index)
                state.index = max(0, min(state.index, len(state.tasks) - 1))
    status.message, status.level = said, "INFO"
    redraw_sidebars(context.window_manager)
    return [("INFO", i18n.report(said))]


class ARK3D_OT_check_connection(RunnerOperator):
    """Check the proxy, DNS, the connection, TLS and the API key, one by one, without blocking Blender"""

    bl_idname = "ark3d.check_connection"
    bl_label = "Check Connection"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        if connection_report.running:
            return {"CANCELLED"}
        return super().execute(context)

    def make_work(self, context: bpy.types.Context) -> Work | None:
        report = connection_report
        report.checks, report.error, report.base_url = [], None, ""
        try:
            offline = env.offline_error_or_none()
            if offline is not None:
                raise offline
            settings = read_settings(context)
        except ArkError as exc:
            report.error = exc  # rendered as the preferences draw
            redraw_preferences(context.window_manager)
            raise
        report.running = True
        report.base_url = settings.base_url
        redraw_preferences(context.window_manager)
        call: Worker[list[Check]] = Worker(lambda cancel: check_connection(settings),
                                                   name="ark3d-check-connection", secret=settings.api_key)
        return Work(call=call, on_call_done=_connection_checked)

    def fail(self, error: ArkError) -> OperatorResult:
        self.report({"ERROR"}, i18n.error_text(error))  # shown in the preferences, not the panel
        return {"CANCELLED"}

    def work_done(self, context: bpy.types.Context, works: list[Work]) -> OperatorResult:
        return runner.report_works(self, works)


def _connection_checked(context: bpy.types.Context, call: "Worker[Any]") -> "list[runner.Report]":
    report = connection_report
    report.running = False
    checks: list[Check] = call.result or []
    report.checks = checks
    if call.error is not None:
        report.error = call.error
    redraw_preferences(context.window_manager)
    failed = next((c for c in checks if not c.ok), None)
    if call.error is not None:
        return [("ERROR", i18n.error_text(call.error))]
    if failed is not None:
        return [("ERROR", i18n.rpt("Connection check failed at {step}: {message}").format(
            step=i18n.rpt(CHECK_NAMES.get(failed.name, failed.name)),
            message=i18n.error_text(failed.error) if failed.error else i18n.report(failed.message)))]
    return [("INFO", i18n.rpt("Connection OK: Ark answered and accepted the API key"))]


CLASSES: tuple[type, ...] = (
    ARK3D_OT_import_task,
    ARK3D_OT_create_task,
    ARK3D_OT_refresh_models,
    ARK3D_OT_cancel_import,
    ARK3D_OT_refresh_tasks,
    ARK3D_OT_tasks_page,
    ARK3D_OT_copy_task_id,
    ARK3D_OT_browser_import,
    ARK3D_OT_cancel_task,
    ARK3D_OT_check_connection,
)

