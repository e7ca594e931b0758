"""Submitting a create call without ever making a paid duplicate.

A create that timed out or got a 5xx may still have made a task (about 2.4 CNY each).  So it
is never retried blindly: the account's task list is checked for a task of the same model
created since just before the call.  One found: that is ours, carry on with it.  None found
(twice, a few seconds apart): nothing was made, the user may try again.  Several: we cannot
tell which is ours, so we say so and let the user pick from the list.

The body itself is built by :func:`create_body`, after the model's catalog entry
(:mod:`.catalog`) has checked every parameter and the images' count, so nothing Ark would
refuse is sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from .catalog import check_endpoint_id, find_model
from .client import ArkClient
from .errors import ApiError, ArkError, Cancelled, ConfigError, ErrorCode, NetworkError
from .messages import msg
from .task import Task

__all__ = ["create_body", "submit_create"]

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


def create_body(model: str, images: Sequence[str], *, params: Mapping[str, str] | None = None, prompt: str = "",
                endpoint: str = "", seed: int | None = None) -> dict[str, object]:
    """The create call's JSON for ``model``: its images (links or data URLs, from
    :func:`~.image_input.image_input`), then one text item of the prompt and the flags.

    Everything is checked against the model's catalog entry first (:class:`ConfigError`).
    ``endpoint`` (``ep-...``) is named instead of the model id where the account must call the
    model through an endpoint; the model's rules still apply.
    """
    spec = find_model(model)
    checked = spec.check(dict(params or {}), images=len(images), prompt=prompt)
    if seed is not None and (not spec.seed or not 0 <= seed <= 65535):
        raise ConfigError(msg("The seed must be a whole number from 0 to 65535, not {seed}", seed=str(seed))
                          if spec.seed else msg("{model} takes no seed", model=spec.name),
                          code=ErrorCode.INVALID_PARAMETER, hint=msg("Leave the seed unset"))
    if not spec.images.data_url and any(url.startswith("data:") for url in images):
        raise ConfigError(msg("{model} takes image links only (https://...), not image files", model=spec.name),
                          code=ErrorCode.INVALID_PARAMETER,
                          hint=msg("Put the image where Ark can fetch it and give its https link"))
    content: list[dict[str, object]] = [{"type": "image_url", "image_url": {"url": url}} for url in images]
    text = spec.text(checked, prompt)
    if text:
        content.append({"type": "text", "text": text})
    body: dict[str, object] = {"model": check_endpoint_id(endpoint) if endpoint else spec.id, "content": content}
    if seed is not None:
        body["seed"] = seed
    return body


def submit_create(
    client: ArkClient,
    body: dict[str, object],
    *,
    clock: Callable[[], float] = time.time,
) -> str:
    """Create the task; after an uncertain failure, find it in the task list instead of retrying.

    The list call's ``filter.model`` takes an endpoint id, not a model id: a body naming an
    endpoint is looked up with it, one naming a model is matched on the tasks' ``model``.
    """
    model = str(body.get("model", ""))
    endpoint = model if model.startswith("ep-") else None

    def ours(tasks: list[Task]) -> list[Task]:
        return tasks if endpoint else [t for t in tasks if t.model == model]

    started = clock()
    try:
        known = {t.id for t in ours(client.list_tasks(page_size=50, model=endpoint)[0])}
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
            tasks = ours(client.list_tasks(page_size=50, model=endpoint)[0])
        except ArkError:  # the client turns every network failure into one
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
