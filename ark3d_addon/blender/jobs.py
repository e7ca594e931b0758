"""The jobs this Blender is running, so the panel can show them and nothing outlives a file.

Main-thread data only: the modal operator adds and removes entries, the panel reads them.
The worker threads behind each :class:`ImportJob` never see this module.
"""

import time
import weakref
from dataclasses import dataclass, field

from bpy.app.handlers import persistent

from ..core.job import ImportJob


@dataclass
class ActiveJob:
    job: ImportJob
    started: float = field(default_factory=time.monotonic)


#: task id -> the job importing it (one job per task: a second import waits for the first).
active: dict[str, ActiveJob] = {}

#: The last finished job's message, shown in the panel until the next import starts.
last_message: dict[str, str] = {"text": "", "level": ""}


def set_message(text: str, level: str) -> None:
    last_message["text"] = text
    last_message["level"] = level


#: Longest the main thread waits, in all, for a worker asked to stop (new file, quit, disable).
STOP_WAIT = 2.0

# When each worker was first asked to stop, plus STOP_WAIT: loading a file asks twice (the
# load_pre handler, then Blender cancels the modal operator), and the waits must not add up.
_stop_deadlines: "weakref.WeakKeyDictionary[ImportJob, float]" = weakref.WeakKeyDictionary()


def stop(job: ImportJob, wait: float = STOP_WAIT) -> bool:
    """Ask a worker to stop and wait for it, until ``wait`` seconds after it was *first* asked."""
    job.cancel()
    now = time.monotonic()
    deadline = _stop_deadlines.setdefault(job, now + wait)
    return job.join(max(0.0, deadline - now))


def cancel_all(wait: float = STOP_WAIT) -> None:
    """Ask every worker to stop, then wait up to ``wait`` seconds in all for them to exit."""
    jobs = [entry.job for entry in active.values()]
    deadline = time.monotonic() + wait
    for job in jobs:  # all asked first, so they wind down together
        job.cancel()
        _stop_deadlines.setdefault(job, deadline)
    for job in jobs:
        stop(job)


@persistent
def on_load_pre(*_args: object) -> None:
    """Loading another .blend ends every job: its result would land in the wrong file."""
    cancel_all()
