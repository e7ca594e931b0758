"""The jobs this Blender is running, so the panel can show them and nothing outlives a file.

Main-thread data only: the modal operator adds and removes entries, the panel reads them.
The worker threads behind each :class:`ImportJob` never see this module.
"""

import time
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


def cancel_all(wait: float) -> None:
    """Ask every worker to stop, then wait up to ``wait`` seconds in all for them to exit."""
    jobs = [entry.job for entry in active.values()]
    for job in jobs:
        job.cancel()
    deadline = time.monotonic() + wait
    for job in jobs:
        job.join(max(0.0, deadline - time.monotonic()))


@persistent
def on_load_pre(*_args: object) -> None:
    """Loading another .blend ends every job: its result would land in the wrong file."""
    cancel_all(wait=2.0)
