"""The jobs this Blender is running, so the panel can show them and nothing outlives a file.

Main-thread data only: the operators add and remove entries, the panel reads them.  The
worker threads behind each :class:`ImportJob` never see this module.

Restart-safe jobs: every job of the operators is journaled in the library (``job.json``).
Quitting Blender or disabling the add-on *stops* the workers (:meth:`ImportJob.stop`), which
keeps the journal and the partial download; the user's cancel and loading another .blend
*cancel* them, which removes both.  When an interactive Blender starts (or the add-on is
enabled), :func:`resume_on_start` runs once from a timer and :func:`resume_journaled` hands
the journal's unfinished jobs to ``ark3d.import_task(resume=True)``: they poll, download from
where they stopped, and import into whatever file is open then, shown in the panel like any
job.  Background Blender never resumes on its own (its timers do not run); scripts and tests
call :func:`resume_journaled` themselves.
"""

import time
import traceback
import weakref
from dataclasses import dataclass, field

import bpy
from bpy.app.handlers import persistent

from ..core.job import ImportJob


@dataclass
class ActiveJob:
    job: ImportJob
    started: float = field(default_factory=time.monotonic)


#: job key -> the job: the task id, or ``new-<n>`` for a generate until Ark gave the id
#: (:func:`sync_keys` renames it then).  One job per task: a second import waits for the first.
active: dict[str, ActiveJob] = {}

#: The last finished job's message, shown in the panel until the next import starts.
last_message: dict[str, str] = {"text": "", "level": ""}


def set_message(text: str, level: str) -> None:
    last_message["text"] = text
    last_message["level"] = level


def sync_keys() -> None:
    """Key each generate job by its task id as soon as Ark has given one."""
    for key, entry in list(active.items()):
        task_id = entry.job.task_id
        if task_id and key != task_id and task_id not in active:
            active[task_id] = active.pop(key)


def forget(job: ImportJob) -> None:
    """Drop ``job`` from :data:`active`, whatever it is keyed by now."""
    for key, entry in list(active.items()):
        if entry.job is job:
            del active[key]


#: Longest the main thread waits, in all, for a worker asked to stop (new file, quit, disable).
STOP_WAIT = 2.0

# When each worker was first asked to stop, plus STOP_WAIT: loading a file asks twice (the
# load_pre handler, then Blender cancels the modal operator), and the waits must not add up.
_stop_deadlines: "weakref.WeakKeyDictionary[ImportJob, float]" = weakref.WeakKeyDictionary()


def stop(job: ImportJob, wait: float = STOP_WAIT) -> bool:
    """Ask a worker to stop (keeping its journal) and wait, until ``wait`` s after it was *first* asked."""
    job.stop()
    now = time.monotonic()
    deadline = _stop_deadlines.setdefault(job, now + wait)
    return job.join(max(0.0, deadline - now))


def cancel_all(wait: float = STOP_WAIT, discard: bool = False) -> None:
    """Ask every worker to end, then wait up to ``wait`` seconds in all for them to exit.

    ``discard``: as the user's cancel (partial files and journal removed); else stopped, to
    be resumed by the next Blender.
    """
    running = [entry.job for entry in active.values()]
    deadline = time.monotonic() + wait
    for job in running:  # all asked first, so they wind down together
        if discard:
            job.cancel()
        else:
            job.stop()
        _stop_deadlines.setdefault(job, deadline)
    for job in running:
        stop(job)


@persistent
def on_load_pre(*_args: object) -> None:
    """Loading another .blend ends every job: its result would land in the wrong file."""
    cancel_all(discard=True)


# -- resuming the journal ---------------------------------------------------------------------

#: Seconds after start-up (or enabling) before the journal is looked at: the window is up by then.
RESUME_DELAY = 1.0
#: A timer that finds no window yet tries again this many times, once a second.
_RESUME_TRIES = 30
_resume_tries = [0]


def resume_journaled(context: bpy.types.Context) -> list[str]:
    """Resume the library journal's unfinished jobs; returns the task ids handed to the operator.

    With a window the jobs run like any import (modal, shown in the panel); without one (a
    script, background Blender) this returns once they are imported.  Jobs already running
    here or in another Blender, and those needing the network while Blender may not use it,
    stay journaled.  ``bpy.ops`` errors of a blocking run end up in :data:`last_message`.
    """
    from .operators import resume_jobs  # here: operators imports this module

    task_ids = [job.task_id for job in resume_jobs(context)]
    if not task_ids:
        return []
    import_task = bpy.ops.ark3d.import_task  # type: ignore[attr-defined]  # ours: the stubs know it not
    args = {"task_ids": " ".join(task_ids), "resume": True}
    wm = context.window_manager
    try:
        if context.window is None and not bpy.app.background and wm is not None and wm.windows:
            # A timer has no window in its context; the modal operator needs one.
            with context.temp_override(window=wm.windows[0]):
                import_task(**args)
        else:
            import_task(**args)
    except RuntimeError:
        pass  # reported by the operator, and kept in last_message
    return task_ids


def resume_on_start() -> float | None:
    """The one-shot ``bpy.app.timers`` callback registered by ``register()`` in an interactive Blender."""
    wm = bpy.context.window_manager
    if wm is None or not wm.windows:
        _resume_tries[0] += 1
        return 1.0 if _resume_tries[0] < _RESUME_TRIES else None
    try:
        resume_journaled(bpy.context)
    except Exception:  # a timer must not raise; the console shows what went wrong
        traceback.print_exc()
    return None
