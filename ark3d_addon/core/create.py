"""Submitting a create call without ever making a paid duplicate.

A create that timed out or got a 5xx may still have made a task (about 2.4 CNY each).  So it
is never retried blindly: the account's task list is checked for a task of the same model
created since just before the call.  One found: that is ours, carry on with it.  None found
(twice, a few seconds apart): nothing was made, the user may try again.  Several: we cannot
tell which is ours, so we say so and let the user pick from the list.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from .client import ArkClient
from .errors import ApiError, ArkError, Cancelled, ErrorCode, NetworkError
from .messages import msg

__all__ = ["submit_create"]

#: Clock skew allowed between this machine and Ark when matching ``created_at``.
SKEW_S = 30.0
#: How long to look for a task the failed call may have made.
LOOKUP_TRIES = 2
LOOKUP_WAIT_S = 3.0


#: Network failures that happen before a request is sent: the create surely did not happen.
_NEVER_SENT = ("DNSFailure", "ConnectionRefused", "TLSCertificate", "TLSError", "ProxyError", "ConnectTimeout")


def _uncertain(exc: ArkError) -> bool:
    """Did the request maybe reach Ark?  Timeouts, dropped connections and 5xx: maybe."""
    if isinstance(exc, NetworkError):
        return exc.code not in _NEVER_SENT
    return isinstance(exc, ApiError) and (exc.http_status or 0) >= 500


def submit_create(
    client: ArkClient,
    body: dict[str, object],
    *,
    clock: Callable[[], float] = time.time,
) -> str:
    """Create the task; after an uncertain failure, find it in the task list instead of retrying."""
    model = str(body.get("model", ""))
    started = clock()
    try:
        known = {t.id for t in client.list_tasks(page_size=50, model=model)[0]}
    except ArkError:
        known = set()
    try:
        return client.create_task(body)
    except Cancelled:
        raise
    except ArkError as exc:
        if not _uncertain(exc):
            raise
        failure = exc
    for attempt in range(LOOKUP_TRIES):
        if attempt and client.cancel.wait(LOOKUP_WAIT_S):
            raise Cancelled()
        try:
            tasks, _ = client.list_tasks(page_size=50, model=model)
        except (ArkError, requests.RequestException):
            continue
        new = [t for t in tasks if t.id not in known and (t.created_at or 0) >= started - SKEW_S]
        if len(new) == 1:
            return new[0].id
        if len(new) > 1:
            raise ArkError(
                msg("Creating the task failed midway ({reason}), and {n} new tasks appeared meanwhile: {ids}",
                    reason=failure.what, n=str(len(new)), ids=", ".join(t.id for t in new[:5])),
                code=ErrorCode.CREATE_UNCERTAIN,
                request_id=failure.request_id,
                hint=msg("Do not create again: import the right one of these ids (see the task list)"),
            )
    raise ArkError(
        msg("Creating the task failed ({reason}) and no new task is in your task list", reason=failure.what),
        code=failure.code or ErrorCode.CREATE_FAILED,
        request_id=failure.request_id,
        http_status=failure.http_status,
        hint=msg("Nothing was made, so nothing is charged: try again in a minute"),
    )
