"""A finished job on the main thread: its model into the scene, and what the user reads about it.

The runner calls :func:`finish` for each job whose worker has ended (one per tick: an import
stalls the main thread) and :func:`conclude` once all jobs of an operator have ended.  What the
user reads is kept as a message or an error, not as text: the operator's reports are rendered
once, when reported; the panel renders its last message each time it draws, in the language of
that moment.
"""

from typing import TYPE_CHECKING

import bpy

from ..core.errors import ArkError, ErrorCode
from ..core.messages import Message, msg
from . import i18n
from .options import ImportOptions

if TYPE_CHECKING:
    from ..core.job import ImportJob
    from .importer import ImportSummary

__all__ = ["Outcome", "PanelMessage", "Report", "conclude", "finish"]


class Outcome:
    """How one job ended, once the main thread has imported its model.

    ``message``: what the user reads about a job that did not fail (its import, its download or
    its cancel).  A plain class, as the add-on state's parts (see :mod:`.state`).
    """

    def __init__(self, job: "ImportJob", *, summary: "ImportSummary | None" = None, collection: str = "",
                 error: ArkError | None = None, cancelled: bool = False, message: Message | None = None) -> None:
        self.job = job
        self.summary = summary
        self.collection = collection
        self.error = error
        self.cancelled = cancelled
        self.message = message if message is not None else Message("")

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled

    @property
    def said(self) -> Message | ArkError:
        """What the user reads about this job: its error, else its message."""
        return self.error if self.error is not None else self.message


#: One line for the user: ``({"INFO"|"WARNING"|"ERROR"}, text)``.
Report = tuple[str, str]
#: The panel's last message: ``(level, what)``, rendered when the panel draws.
PanelMessage = tuple[str, Message | ArkError]


def finish(context: bpy.types.Context, job: "ImportJob", options: ImportOptions) -> Outcome:
    """Import a ready job's model (if it should be imported) and end its journal; or say how it ended."""
    from ..core.phases import JobKind, Phase
    from .importer import import_model  # on first use: enabling the add-on does not import the importer

    state = job.snapshot()
    result = job.result
    if state.phase is Phase.CANCELLED:
        return Outcome(job, cancelled=True, message=msg("Cancelled {task_id}", task_id=job.label))
    if state.phase is not Phase.READY or result is None:
        error = state.error or ArkError(
            msg("The import of {task_id} stopped unexpectedly during '{state}'", task_id=job.label, state=state.text),
            code=ErrorCode.WORKER_DIED,
            hint=msg("The system console shows the error; please report it with the task id"),
        )
        return Outcome(job, error=error)
    if not job.import_when_ready:
        return Outcome(job, message=msg("Downloaded {task_id} into the library", task_id=result.task_id))
    try:
        summary = import_model(context, result.task_id, result.model.path, result.model.format, options)
    except ArkError as exc:
        return Outcome(job, error=exc)
    finally:
        job.close_journal()  # imported, or its import failed: either way the job is over
    created = job.kind is JobKind.GENERATE
    about: dict[str, object] = {
        "task_id": result.task_id, "file": result.model.path.name, "summary": summary.message(),
        "source": msg("from the library") if result.from_library else msg("downloaded"),
    }
    if result.model.variant:
        message = msg("Created and imported {task_id} ({file}, {variant}, {source}): {summary}" if created
                      else "Imported {task_id} ({file}, {variant}, {source}): {summary}",
                      variant=result.model.variant, **about)
    else:
        message = msg("Created and imported {task_id} ({file}, {source}): {summary}" if created
                      else "Imported {task_id} ({file}, {source}): {summary}", **about)
    return Outcome(job, summary=summary, collection=summary.collection, message=message)


def conclude(outcomes: list[Outcome]) -> tuple[list[Report], bool, PanelMessage | None]:
    """Every job's end as reports, whether at least one did its work, and the panel's last message."""
    good = [o for o in outcomes if o.ok]
    failed = [o for o in outcomes if o.error is not None]
    reports: list[Report] = []
    for outcome in outcomes:
        if outcome.ok:
            reports.append(("INFO", i18n.report(outcome.said)))
        elif outcome.error is not None and good:
            reports.append(("WARNING", i18n.report(outcome.said)))  # the others were imported: no exception
    if failed and not good:
        reports.extend(("ERROR", i18n.report(o.said)) for o in failed)
        return reports, False, ("ERROR", failed[-1].said)
    if len(outcomes) > 1:
        done = ", ".join(o.job.label for o in good)
        summary = msg("Imported {count} of {total} tasks: {task_ids}",
                      count=f"{len(good):,}", total=f"{len(outcomes):,}", task_ids=done or "-")
        if failed:
            failures = msg("{count} failed", count=f"{len(failed):,}")
            summary = msg("{imported} {failed}", imported=summary, failed=failures)
        reports.append(("INFO", i18n.report(summary)))
        return reports, bool(good), ("WARNING" if failed else "INFO", summary)
    if good:
        return reports, True, ("INFO", good[0].said)
    if outcomes:  # one job, cancelled
        reports.append(("INFO", i18n.report(msg("Cancelled the import of {task_id}", task_id=outcomes[0].job.label))))
        return reports, False, ("INFO", outcomes[0].said)
    return reports, False, None
