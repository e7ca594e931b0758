"""What a job is doing, as the interface reads it: its phase, its kind and one line of text.

Apart from :mod:`.job` because the library's journal records a job's kind too, and the job
imports the library.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ArkError
from .messages import Message, msg
from .strenum import StrEnum

__all__ = ["JobKind", "JobState", "Phase"]


class Phase(StrEnum):
    """Where a job is.  The Blender layer picks labels and icons by phase, the runner ends on a final one."""

    STARTING = "starting"
    CREATING = "creating"
    QUEUED = "queued"
    RUNNING = "running"
    DOWNLOADING = "downloading"
    EXTRACTING = "extracting"
    READY = "ready"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """The worker has nothing left to do (``ready``: the model waits to be imported)."""
        return self in (Phase.READY, Phase.DONE, Phase.FAILED, Phase.CANCELLED)


class JobKind(StrEnum):
    """How a job began; the value is what the journal (``job.json``) stores, so it must not change."""

    IMPORT = "import"  # from a task id
    GENERATE = "create"  # from an image: the job created the (paid) task


@dataclass(frozen=True)
class JobState:
    """What the UI shows: a phase, one line of text, and a 0..1 fraction when known."""

    phase: Phase = Phase.STARTING
    text: Message = field(default_factory=lambda: msg("Starting"))
    fraction: float | None = None
    error: ArkError | None = None

    @property
    def finished(self) -> bool:
        return self.phase.finished
