"""The one runner: every job and background call of the add-on, with every timer and modal loop.

No bpy in the workers, no network on the main thread: work (:class:`Work`) is either jobs
(:class:`ImportJob`: import, generate, batch, resume) or one background call (the task list,
Check Connection, cancel/delete on Ark).  The runner keeps, on the main thread, in the add-on's
state (:class:`.state.RunnerState`):

- the registry of running jobs (:func:`active_jobs`: the panel lists them; one job per task);
- the queue of work no operator runs (the scripting API, the journal resumed at start-up, a
  list refresh from a filter change), which the ``ark3d.run`` operator picks up;
- the modal loops (:class:`ModalLoop`): each owns its window timer and takes Esc and Blender's
  cancel, as ``CommandHandle`` does in Blender's own extension manager (``bl_pkg``);
- the last finished work's message (a :class:`.state.StatusLine`);
- the one app timer (the journal's resume at start-up) and the ``load_pre`` handler.

An operator that runs work derives from :class:`RunnerOperator` and implements ``make_work``
and ``work_done`` (checked when the class is made).  With a window it returns ``RUNNING_MODAL``
at once and the runner moves its jobs' states to the UI and imports each ready model on the
main thread, one per tick; without one (background Blender, the ``bpy`` module) the work runs to
the end in place.  The runner's own operator, ``ark3d.run``, lives here: it is its modal loop
for queued work, not a user's command.

Quitting Blender or disabling the add-on *stops* the workers (journal and partial download
are kept for the next Blender); the user's cancel and loading another .blend *cancel* them.
"""

import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import bpy
from bpy.app.handlers import persistent

from ..core.errors import ArkError
from ..core.messages import Message
from . import env, i18n, state
from ._typing import OperatorResult
from .finish import Outcome, Report, conclude, finish
from .options import ImportOptions, options_from_preferences
from .preferences import get_preferences
from .progress import ProgressDisplay

if TYPE_CHECKING:
    from ..core.job import ImportJob
    from ..core.worker import Worker

__all__ = [
    "ActiveJob", "RunnerState", "active_jobs", "set_message",  # the registry and the last message
    "Outcome", "Report", "Work", "RunnerOperator", "report_works", "run_blocking", "start", "submit",  # work
    "resume_journaled", "cancel_all", "on_load_pre", "stop",  # resuming and ending work
    "CLASSES", "TIMERS", "register", "unregister",  # the add-on's life
]

#: Seconds between two looks at the work (a window timer; the workers do not wait for it).
TIMER_STEP = 0.1
#: How often a blocking run (no event loop) looks at its jobs.
BLOCKING_STEP = 0.05
#: Longest the main thread waits, in all, for a worker asked to stop (new file, quit, disable).
STOP_WAIT = 2.0
#: Seconds after start-up (or enabling) before the journal is looked at: the window is up by then.
RESUME_DELAY = 1.0
#: The resume timer, finding no window yet, tries again this many times, once a second.
_RESUME_TRIES = 30


# -- the registry of running jobs ---------------------------------------------------------------


class ActiveJob:
    """A running job and when it started (the panel lists them)."""

    def __init__(self, job: "ImportJob", started: float) -> None:
        self.job = job
        self.started = started


class RunnerState:
    """What :mod:`.runner` keeps in the add-on's state (a plain class: see :mod:`.state`)."""

    def __init__(self) -> None:
        #: job key -> the job: the task id, or ``new-<n>`` for a generate until Ark gave the id.
        self.jobs: dict[str, ActiveJob] = {}
        #: Work waiting for ``ark3d.run`` (made with no operator to run it: the API, resume, a refresh).
        self.queue: list[Work] = []
        #: Every modal loop running now.
        self.loops: list[ModalLoop] = []
        self.display: ProgressDisplay | None = None
        self.last_tick = 0.0
        #: When each worker was first asked to stop, plus the wait (the waits of two asks must not add up).
        self.stop_deadlines: weakref.WeakKeyDictionary[ImportJob, float] = weakref.WeakKeyDictionary()
        self.resume_tries = 0
        #: The last finished work's message, shown in the panel until the next work starts.
        self.message = state.StatusLine()
        #: The import that message is about, when it is about one: the panel shows its figures.
        self.last_import: Outcome | None = None


def _mine() -> RunnerState:
    return state.get().part(RunnerState)


def active_jobs() -> dict[str, ActiveJob]:
    """job key -> the running job: the task id, or ``new-<n>`` for a generate until Ark gave the id
    (:func:`_sync_keys` renames it then).  One job per task: a second import is refused."""
    return _mine().jobs


def set_message(what: Message | ArkError | None, level: str, outcome: Outcome | None = None, task_id: str = "",
                kind: str = "") -> None:
    """Show ``what`` in the panel (None: no message) until the next work ends (greyed while it runs)."""
    runner = _mine()
    runner.message.say(what, level, task_id, kind)
    runner.last_import = outcome if outcome is not None and outcome.summary is not None else None


def _register_job(job: "ImportJob") -> None:
    active_jobs()[job.key] = ActiveJob(job, time.monotonic())


def _sync_keys() -> None:
    """Key each generate job by its task id as soon as Ark has given one."""
    active = active_jobs()
    for key, entry in list(active.items()):
        task_id = entry.job.task_id
        if task_id and key != task_id and task_id not in active:
            active[task_id] = active.pop(key)


def _forget(job: "ImportJob") -> None:
    active = active_jobs()
    for key, entry in list(active.items()):
        if entry.job is job:
            del active[key]


def stop(job: "ImportJob", wait: float = STOP_WAIT) -> bool:
    """Ask a worker to stop (keeping its journal) and wait, until ``wait`` s after it was *first* asked.

    (Loading a file asks twice: the load_pre handler, then Blender cancels the modal operator;
    the waits must not add up.)
    """
    job.stop()
    now = time.monotonic()
    deadline = _mine().stop_deadlines.setdefault(job, now + wait)
    return job.join(max(0.0, deadline - now))


def cancel_all(wait: float = STOP_WAIT, discard: bool = False) -> None:
    """Ask every worker to end, then wait up to ``wait`` seconds in all for them to exit.

    ``discard``: as the user's cancel (partial files and journal removed); else stopped, to
    be resumed by the next Blender.
    """
    runner = _mine()
    running = [entry.job for entry in runner.jobs.values()]
    deadline = time.monotonic() + wait
    for job in running:  # all asked first, so they wind down together
        if discard:
            job.cancel()
        else:
            job.stop()
        runner.stop_deadlines.setdefault(job, deadline)
    for job in running:
        stop(job)
    for work in runner.queue:
        if work.call is not None:
            work.call.cancel()


@persistent
def on_load_pre(*_args: object) -> None:
    """Loading another .blend ends every job: its result would land in the wrong file."""
    cancel_all(discard=True)


# -- work ---------------------------------------------------------------------------------------


class Work:
    """What one operator (or the queue) runs: jobs to import with their options, or one call.

    ``on_call_done`` turns a finished call into reports on the main thread; ``after`` runs
    once everything has ended (e.g. the browser updates a row's library flags).
    """

    def __init__(self, jobs: "list[ImportJob] | None" = None, options: ImportOptions | None = None, *,
                 call: "Worker[Any] | None" = None,
                 on_call_done: "Callable[[bpy.types.Context, Worker[Any]], list[Report]] | None" = None,
                 after: "Callable[[Work], None] | None" = None) -> None:
        self.jobs = jobs if jobs is not None else []
        self.options = options if options is not None else ImportOptions()
        self.call = call
        self.on_call_done = on_call_done
        self.after = after
        self.outcomes: list[Outcome] = []
        self.reports: list[Report] = []
        self.ok = False
        self.begun = False
        self.ended = False

    def pending(self) -> "list[ImportJob]":
        return [j for j in self.jobs if not any(o.job is j for o in self.outcomes)]

    @property
    def running(self) -> bool:
        """Something is still being worked on (Esc has something to cancel)."""
        return any(not j.snapshot().finished for j in self.pending()) or (
            self.call is not None and not self.call.done)

    def cancel(self) -> None:
        """The user's cancel: partial downloads and journals go."""
        for job in self.pending():
            job.cancel()
        if self.call is not None:
            self.call.cancel()

    def stop(self) -> None:
        """Blender ends the loop (quit, file load): stopped, the jobs resume in the next Blender."""
        for job in self.pending():
            stop(job)
        if self.call is not None:
            self.call.cancel()


def _worker_died(job: "ImportJob") -> bool:
    """Liveness first, then the state: a worker sets its final state before it exits, so a dead
    worker with an unfinished state died of an unexpected error and would never finish."""
    alive = job.alive
    return not alive and not job.snapshot().finished


def _finish_one(context: bpy.types.Context, work: Work) -> bool:
    """Finish the first ended job of ``work`` (an import is a main-thread stall: one per tick)."""
    done = next((j for j in work.pending() if j.snapshot().finished or _worker_died(j)), None)
    if done is None:
        return False
    done.join(1.0)
    _forget(done)
    outcome = finish(context, done, work.options)
    work.outcomes.append(outcome)
    if outcome.ok and done.result is not None:
        for hook in state.get().hooks.result:
            hook(context, done)
    if outcome.ok or outcome.error is not None:
        set_message(outcome.said, "INFO" if outcome.ok else "ERROR", outcome, done.task_id or "", done.kind)
    return True


def _end(context: bpy.types.Context, work: Work) -> None:
    """Everything of ``work`` has ended: its reports, then its ``after``."""
    if work.ended:
        return
    work.ended = True
    if work.call is not None:
        work.reports.extend(work.on_call_done(context, work.call) if work.on_call_done is not None else [])
        work.ok = work.call.error is None and not any(level == "ERROR" for level, _text in work.reports)
    if work.jobs:
        reports, work.ok, message = conclude(work.outcomes)
        work.reports.extend(reports)
        if message is not None:
            single = work.outcomes[0] if len(work.outcomes) == 1 else None
            last = _mine().message
            set_message(message[1], message[0], single, last.task_id, last.kind)
    if work.after is not None:
        work.after(work)


def _begin(work: Work) -> None:
    """Register the jobs and start every worker of ``work`` (once)."""
    if work.begun:
        return
    work.begun = True
    for job in work.jobs:
        _register_job(job)
    for job in work.jobs:  # the last message stays until this work ends: the panel keeps its height
        job.start()
    if work.call is not None:
        work.call.start()


# -- without an event loop ----------------------------------------------------------------------


def run_blocking(context: bpy.types.Context, work: Work) -> Work:
    """Run ``work`` to the end on this thread's watch: jobs side by side, each imported as it is ready."""
    work.begun = True
    if work.call is not None:  # in its own thread, waited for: no network on Blender's main thread
        work.call.start().join()
    for job in work.jobs:
        _register_job(job)
        job.start()
    try:
        while work.pending():
            _sync_keys()
            for hook in state.get().hooks.tick:
                hook(context)
            if not _finish_one(context, work):
                work.pending()[0].join(BLOCKING_STEP)  # back at once when it ends: a library hit takes ms
    except BaseException:  # KeyboardInterrupt in a script: nothing may keep running unseen
        for job in work.pending():
            job.cancel()
            _forget(job)
        raise
    _end(context, work)
    return work


# -- with an event loop: the modal loops --------------------------------------------------------

def _tick(context: bpy.types.Context) -> None:
    """What every loop shares, once per step whichever loop's timer fired: keys and progress."""
    runner = _mine()
    now = time.monotonic()
    if now - runner.last_tick < TIMER_STEP / 2:
        return
    runner.last_tick = now
    _sync_keys()
    for hook in state.get().hooks.tick:
        hook(context)
    running = [entry.job for entry in runner.jobs.values() if not entry.job.snapshot().finished]
    if not running:
        return
    if runner.display is None:
        runner.display = ProgressDisplay(running[0].label)
    runner.display.task_id = running[0].label + (f" (+{len(running) - 1})" if len(running) > 1 else "")
    runner.display.update(context, running[0].snapshot())


def _clear_display(context: bpy.types.Context) -> None:
    runner = _mine()
    if runner.display is not None and not runner.jobs:
        runner.display.clear(context)
        runner.display = None


class ModalLoop:
    """One modal loop: its operator, its window timer, the work it runs (bl_pkg's CommandHandle)."""

    def __init__(self, op: "RunnerOperator", context: bpy.types.Context, works: list[Work]) -> None:
        wm = context.window_manager
        assert wm is not None
        self.works = works
        self.takes_queue = op.runs_queue
        self.wm: bpy.types.WindowManager | None = wm
        self.timer: bpy.types.Timer | None = wm.event_timer_add(TIMER_STEP, window=context.window)
        wm.modal_handler_add(op)
        _mine().loops.append(self)

    def modal(self, op: "RunnerOperator", context: bpy.types.Context, event: bpy.types.Event) -> OperatorResult:
        if event.type == "ESC" and event.value == "PRESS" and any(w.running for w in self.works):
            for work in self.works:
                work.cancel()
            return {"RUNNING_MODAL"}
        # Event has no ``timer`` attribute: any TIMER event is a cue to look at the work.
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        _tick(context)
        for work in self.works:
            if work.jobs and _finish_one(context, work):
                break
        for work in self.works:
            if not work.pending() and (work.call is None or work.call.done):
                _end(context, work)
        if not all(w.ended for w in self.works):
            return {"PASS_THROUGH"}
        self.close()
        _clear_display(context)
        return op.work_done(context, self.works)

    def adopt(self, works: list[Work]) -> None:
        """Run ``works`` in this loop too (work queued while it runs)."""
        for work in works:
            _begin(work)
        self.works.extend(works)

    def cancel(self, context: bpy.types.Context) -> None:
        """Blender ends the loop (a file is loaded, Blender quits): stop the workers."""
        for work in self.works:
            work.stop()  # bounded: the load_pre handler may have waited for them already
            for job in work.jobs:
                _forget(job)
        self.close()
        _clear_display(context)

    def close(self) -> None:
        if self.timer is not None and self.wm is not None:
            self.wm.event_timer_remove(self.timer)
        self.timer = None
        loops = _mine().loops
        if self in loops:
            loops.remove(self)


def report_works(op: bpy.types.Operator, works: list[Work]) -> OperatorResult:
    """Report every line of ``works``; ``FINISHED`` when any did its work, else ``CANCELLED``."""
    errors = [text for w in works for level, text in w.reports if level == "ERROR"]
    for work in works:
        for level, text in work.reports:
            op.report({level}, text)  # type: ignore[arg-type]  # one of INFO, WARNING, ERROR
    if errors and not any(w.ok for w in works):
        return {"CANCELLED"}
    return {"FINISHED"} if any(w.ok for w in works) else {"CANCELLED"}


class RunnerOperator(bpy.types.Operator):
    """An operator whose work the runner runs: ``make_work`` builds it, ``work_done`` ends it.

    Not registered itself (no ``bl_idname``).  ``make_work`` raises :class:`ArkError` to
    refuse (reported, nothing started) or returns None when there is nothing to do.
    """

    _loop: "ModalLoop | None" = None
    #: ``ark3d.run`` only: the loop runs the queued work (:func:`start`).
    runs_queue = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "bl_idname" not in cls.__dict__:
            return  # a shared base of operators, not an operator
        for hook in ("make_work", "work_done"):
            if getattr(cls, hook) is getattr(RunnerOperator, hook):
                raise TypeError(" ".join((cls.__name__, "does not define", hook)))  # for developers only

    def make_work(self, context: bpy.types.Context) -> Work | None:
        raise NotImplementedError

    def work_done(self, context: bpy.types.Context, works: list[Work]) -> OperatorResult:
        raise NotImplementedError

    def fail(self, error: ArkError) -> OperatorResult:
        """``make_work`` refused: say why (``bpy.ops`` raises it as a ``RuntimeError``)."""
        self.report({"ERROR"}, i18n.error_text(error))
        return {"CANCELLED"}

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> OperatorResult:
        return self.execute(context)

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        try:
            work = self.make_work(context)
        except ArkError as exc:
            return self.fail(exc)
        works = [work] if work is not None else []
        queue = _mine().queue
        if self.runs_queue:
            works += queue
            queue.clear()
        if not works:
            return {"CANCELLED"}
        if not env.has_event_loop(context) or context.window_manager is None:
            return self.work_done(context, [run_blocking(context, w) for w in works])
        for w in works:
            _begin(w)
        self._loop = ModalLoop(self, context, works)
        _tick(context)  # the job's first frame now, with the click's own redraw, before its worker is busy
        return {"RUNNING_MODAL"}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> OperatorResult:
        loop = self._loop
        if loop is None:
            return {"CANCELLED"}
        return loop.modal(self, context, event)

    def cancel(self, context: bpy.types.Context) -> None:
        if self._loop is not None:
            self._loop.cancel(context)


class ARK3D_OT_run(RunnerOperator):
    """Run the Ark 3D work waiting in the queue (the scripting API's, the journal's, a list refresh)"""

    bl_idname = "ark3d.run"
    bl_label = "Run Ark 3D Jobs"
    bl_options = {"INTERNAL", "UNDO"}
    runs_queue = True

    def make_work(self, context: bpy.types.Context) -> Work | None:
        return None  # it runs the queue (runs_queue)

    def work_done(self, context: bpy.types.Context, works: list[Work]) -> OperatorResult:
        result = report_works(self, works)
        # FINISHED pushes this operator's undo step: only when a model landed in the scene (a
        # list refresh run here must not add a step that undoes nothing).
        return result if any(w.jobs and w.ok for w in works) else {"CANCELLED"}


def submit(work: Work) -> None:
    """Queue ``work`` for the next :func:`start` (its workers start then)."""
    _mine().queue.append(work)


def start(context: bpy.types.Context) -> None:
    """Run the queued work: in the running ``ark3d.run`` loop, in a new one, or (no window) now.

    Errors of a blocking run end up in the last message (``bpy.ops`` raises them too).
    """
    runner = _mine()
    if not runner.queue:
        return
    running_loop = next((loop for loop in runner.loops if loop.takes_queue), None)
    if running_loop is not None:
        running_loop.adopt(list(runner.queue))
        runner.queue.clear()
        return
    wm = context.window_manager
    run = bpy.ops.ark3d.run  # type: ignore[attr-defined]  # ours: the stubs know it not
    try:
        if env.has_event_loop(context):
            run("INVOKE_DEFAULT")
        elif not bpy.app.background and wm is not None and wm.windows:
            # A timer has no window in its context; the modal loop needs one.
            with context.temp_override(window=wm.windows[0]):
                run("INVOKE_DEFAULT")
        else:
            run()
    except RuntimeError:
        pass  # reported by the operator, and kept as the last message


# -- resuming the journal -----------------------------------------------------------------------


def resume_journaled(context: bpy.types.Context) -> list[str]:
    """Resume the library journal's unfinished jobs; returns their task ids.

    With a window the jobs run like any import (modal, shown in the panel); without one (a
    script, background Blender) this returns once they are imported.  Jobs already running
    here or in another Blender, and those needing the network while Blender may not use it,
    stay journaled.
    """
    from .job_builder import resume_jobs  # on first use: enabling the add-on needs no job code

    new_jobs = resume_jobs(context, busy=active_jobs().keys())
    if not new_jobs:
        return []
    try:
        options = options_from_preferences(get_preferences(context))
    except ArkError:
        options = ImportOptions()
    submit(Work(new_jobs, options))
    start(context)
    return [job.task_id for job in new_jobs]


def _resume_on_start() -> float | None:
    """App timer, once, in an interactive Blender: resume the journal when a window is up."""
    wm = bpy.context.window_manager
    runner = _mine()
    if wm is None or not wm.windows:
        runner.resume_tries += 1
        return 1.0 if runner.resume_tries < _RESUME_TRIES else None
    for step in (resume_journaled, *state.get().hooks.startup):
        try:
            step(bpy.context)
        except Exception:
            import traceback

            traceback.print_exc()
    return None


# -- the add-on's life --------------------------------------------------------------------------

#: Every function the add-on ever registers with ``bpy.app.timers``.
TIMERS: tuple[Callable[[], float | None], ...] = (_resume_on_start,)
CLASSES: tuple[type, ...] = (ARK3D_OT_run,)


def register() -> None:
    if on_load_pre not in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.append(on_load_pre)
    # Resume the jobs a previous Blender left unfinished -- only with a window: the bpy module
    # never runs timers, and a timer still registered when it exits hangs the process.
    if not bpy.app.background and not bpy.app.timers.is_registered(_resume_on_start):
        # persistent: a .blend given on the command line loads after register(), which would drop it
        bpy.app.timers.register(_resume_on_start, first_interval=RESUME_DELAY, persistent=True)


def unregister() -> None:
    """Nothing of the add-on may run after this: timers, loops and workers end here."""
    for timer in TIMERS:
        if bpy.app.timers.is_registered(timer):
            bpy.app.timers.unregister(timer)
    # Stop workers first: a job must not outlive the code that would import its result.  They
    # are stopped, not cancelled: journal and partial download stay for the next Blender.
    cancel_all(wait=STOP_WAIT)
    runner = _mine()
    for loop in list(runner.loops):
        for work in loop.works:
            if work.call is not None:
                work.call.cancel()
        loop.close()
    runner.queue.clear()
    runner.jobs.clear()
    if on_load_pre in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.remove(on_load_pre)
