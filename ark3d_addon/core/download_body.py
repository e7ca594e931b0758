"""How a download's body reaches the disk, and how fast it must come.

:class:`PartFile` appends to the ``.part`` file and has the kernel write it back as it grows,
so the fsync at the end waits for little; :class:`RateWatch` tells a host that trickles (a
few bytes now and then, never slow enough for a read timeout) from one that is merely slow.
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO

__all__ = ["PartFile", "RateWatch"]

_WRITEBACK_STEP = 32 << 20
#: Slower than this, averaged over a stall window, counts as stalled: a server that trickles a
#: byte now and then (slow-loris) never trips the read timeout but would never finish either.
_MIN_BYTES_PER_S = 1024
#: On Linux, DONTNEED on dirty pages starts their writeback asynchronously (pages being
#: written stay cached, so the extraction that follows still reads from memory).
_FADVISE = getattr(os, "POSIX_FADV_DONTNEED", None) if sys.platform.startswith("linux") else None


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing a range to disk now, without waiting (Linux).

    The final fsync then has only the last window to flush instead of the whole file: on a
    fast link that wait would otherwise cost a third of the download time.
    """
    if _FADVISE is not None:
        os.posix_fadvise(fd, offset, length, _FADVISE)


class PartFile:
    """The ``.part`` being appended to: the disk is asked to write back every :data:`_WRITEBACK_STEP`
    as the bytes come, so the final fsync (or the caller's) has little left to wait for."""

    def __init__(self, out: IO[bytes], have: int) -> None:
        self.out = out
        self.have = have  # bytes already in the file (a resumed download)
        self.got = 0
        self.flushed = 0

    def write(self, chunk: bytes) -> None:
        self.out.write(chunk)
        self.got += len(chunk)
        if self.got - self.flushed >= _WRITEBACK_STEP:
            self.out.flush()
            _start_writeback(self.out.fileno(), self.have + self.flushed, self.got - self.flushed)
            self.flushed = self.got

    def finish(self, durable: bool) -> None:
        """Flush; fsync when ``durable``, else have the disk start on the last window now (the caller syncs later)."""
        self.out.flush()
        if durable:
            os.fsync(self.out.fileno())
        else:
            _start_writeback(self.out.fileno(), self.have + self.flushed, self.got - self.flushed)


class RateWatch:
    """A host that trickles (a few bytes now and then, so no read times out) is as good as stalled: over
    each ``stall_timeout`` window the body must bring :data:`_MIN_BYTES_PER_S` a second on average."""

    def __init__(self, stall_timeout: float) -> None:
        self.stall_timeout = stall_timeout
        self.window_start = time.monotonic()
        self.window_got = 0

    def too_slow(self, got: int) -> int | None:
        """The bytes of a window that ended too slow, None while the rate holds."""
        now = time.monotonic()
        if now - self.window_start < self.stall_timeout:
            return None
        if got - self.window_got < _MIN_BYTES_PER_S * self.stall_timeout:
            return got - self.window_got
        self.window_start, self.window_got = now, got
        return None
