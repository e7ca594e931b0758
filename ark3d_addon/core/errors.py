"""One error type for everything a user may need to act on.

Every failure the add-on reports is an :class:`ArkError` (or a subclass), carrying what went
wrong, the Ark error code and ``X-Request-Id`` when the service gave them, and a hint that
says what to do.  The panel, the operator reports and the command line all print
:meth:`ArkError.user_message`, so one place decides how an error reads.

Nothing here ever holds the API key: messages are built from server answers and our own
texts, and :func:`redact` scrubs a key out of any text that came from elsewhere.
"""

from __future__ import annotations

import re

__all__ = [
    "ArkError",
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


class ArkError(Exception):
    """A failure the user can act on.

    ``code`` is Ark's ``error.code`` (or our own short code such as ``LinkExpired``),
    ``request_id`` the ``X-Request-Id`` header (vendor support asks for it),
    ``http_status`` the HTTP status when there was one, ``hint`` what to do next.
    ``retryable`` tells the poller that trying again later may succeed.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        request_id: str = "",
        http_status: int | None = None,
        hint: str = "",
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id
        self.http_status = http_status
        self.hint = hint
        self.retryable = retryable

    def user_message(self) -> str:
        """The whole story in one line: what, Ark's code and request id, what to do."""
        text = self.message.rstrip(".")
        details = []
        if self.http_status is not None:
            details.append(f"HTTP {self.http_status}")
        if self.code:
            details.append(f"code {self.code}")
        if self.request_id:
            details.append(f"request id {self.request_id}")
        if details:
            text += f" ({', '.join(details)})"
        text += "."
        if self.hint:
            text += " " + self.hint.rstrip(".") + "."
        return text

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form, for the command line and the jobs journal."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "code": self.code,
            "request_id": self.request_id,
            "http_status": self.http_status,
            "hint": self.hint,
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
    """The task ended with status ``cancelled`` (someone cancelled it while queued)."""


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

    def __init__(self, message: str = "Cancelled") -> None:
        super().__init__(message, code="Cancelled")


#: A bearer token as RFC 6750 spells it (b64token), so punctuation after it stays.
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/*-]+=*", re.IGNORECASE)


def redact(text: str, secret: str | None = None) -> str:
    """Remove an API key (and any ``Bearer <token>``) from text that may have quoted it."""
    if secret:
        text = text.replace(secret, "***")
    return _BEARER.sub(r"\1***", text)


def scrub(error: ArkError, secret: str | None) -> ArkError:
    """Redact the key from every text of ``error`` that may come from a server, ``args`` included.

    A gateway may echo the token it refused; ``repr()`` and tracebacks read ``args``, the
    messages read the attributes: both are cleaned, in place.
    """
    error.message = redact(error.message, secret)
    error.code = redact(error.code, secret)
    error.request_id = redact(error.request_id, secret)
    error.hint = redact(error.hint, secret)
    error.args = (error.message,) + tuple(
        redact(a, secret) if isinstance(a, str) else a for a in error.args[1:]
    )
    return error
