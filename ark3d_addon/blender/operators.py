"""The add-on's operators, thin: each turns what the user asked into work and hands it to the runner.

Every operator lives in one of three modules: this one (import, generate, cancel a running
import, Ark's model list, Check Connection, open the preferences, and what the others share:
:class:`ImportsOperator` and :func:`confirm`), :mod:`.browser_operators` (the Tasks browser's
buttons) and :mod:`.generate_operators` (the Generate section's inputs and pictures).  All but
one: ``ark3d.run``, the runner's own modal loop for queued work, lives in :mod:`.runner` with
:class:`~.runner.RunnerOperator`, the base of every operator that runs work (``make_work``
builds it, ``work_done`` reports).

Jobs are built by :mod:`.job_builder`; what the Tasks browser knows and changes lives in
:mod:`.tasks`, the panels' fields in :mod:`.panel_state`.  What only a run needs (the client,
the importer, the job builder) is imported when an operator first runs, not when the add-on is
enabled.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
from bpy.props import BoolProperty, StringProperty

from ..core.errors import ArkError, Cancelled
from . import env, i18n, runner, state
from ._typing import OperatorResult
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
from .panel_state import panel_state
from .preferences import ADDON_ID, ConnectionReport, apply_connection_check, get_preferences, read_settings
from .progress import redraw_preferences
from .runner import RunnerOperator, Work

if TYPE_CHECKING:
    from ..core.catalog import ModelInfo
    from ..core.diagnose import Check


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


class ImportsOperator(RunnerOperator, ImportOptionProperties):
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


class ARK3D_OT_import_task(ImportsOperator):
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


class ARK3D_OT_create_task(ImportsOperator):
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


CLASSES: tuple[type, ...] = (
    ARK3D_OT_import_task,
    ARK3D_OT_create_task,
    ARK3D_OT_refresh_models,
    ARK3D_OT_cancel_import,
    ARK3D_OT_check_connection,
    ARK3D_OT_open_preferences,
)
