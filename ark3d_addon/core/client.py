"""ArkClient: every call to the Ark task API goes through here.

One ``requests.Session`` carries the ``Authorization`` header; nothing else in the add-on
ever sees the key.  Every request has a timeout.  Idempotent calls (GET, DELETE) are retried
like the official SDK does: connection errors, timeouts, 408, 409, 429 and 5xx, exponential
backoff from 0.5 s capped at 8 s with jitter, ``Retry-After`` honoured.  A create is never
retried after a timeout or 5xx because it may already have made a paid task.

HTTP errors become :class:`ApiError` with Ark's ``error.code`` and ``message``, the
``X-Request-Id`` and a hint that says what to do.

Ark allows 300 requests a minute per account.  Every client in the process draws from one
:class:`RateLimiter` (:data:`RATE_LIMITER`) before each request, so a batch of jobs polling
side by side, the task list and a create together stay under that, whatever their number.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import net, tls
from .errors import ApiError, ArkError, Cancelled, ErrorCode, scrub
from .messages import Message, ark_words, msg
from .settings import KEY_HINT, Settings
from .task import Task, parse_task, validate_task_id

if TYPE_CHECKING:  # imported with the first client, not with the add-on (see net.py)
    import requests

__all__ = ["ArkClient", "RATE_LIMITER", "RateLimiter"]

USER_AGENT = "ark3d-blender/1.0"
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
#: 429s that waiting a few seconds does not cure: a used-up quota, the account's spending cap.
_NOT_RETRIED = frozenset({"QuotaExceeded", "SetLimitExceeded"})


class RateLimiter:
    """A thread-safe token bucket: at most ``per_minute`` requests in any 60 seconds.

    ``burst`` requests may go at once; after that they are spaced at
    ``(per_minute - burst) / 60`` a second, so any 60-second window holds at most
    ``burst + (per_minute - burst) = per_minute``.  A caller reserves its slot (the bucket may
    go negative: callers queue in arrival order) and then waits outside the lock; a wait is
    cancellable and a cancelled caller gives its slot back.
    """

    def __init__(
        self,
        per_minute: float = 300.0,
        burst: int = 10,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < burst < per_minute:
            raise ValueError("burst must be positive and below per_minute")
        self.per_minute = per_minute
        self.capacity = float(burst)
        self.rate = (per_minute - burst) / 60.0  # tokens a second
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._stamp = clock()

    def reserve(self) -> float:
        """Take a slot now; returns how many seconds to wait before using it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + max(0.0, now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def refund(self) -> None:
        """Give back a slot reserved but not used (its caller was cancelled)."""
        with self._lock:
            self._tokens = min(self.capacity, self._tokens + 1.0)

    def acquire(self, cancel: threading.Event | None = None) -> float:
        """Wait for a slot; raises :class:`Cancelled` if ``cancel`` is set meanwhile.  Returns the wait."""
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        delay = self.reserve()
        if delay > 0:
            if cancel is None:
                time.sleep(delay)
            elif cancel.wait(delay):
                self.refund()
                raise Cancelled()
        return delay


#: The one limiter every :class:`ArkClient` of this process draws from (Ark: 300 requests/minute).
RATE_LIMITER = RateLimiter()


def _hint_for(status: int, code: str) -> Message | None:
    if status == 401:
        return msg("Check the API key. {text}", text=KEY_HINT)
    if code == "AccountOverdueError":
        return msg("Your Volcengine account is overdue: top it up in the console, then try again")
    if status == 403:
        return msg("The key may not have access to this model or region: enable the model in the Ark console")
    if code.startswith("ModelNotOpen"):
        return msg("The model is not activated for your account: activate it in the Ark console "
                   "(Activation Management), then try again")
    if code.startswith("InvalidEndpointOrModel"):
        return msg("Check the model or endpoint id (ep-...), and that it exists in the base URL's region")
    if status == 404:
        return msg(
            "Check the task id, and that the base URL is the region where the task was created. "
            "Ark only keeps tasks for 7 days"
        )
    if code == "QuotaExceeded":
        return msg("The limit hit is the quota: the model's free quota is used up, or too many of your tasks are "
                   "queued. Let queued tasks finish, or turn on paid use (or buy a resource pack) in the Ark console")
    if code == "SetLimitExceeded":
        return msg("The limit hit is your account's spending cap: raise it in the Ark console, or wait until it "
                   "resets")
    if status == 429:
        return msg("The limit hit is the number of requests a minute (per account and model): wait a minute "
                   "and try again")
    if status >= 500:
        return msg("The Ark service had a problem: try again in a few minutes")
    if code.startswith("InputImageSensitiveContentDetected"):
        return msg("Ark's content check refused the input image: try another image")
    if "SensitiveContentDetected" in code:
        return msg("Ark's content check refused the input: change the image or the prompt")
    if status == 400:
        return msg("Ark refused the request as invalid: check the parameters named above")
    return None


class ArkClient:
    """A thin, safe client of the Ark content-generation task API."""

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        cancel: threading.Event | None = None,
        max_retries: int = 2,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings
        #: Shared by every client unless a test gives its own: the account's limit is per process.
        self.limiter = limiter if limiter is not None else RATE_LIMITER
        self.base_url = settings.base_url
        self.cancel = cancel or threading.Event()
        self.max_retries = max_retries
        if session is None:
            import requests

            session = requests.Session()
        self.session = session
        self.session.headers["User-Agent"] = USER_AGENT
        # requests drops Authorization on a redirect to another host; we also refuse to
        # follow redirects at all for API calls (see _send), so the key stays with Ark.
        self.session.verify = settings.verify
        tls.mount(self.session, settings.verify)

    # -- public calls -----------------------------------------------------------------

    def get_task(self, task_id: str, *, retry: bool = True) -> Task:
        """``GET /contents/generations/tasks/{id}``; ``retry=False`` makes one request and raises
        at once (a poller that retries on its own schedule)."""
        tid = validate_task_id(task_id)
        data = self._request_json("GET", f"/contents/generations/tasks/{quote(tid, safe='')}", retry=retry)
        if isinstance(data, dict) and not (isinstance(data.get("id"), str) and data["id"].strip()):
            data = {**data, "id": tid}  # tolerated: we know which task we asked about
        task = self._parse(data)
        if task.id != tid:
            # Never let an answer about another task be stored or imported as this one.
            error = ApiError(
                msg("Ark answered about task {other} when asked about {task_id}", other=repr(task.id[:60]),
                    task_id=tid),
                code=ErrorCode.INVALID_RESPONSE,
                hint=msg("Check the base URL in the add-on preferences; try again later"),
            )
            raise scrub(error, self.settings.api_key)
        return task

    def list_tasks(
        self,
        *,
        page_num: int = 1,
        page_size: int = 20,
        status: str | None = None,
        task_ids: Iterable[str] = (),
        model: str | None = None,
    ) -> tuple[list[Task], int]:
        """``GET /contents/generations/tasks``: one page of the last 7 days' tasks and the total."""
        params: list[tuple[str, str]] = [("page_num", str(page_num)), ("page_size", str(page_size))]
        if status:
            params.append(("filter.status", status))
        for tid in task_ids:
            params.append(("filter.task_ids", validate_task_id(tid)))
        if model:
            params.append(("filter.model", model))
        data = self._request_json("GET", "/contents/generations/tasks", params=params)
        items = data.get("items") if isinstance(data, dict) else None
        tasks = []
        for item in items or []:
            try:
                tasks.append(parse_task(item))
            except ValueError:
                continue
        total = data.get("total") if isinstance(data, dict) else None
        return tasks, int(total) if isinstance(total, int) else len(tasks)

    def create_task(self, body: dict[str, Any]) -> str:
        """``POST /contents/generations/tasks``; returns the new id.  Never retried blindly."""
        data = self._request_json("POST", "/contents/generations/tasks", json_body=body, retry=False)
        task_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(task_id, str):
            raise ApiError(msg("Ark accepted the task but sent no id"), code=ErrorCode.INVALID_RESPONSE,
                           hint=msg("A task may have been made (and charged): find it in the Tasks list before "
                                    "creating it again"))
        return task_id

    def list_models(self) -> list[dict[str, Any]]:
        """``GET /models``: Ark's model catalog (every domain; :mod:`.catalog` picks the 3D ones)."""
        data = self._request_json("GET", "/models")
        rows = data.get("data") if isinstance(data, dict) else None
        return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []

    def delete_task(self, task_id: str) -> None:
        """``DELETE /contents/generations/tasks/{id}``: cancels a queued task, deletes a finished one."""
        tid = validate_task_id(task_id)
        self._request_json("DELETE", f"/contents/generations/tasks/{quote(tid, safe='')}", allow_empty=True)

    def close(self) -> None:
        self.session.close()

    # -- plumbing ---------------------------------------------------------------------

    def _parse(self, data: Any) -> Task:
        try:
            return parse_task(data)
        except ValueError as exc:
            raise ApiError(
                msg("Ark sent a task this add-on cannot read: {reason}", reason=str(exc)),
                code=ErrorCode.INVALID_RESPONSE,
                hint=msg("Try again; if it persists, update the add-on"),
            ) from None

    def _request_json(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        json_body: dict[str, Any] | None = None,
        retry: bool = True,
        allow_empty: bool = False,
    ) -> Any:
        import requests  # the session's: already loaded

        key = self.settings.require_key()
        url = self.base_url + path
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        attempt = 0
        while True:
            if self.cancel.is_set():
                raise Cancelled()
            wait: float | None = None
            self.limiter.acquire(self.cancel)
            try:
                resp = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers=headers,
                    timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                    allow_redirects=False,
                    # Per request: the add-on's CA bundle must win over REQUESTS_CA_BUNDLE, which
                    # requests would otherwise prefer to the session's setting (True still reads it).
                    verify=self.settings.verify,
                )
            except requests.RequestException as exc:
                error: ArkError = scrub(net.describe_network_error(exc, url), key)
                if not retry or not error.retryable or attempt >= self.max_retries:
                    raise error from None
            else:
                with resp:
                    if resp.status_code < 300:
                        try:
                            return self._decode(resp, allow_empty)
                        except ArkError as exc:
                            raise scrub(exc, key) from None
                    # A gateway may quote the token it refused: scrub everything it sent.
                    error = scrub(self._api_error(resp), key)
                    if not retry or not error.retryable or attempt >= self.max_retries:
                        raise error
                    wait = net.retry_after_seconds(resp.headers.get("Retry-After"))
            attempt += 1
            if wait is None:
                wait = net.backoff(attempt)
            if self.cancel.wait(wait):
                raise Cancelled()

    @staticmethod
    def _decode(resp: requests.Response, allow_empty: bool) -> Any:
        request_id = resp.headers.get("X-Request-Id", "")
        if not resp.content.strip():
            if allow_empty:
                return {}
            raise ApiError(msg("Ark sent an empty answer"), code=ErrorCode.INVALID_RESPONSE, request_id=request_id,
                           http_status=resp.status_code, hint=msg("Try again in a moment"))
        try:
            return resp.json()
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the reader goes
            raise ApiError(
                msg("Ark sent an answer that is not JSON"),
                code=ErrorCode.INVALID_RESPONSE,
                request_id=request_id,
                http_status=resp.status_code,
                hint=msg("Check the base URL in the add-on preferences: it should end in /api/v3"),
                retryable=True,
            ) from None

    @staticmethod
    def _api_error(resp: requests.Response) -> ApiError:
        status = resp.status_code
        request_id = resp.headers.get("X-Request-Id", "")
        code, message, param = "", "", ""
        try:
            body = resp.json()
        except (ValueError, RecursionError):
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            err = body["error"]
            code = str(err.get("code") or "")
            message = str(err.get("message") or "")
            param = str(err.get("param") or "")
        what: Message
        hint: Message | None
        if 300 <= status < 400:
            what = msg("Ark answered with a redirect to {location}", location=resp.headers.get("Location", "?"))
            hint = msg("Check the base URL in the add-on preferences")
        else:
            hint = _hint_for(status, code)
            if message:
                # Ark's own words; the interface may explain its code in the user's language instead.
                what = ark_words(message.rstrip(". ") if param else message)
            elif resp.reason:
                what = msg("Ark answered HTTP {status} {reason}", status=status, reason=resp.reason)
            else:
                what = msg("Ark answered HTTP {status}", status=status)
        if param:
            what = msg("{server_message} (parameter {param})", server_message=what, param=param)
        return ApiError(
            what,
            code=code,
            request_id=request_id,
            http_status=status,
            hint=hint,
            retryable=status in RETRY_STATUSES and code not in _NOT_RETRIED,
        )

