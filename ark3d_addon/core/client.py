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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import net, tls
from .errors import ApiError, ArkError, Cancelled, ErrorCode, scrub
from .messages import Message, ark_words, msg
from .settings import KEY_HINT, Settings
from .task import Task, parse_task, validate_task_id

if TYPE_CHECKING:  # imported with the first client, not with the add-on (see net.py)
    import requests

__all__ = ["API_RULES", "Answer", "ApiRule", "ArkClient", "RATE_LIMITER", "RateLimiter", "api_hint"]

USER_AGENT = "ark3d-blender/1.0"
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
#: A paid call's answers that surely made nothing, so it may be asked again: the rate limit.
_NOTHING_MADE = frozenset({429})
#: Seedream answers when its pictures are made: up to a minute or more for a set of 4K ones.
IMAGES_READ_TIMEOUT = 180.0
#: Where Ark keeps the tasks, below the base URL.
_TASK_PATH = "/contents/generations/tasks"
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


@dataclass(frozen=True)
class Answer:
    """What an HTTP error said: its status, Ark's ``error.code`` ("" when the body was not Ark's), and
    whether the request asked about one task (a 404 there may mean the task, anywhere else the URL)."""

    status: int
    code: str
    about_a_task: bool


@dataclass(frozen=True)
class ApiRule:
    """One row of :data:`API_RULES`: when it applies to an :class:`Answer`, and what the user can do."""

    applies: Callable[[Answer], bool]
    hint: Message


def _route_missing(a: Answer) -> bool:
    """A 404 that is not Ark's word on a task: no Ark error body, the gateway's plain ``NotFound`` (no such
    route: a base URL with a wrong path, such as /api/v2), or a path that names no task."""
    return a.status == 404 and (not a.code or a.code == "NotFound" or not a.about_a_task)


_BASE_URL_HINT = msg("Check the base URL in the add-on preferences (or ARK_BASE_URL): it should be the region's "
                     "Ark address ending in /api/v3, such as https://ark.cn-beijing.volces.com/api/v3")

#: Ark's HTTP errors, the first rule that applies gives the hint; Ark's code and its own words stay in
#: the message.  Codes as Ark's error-code list gives them (docs/82379/1299023); a 429 tells apart the
#: limits that waiting does not lift (a quota, the Safe Experience Mode cap) from the request rate and
#: Ark's own load.
API_RULES: tuple[ApiRule, ...] = (
    ApiRule(lambda a: a.status == 401, msg("Check the API key. {text}", text=KEY_HINT)),
    ApiRule(lambda a: a.code == "AccountOverdueError",
            msg("Your Volcengine account is overdue: top it up in the console, then try again")),
    ApiRule(lambda a: a.status == 403,
            msg("The key may not have access to this model or region: enable the model in the Ark console")),
    ApiRule(lambda a: a.code.startswith("ModelNotOpen"),
            msg("The model is not activated for your account: activate it in the Ark console "
                "(Activation Management), then try again")),
    ApiRule(lambda a: a.code == "InvalidEndpointOrModel.ModelIDAccessDisabled",
            msg("Your account may not call this model by its model id: create an endpoint for it in the Ark "
                "console (Online Inference) and use the endpoint id (ep-...) as the model")),
    ApiRule(lambda a: a.code.startswith("InvalidEndpointOrModel"),
            msg("Check the model or endpoint id (ep-...), and that it exists in the base URL's region")),
    ApiRule(_route_missing, _BASE_URL_HINT),
    ApiRule(lambda a: a.status == 404,
            msg("Check the task id, and that the base URL is the region where the task was created. "
                "Ark only keeps tasks for 7 days")),
    ApiRule(lambda a: a.code == "QuotaExceeded",
            msg("The limit hit is a quota: the model's free quota is used up, a plan's 5-hour, weekly or monthly "
                "quota is spent, or too many of your tasks are queued. Let queued tasks finish, wait for the "
                "quota to renew, or turn on paid use (or buy a resource pack) in the Ark console")),
    ApiRule(lambda a: a.code == "SetLimitExceeded",
            msg("The limit hit is the cap your account set in Safe Experience Mode: raise it or turn Safe "
                "Experience Mode off in the Ark console (Activation Management), then try again")),
    ApiRule(lambda a: a.code == "ServerOverloaded",
            msg("Ark itself is overloaded (its load, not a limit of your account): the add-on retries; if it "
                "persists, wait a few minutes and try again")),
    ApiRule(lambda a: a.status == 429,
            msg("The limit hit is the number of requests a minute (per account and model): wait a minute "
                "and try again")),
    ApiRule(lambda a: a.status >= 500, msg("The Ark service had a problem: try again in a few minutes")),
    ApiRule(lambda a: a.code.startswith("InputImageSensitiveContentDetected"),
            msg("Ark's content check refused the input image: try another image")),
    ApiRule(lambda a: "SensitiveContentDetected" in a.code,
            msg("Ark's content check refused the input: change the image or the prompt")),
    ApiRule(lambda a: a.status == 400, msg("Ark refused the request as invalid: check the parameters named above")),
)


def api_hint(answer: Answer) -> Message | None:
    """The hint of the first of :data:`API_RULES` that applies to ``answer``; None if none does."""
    return next((rule.hint for rule in API_RULES if rule.applies(answer)), None)


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
        data = self._request_json("GET", f"{_TASK_PATH}/{quote(tid, safe='')}", retry=retry)
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
        # A 429 made nothing: waiting as Ark says and asking again is safe.  Nothing else is.
        data = self._request_json("POST", "/contents/generations/tasks", json_body=body, retry=False,
                                  retry_statuses=_NOTHING_MADE)
        task_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(task_id, str):
            raise ApiError(msg("Ark accepted the task but sent no id"), code=ErrorCode.INVALID_RESPONSE,
                           hint=msg("A task may have been made (and charged): find it in the Tasks list before "
                                    "creating it again"))
        return task_id

    def generate_images(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /images/generations`` (Seedream): the answer, pictures included.  A paid, synchronous call
        that may take a minute: read with :data:`IMAGES_READ_TIMEOUT`, never retried but after a 429."""
        data = self._request_json("POST", "/images/generations", json_body=body, retry=False,
                                  retry_statuses=_NOTHING_MADE, read_timeout=IMAGES_READ_TIMEOUT)
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise ApiError(msg("Ark answered the image generation without pictures"), code=ErrorCode.INVALID_RESPONSE,
                           hint=msg("Try again; if it persists, update the add-on"))
        return data

    def list_models(self) -> list[dict[str, Any]]:
        """``GET /models``: Ark's model catalog (every domain; :mod:`.catalog` picks the 3D ones)."""
        data = self._request_json("GET", "/models")
        rows = data.get("data") if isinstance(data, dict) else None
        return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []

    def delete_task(self, task_id: str) -> None:
        """``DELETE /contents/generations/tasks/{id}``: cancels a queued task, deletes a finished one."""
        tid = validate_task_id(task_id)
        self._request_json("DELETE", f"{_TASK_PATH}/{quote(tid, safe='')}", allow_empty=True)

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
        retry_statuses: frozenset[int] = frozenset(),
        read_timeout: float = READ_TIMEOUT,
    ) -> Any:
        """One call, retried as :attr:`max_retries` allows; ``retry=False`` still retries the
        answers in ``retry_statuses`` (a 429 of a paid call: it made nothing)."""
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
                    timeout=(CONNECT_TIMEOUT, read_timeout),
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
                    error = scrub(self._api_error(resp, path), key)
                    again = retry or resp.status_code in retry_statuses
                    if not again or not error.retryable or attempt >= self.max_retries:
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
    def _api_error(resp: requests.Response, path: str) -> ApiError:
        """Ark's error (its code, words and parameter) with the hint of :data:`API_RULES`; an answer that
        is not Ark's error body is named by its HTTP status, with the code ``HTTPError``."""
        status = resp.status_code
        code, message, param = _ark_error_body(resp)
        what: Message
        if 300 <= status < 400:
            what = msg("Ark answered with a redirect to {location}", location=resp.headers.get("Location", "?"))
            hint: Message | None = msg("Check the base URL in the add-on preferences")
        else:
            hint = api_hint(Answer(status, code, path.startswith(_TASK_PATH + "/")))
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
            code=code or ErrorCode.HTTP_ERROR,
            request_id=resp.headers.get("X-Request-Id", ""),
            http_status=status,
            hint=hint,
            retryable=status in RETRY_STATUSES and code not in _NOT_RETRIED,
        )


def _ark_error_body(resp: requests.Response) -> tuple[str, str, str]:
    """Ark's ``error`` object's code, message and param; empty strings where the body is not Ark's."""
    try:
        body = resp.json()
    except (ValueError, RecursionError):
        return "", "", ""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return "", "", ""
    return str(err.get("code") or ""), str(err.get("message") or ""), str(err.get("param") or "")
