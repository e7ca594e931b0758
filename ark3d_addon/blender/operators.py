"""Every operator of the add-on, thin: it turns what the user asked into work and hands it to the runner.

All but one: ``ark3d.run``, the runner's own modal loop for queued work, lives in
:mod:`.runner` with :class:`~.runner.RunnerOperator`, the base of the operators here that run
work (``make_work`` builds it, ``work_done`` reports).  Jobs are built by :mod:`.job_builder`;
what the Tasks browser knows and changes lives in :mod:`.tasks`, the panels' fields in
:mod:`.panel_state`.  What only a run needs (the client, the importer, the job builder) is
imported when an operator first runs, not when the add-on is enabled.
"""

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
from bpy.props import BoolProperty, IntProperty, StringProperty

from ..core.errors import ArkError, Cancelled, ErrorCode
from ..core.messages import msg
from . import env, i18n, idea_pictures, runner, state, tasks
from ._typing import OperatorResult
from .image_source import editor_image
from .options import (
    ImportOptionProperties,
    apply_model_list,
    endpoint_property,
    fileformat_property,
    image_path_property,
    model_property,
    parameters_property,
    prompt_property,
    subdivision_property,
    variant_choice,
    variant_property,
)
from .panel_state import generate_state, panel_state
from .preferences import ADDON_ID, ConnectionReport, apply_connection_check, get_preferences, library, read_settings
from .progress import redraw_preferences, redraw_sidebars
from .runner import RunnerOperator, Work

if TYPE_CHECKING:
    from ..core.catalog import ModelInfo
    from ..core.diagnose import Check
    from ..core.tasklist import CancelOutcome
    from ..core.worker import Worker


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
        from .job_builder import import_jobs

        fields = panel_state(context)
        text = self.task_ids or self.task_id or (fields.task_id if fields is not None else "")
        new_jobs = import_jobs(context, text, variant_choice(self.variant), busy=runner.active_jobs().keys())
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
        from .asset_library import keep_input
        from .image_source import CameraRender
        from .job_builder import create_job

        if self.use_camera and env.has_event_loop(context) and context.scene is not None:
            # As F12 renders: Blender's render job runs, the interface stays live; the runner
            # waits for it, then _send_render starts the generate with the picture.
            env.require_network(read_settings(context))  # before a render that could not be sent
            return Work(call=CameraRender(context.scene), on_call_done=self._send_render)
        job = create_job(
            context, image_path=self.image_path, image_name=self.image_name, use_camera=self.use_camera,
            variant=variant_choice(self.variant), keep_input=keep_input, **self._choices(),
        )
        return self.jobs_work(context, [job])

    def _choices(self) -> dict[str, Any]:
        """What is asked of the model besides the first image (checked by the catalog in create_job)."""
        return {"images": self.image_paths.splitlines(), "model": self.model, "subdivisionlevel": self.subdivisionlevel,
                "fileformat": self.fileformat, "prompt": self.prompt, "parameters": self.parameters,
                "endpoint": self.endpoint}

    def _send_render(self, context: bpy.types.Context, render: Any) -> list[runner.Report]:
        """The camera's view is rendered: the generate job with it, run like any other."""
        from .asset_library import keep_input
        from .job_builder import create_job

        if render.error is not None or render.result is None:
            if isinstance(render.error, Cancelled) or render.error is None:
                return [("INFO", i18n.rpt("Cancelled"))]
            runner.set_message(render.error, "ERROR")
            return [("ERROR", i18n.error_text(render.error))]
        picture: Path = render.result
        try:
            job = create_job(context, image_path=str(picture), variant=variant_choice(self.variant),
                             keep_input=keep_input, **self._choices())
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
        from ..core.catalog import available_models
        from ..core.client import ArkClient
        from ..core.worker import Worker

        settings = read_settings(context)
        env.require_network(settings)

        def work(cancel: Any) -> "list[ModelInfo]":
            client = ArkClient(settings, cancel=cancel)
            try:
                return available_models(client.list_models())
            finally:
                client.close()

        call: Worker[list[ModelInfo]] = Worker(work, name="ark3d-models", secret=settings.api_key)
        return Work(call=call, on_call_done=apply_model_list)

    def work_done(self, context: bpy.types.Context, works: list[Work]) -> OperatorResult:
        return runner.report_works(self, works)


class ARK3D_OT_cancel_import(bpy.types.Operator):
    """Stop a running import; partial downloads are removed"""

    bl_idname = "ark3d.cancel_import"
    bl_label = "Cancel Import"
    bl_options = {"INTERNAL"}

    task_id: StringProperty(name="Task ID", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        active = runner.active_jobs()
        targets = [self.task_id] if self.task_id else list(active)
        for task_id in targets:
            entry = active.get(task_id)
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
        browser = tasks.browser_state(context)
        if browser is None:
            return {"CANCELLED"}
        if self.page:
            browser.page = max(1, min(self.page, browser.pages))
        if not tasks.start_refresh(context):
            self.report({"INFO"}, i18n.rpt("The task list is already being refreshed"))
        return {"FINISHED"}


class ARK3D_OT_tasks_page(bpy.types.Operator):
    """Show the previous or next page of your tasks"""

    bl_idname = "ark3d.tasks_page"
    bl_label = "Change Page"
    bl_options = {"INTERNAL"}

    step: IntProperty(name="Step", default=1, options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        browser = tasks.browser_state(context)
        if browser is None:
            return {"CANCELLED"}
        browser.page = max(1, min(browser.page + self.step, browser.pages))
        tasks.start_refresh(context)
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
        from ..core.task import validate_task_id
        from .importer import format_problem
        from .job_builder import import_jobs

        task_id = validate_task_id(self.task_id)
        row = tasks.row(task_id)
        problem = format_problem(row.fileformat) if row is not None and row.fileformat else None
        if problem is not None:  # said before anything is removed or downloaded
            raise problem
        if self.redownload:
            self._remove_copy(task_id)
            tasks.update_library_flags(task_id)
        work = self.jobs_work(context, import_jobs(context, task_id, busy=runner.active_jobs().keys()))
        if work is not None:
            work.after = lambda _work: tasks.update_library_flags(task_id)
        return work

    def _remove_copy(self, task_id: str) -> None:
        from ..core import assets

        if task_id in runner.active_jobs():
            raise env.busy_error(task_id)
        row = tasks.row(task_id)
        left = row.link_seconds_left() if row is not None else None
        if row is not None and row.in_library and (not row.remote or left is None or left <= 60):
            # The library holds the only copy left: never delete it for a download that must fail.
            raise ArkError(
                msg("The download link of {task_id} has expired, so the library copy is the only one left",
                    task_id=task_id),
                code=ErrorCode.LINK_EXPIRED,
                hint=msg("It was kept; import it from the library instead"),
            )
        assets.remove_result(library(), task_id)


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
        from ..core.tasklist import delete_action, delete_refusal

        row = tasks.row(self.task_id.strip())
        refusal = delete_refusal(row.task_id, row.status) if row is not None and row.remote else None
        if refusal is not None:  # a running task: said before anyone is asked to confirm
            self.report({"ERROR"}, i18n.error_text(refusal))
            return {"CANCELLED"}
        if row is not None and delete_action(row.status) == "cancel":
            return confirm(context, self, event, "Cancel task {task_id}?",
                           "Ark stops it before it runs; this cannot be undone.", "Cancel Task")
        return confirm(context, self, event, "Delete task {task_id} from Ark?",
                       "Ark forgets the task and its result link; your library copy is kept.", "Delete")

    def make_work(self, context: bpy.types.Context) -> Work | None:
        from ..core.client import ArkClient
        from ..core.task import validate_task_id
        from ..core.tasklist import cancel_or_delete
        from ..core.worker import Worker

        task_id = validate_task_id(self.task_id)
        settings = read_settings(context)
        env.require_network(settings)

        def work(cancel: Any) -> "CancelOutcome":
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
    """The row learns what Ark did; the browser's status line says it."""
    outcome: CancelOutcome | None = call.result
    status = state.get().part(tasks.TaskBrowser).status
    redraw_sidebars(context.window_manager)
    if outcome is None:
        error = call.error or ArkError(msg("The request failed"), code=ErrorCode.UNKNOWN)
        status.say(error, "ERROR")  # rendered as the browser draws
        return [("ERROR", i18n.report(error))]
    tasks.apply_cancel(context, outcome)
    if outcome.action == "cancelled":
        said = msg("Cancelled task {task_id}: it was queued and will not run", task_id=outcome.task_id)
    else:
        said = msg("Deleted task {task_id} from Ark; a copy in your library is kept", task_id=outcome.task_id)
    status.say(said, "INFO")
    return [("INFO", i18n.report(said))]


class ARK3D_OT_check_connection(RunnerOperator):
    """Check the proxy, DNS, the connection, TLS and the API key, one by one, without blocking Blender"""

    bl_idname = "ark3d.check_connection"
    bl_label = "Check Connection"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        if state.get().part(ConnectionReport).running:
            return {"CANCELLED"}
        return super().execute(context)

    def make_work(self, context: bpy.types.Context) -> Work | None:
        from ..core.diagnose import check_connection
        from ..core.worker import Worker

        report = state.get().part(ConnectionReport)
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
        return Work(call=call, on_call_done=apply_connection_check)

    def fail(self, error: ArkError) -> OperatorResult:
        self.report({"ERROR"}, i18n.error_text(error))  # shown in the preferences, not the panel
        return {"CANCELLED"}

    def work_done(self, context: bpy.types.Context, works: list[Work]) -> OperatorResult:
        return runner.report_works(self, works)


class ARK3D_OT_open_preferences(bpy.types.Operator):
    """Open this add-on's preferences, where the API key is set"""

    bl_idname = "ark3d.open_preferences"
    bl_label = "Set API Key"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        bpy.ops.screen.userpref_show("INVOKE_DEFAULT")
        if context.preferences is not None:
            context.preferences.active_section = "EXTENSIONS" if bpy.app.version >= (4, 2, 0) else "ADDONS"
        bpy.ops.preferences.addon_show(module=ADDON_ID)
        return {"FINISHED"}


# -- the Generate section's inputs ----------------------------------------------------------------


class ARK3D_OT_generate_use_editor_image(bpy.types.Operator):
    """Use the image shown in the Image Editor as the input image"""

    bl_idname = "ark3d.generate_use_editor_image"
    bl_label = "Use Image Editor's Image"
    bl_options = {"INTERNAL"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return editor_image(context) is not None

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        fields = generate_state(context)
        image = editor_image(context)
        if fields is None or image is None:
            return {"CANCELLED"}
        fields.image_name = image.name
        fields.source = "IMAGE"
        return {"FINISHED"}


class ARK3D_OT_generate_image_add(bpy.types.Operator):
    """Add one more input image (for models that take several)"""

    bl_idname = "ark3d.generate_image_add"
    bl_label = "Add Image"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        fields = generate_state(context)
        if fields is None:
            return {"CANCELLED"}
        fields.more_images.add()
        return {"FINISHED"}


class ARK3D_OT_generate_image_remove(bpy.types.Operator):
    """Remove this input image"""

    bl_idname = "ark3d.generate_image_remove"
    bl_label = "Remove Image"
    bl_options = {"INTERNAL"}

    index: IntProperty(name="Index", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        fields = generate_state(context)
        if fields is None or not 0 <= self.index < len(fields.more_images):
            return {"CANCELLED"}
        fields.more_images.remove(self.index)
        return {"FINISHED"}


# -- the Generate section from a prompt: pictures first (idea_pictures.py) ------------------------


class ARK3D_OT_make_pictures(RunnerOperator):
    """Make pictures from the prompt with Seedream (paid per picture), to look at before the 3D model"""

    bl_idname = "ark3d.make_pictures"
    bl_label = "Make Pictures"
    bl_options = {"INTERNAL"}

    again: BoolProperty(  # type: ignore[valid-type]
        name="Again",
        description="Make the pictures shown again, with a new seed",
        default=False,
        options={"SKIP_SAVE"},
    )

    def make_work(self, context: bpy.types.Context) -> Work | None:
        from ..core.catalog import find_model
        from ..core.rounds import new_seed

        fields = generate_state(context)
        if fields is None:
            return None
        spec = find_model(fields.model)
        if self.again:
            return idea_pictures.again_work(context, fields, spec)
        idea = idea_pictures.idea_from_panel(fields, spec)
        return idea_pictures.pictures_work(context, replace(idea, seed=new_seed()))

    def work_done(self, context: bpy.types.Context, works: list[Work]) -> OperatorResult:
        return runner.report_works(self, works)


class _PictureOperator(RunnerOperator):
    """An operator on one of the pictures shown (by its index)."""

    bl_options = {"INTERNAL"}

    index: IntProperty(name="Index", default=0, min=-1, options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def work_done(self, context: bpy.types.Context, works: list[Work]) -> OperatorResult:
        return runner.report_works(self, works)


class ARK3D_OT_picture_create(_PictureOperator, ImportOptionProperties):
    """Create the 3D model from this picture (or the whole set) and import it (it costs money; several minutes)"""

    bl_idname = "ark3d.picture_create"
    bl_label = "Create 3D From This"

    def make_work(self, context: bpy.types.Context) -> Work | None:
        try:
            prefs = get_preferences(context)
        except ArkError:
            prefs = None
        return idea_pictures.create_chosen_work(context, self.index, self.import_options(prefs))


class ARK3D_OT_picture_reference(_PictureOperator):
    """Make new pictures with this one as Seedream's reference: the same object, on a plain background"""

    bl_idname = "ark3d.picture_reference"
    bl_label = "Use as Reference"

    def make_work(self, context: bpy.types.Context) -> Work | None:
        return idea_pictures.reference_work(context, self.index)


class ARK3D_OT_picture_redo(_PictureOperator):
    """Make this view again, the other views of the set as references"""

    bl_idname = "ark3d.picture_redo"
    bl_label = "Redo View"

    def make_work(self, context: bpy.types.Context) -> Work | None:
        return idea_pictures.redo_work(context, self.index)


class ARK3D_OT_picture_drop(bpy.types.Operator):
    """Leave this view out of the set: the others are sent, with their view bits"""

    bl_idname = "ark3d.picture_drop"
    bl_label = "Drop View"
    bl_options = {"INTERNAL"}

    index: IntProperty(name="Index", default=0, options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        try:
            idea_pictures.drop_view(self.index)
        except ArkError as exc:
            self.report({"ERROR"}, i18n.error_text(exc))
            return {"CANCELLED"}
        redraw_sidebars(context.window_manager)
        return {"FINISHED"}


class ARK3D_OT_reuse_prompt(bpy.types.Operator):
    """Put this task's prompt into the Generate section, to make pictures from it again"""

    bl_idname = "ark3d.reuse_prompt"
    bl_label = "Reuse Prompt"
    bl_options = {"INTERNAL"}

    task_id: StringProperty(name="Task ID", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        from ..core.chain import load_chain

        fields = generate_state(context)
        chain = load_chain(library(context), self.task_id) if self.task_id else None
        if fields is None or chain is None or not chain.prompt:
            self.report({"ERROR"}, i18n.rpt("This task was not made from a prompt"))
            return {"CANCELLED"}
        fields.prompt = chain.prompt
        fields.source = "PROMPT"
        redraw_sidebars(context.window_manager)
        return {"FINISHED"}


class ARK3D_OT_reuse_picture(bpy.types.Operator):
    """Use the picture this task was made from as the Generate section's input image"""

    bl_idname = "ark3d.reuse_picture"
    bl_label = "Reuse Picture"
    bl_options = {"INTERNAL"}

    task_id: StringProperty(name="Task ID", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        from ..core.chain import load_chain

        fields = generate_state(context)
        where = library(context)
        chain = load_chain(where, self.task_id) if self.task_id else None
        folder = where.task_dir(self.task_id) if chain is not None else None
        found = [folder / name for name in (*chain.sent, *chain.images)] if chain and folder else []
        picture = next((path for path in found if path.is_file()), None)
        if fields is None or picture is None:
            self.report({"ERROR"}, i18n.rpt("This task keeps no picture it was made from"))
            return {"CANCELLED"}
        fields.image_path = str(picture)
        fields.source = "FILE"
        redraw_sidebars(context.window_manager)
        return {"FINISHED"}


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
    ARK3D_OT_open_preferences,
    ARK3D_OT_generate_use_editor_image,
    ARK3D_OT_generate_image_add,
    ARK3D_OT_generate_image_remove,
    ARK3D_OT_make_pictures,
    ARK3D_OT_picture_create,
    ARK3D_OT_picture_reference,
    ARK3D_OT_picture_redo,
    ARK3D_OT_picture_drop,
    ARK3D_OT_reuse_prompt,
    ARK3D_OT_reuse_picture,
)

