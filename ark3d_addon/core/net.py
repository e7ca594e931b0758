"""The network's failures, told apart, and when to try again: one place for every request.

:func:`describe_network_error` turns a ``requests`` failure into a :class:`NetworkError` that
names the part that failed (proxy, DNS, refused, TLS, timeout, reset), each with its own
remedy; the API client and the downloader both use it.  :func:`retry_after_seconds` reads a
``Retry-After`` header and :func:`backoff` spaces the retries, for both alike.

``requests`` and ``urllib3`` are imported when a failure is described, not with this module:
the Blender layer imports the core when the add-on is enabled, and importing ``requests``
then would add about 90 ms to Blender's start for nothing.
"""

from __future__ import annotations

import random
import re
import socket
import ssl
import time
from collections import deque
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from .errors import ErrorCode, NetworkError
from .messages import msg

if TYPE_CHECKING:
    import requests

__all__ = [
    "MAX_RETRY_AFTER",
    "backoff",
    "causes",
    "describe_network_error",
    "int_or_none",
    "retry_after_seconds",
    "stream_error",
    "total_from_content_range",
]

#: The longest ``Retry-After`` honoured: a bad header must not stall a job for hours.
MAX_RETRY_AFTER = 60.0
_CA_HINT = msg(
    "If a corporate proxy inspects secure connections, set the add-on's CA bundle setting (or ARK3D_CA_BUNDLE, "
    "or REQUESTS_CA_BUNDLE) to your company's CA file; check the computer's date and time too"
)


def retry_after_seconds(value: str | None) -> float | None:
    """Parse ``Retry-After`` (seconds or an HTTP date), bounded to :data:`MAX_RETRY_AFTER`; None if absent or bad."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(text).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def total_from_content_range(value: str | None) -> int | None:
    """The whole size from a ``Content-Range`` header (``bytes 0-99/1234``); None if absent or unknown."""
    match = re.search(r"/\s*(\d+)\s*$", value or "")
    return int(match.group(1)) if match else None


def int_or_none(value: str | None) -> int | None:
    """A header's integer (``Content-Length``); None if absent or not a number."""
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def backoff(attempt: int) -> float:
    """The wait before retry number ``attempt`` (1, 2, ...): 0.5 s doubling, capped at 8 s, with
    jitter (half of it random) so many clients that failed together do not retry in step."""
    delay = min(8.0, 0.5 * 2.0 ** (attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (requests -> urllib3 -> socket), breadth first."""
    seen: set[int] = set()
    queue: deque[BaseException] = deque([exc])
    while queue:
        item = queue.popleft()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        nested = [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
        queue.extend(n for n in nested if isinstance(n, BaseException))


@cache
def _dns_errors() -> tuple[type[BaseException], ...]:
    """urllib3 2 wraps DNS failures in NameResolutionError; urllib3 1.x leaves the socket.gaierror."""
    import urllib3.exceptions

    return (socket.gaierror,) + tuple(
        getattr(urllib3.exceptions, name) for name in ("NameResolutionError",) if hasattr(urllib3.exceptions, name)
    )


def _certificate_problem(chain: list[BaseException]) -> str:
    """What is wrong with the certificate, in OpenSSL's words ("CA cert does not include key usage
    extension") or urllib3's (a host name the certificate is not for); "" if neither says."""
    for error in chain:
        if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
            return str(error.verify_message)
        if type(error).__name__ == "CertificateError" and str(error):  # urllib3's own host name check
            return str(error)
    return ""


def describe_network_error(exc: requests.RequestException, url: str) -> NetworkError:
    """Turn a requests failure into a message that says which part of the network failed."""
    import requests  # loaded by the request that failed
    import urllib3.exceptions

    parsed = urlparse(url)
    host = parsed.hostname or url
    where = f"{host}:{parsed.port}" if parsed.port else host
    chain = list(causes(exc))
    text = " ".join(str(e) for e in chain).lower()
    if isinstance(exc, requests.exceptions.SSLError) or any(isinstance(e, urllib3.exceptions.SSLError) for e in chain):
        if "certificate" in text:
            reason = _certificate_problem(chain)
            if reason:
                return NetworkError(msg("The certificate of {host} could not be verified ({reason})", host=host,
                                        reason=reason), code=ErrorCode.TLS_CERTIFICATE, hint=_CA_HINT)
            return NetworkError(
                msg("The certificate of {host} could not be verified", host=host),
                code=ErrorCode.TLS_CERTIFICATE,
                hint=_CA_HINT,
            )
        return NetworkError(
            msg("A secure (TLS) connection to {host} could not be made", host=host),
            code=ErrorCode.TLS_ERROR,
            hint=_CA_HINT,
            retryable=True,
        )
    if isinstance(exc, requests.exceptions.ProxyError):
        return NetworkError(
            msg("The proxy refused or failed the connection to {host}", host=host),
            code=ErrorCode.PROXY_ERROR,
            hint=msg("Check the HTTPS_PROXY / HTTP_PROXY settings, or ask your network administrator"),
            retryable=True,
        )
    if any(isinstance(e, _dns_errors()) for e in chain):
        return NetworkError(
            msg("Could not resolve host {host}", host=host),
            code=ErrorCode.DNS_FAILURE,
            hint=msg("Check the address and your network/proxy"),
            retryable=True,
        )
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in text:
        return NetworkError(
            msg("The connection to {host} was refused", host=where),
            code=ErrorCode.CONNECTION_REFUSED,
            hint=msg(
                "The server is not running there or a firewall blocks it; check the address and your network/proxy"
            ),
            retryable=True,
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return NetworkError(
            msg("Connecting to {host} timed out", host=host),
            code=ErrorCode.CONNECT_TIMEOUT,
            hint=msg("Check your network connection, proxy and firewall, then try again"),
            retryable=True,
        )
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return NetworkError(
            msg("{host} stopped answering (read timed out)", host=host),
            code=ErrorCode.READ_TIMEOUT,
            hint=msg("The network or the server is slow; try again in a moment"),
            retryable=True,
        )
    if any(isinstance(e, ConnectionResetError) for e in chain) or "reset by peer" in text:
        return NetworkError(
            msg("The connection to {host} was reset", host=host),
            code=ErrorCode.CONNECTION_RESET,
            hint=msg("A network device or the server dropped the connection; try again"),
            retryable=True,
        )
    return NetworkError(
        msg("Could not connect to {host}: {kind}", host=host, kind=exc.__class__.__name__),
        code=ErrorCode.NETWORK_ERROR,
        hint=msg("Check your network connection and proxy, then try again"),
        retryable=True,
    )


def stream_error(exc: BaseException, url: str) -> NetworkError:
    """A connection that broke while a body was being read (the request itself had succeeded)."""
    host = urlparse(url).hostname or url
    if any(isinstance(e, ConnectionResetError) for e in causes(exc)):
        return NetworkError(
            msg("The connection to {host} was reset during the download", host=host),
            code=ErrorCode.CONNECTION_RESET,
            hint=msg("A network device or the server dropped the connection; try again"),
            retryable=True,
        )
    return NetworkError(
        msg("The connection to {host} broke during the download ({kind})", host=host, kind=type(exc).__name__),
        code=ErrorCode.CONNECTION_BROKEN,
        hint=msg("Check your network connection and try again"),
        retryable=True,
    )
