"""Asking Ark about one task until it is final, at a polite, bounded rate.

Apart from the job so the polling schedule can be read, tested and measured on its own
(``scripts/bench.py`` runs it in virtual time): the job only hands it a client and a callback.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .client import ArkClient
from .errors import ArkError, Cancelled, ErrorCode, NetworkError
from .messages import format_duration, msg
from .task import Status, Task

__all__ = ["MAX_POLL_S", "MAX_QUEUED_INTERVAL", "POLL_ERROR_BUDGET_S", "Poller"]

#: Longest wait between two polls while the task sits in the queue.
MAX_QUEUED_INTERVAL = 30.0
#: Consecutive failed polls are tolerated for this long before the job gives up.
POLL_ERROR_BUDGET_S = 300.0
#: A job never polls longer than this (generation takes minutes, queues can be long).
MAX_POLL_S = 6 * 3600.0


class Poller:
    """Queries a task until it is final, at a polite, bounded rate.

    ``interval`` while running; while queued the wait grows by half each time up to
    :data:`MAX_QUEUED_INTERVAL`.  Errors are retried here with growing waits for up to
    :data:`POLL_ERROR_BUDGET_S`, never in a burst: only the first query (before the task was
    seen) uses the client's quick retries, later ones are one request per poll.  ``on_retry``
    hears of each error it rides out, with the seconds left before it gives up, so the user is
    told that Ark is not answering and until when it is asked again.
    """

    def __init__(
        self,
        client: ArkClient,
        interval: float,
        cancel: threading.Event,
        clock: Callable[[], float] = time.monotonic,
        error_budget: float = POLL_ERROR_BUDGET_S,
        on_retry: Callable[[ArkError, float], None] | None = None,
    ) -> None:
        self.client = client
        self.on_retry = on_retry
        self.interval = interval
        self.cancel = cancel
        self.clock = clock
        self.error_budget = error_budget

    def wait_final(self, task_id: str, on_update: Callable[[Task], None]) -> Task:
        start = self.clock()
        wait = self.interval
        first_error_at: float | None = None
        seen = False
        while True:
            try:
                # Once the task was seen, one request per poll: the waits below retry errors, and the
                # client's own quick retries (0.5 s, 1 s later) would only add a burst to each one.
                task = self.client.get_task(task_id, retry=not seen)
            except ArkError as exc:
                if isinstance(exc, Cancelled) or not (exc.retryable or isinstance(exc, NetworkError)):
                    raise
                # A first query that cannot connect or gets no JSON back (wrong URL, no
                # network, a proxy's login page) is reported at once; 429/5xx, and a flaky
                # network once the task was seen, are ridden out for a bounded time.
                now = self.clock()
                first_error_at = first_error_at if first_error_at is not None else now
                misconfigured = isinstance(exc, NetworkError) or exc.code == ErrorCode.INVALID_RESPONSE
                if (not seen and misconfigured) or now - first_error_at > self.error_budget:
                    raise
                if self.on_retry is not None:
                    self.on_retry(exc, first_error_at + self.error_budget - now)
                wait = min(MAX_QUEUED_INTERVAL, max(wait, self.interval) * 2)
            else:
                seen = True
                first_error_at = None
                on_update(task)
                if task.status.is_final:
                    return task
                if task.status is Status.QUEUED:
                    wait = min(MAX_QUEUED_INTERVAL, max(wait, self.interval) * 1.5)
                else:
                    wait = self.interval
            if self.clock() - start > MAX_POLL_S:
                raise ArkError(
                    msg("Task {task_id} did not finish within {duration}", task_id=task_id,
                        duration=format_duration(MAX_POLL_S)),
                    code=ErrorCode.POLL_TIMEOUT,
                    hint=msg("Import it again later: the result will be fetched then"),
                )
            if self.cancel.wait(wait):
                raise Cancelled()
