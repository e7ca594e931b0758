"""The add-on's one mutable state: made by ``register()``, dropped by ``unregister()``.

Everything the add-on remembers while it is enabled lives in one :class:`AddonState`, so
disabling it leaves nothing behind and enabling it starts afresh.  Reach it with :func:`get`
(on the main thread only: workers get what they need as arguments and hand back their result
through their :class:`~..core.worker.Worker`).  What a text shows is kept as a
:class:`StatusLine`: a message or an error, rendered when drawn, in the language of that moment.

Blender's own properties (the window manager's ``ark3d`` and ``ark3d_generate``) hold what the
user types and picks; this holds what the add-on learnt and runs.

The parts are plain classes, not dataclasses: a dataclass writes and compiles its methods when
its module is imported, about half a millisecond each, which every Blender start with the
add-on enabled would pay (the whole enabling is meant to cost under 20 ms).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from ..core.errors import ArkError, ConfigError, ErrorCode
from ..core.messages import Message, msg
from . import i18n

if TYPE_CHECKING:  # types only: importing them would make enabling the add-on slower
    import bpy

    from ..core.job import ImportJob

__all__ = ["AddonState", "Hooks", "StatusLine", "create", "drop", "get", "is_enabled"]

T = TypeVar("T")


class StatusLine:
    """One line the UI shows about something that happened: what it says (a message or an error),
    its level (INFO, WARNING or ERROR; "" with nothing to say), and the task it is about with that
    job's kind (``create`` for a generate).

    Kept as what it says, not as text: :attr:`text` renders it when drawn, so a switch of
    Blender's language shows at the next redraw.
    """

    def __init__(self) -> None:
        self.what: Message | ArkError | None = None
        self.level = ""
        self.task_id = ""
        self.kind = ""

    @property
    def text(self) -> str:
        """The line in the user's language now ("" without one)."""
        return i18n.text(self.what) if self.what is not None else ""

    def say(self, what: Message | ArkError | None, level: str, task_id: str = "", kind: str = "") -> None:
        self.what, self.level, self.task_id, self.kind = what, level, task_id, kind


class Hooks:
    """What other parts of the add-on run when something happens (the asset library adds itself)."""

    def __init__(self) -> None:
        #: Called on the main thread with each job whose result is now in the library.
        self.result: list[Callable[[bpy.types.Context, ImportJob], None]] = []
        #: Called on every step of the work (a modal tick, a step of a blocking run): cheap checks only.
        self.tick: list[Callable[[bpy.types.Context], None]] = []
        #: Called once after start-up, when a window is up (after the journal's resume).
        self.startup: list[Callable[[bpy.types.Context], None]] = []
        #: Called when the asset library preference or the library folder changes.
        self.library: list[Callable[[bpy.types.Context], None]] = []


class AddonState:
    """Every part of the add-on's memory, each made on first use and all dropped together.

    A part's type is defined by the module that owns it (so this one imports none of them):
    :class:`~.runner.RunnerState` (running jobs, queued work, modal loops, the last message),
    :class:`~.tasks.TaskBrowser` (the browser's rows and refresh), :class:`~.thumbnails.Pictures`,
    :class:`~.options.ModelMenu`, :class:`~.preferences.ConnectionReport`,
    :class:`~.asset_library.AssetQueue`; and :class:`Hooks`, defined here.
    """

    def __init__(self) -> None:
        self._parts: dict[type, object] = {}

    def part(self, kind: type[T]) -> T:
        """The part of type ``kind`` (made now, empty, if this is its first use)."""
        found = self._parts.get(kind)
        if found is None:
            found = self._parts[kind] = kind()
        return cast(T, found)

    @property
    def hooks(self) -> Hooks:
        return self.part(Hooks)


_current: AddonState | None = None  # the one module-level holder of the add-on


def create() -> AddonState:
    """A fresh state (``register()``)."""
    global _current
    _current = AddonState()
    return _current


def drop() -> None:
    """Forget everything (``unregister()``, after every worker and loop has ended)."""
    global _current
    _current = None


def is_enabled() -> bool:
    return _current is not None


def get() -> AddonState:
    """The add-on's state; refused (as scripts read it) while the add-on is not enabled."""
    if _current is None:
        raise ConfigError(msg("The Ark 3D add-on is not enabled"), code=ErrorCode.NOT_ENABLED,
                          hint=msg("Enable it in Edit > Preferences > Add-ons"))
    return _current
