"""How many result downloads run at once in this process: a cancellable, resizable semaphore.

A batch downloads side by side: object storage tends to cap each connection, so overlapping
the downloads is what makes a batch of 20 take about as long as its slowest file
(``scripts/bench.py``: 1.02 of that with 20 overlapping, 4.7 with 3 at a time).  The bound
keeps a pasted list of hundreds of ids from opening hundreds of connections.  Each
:class:`ImportJob` holds one of :data:`DOWNLOAD_SLOTS` while it downloads (not while it polls
or extracts); past :attr:`DownloadSlots.limit` jobs wait in line, cancellable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .errors import Cancelled

__all__ = ["DOWNLOAD_SLOTS", "DownloadSlots", "MAX_DOWNLOADS"]

#: Downloads that may run at once in one Blender.
MAX_DOWNLOADS = 20
#: How often a waiting job looks at its cancel event (the condition cannot wait on both).
_CANCEL_POLL_S = 0.1


class DownloadSlots:
    """A counting semaphore whose waits end on cancel and whose limit may change at run time."""

    def __init__(self, limit: int = MAX_DOWNLOADS) -> None:
        self._cond = threading.Condition()
        self._limit = max(1, int(limit))
        self.active = 0
        #: The most slots ever held at once (for tests and benchmarks).
        self.peak = 0

    @property
    def limit(self) -> int:
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        with self._cond:
            self._limit = max(1, int(value))
            self._cond.notify_all()

    @contextmanager
    def hold(self, cancel: threading.Event | None = None, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold one slot for the ``with`` block; ``on_wait`` is called once if the caller must queue."""
        told = on_wait is None
        while True:
            with self._cond:
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                if self.active < self._limit:
                    self.active += 1
                    self.peak = max(self.peak, self.active)
                    break
                if told:
                    self._cond.wait(_CANCEL_POLL_S)
                    continue
            told = True
            assert on_wait is not None
            on_wait()  # outside the lock: it may report progress, which takes other locks
        try:
            yield
        finally:
            with self._cond:
                self.active -= 1
                self._cond.notify()


#: The one set of download slots of this process.
DOWNLOAD_SLOTS = DownloadSlots()
