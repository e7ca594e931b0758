"""The one way the add-on runs work off the main thread, and what it does with a bug.

A :class:`Worker` runs one function in a daemon thread (or in the calling thread, where there
is no event loop to wait with); the main thread polls :attr:`Worker.done`.  The function must
not touch ``bpy``.  An :class:`ArkError` is a failure the user can act on: it is kept in
:attr:`Worker.error` and shown.  Any other exception is a bug: its traceback is printed to
stderr (Blender's system console, the command line's stderr) and kept in
:attr:`Worker.traceback`, and :attr:`Worker.error` gets a short :func:`internal_error` for the
interface, so a bug always ends the wait visibly and always leaves its traceback.
"""

from __future__ import annotations

import sys
import threading
import traceback as tb
from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import ArkError, ErrorCode, redact
from .messages import msg

__all__ = ["Worker", "internal_error", "print_bug"]

T = TypeVar("T")


def internal_error(exc: BaseException, secret: str = "") -> ArkError:
    """The short message a bug shows in the interface; the traceback went to the console."""
    return ArkError(
        msg("An internal error stopped the job: {error}", error=f"{type(exc).__name__}: {redact(str(exc), secret)}"),
        code=ErrorCode.INTERNAL_ERROR,
        hint=msg("The console shows the details; please report them with the task id"),
    )


def print_bug(exc: BaseException, secret: str = "") -> str:
    """Print the traceback of ``exc`` to stderr, the key redacted; return the text printed."""
    text = redact("".join(tb.format_exception(type(exc), exc, exc.__traceback__)), secret)
    print(text, end="", file=sys.stderr, flush=True)
    return text


class Worker(Generic[T]):
    """Run ``fn(cancel_event)`` once; its result, its :class:`ArkError`, or a bug's traceback."""

    def __init__(self, fn: Callable[[threading.Event], T], name: str = "ark3d-worker", secret: str = "",
                 cancel: threading.Event | None = None) -> None:
        self._fn = fn
        self.name = name
        self.cancel_event = cancel if cancel is not None else threading.Event()
        self.result: T | None = None
        self.error: ArkError | None = None
        #: The printed traceback of a bug ("" if none): for reports and tests.
        self.traceback = ""
        self._secret = secret
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Worker[T]:
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def run(self) -> None:
        """Run in the calling thread (background Blender has no event loop to wait with)."""
        try:
            self.result = self._fn(self.cancel_event)
        except ArkError as exc:
            self.error = exc
        except Exception as exc:  # a bug: its traceback to the console, a short message to the UI
            self.traceback = print_bug(exc, self._secret)
            self.error = internal_error(exc, self._secret)
        finally:
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def cancel(self) -> None:
        self.cancel_event.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the function to end; True once it has (also when it never started)."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True
