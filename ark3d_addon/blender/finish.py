"""A finished job on the main thread: its model into the scene, and what the user reads about it.

The runner calls :func:`finish` for each job whose worker has ended (one per tick: an import
stalls the main thread) and :func:`conclude` once all jobs of an operator have ended.
"""

from dataclasses import dataclass

import bpy

from ..core.errors import ArkError, ErrorCode
from ..core.job import ImportJob
from ..core.jobstate import JobKind, Phase
from ..core.messages import msg
from . import i18n
from .importer import ImportSummary, import_model
from .options import ImportOptions

__all__ = ["Outcome", "Report", "conclude", "finish"]


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


#: One line for the user: ``({"INFO"|"WARNING"|"ERROR"}, text)``.
Report = tuple[str, str]


def finish(context: bpy.types.Context, job: ImportJob, options: ImportOptions) -> Outcome:
    """Import a ready job's model (if it should be imported) and end its journal; or say how it ended."""
    state = job.snapshot()
    result = job.result
    if state.phase is Phase.CANCELLED:
        text = i18n.rpt("Cancelled {task_id}").format(task_id=job.label)
        return Outcome(job, cancelled=True, message=text)
    if state.phase is not Phase.READY or result is None:
        error = state.error or ArkError(
            msg("The import of {task_id} stopped unexpectedly during '{state}'", task_id=job.label, state=state.text),
            code=ErrorCode.WORKER_DIED,
            hint=msg("The system console shows the error; please report it with the task id"),
        )
        return Outcome(job, error=error, message=i18n.error_text(error))
    if not job.import_when_ready:
        text = i18n.rpt("Downloaded {task_id} into the library").format(task_id=result.task_id)
        return Outcome(job, message=text)
    try:
        summary = import_model(context, result.task_id, result.model.path, result.model.format, options)
    except ArkError as exc:
        return Outcome(job, error=exc, message=i18n.error_text(exc))
    finally:
        job.close_journal()  # imported, or its import failed: either way the job is over
    created = job.kind is JobKind.GENERATE
    about: dict[str, object] = {
        "task_id": result.task_id, "file": result.model.path.name, "summary": summary.message(),
        "source": msg("from the library") if result.from_library else msg("downloaded"),
    }
    if result.model.variant:
        text = i18n.report(msg("Created and imported {task_id} ({file}, {variant}, {source}): {summary}" if created
                               else "Imported {task_id} ({file}, {variant}, {source}): {summary}",
                               variant=result.model.variant, **about))
    else:
        text = i18n.report(msg("Created and imported {task_id} ({file}, {source}): {summary}" if created
                               else "Imported {task_id} ({file}, {source}): {summary}", **about))
    return Outcome(job, summary=summary, collection=summary.collection, message=text)


def conclude(outcomes: list[Outcome]) -> tuple[list[Report], bool, Report | None]:
    """Every job's end as reports, whether at least one did its work, and the panel's last message."""
    good = [o for o in outcomes if o.ok]
    failed = [o for o in outcomes if o.error is not None]
    reports: list[Report] = []
    for outcome in outcomes:
        if outcome.ok:
            reports.append(("INFO", outcome.message))
        elif outcome.error is not None and good:
            reports.append(("WARNING", outcome.message))  # the others were imported: no exception
    if failed and not good:
        reports.extend(("ERROR", o.message) for o in failed)
        return reports, False, ("ERROR", failed[-1].message)
    if len(outcomes) > 1:
        done = ", ".join(o.job.label for o in good)
        text = i18n.rpt("Imported {count} of {total} tasks: {task_ids}").format(
            count=len(good), total=len(outcomes), task_ids=done or "-")
        if failed:
            text += " " + i18n.rpt("{count} failed").format(count=len(failed))
        reports.append(("INFO", text))
        return reports, bool(good), ("WARNING" if failed else "INFO", text)
    if good:
        return reports, True, ("INFO", good[0].message)
    if outcomes:  # one job, cancelled
        reports.append(("INFO", i18n.rpt("Cancelled the import of {task_id}").format(
            task_id=outcomes[0].job.label)))
        return reports, False, ("INFO", outcomes[0].message)
    return reports, False, None
