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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import cache
from urllib.parse import urlparse

from .errors import ErrorCode, NetworkError
from .messages import Message, msg

__all__ = [
    "MAX_RETRY_AFTER",
    "NETWORK_RULES",
    "Failure",
    "NetworkRule",
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


@dataclass(frozen=True)
class Failure:
    """What a failed connection tells: the exception chain (requests -> urllib3 -> socket), its words in
    lower case, the host (and ``host:port``), and the certificate problem when it names one."""

    exc: BaseException
    chain: tuple[BaseException, ...]
    text: str
    host: str
    where: str
    reason: str

    @classmethod
    def of(cls, exc: BaseException, url: str, reason: str = "") -> Failure:
        """``exc``, raised while talking to ``url``; ``reason`` says more when the caller knows it."""
        parsed = urlparse(url)
        host = parsed.hostname or url
        chain = tuple(causes(exc))
        return cls(exc, chain, " ".join(str(e) for e in chain).lower(), host,
                   f"{host}:{parsed.port}" if parsed.port else host, reason or _certificate_problem(list(chain)))

    def has(self, *kinds: type[BaseException]) -> bool:
        """Whether anything in the chain is one of ``kinds``."""
        return any(isinstance(e, kinds) for e in self.chain)

    def named(self, *names: str) -> bool:
        """Whether the request failed as one of the ``requests.exceptions`` classes ``names``."""
        import requests  # loaded by the request that failed

        return any(isinstance(self.exc, getattr(requests.exceptions, name)) for name in names)


@dataclass(frozen=True)
class NetworkRule:
    """One row of :data:`NETWORK_RULES`: when it applies, the code, what went wrong, what to do."""

    code: str
    applies: Callable[[Failure], bool]
    what: Callable[[Failure], Message]
    hint: Message
    retryable: bool = True

    def error(self, failure: Failure) -> NetworkError:
        """The error this rule makes of ``failure``."""
        return NetworkError(self.what(failure), code=self.code, hint=self.hint, retryable=self.retryable)


def _tls_failed(f: Failure) -> bool:
    import urllib3.exceptions  # loaded by the request that failed

    return f.named("SSLError") or f.has(urllib3.exceptions.SSLError, ssl.SSLError)


_RESET_HINT = msg("A network device or the server dropped the connection; try again")
_CHECK_ADDRESS = msg("Check the address and your network/proxy")

#: The network's failures, the first that applies wins: the order is the order a request crosses the
#: layers (TLS before the proxy's words, a refusal before a timeout).  :func:`describe_network_error`
#: reads it for requests' failures, Check Connection (:mod:`.diagnose`) for each layer it tries.
NETWORK_RULES: tuple[NetworkRule, ...] = (
    NetworkRule(ErrorCode.TLS_CERTIFICATE, lambda f: _tls_failed(f) and "certificate" in f.text and bool(f.reason),
                lambda f: msg("The certificate of {host} could not be verified ({reason})", host=f.host,
                              reason=f.reason), _CA_HINT, retryable=False),
    NetworkRule(ErrorCode.TLS_CERTIFICATE, lambda f: _tls_failed(f) and "certificate" in f.text,
                lambda f: msg("The certificate of {host} could not be verified", host=f.host), _CA_HINT,
                retryable=False),
    NetworkRule(ErrorCode.TLS_ERROR, _tls_failed,
                lambda f: msg("A secure (TLS) connection to {host} could not be made", host=f.host), _CA_HINT),
    NetworkRule(ErrorCode.PROXY_ERROR, lambda f: f.named("ProxyError"),
                lambda f: msg("The proxy refused or failed the connection to {host}", host=f.host),
                msg("Check the HTTPS_PROXY / HTTP_PROXY settings, or ask your network administrator")),
    NetworkRule(ErrorCode.DNS_FAILURE, lambda f: f.has(*_dns_errors()),
                lambda f: msg("Could not resolve host {host}", host=f.host), _CHECK_ADDRESS),
    NetworkRule(ErrorCode.CONNECTION_REFUSED, lambda f: f.has(ConnectionRefusedError) or "connection refused" in f.text,
                lambda f: msg("The connection to {host} was refused", host=f.where),
                msg("The server is not running there or a firewall blocks it; check the address and your "
                    "network/proxy")),
    NetworkRule(ErrorCode.CONNECT_TIMEOUT, lambda f: f.named("ConnectTimeout") or isinstance(f.exc, TimeoutError),
                lambda f: msg("Connecting to {host} timed out", host=f.host),
                msg("Check your network connection, proxy and firewall, then try again")),
    NetworkRule(ErrorCode.READ_TIMEOUT, lambda f: f.named("ReadTimeout"),
                lambda f: msg("{host} stopped answering (read timed out)", host=f.host),
                msg("The network or the server is slow; try again in a moment")),
    NetworkRule(ErrorCode.CONNECTION_RESET, lambda f: f.has(ConnectionResetError) or "reset by peer" in f.text,
                lambda f: msg("The connection to {host} was reset", host=f.host), _RESET_HINT),
    NetworkRule(ErrorCode.NETWORK_ERROR, lambda f: True,
                lambda f: msg("Could not connect to {host}: {kind}", host=f.host, kind=type(f.exc).__name__),
                msg("Check your network connection and proxy, then try again")),
)


def describe_network_error(exc: BaseException, url: str, reason: str = "") -> NetworkError:
    """The error of the first of :data:`NETWORK_RULES` that applies to ``exc`` (raised while talking to
    ``url``): it names the part of the network that failed, and that part's remedy."""
    failure = Failure.of(exc, url, reason)
    return next(rule for rule in NETWORK_RULES if rule.applies(failure)).error(failure)


def stream_error(exc: BaseException, url: str) -> NetworkError:
    """A connection that broke while a body was being read (the request itself had succeeded)."""
    host = urlparse(url).hostname or url
    if any(isinstance(e, ConnectionResetError) for e in causes(exc)):
        return NetworkError(
            msg("The connection to {host} was reset during the download", host=host),
            code=ErrorCode.CONNECTION_RESET,
            hint=_RESET_HINT,
            retryable=True,
        )
    return NetworkError(
        msg("The connection to {host} broke during the download ({kind})", host=host, kind=type(exc).__name__),
        code=ErrorCode.CONNECTION_BROKEN,
        hint=msg("Check your network connection and try again"),
        retryable=True,
    )
