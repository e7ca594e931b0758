"""One error type for everything a user may need to act on.

Every failure the add-on reports is an :class:`ArkError` (or a subclass), carrying what went
wrong, the Ark error code and ``X-Request-Id`` when the service gave them, and a hint that
says what to do.  The panel, the operator reports and the command line all print
:meth:`ArkError.user_message`, so one place decides how an error reads.  What and hint are
:class:`~.messages.Message` values, so the interface translates them by id.

Nothing here ever holds the API key: messages are built from server answers and our own
texts, and :func:`redact` scrubs a key out of any text that came from elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .messages import Message, msg

__all__ = [
    "ArkError",
    "ErrorCode",
    "ApiError",
    "ConfigError",
    "NetworkError",
    "TaskFailed",
    "TaskCancelled",
    "DownloadError",
    "LinkExpired",
    "ArchiveError",
    "NoModelError",
    "Cancelled",
    "redact",
    "scrub",
]


class ErrorCode:
    """The add-on's own error codes, as plain strings like Ark's (which come from its answers).

    Constants, not an Enum: nothing iterates them, and building an Enum of this size costs about
    a millisecond at every Blender start with the add-on enabled.
    """

    MISSING_API_KEY = "MissingAPIKey"
    INVALID_BASE_URL = "InvalidBaseURL"
    INSECURE_BASE_URL = "InsecureBaseURL"
    MISSING_TASK_ID = "MissingTaskId"
    INVALID_TASK_ID = "InvalidTaskId"
    INVALID_RESPONSE = "InvalidResponse"
    HTTP_ERROR = "HTTPError"  # an HTTP error without Ark's error body (a wrong base URL, a proxy's page)
    INVALID_PARAMETER = "InvalidParameter"
    UNSUPPORTED_IMAGE = "UnsupportedImage"
    IMAGE_TOO_LARGE = "ImageTooLarge"
    IMAGE_ASPECT_RATIO = "ImageAspectRatio"
    IMAGE_UNREADABLE = "ImageUnreadable"
    NO_IMAGE = "NoImage"
    NO_CAMERA = "NoCamera"
    NO_SCENE = "NoScene"
    RENDER_FAILED = "RenderFailed"
    PROXY_ERROR = "ProxyError"
    TLS_CERTIFICATE = "TLSCertificate"
    TLS_ERROR = "TLSError"
    CA_BUNDLE_UNUSABLE = "CABundleUnusable"
    DNS_FAILURE = "DNSFailure"
    CONNECTION_REFUSED = "ConnectionRefused"
    CONNECT_TIMEOUT = "ConnectTimeout"
    READ_TIMEOUT = "ReadTimeout"
    CONNECTION_RESET = "ConnectionReset"
    NETWORK_ERROR = "NetworkError"
    INVALID_URL = "InvalidURL"
    INSECURE_URL = "InsecureURL"
    UNSAFE_REDIRECT = "UnsafeRedirect"
    TOO_MANY_REDIRECTS = "TooManyRedirects"
    STALLED = "Stalled"
    INVALID_RANGE = "InvalidRange"
    INCOMPLETE_BODY = "IncompleteBody"
    CONNECTION_BROKEN = "ConnectionBroken"
    LINK_EXPIRED = "LinkExpired"
    DISK_FULL = "DiskFull"
    PERMISSION_DENIED = "PermissionDenied"
    WRITE_FAILED = "WriteFailed"
    DISK_ERROR = "DiskError"
    LIBRARY_NOT_WRITABLE = "LibraryNotWritable"
    REMOVE_FAILED = "RemoveFailed"
    BUSY = "Busy"
    NOT_A_ZIP = "NotAZip"
    UNSAFE_ARCHIVE = "UnsafeArchive"
    EMPTY_ARCHIVE = "EmptyArchive"
    NO_MODEL = "NoModel"
    UNSAFE_REFERENCE = "UnsafeReference"
    NO_FILE_URL = "NoFileURL"
    NOT_A_3D_TASK = "NotA3DTask"
    POLL_TIMEOUT = "PollTimeout"
    CREATE_UNCERTAIN = "CreateUncertain"
    CREATE_FAILED = "CreateFailed"
    TASK_RUNNING = "TaskRunning"
    ALREADY_CANCELLED = "AlreadyCancelled"
    TASK_EXPIRED = "TaskExpired"
    UNKNOWN_STATUS = "UnknownStatus"
    OFFLINE = "Offline"
    CANCELLED = "Cancelled"
    INTERNAL_ERROR = "InternalError"
    WORKER_DIED = "WorkerDied"
    UNKNOWN = "Unknown"
    ONLINE_ACCESS_DISABLED = "OnlineAccessDisabled"
    NOT_ENABLED = "NotEnabled"
    NO_EVENT_LOOP = "NoEventLoop"
    NO_IMPORTER = "NoImporter"
    FORMAT_NOT_SUPPORTED = "FormatNotSupported"
    IMPORT_FAILED = "ImportFailed"


def _same(msgid: str) -> str:
    return msgid


class ArkError(Exception):
    """A failure the user can act on.

    ``what`` says what went wrong, ``hint`` what to do next.  ``code`` is Ark's ``error.code``
    or one of ours (:class:`ErrorCode`, kept as its plain string value so both compare alike);
    every error has one, so a script reading ``--json`` can always tell failures apart;
    ``request_id`` the ``X-Request-Id`` header (vendor support asks for it), ``http_status``
    the HTTP status when there was one.  ``retryable`` tells the poller that trying again
    later may succeed.
    """

    def __init__(
        self,
        what: Message,
        *,
        code: str,
        request_id: str = "",
        http_status: int | None = None,
        hint: Message | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(what.render())
        self.what = what
        self.code = code
        self.request_id = request_id
        self.http_status = http_status
        self.hint = hint
        self.retryable = retryable

    @property
    def message(self) -> str:
        """What went wrong, in English."""
        return self.what.render()

    def user_message(self, translate: Callable[[str], str] = _same) -> str:
        """The whole story in one line: what, Ark's code and request id, what to do.

        ``translate`` (a msgid to its translation; English by default) lets the interface have
        the same line in the user's language, punctuation included.
        """
        what = self.what.render(translate).rstrip(".")
        details = [f"HTTP {self.http_status}"] if self.http_status is not None else []
        if self.code:
            details.append(msg("code {code}", code=self.code).render(translate))
        if self.request_id:
            details.append(msg("request id {request_id}", request_id=self.request_id).render(translate))
        if details:
            line = msg("{message} ({details}).", message=what, details=msg(", ").render(translate).join(details))
        else:
            line = msg("{message}.", message=what)
        text = line.render(translate)
        if self.hint is not None:
            text += msg(" {hint}.", hint=self.hint.render(translate).rstrip(".")).render(translate)
        return text

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form, for the command line and the jobs journal."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "code": self.code,
            "request_id": self.request_id,
            "http_status": self.http_status,
            "hint": self.hint.render() if self.hint is not None else "",
        }

    def __str__(self) -> str:
        return self.user_message()


class ConfigError(ArkError):
    """Bad or missing settings (no key, a plain-http base URL, an invalid task id)."""


class ApiError(ArkError):
    """The Ark API answered with an HTTP error."""


class NetworkError(ArkError):
    """The service could not be reached: DNS, refused connection, TLS, timeout, proxy."""


class TaskFailed(ArkError):
    """The task ended with status ``failed``; ``code``/``message`` are the task's ``error``."""


class TaskCancelled(ArkError):
    """The task ended without running to its end: ``cancelled`` (while queued) or ``expired``."""


class DownloadError(ArkError):
    """Fetching the result file failed."""


class LinkExpired(DownloadError):
    """The pre-signed ``file_url`` answered 403: Ark deletes results after 24 hours."""


class ArchiveError(ArkError):
    """The result is not a zip we can safely extract (unsafe paths, a bomb, damaged)."""


class NoModelError(ArchiveError):
    """The archive extracted but holds no file of a format we can import."""


class Cancelled(ArkError):
    """The user cancelled the job; not an error to report loudly."""

    def __init__(self, what: Message | None = None) -> None:
        super().__init__(what if what is not None else msg("Cancelled"), code=ErrorCode.CANCELLED)


#: A bearer token as RFC 6750 spells it (b64token), so punctuation after it stays.
#: A bearer token in a text; compiled on first use by ``re``'s own cache, not when the add-on is enabled.
_BEARER = r"(?i)(Bearer\s+)[A-Za-z0-9._~+/*-]+=*"


#: Shorter strings are not redacted: no API key is that short, and replacing a one-letter
#: "key" everywhere would garble every message ("proxy" printed as "pro***y" with the key "x").
MIN_SECRET_LENGTH = 8


def redact(text: str, secret: str | None = None) -> str:
    """Remove an API key (and any ``Bearer <token>``) from text that may have quoted it."""
    if secret and len(secret) >= MIN_SECRET_LENGTH:
        text = text.replace(secret, "***")
    return re.sub(_BEARER, r"\1***", text)


def scrub(error: ArkError, secret: str | None) -> ArkError:
    """Redact the key from every text of ``error`` that may come from a server, ``args`` included.

    A gateway may echo the token it refused; ``repr()`` and tracebacks read ``args``, the
    messages read the attributes: both are cleaned, in place.
    """
    error.what = _redact_message(error.what, secret)
    error.code = redact(error.code, secret)
    error.request_id = redact(error.request_id, secret)
    error.hint = _redact_message(error.hint, secret) if error.hint is not None else None
    error.args = (error.message,) + tuple(
        redact(a, secret) if isinstance(a, str) else a for a in error.args[1:]
    )
    return error


def _redact_message(message: Message, secret: str | None) -> Message:
    """``message`` with the key removed from every text value (ours, the msgids, never hold it)."""
    params = {
        name: _redact_message(value, secret) if isinstance(value, Message)
        else redact(value, secret) if isinstance(value, str) else value
        for name, value in message.params.items()
    }
    return Message(message.msgid, params)
