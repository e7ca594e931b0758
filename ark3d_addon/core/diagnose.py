"""The preferences' "Check Connection": tell DNS, proxy, TLS and authentication apart.

"It doesn't connect" has five different fixes, so each layer is tried on its own, in the
order a request crosses them, and the first failure is named with its own remedy:
the proxy the environment selects, name resolution, the TCP connection, the TLS handshake
and certificate, and finally an authenticated call (one list request, page size 1).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlparse

from . import net, tls
from .client import ArkClient
from .errors import ArkError
from .messages import Message, msg
from .settings import Settings

__all__ = ["Check", "check_connection"]

TIMEOUT_S = 8.0


@dataclass(frozen=True)
class Check:
    """One layer's outcome; a failed authenticated call keeps its error (Ark's code, request id)."""

    name: str  # proxy, dns, tcp, tls, auth
    ok: bool
    message: Message
    error: ArkError | None = None


#: A host and port the checks reach: Ark's, or the proxy's.
_Target = tuple[str, int]


def check_connection(settings: Settings) -> list[Check]:
    """Run the checks in order, stopping after the first failure (later ones would only repeat it)."""
    parsed = urlparse(settings.base_url)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    proxy_check, proxy = _proxy(settings.base_url)
    target = _proxy_target(proxy) if proxy else (host, port)
    checks = [proxy_check]
    for step in (lambda: _dns(target), lambda: _tcp(target)):
        checks.append(step())
        if not checks[-1].ok:
            return checks
    if parsed.scheme == "https" and not proxy:
        checks.append(_tls(settings, host, port))
        if not checks[-1].ok:
            return checks
    checks.append(_auth(settings))
    return checks


def _proxy(base_url: str) -> tuple[Check, str]:
    """The proxy the environment selects for ``base_url`` (HTTPS_PROXY, NO_PROXY...), "" for none."""
    import requests  # a check is a network call: load it now, not with the add-on

    scheme = urlparse(base_url).scheme
    proxies = requests.utils.get_environ_proxies(base_url)
    proxy = proxies.get(scheme) or proxies.get("all") or ""
    if proxy:
        return Check("proxy", True, msg("Using the proxy {proxy} (HTTPS_PROXY / NO_PROXY)",
                                        proxy=_without_password(proxy))), proxy
    return Check("proxy", True, msg("No proxy: connecting directly")), ""


def _proxy_target(proxy: str) -> _Target:
    proxy_url = urlparse(proxy if "://" in proxy else f"http://{proxy}")
    return proxy_url.hostname or "", proxy_url.port or 8080


def _failed(name: str, exc: BaseException, target: _Target) -> Check:
    """A failed layer, worded by the network's rules (:data:`.net.NETWORK_RULES`), as a request's failure is."""
    error = net.describe_network_error(exc, f"//{target[0]}:{target[1]}")
    return Check(name, False, error.what, error)


def _dns(target: _Target) -> Check:
    try:
        socket.getaddrinfo(target[0], target[1], type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return _failed("dns", exc, target)
    return Check("dns", True, msg("{host} resolves", host=target[0]))


def _tcp(target: _Target) -> Check:
    try:
        with socket.create_connection(target, timeout=TIMEOUT_S):
            pass
    except OSError as exc:
        return _failed("tcp", exc, target)
    return Check("tcp", True, msg("Connected to {host}:{port}", host=target[0], port=str(target[1])))


def _tls(settings: Settings, host: str, port: int) -> Check:
    """The handshake and the certificate, with the CA bundle the add-on's requests use."""
    bundle = tls.user_ca_bundle(settings.verify)
    try:
        context = tls.ssl_context(bundle)
    except (OSError, ValueError) as exc:
        error = tls.unusable_bundle(bundle, exc)
        return Check("tls", False, error.what, error)
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT_S) as sock:
            with context.wrap_socket(sock, server_hostname=host):
                pass
    except OSError as exc:  # ssl.SSLError is an OSError
        return _failed("tls", exc, (host, port))
    return Check("tls", True, msg("TLS certificate verified"))


def _auth(settings: Settings) -> Check:
    """One authenticated call (a list, page size 1): the key, and Ark's answer behind every layer."""
    if not settings.api_key:
        return Check("auth", False, msg("No API key is set: add it above or in ARK_API_KEY"))
    client = ArkClient(settings, max_retries=0)
    try:
        client.list_tasks(page_size=1)
    except ArkError as exc:
        return Check("auth", False, exc.what, exc)
    finally:
        client.close()
    return Check("auth", True, msg("The API key is accepted"))


def _without_password(proxy: str) -> str:
    """The proxy URL with its password masked where it stands (``user:***@host``), and only there:
    a short password must not mask the same letters in the host name."""
    parsed = urlparse(proxy if "://" in proxy else f"http://{proxy}")
    if parsed.password is None:
        return proxy
    scheme, sep, rest = proxy.rpartition("://")
    userinfo, _at, host = rest.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
