"""The Tasks browser's operators: refresh and page the list, copy an id, import or re-download a
task, cancel or delete it on Ark.

What they change in the browser's rows is :mod:`.tasks`'s to do; the buttons are drawn by
``ui/browser.py``.  The other operators are in :mod:`.operators` and :mod:`.generate_operators`.
"""

from typing import TYPE_CHECKING, Any

import bpy
from bpy.props import BoolProperty, IntProperty, StringProperty

from ..core.errors import ArkError, ErrorCode
from ..core.messages import msg
from . import env, i18n, runner, state, tasks
from ._typing import OperatorResult
from .operators import ImportsOperator, confirm
from .preferences import library, read_settings
from .progress import redraw_sidebars
from .runner import RunnerOperator, Work

if TYPE_CHECKING:
    from ..core.tasklist import CancelOutcome
    from ..core.worker import Worker


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


class ARK3D_OT_browser_import(ImportsOperator):
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


CLASSES: tuple[type, ...] = (
    ARK3D_OT_refresh_tasks,
    ARK3D_OT_tasks_page,
    ARK3D_OT_copy_task_id,
    ARK3D_OT_browser_import,
    ARK3D_OT_cancel_task,
)
