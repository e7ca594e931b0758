"""Resumable, cancellable download of the result zip from its pre-signed link.

The link points at an object-storage host, not at Ark: it needs no credentials and must never
receive the API key, so requests here are built with explicit headers (no session headers, no
netrc, no cookies) and redirects are followed by hand, each hop checked.  Results are large
(hundreds of MB) and links die after 24 hours, so a dropped connection resumes from the bytes
already on disk -- also across Blender sessions, through the ``.part`` file.
"""

from __future__ import annotations

import errno
import http.client
import os
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlparse

from . import net, tls
from .download_body import PartFile, RateWatch
from .errors import Cancelled, ConfigError, DownloadError, ErrorCode, LinkExpired
from .messages import Message, msg
from .settings import is_loopback_host

if TYPE_CHECKING:  # imported on the first request, not with the add-on (see net.py)
    import requests

__all__ = [
    "DownloadProgress",
    "check_url",
    "download",
    "is_loopback_host",
]

_USER_AGENT = "ark3d-blender"
_MAX_REDIRECTS = 5
_PROGRESS_INTERVAL = 0.1
_SPEED_WINDOW = 2.0
_SLOW_READ = 64 << 10
_EXPIRED_HINT = msg(
    "Ark deletes results 24 hours after the task finished; create the task again, "
    "or import it from the library if you downloaded it before"
)
_STALLED_HINT = msg("The network or the file host is too slow or interrupted; try again later")


@dataclass(frozen=True)
class DownloadProgress:
    """A progress report; ``total`` is None when the host did not say how big the file is."""

    done: int
    total: int | None
    speed_bps: float
    resumed: bool

    @property
    def percent(self) -> float | None:
        if not self.total:
            return None
        return min(100.0, 100.0 * self.done / self.total)


def _shown(url: str) -> str:
    """The URL without its query: a pre-signed query is a credential of its own."""
    parsed = urlparse(url)
    text = f"{parsed.scheme}://{parsed.netloc.rpartition('@')[2]}{parsed.path}" if parsed.scheme else url
    return text if len(text) <= 100 else text[:97] + "..."


def check_url(url: str, what: Message | None = None) -> None:
    """Refuse anything but https (plain http only to this computer, for the local test server).

    Also refuses user names/passwords in the URL: requests would turn them into an
    ``Authorization`` header, and nothing may ever send one to the file host.
    """
    what = what if what is not None else msg("download link")
    parsed = urlparse(url or "")
    scheme = parsed.scheme.lower()
    if scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(
            msg("The {what} '{url}' is not an http(s) address", what=what, url=_shown(url)),
            code=ErrorCode.INVALID_URL,
            hint=msg("Only https:// links can be downloaded; query the task again for a fresh link"),
        )
    if scheme == "http" and not is_loopback_host(parsed.hostname):
        raise ConfigError(
            msg("The {what} '{url}' uses plain http to another computer", what=what, url=_shown(url)),
            code=ErrorCode.INSECURE_URL,
            hint=msg("Only https:// links are downloaded (plain http only from this computer, for testing)"),
        )
    if parsed.username is not None or parsed.password is not None:
        raise ConfigError(
            msg("The {what} '{url}' carries a user name or password", what=what, url=_shown(url)),
            code=ErrorCode.INVALID_URL,
            hint=msg("Use the link exactly as Ark gave it"),
        )


class _Retry(Exception):
    """One attempt failed in a way another attempt may fix; ``error`` is what to report last."""

    def __init__(self, error: Exception, retry_after: float | None = None, immediate: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after
        self.immediate = immediate


def _xml_field(body: str, name: str) -> str:
    match = re.search(rf"<{name}>(.*?)</{name}>", body, re.DOTALL)
    return match.group(1).strip() if match else ""


def _http_error(resp: requests.Response) -> Exception:
    """An error answer of the file host, with its XML ``Code``/``Message`` and request id."""
    try:
        body = resp.raw.read(65536, decode_content=True).decode("utf-8", "replace")
    except Exception:  # the body is only decoration for the message
        body = ""
    code, message = _xml_field(body, "Code"), _xml_field(body, "Message")
    request_id = resp.headers.get("x-tos-request-id") or resp.headers.get("x-request-id") or ""
    status = resp.status_code
    detail = f": {message}" if message else ""
    if status == 403:
        return LinkExpired(
            msg("The download link has expired"),
            code=code or "AccessDenied",
            request_id=request_id,
            http_status=status,
            hint=_EXPIRED_HINT,
        )
    if status == 404:
        return DownloadError(
            msg("The result file was not found on the file host{detail}", detail=detail),
            code=code or "NoSuchKey",
            request_id=request_id,
            http_status=status,
            hint=msg("Query the task again for a fresh link; results are deleted 24 hours after the task finished"),
        )
    error = DownloadError(
        msg("The file host answered HTTP {status}{detail}", status=str(status), detail=detail),
        code=code,
        request_id=request_id,
        http_status=status,
        hint=msg("The file host has a problem; try again in a few minutes"),
        retryable=status == 429 or status >= 500,
    )
    if error.retryable:
        return _Retry(error, net.retry_after_seconds(resp.headers.get("Retry-After")))
    return error


def _disk_error(exc: OSError, dest: Path) -> DownloadError:
    folder = dest.parent
    if exc.errno == errno.ENOSPC:
        return DownloadError(
            msg("The disk is full"),
            code=ErrorCode.DISK_FULL,
            hint=msg("Free some space in {folder} or choose another library folder", folder=str(folder)),
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return DownloadError(
            msg("Cannot write to {folder}: permission denied", folder=str(folder)),
            code=ErrorCode.PERMISSION_DENIED,
            hint=msg("Make {folder} writable or choose another library folder in the add-on preferences",
                     folder=str(folder)),
        )
    return DownloadError(
        msg("Could not write {file}: {reason}", file=dest.name, reason=exc.strerror or str(exc)),
        code=ErrorCode.WRITE_FAILED,
        hint=msg("Check the folder {folder}, or choose another library folder in the add-on preferences",
                 folder=str(folder)),
    )


class _Meter:
    """Time-throttled progress with a moving-average speed."""

    def __init__(self, callback: Callable[[DownloadProgress], None] | None) -> None:
        self.callback = callback
        self.samples: deque[tuple[float, int]] = deque()
        self.last = 0.0

    def reset(self) -> None:
        self.samples.clear()

    def update(self, done: int, total: int | None, resumed: bool, *, final: bool = False) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if not final and now - self.last < _PROGRESS_INTERVAL:
            return
        self.last = now
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[1][0] >= _SPEED_WINDOW:
            self.samples.popleft()
        first_t, first_done = self.samples[0]
        speed = (done - first_done) / (now - first_t) if now > first_t else 0.0
        self.callback(DownloadProgress(done, total, max(0.0, speed), resumed))


class _Downloader:
    """State kept across attempts of one :func:`download` call."""

    def __init__(
        self,
        url: str,
        dest: Path,
        session: requests.Session,
        meter: _Meter,
        cancel: threading.Event | None,
        stall_timeout: float,
        connect_timeout: float,
        chunk_size: int,
        verify: bool | str,
        user_agent: str,
    ) -> None:
        self.url = url
        self.dest = dest
        self.part = dest.with_name(dest.name + ".part")
        self.session = session
        self.meter = meter
        self.cancel = cancel
        self.stall_timeout = stall_timeout
        self.timeout = (connect_timeout, stall_timeout)
        self.chunk_size = chunk_size
        self.verify = verify
        self.user_agent = user_agent
        self.validator: str | None = None  # ETag or Last-Modified of the file being fetched
        self.resumable = True
        self.resumed = False
        self.current: requests.Response | None = None  # the response being read, for _CancelWatch
        self.durable = True  # fsync before the rename (download(durable=False) leaves it to the caller)

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def _open(self, headers: dict[str, str]) -> requests.Response:
        """GET with explicit headers, following up to five redirects, each one checked."""
        import requests
        url = self.url
        for _hop in range(_MAX_REDIRECTS + 1):
            request = requests.Request("GET", url, headers=headers).prepare()
            settings = self.session.merge_environment_settings(url, {}, True, self.verify, None)
            try:
                resp = self.session.send(request, allow_redirects=False, timeout=self.timeout, **settings)
            except requests.exceptions.ReadTimeout as exc:
                raise _Retry(self._stalled()) from exc
            except requests.RequestException as exc:
                error = net.describe_network_error(exc, url)
                raise (_Retry(error) if error.retryable else error) from exc
            if not resp.is_redirect:
                return resp
            location = resp.headers.get("Location", "")
            resp.close()
            url = urljoin(url, location)
            try:
                check_url(url, msg("download link's redirect"))
            except ConfigError as exc:
                raise DownloadError(
                    msg("The file host redirected to a refused address: {reason}", reason=exc.what),
                    code=ErrorCode.UNSAFE_REDIRECT,
                    hint=msg("Only https:// redirects are followed; report the task id to Ark support"),
                ) from None
        raise DownloadError(
            msg("The file host redirected more than {n} times", n=str(_MAX_REDIRECTS)),
            code=ErrorCode.TOO_MANY_REDIRECTS,
            hint=msg("Query the task again for a fresh link; report the task id to Ark support if it persists"),
        )

    def _stalled(self) -> DownloadError:
        return DownloadError(
            msg("The file host stopped sending data for {seconds} s", seconds=f"{self.stall_timeout:g}"),
            code=ErrorCode.STALLED,
            hint=_STALLED_HINT,
            retryable=True,
        )

    def _trickling(self, received: int) -> DownloadError:
        return DownloadError(
            msg("The file host sent only {received} bytes in {seconds} s: the download has stalled",
                received=str(received), seconds=f"{self.stall_timeout:g}"),
            code=ErrorCode.STALLED,
            hint=_STALLED_HINT,
            retryable=True,
        )

    def _restart(self) -> None:
        """Throw the partial file away: the server cannot continue it."""
        self.part.unlink(missing_ok=True)
        self.validator = None
        self.resumed = False
        self.meter.reset()

    def attempt(self) -> None:
        """One request; returns when ``.part`` holds the whole file, raises :class:`_Retry` otherwise."""
        have = self.part.stat().st_size if self.part.exists() else 0
        if have and not self.resumable:
            self._restart()
            have = 0
        headers = {"User-Agent": self.user_agent, "Accept": "*/*", "Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
            if self.validator:
                headers["If-Range"] = self.validator
        resp = self._open(headers)
        self.current = resp
        try:
            self._receive(resp, have)
        finally:
            self.current = None
            resp.close()

    def _receive(self, resp: requests.Response, have: int) -> None:
        status = resp.status_code
        if status == 416:
            total = net.total_from_content_range(resp.headers.get("Content-Range"))
            if total is not None and total == have:
                return
            self._restart()
            raise _Retry(
                DownloadError(msg("The file host refused to resume the download"), code=ErrorCode.INVALID_RANGE,
                              hint=msg("Try again")),
                immediate=True,
            )
        if status not in (200, 206):
            raise _http_error(resp)
        etag = resp.headers.get("ETag", "")
        validator = etag if etag and not etag.startswith("W/") else resp.headers.get("Last-Modified")
        length = net.int_or_none(resp.headers.get("Content-Length"))
        encoded = resp.headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity")
        if status == 206:
            start = re.match(r"\s*bytes\s+(\d+)-", resp.headers.get("Content-Range", ""))
            changed = self.validator is not None and validator is not None and validator != self.validator
            if start is None or int(start.group(1)) != have or changed:
                self._restart()
                raise _Retry(
                    DownloadError(
                        msg("The file host answered a different range than asked for"),
                        code=ErrorCode.INVALID_RANGE,
                        hint=msg("Try again"),
                    ),
                    immediate=True,
                )
            total = net.total_from_content_range(resp.headers.get("Content-Range"))
            mode = "ab"
            self.resumed = True
        else:
            have = 0
            total = None if encoded else length
            mode = "wb"
            self.resumed = False
            self.meter.reset()
        self.validator = validator
        self.resumable = not encoded
        self._stream(resp, mode, have, total, None if encoded else length, decode=encoded)

    def _short(self, got: int, expected: int | None) -> _Retry:
        announced = (
            msg("{got} of the {expected} bytes it announced (Content-Length mismatch)",
                got=str(got), expected=str(expected))
            if expected
            else msg("{got} bytes and closed the connection before the end of the file", got=str(got))
        )
        return _Retry(
            DownloadError(
                msg("The download ended early: the file host sent {what}", what=announced),
                code=ErrorCode.INCOMPLETE_BODY,
                hint=msg("The connection was interrupted; try again"),
                retryable=True,
            )
        )

    @staticmethod
    def _reader(resp: requests.Response, decode: bool) -> Callable[[int], bytes]:
        """A read that returns what has arrived (up to n bytes), so progress and cancel stay prompt."""
        raw = resp.raw
        if hasattr(raw, "read1"):  # urllib3 2.x
            return lambda n: raw.read1(n, decode_content=decode)
        # urllib3 1.x (Blender 3.4 and 4.2 bundle 1.26) has no read1 and its read() waits for
        # the whole amount; http.client's read1 underneath returns what has arrived.
        read1: Callable[[int], bytes] | None = getattr(getattr(raw, "_fp", None), "read1", None)
        if not decode and read1 is not None:
            return read1
        return lambda n: raw.read(min(n, _SLOW_READ), decode_content=decode)

    def _stream(
        self, resp: requests.Response, mode: str, have: int, total: int | None, expected: int | None, *, decode: bool
    ) -> None:
        """Append the body to ``.part``; a short body raises :class:`_Retry` with the bytes kept."""
        try:
            out = open(self.part, mode, buffering=self.chunk_size)
        except OSError as exc:
            raise _disk_error(exc, self.dest) from exc
        read = self._reader(resp, decode)
        part = PartFile(out, have)
        rate = RateWatch(self.stall_timeout)
        try:
            while chunk := self._next_chunk(read, part.got, expected):
                part.write(chunk)
                self.meter.update(have + part.got, total, self.resumed)
                slow = rate.too_slow(part.got)
                if slow is not None:
                    raise _Retry(self._trickling(slow))
            part.finish(self.durable)
        except OSError as exc:
            raise _disk_error(exc, self.dest) from exc
        finally:
            try:
                out.close()
            except OSError:
                pass  # already failing: the first error is the one to report
        if expected is not None and part.got < expected:
            raise self._short(part.got, expected)

    def _next_chunk(self, read: Callable[[int], bytes], got: int, expected: int | None) -> bytes:
        """The body's next chunk, b"" at its end; a stalled, cut or broken read raises :class:`_Retry`
        (or :class:`Cancelled` when a cancel is what woke it)."""
        import urllib3.exceptions  # loaded with requests by the request

        if self.cancelled():
            raise Cancelled()
        try:
            chunk = read(self.chunk_size)
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
            if self.cancelled():
                raise Cancelled() from None
            raise _Retry(self._stalled()) from exc
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
            if self.cancelled():  # _CancelWatch shut the socket down
                raise Cancelled() from None
            if any(isinstance(e, http.client.IncompleteRead) for e in net.causes(exc)):
                raise self._short(got, expected) from exc
            raise _Retry(net.stream_error(exc, self.url)) from exc
        if not chunk and self.cancelled():
            raise Cancelled()
        return chunk


class _CancelWatch:
    """Makes cancel prompt while a read is blocked on a silent socket (a stalled file host).

    The read would otherwise only notice the cancel when its timeout -- the stall timeout,
    30 s -- runs out.  This thread waits for ``cancel`` and then shuts the socket of the
    response being read down, which wakes the read at once.  It ends with the download.
    """

    def __init__(self, cancel: threading.Event, job: _Downloader) -> None:
        self.cancel = cancel
        self.job = job
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="ark3d-download-cancel", daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.done.is_set():
            if self.cancel.wait(0.05):
                resp = self.job.current
                if resp is not None:
                    _shutdown(resp)
                self.done.wait(0.05)

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


def _shutdown(resp: requests.Response) -> None:
    """Shut the response's socket down (from another thread): a blocked read returns at once."""
    connection = getattr(resp.raw, "connection", None) or getattr(resp.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


def download(
    url: str,
    dest: Path,
    *,
    session: requests.Session | None = None,
    progress: Callable[[DownloadProgress], None] | None = None,
    cancel: threading.Event | None = None,
    stall_timeout: float = 30.0,
    connect_timeout: float = 15.0,
    max_attempts: int = 6,
    chunk_size: int = 1 << 20,
    verify: bool | str = True,
    keep_partial: bool = False,
    durable: bool = True,
    on_retry: Callable[[Exception, float, int, int], None] | None = None,
) -> Path:
    """Download ``url`` to ``dest`` atomically (via ``dest.part``), resuming and retrying.

    Raises :class:`ConfigError` for a refused URL (before any request), :class:`LinkExpired`
    on 403, :class:`NetworkError`/:class:`DownloadError` after ``max_attempts``, and
    :class:`Cancelled` (with ``.part`` removed, unless ``keep_partial``: the caller then
    decides, e.g. keeps it for a later resume) when ``cancel`` is set.

    ``durable=False`` skips the fsync before the rename (the disk has been writing the file
    back since the first bytes): the caller fsyncs ``dest`` later, when it can overlap with
    other work.  On a link faster than the disk the fsync otherwise waits for the disk.

    ``on_retry(error, delay_s, next_attempt, max_attempts)`` hears of each failed attempt that
    is tried again, so the user is told the file host is not answering.
    """
    check_url(url)
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _disk_error(exc, dest) from exc
    sess, user_agent = _session(session, verify)
    meter = _Meter(progress)
    job = _Downloader(url, dest, sess, meter, cancel, stall_timeout, connect_timeout, chunk_size, verify, user_agent)
    job.durable = durable
    watch = _CancelWatch(cancel, job) if cancel is not None else None
    try:
        _attempt_until_done(job, cancel, max_attempts, on_retry)
        size = job.part.stat().st_size
        meter.update(size, size, job.resumed, final=True)
        try:
            os.replace(job.part, dest)
        except OSError as exc:
            raise _disk_error(exc, dest) from exc
        return dest
    except Cancelled:
        if not keep_partial:
            job.part.unlink(missing_ok=True)
        raise
    finally:
        if watch is not None:
            watch.stop()
        if session is None:
            sess.close()


def _session(session: requests.Session | None, verify: bool | str) -> tuple[requests.Session, str]:
    """The caller's session and its User-Agent, or a session of our own with the user's CA bundle."""
    if session is not None:
        return session, str(session.headers.get("User-Agent") or _USER_AGENT)
    import requests

    own = requests.Session()
    tls.mount(own, verify)
    return own, _USER_AGENT


def _attempt_until_done(
    job: _Downloader,
    cancel: threading.Event | None,
    max_attempts: int,
    on_retry: Callable[[Exception, float, int, int], None] | None,
) -> None:
    """Run the download's attempts (each resumes the ``.part``), waiting between them as the failure
    says: at once after a stall, ``Retry-After`` when the host gave one, else the backoff."""
    attempt = 0
    while True:
        attempt += 1
        if job.cancelled():
            raise Cancelled()
        try:
            job.attempt()
            return
        except _Retry as retry:
            if job.cancelled():
                raise Cancelled() from None
            if attempt >= max_attempts:
                raise retry.error from None
            delay = (
                0.0
                if retry.immediate
                else (retry.retry_after if retry.retry_after is not None else net.backoff(attempt))
            )
            if on_retry is not None:
                on_retry(retry.error, delay, attempt + 1, max_attempts)
            if cancel is not None:
                if cancel.wait(delay):
                    raise Cancelled() from None
            elif delay:
                time.sleep(delay)
