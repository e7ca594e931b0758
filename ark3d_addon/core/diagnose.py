"""The preferences' "Check Connection": tell DNS, proxy, TLS and authentication apart.

"It doesn't connect" has five different fixes, so each layer is tried on its own, in the
order a request crosses them, and the first failure is named with its own remedy:
the proxy the environment selects, name resolution, the TCP connection, the TLS handshake
and certificate, and finally an authenticated call (one list request, page size 1).
"""

from __future__ import annotations

import socket
import ssl
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


def check_connection(settings: Settings) -> list[Check]:
    """Run the checks in order, stopping after the first failure (later ones would only repeat it)."""
    parsed = urlparse(settings.base_url)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    checks: list[Check] = []

    import requests  # a check is a network call: load it now, not with the add-on

    proxies = requests.utils.get_environ_proxies(settings.base_url)
    proxy = proxies.get(parsed.scheme) or proxies.get("all")
    if proxy:
        checks.append(Check("proxy", True, msg("Using the proxy {proxy} (HTTPS_PROXY / NO_PROXY)",
                                                  proxy=_without_password(proxy))))
        proxy_url = urlparse(proxy if "://" in proxy else f"http://{proxy}")
        target = (proxy_url.hostname or "", proxy_url.port or 8080)
    else:
        checks.append(Check("proxy", True, msg("No proxy: connecting directly")))
        target = (host, port)

    try:
        socket.getaddrinfo(target[0], target[1], type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        checks.append(Check("dns", False, msg("Could not resolve {host} ({reason}): check the address, your network "
                                              "and DNS, or the proxy setting",
                                              host=target[0], reason=str(exc.strerror))))
        return checks
    checks.append(Check("dns", True, msg("{host} resolves", host=target[0])))

    try:
        with socket.create_connection(target, timeout=TIMEOUT_S):
            pass
    except OSError as exc:
        what = (msg("refused the connection") if isinstance(exc, ConnectionRefusedError)
                else msg("is unreachable ({reason})", reason=str(exc)))
        checks.append(Check("tcp", False, msg("{host}:{port} {what}: a firewall or proxy may block it",
                                              host=target[0], port=str(target[1]), what=what)))
        return checks
    checks.append(Check("tcp", True, msg("Connected to {host}:{port}", host=target[0], port=str(target[1]))))

    if parsed.scheme == "https" and not proxy:
        bundle = tls.user_ca_bundle(settings.verify)
        try:
            context = tls.ssl_context(bundle)
        except (OSError, ValueError) as exc:
            checks.append(Check("tls", False, msg("The CA bundle {bundle} cannot be used ({reason}): set the CA Bundle "
                                                  "preference to a PEM file", bundle=bundle, reason=str(exc))))
            return checks
        try:
            with socket.create_connection((host, port), timeout=TIMEOUT_S) as sock:
                with context.wrap_socket(sock, server_hostname=host):
                    pass
        except ssl.SSLCertVerificationError as exc:
            checks.append(Check("tls", False, msg("The certificate of {host} could not be verified ({reason}): if your "
                                                  "network inspects TLS, set the CA Bundle preference to your "
                                                  "company's CA file", host=host, reason=str(exc.verify_message))))
            return checks
        except (ssl.SSLError, OSError) as exc:
            checks.append(Check("tls", False, msg("The TLS handshake with {host} failed ({reason})",
                                                  host=host, reason=str(exc))))
            return checks
        checks.append(Check("tls", True, msg("TLS certificate verified")))

    if not settings.api_key:
        checks.append(Check("auth", False, msg("No API key is set: add it above or in ARK_API_KEY")))
        return checks
    client = ArkClient(settings, max_retries=0)
    try:
        client.list_tasks(page_size=1)
    except ArkError as exc:
        checks.append(Check("auth", False, exc.what, exc))
    except requests.RequestException as exc:
        error = net.describe_network_error(exc, settings.base_url)
        checks.append(Check("auth", False, error.what, error))
    else:
        checks.append(Check("auth", True, msg("The API key is accepted")))
    finally:
        client.close()
    return checks


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
