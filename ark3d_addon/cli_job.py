"""Running one job from the command line: its progress on stderr, and Ctrl-C.

A pipeline log, not a redrawn bar: each new state line is printed once, retries included (the
job says what failed and until when it tries again).  Ctrl-C stops the job where it can stop
cleanly (between two polls, two chunks of the download, two files of the extraction); a second
Ctrl-C interrupts at once.  Either way one line on stderr says what the library kept and that
the same command resumes, and the command exits with 130 (128 + SIGINT), as shells expect.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from .core.errors import Cancelled
from .core.job import ImportJob, JobResult, JobState
from .core.library import Library
from .core.messages import format_bytes

__all__ = ["EX_INTERRUPTED", "interrupted_line", "progress_printer", "run_job"]

#: 128 + SIGINT: what a shell reports for a command stopped by Ctrl-C.
EX_INTERRUPTED = 130


def progress_printer(enabled: bool) -> Callable[[JobState], None]:
    """Print each new state line once; a stopped job's line is :func:`run_job`'s own."""
    last = [""]

    def show(state: JobState) -> None:
        text = state.text.render()
        if enabled and text != last[0] and not isinstance(state.error, Cancelled):
            last[0] = text
            print(text, file=sys.stderr, flush=True)

    return show


@contextmanager
def _ctrl_c_stops(job: ImportJob) -> Iterator[None]:
    """The first Ctrl-C asks the job to stop (it keeps its partial download); the second raises
    KeyboardInterrupt at once, for a job stuck where it cannot look (a connection being made)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread; elsewhere Ctrl-C never arrives
        return

    def stop(_signum: int, _frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        job.stop()

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_job(job: ImportJob) -> JobResult:
    """Run ``job`` here; on Ctrl-C print what was kept and raise :class:`Cancelled`."""
    try:
        with _ctrl_c_stops(job):
            return job.run()
    except (Cancelled, KeyboardInterrupt):
        print(interrupted_line(job.library, job.task_id, job.task.status_text if job.task else ""),
              file=sys.stderr, flush=True)
        raise Cancelled() from None


def interrupted_line(library: Library, task_id: str, status: str) -> str:
    """The one line after Ctrl-C: what the library kept of ``task_id``, and how to go on."""
    if not task_id:
        return "Interrupted before Ark gave a task id: nothing was kept."
    again = "run the same command again to"
    if library.is_extracted(task_id):
        return f"Interrupted: the result of {task_id} is in the library ({library.files_dir(task_id)})."
    zip_path, part = library.zip_path(task_id), library.part_path(task_id)
    if zip_path.is_file():
        return f"Interrupted: kept the complete download of {task_id} ({zip_path}); {again} extract it."
    if part.is_file():
        size = format_bytes(part.stat().st_size)
        return f"Interrupted: kept {size} of {task_id}'s download ({part}); {again} resume it."
    where = f" ({status} on Ark)" if status else ""
    return f"Interrupted: nothing was downloaded yet for {task_id}{where}; {again} resume waiting for it."
