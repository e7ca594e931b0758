"""The task as Ark describes it, parsed leniently, and task-id validation.

The query call's document (the seed) lists ``id``, ``model``, ``status``, ``error``,
``created_at``, ``updated_at``, ``content.file_url``, ``subdivisionlevel``, ``fileformat`` and
``usage``.  The seed's own example sends the times as strings, the field table says integers:
both are accepted.  Unknown fields are kept in :attr:`Task.raw` and unknown statuses are
treated as "still in progress" so a new service release never breaks an import.

Only Seed3D's answer carries ``fileformat``; for Hyper3D and Hitem3D, whose links name the model
file itself, the format is read from the link's file name.  The link also says when it dies
(``X-Tos-Date`` + ``X-Tos-Expires``), which wins over the model's documented lifetime.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

from .archive import MODEL_EXTENSIONS
from .catalog import is_3d_model_id
from .errors import ConfigError, ErrorCode
from .messages import msg
from .retention import link_lifetime
from .strenum import StrEnum

__all__ = [
    "Status",
    "Task",
    "TaskError",
    "Usage",
    "parse_task",
    "parse_task_ids",
    "signed_link_expiry",
    "validate_task_id",
]

# Real ids look like ``cgt-20251124123456-abcde``.  We accept the ``cgt-`` prefix followed by
# letters, digits, ``-`` and ``_`` only, so nothing path-like (``/``, ``..``, ``%2F``, ``?``)
# can ever be spliced into a URL or a library folder name.
_TASK_ID = re.compile(r"^cgt-[A-Za-z0-9][A-Za-z0-9_-]{0,126}\Z")
#: Invisible characters that come along when an id is copied from a web page.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


class Status(StrEnum):
    """Task statuses from the seed, ``expired``, and ``UNKNOWN`` for any value a later API adds.

    The seed documents queued, running, cancelled, succeeded and failed; the official SDK's task
    type keeps the status as a plain string and names no other value.  ``expired`` is documented
    by neither: it is kept as a final status only because a task may carry
    ``execution_expires_after``, and should Ark ever report a task that outlived it as
    ``expired``, the job must end on it rather than poll for hours.
    """

    QUEUED = "queued"
    RUNNING = "running"
    CANCELLED = "cancelled"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self in (Status.CANCELLED, Status.SUCCEEDED, Status.FAILED, Status.EXPIRED)

    @classmethod
    def parse(cls, value: object) -> Status:
        text = str(value or "").strip().lower()
        for member in cls:
            if member.value == text:
                return member
        return cls.UNKNOWN


@dataclass(frozen=True)
class TaskError:
    """The task's ``error`` object: set when the task failed."""

    code: str = ""
    message: str = ""


@dataclass(frozen=True)
class Usage:
    completion_tokens: int | None = None
    total_tokens: int | None = None


@dataclass(frozen=True)
class Task:
    """One 3D generation task.  ``raw`` is the JSON object exactly as received."""

    id: str
    status: Status
    status_text: str = ""
    model: str = ""
    error: TaskError | None = None
    created_at: int | None = None
    updated_at: int | None = None
    file_url: str = ""
    video_url: str = ""  # a video generation task's result (Seedance): not a 3D task
    subdivisionlevel: str = ""
    fileformat: str = ""
    usage: Usage = field(default_factory=Usage)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def link_expires_at(self) -> int | None:
        """When the result link dies: as the link says (:func:`signed_link_expiry`), else its model's
        documented link lifetime after the task finished (``updated_at``)."""
        if self.status is not Status.SUCCEEDED:
            return None
        signed = signed_link_expiry(self.file_url)
        if signed is not None:
            return signed
        if self.updated_at is None:
            return None
        return self.updated_at + link_lifetime(self.model)

    def link_seconds_left(self, now: float | None = None) -> float | None:
        expires = self.link_expires_at()
        if expires is None:
            return None
        return expires - (time.time() if now is None else now)

    def elapsed(self, now: float | None = None) -> float | None:
        """Seconds since the task was created, for the progress display."""
        if self.created_at is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.created_at)

    def file_name(self) -> str:
        """The result's file name from ``file_url`` (without the signed query), or ``result.zip``."""
        name = unquote(urlparse(self.file_url).path.rsplit("/", 1)[-1]) if self.file_url else ""
        return name or "result.zip"

    @property
    def is_video(self) -> bool:
        """A video generation task (Seedance), which the same task calls return beside 3D ones.

        Known from its result (``content.video_url``), its model (``doubao-seedance-*``), or the
        fields only video tasks carry (``duration``, ``ratio``, ``framespersecond``), so a queued
        video task is told apart too.
        """
        if self.video_url or "seedance" in self.model.lower():
            return True
        return not is_3d_model_id(self.model) and any(
            self.raw.get(key) is not None for key in ("duration", "ratio", "framespersecond", "generate_audio"))


def _as_int(value: object) -> int | None:
    """Unix seconds as int or numeric string (the seed's example uses strings).

    Python's JSON reader accepts ``NaN`` and ``Infinity``, and ``"1e999"`` is a float too:
    anything that is not a finite number becomes None rather than an exception.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        if isinstance(value, float):
            return int(value)
        if isinstance(value, str):
            text = value.strip()
            if len(text) > 100:
                return None
            try:
                return int(text)
            except ValueError:
                return int(float(text))
    except (ValueError, OverflowError):
        return None
    return None


def _as_str(value: object) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def signed_link_expiry(url: str) -> int | None:
    """When a pre-signed object-storage link dies, from its own query: ``X-Tos-Date`` (when it was
    signed, ``20251124T123456Z``, UTC) plus ``X-Tos-Expires`` (seconds).  None when either is
    missing or unreadable (the caller then goes by the model's documented lifetime)."""
    query = {key.lower(): value for key, value in parse_qsl(urlparse(url or "").query)}
    signed, seconds = query.get("x-tos-date", ""), query.get("x-tos-expires", "")
    if not signed or not re.fullmatch(r"\d{1,9}", seconds):
        return None
    try:
        start = datetime.strptime(signed, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return int(start.timestamp()) + int(seconds)


def _format_of_link(url: str) -> str:
    """A result link's model format from its file name (``.../0217abc.fbx?...`` -> ``fbx``); "" for a zip."""
    suffix = PurePosixPath(unquote(urlparse(url).path)).suffix.lower() if url else ""
    return suffix[1:] if suffix in MODEL_EXTENSIONS else ""


def parse_task(data: object) -> Task:
    """Build a :class:`Task` from the query call's JSON.

    Tolerant by design: a missing or mistyped optional field becomes empty, never an
    exception.  Only a body that is not an object, or has no usable ``id``, is refused.
    """
    if not isinstance(data, dict):
        raise ValueError("task JSON is not an object")
    task_id = _as_str(data.get("id")).strip()
    if not task_id:
        raise ValueError("task JSON has no id")

    error = None
    err = data.get("error")
    if isinstance(err, dict) and (err.get("code") or err.get("message")):
        error = TaskError(code=_as_str(err.get("code")), message=_as_str(err.get("message")))

    content = data.get("content")
    file_url = _as_str(content.get("file_url")).strip() if isinstance(content, dict) else ""
    video_url = ""
    if isinstance(content, dict):
        video_url = _as_str(content.get("video_url") or content.get("last_frame_url")).strip()

    usage_raw = data.get("usage")
    usage = Usage()
    if isinstance(usage_raw, dict):
        usage = Usage(
            completion_tokens=_as_int(usage_raw.get("completion_tokens")),
            total_tokens=_as_int(usage_raw.get("total_tokens")),
        )

    return Task(
        id=task_id,
        status=Status.parse(data.get("status")),
        status_text=_as_str(data.get("status")),
        model=_as_str(data.get("model")),
        error=error,
        created_at=_as_int(data.get("created_at")),
        updated_at=_as_int(data.get("updated_at")),
        file_url=file_url,
        video_url=video_url,
        subdivisionlevel=_as_str(data.get("subdivisionlevel")),
        fileformat=_as_str(data.get("fileformat")).lower() or _format_of_link(file_url),
        usage=usage,
        raw=dict(data),
    )


def validate_task_id(text: str) -> str:
    """Return a clean task id or raise :class:`ConfigError` before any request is made.

    Trims whitespace and accepts a pasted console URL or API URL that ends in the id, so
    ``  https://.../tasks/cgt-2025...-abc?x=1`` becomes ``cgt-2025...-abc``.
    """
    candidate = (text or "").strip().strip(_INVISIBLE).strip()
    if not candidate:
        raise ConfigError(msg("No task id given"), code=ErrorCode.MISSING_TASK_ID,
                          hint=msg("Paste the task id (it starts with cgt-)"))
    if "://" in candidate:
        path = urlparse(candidate).path.rstrip("/")
        candidate = path.rsplit("/", 1)[-1]
    if not _TASK_ID.match(candidate):
        # Echo only what looks like an attempt at an id: text pasted into the wrong field
        # (an API key, most likely) must not end up in a message, a log or a report.
        if candidate.startswith("cgt-"):
            shown = candidate if len(candidate) <= 40 else candidate[:37] + "..."
            visible = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in shown)
            what = msg("'{text}' is not a valid Ark task id", text=visible)
        else:
            what = msg("The text given is not a valid Ark task id (it does not start with cgt-)")
        raise ConfigError(
            what,
            code=ErrorCode.INVALID_TASK_ID,
            hint=msg("A task id looks like cgt-20251124123456-abcde: letters, digits and dashes only"),
        )
    return candidate


#: What separates the ids of a pasted list: commas (also the full-width one), semicolons, whitespace.
_ID_SEPARATORS = re.compile(r"[,;\uff0c\uff1b\s]+")


def parse_task_ids(text: str) -> list[str]:
    """Every task id in a pasted list, validated, duplicates dropped, in the order given.

    Ids (or console/API URLs ending in one) may be separated by commas, semicolons, spaces or
    new lines.  One invalid item refuses the whole list, before any request, naming it.
    """
    items = [item for item in _ID_SEPARATORS.split((text or "").strip(_INVISIBLE)) if item.strip(_INVISIBLE)]
    if not items:
        return [validate_task_id("")]  # raises "No task id given"
    found: list[str] = []
    for item in items:
        task_id = validate_task_id(item)
        if task_id not in found:
            found.append(task_id)
    return found
