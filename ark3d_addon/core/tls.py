"""How the add-on verifies certificates: the one TLS context of every API call, download and
connection check.

With no CA bundle of the user's, verification is Python's and ``requests``' own, untouched
(the system's or certifi's store, with whatever checks this Python makes).

With the user's own CA bundle (the add-on's CA Bundle preference or ``ARK3D_CA_BUNDLE``; else
``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE``, which ``requests`` reads too), the certificates
are verified against that bundle only, as before, but without ``VERIFY_X509_STRICT``.  Python
3.13 (Blender 5.1 and later) turns that flag on, and it refuses a CA certificate that lacks the
keyUsage extension, which many company CAs of TLS-inspecting networks lack: the same bundle
verified on Python 3.11 (Blender 4.2 to 5.0) and would stop working on an upgrade, with nothing
the user can change but their company's CA.  Everything else is still checked (the chain to
that CA, the host name, the dates), and the system's store keeps the strict checks.
"""

from __future__ import annotations

import os
import ssl
from functools import cache
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, ErrorCode
from .messages import msg

if TYPE_CHECKING:  # imported on the first request, not with the add-on (see net.py)
    import requests

__all__ = ["CA_BUNDLE_HINT", "mount", "ssl_context", "unusable_bundle", "user_ca_bundle"]


def user_ca_bundle(verify: bool | str) -> str:
    """The CA bundle the user chose, or "" for the default store.

    ``verify`` is :attr:`Settings.verify` (the add-on's own bundle, or True); with True,
    ``REQUESTS_CA_BUNDLE`` and ``CURL_CA_BUNDLE`` count, as ``requests`` reads them."""
    if isinstance(verify, str):
        return verify
    if not verify:
        return ""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or ""


def ssl_context(ca_bundle: str) -> ssl.SSLContext:
    """A client context: Python's default, or one trusting ``ca_bundle`` only, not strict."""
    if not ca_bundle:
        return ssl.create_default_context()
    if os.path.isdir(ca_bundle):  # a folder of hashed certificates, as requests accepts too
        context = ssl.create_default_context(capath=ca_bundle)
    else:
        context = ssl.create_default_context(cafile=ca_bundle)
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    return context


@cache
def _adapter_class() -> type[Any]:
    """The adapter class, made on first use: subclassing requests' adapter imports requests."""
    from requests.adapters import HTTPAdapter

    class _BundleAdapter(HTTPAdapter):
        """``requests``' adapter with the user's bundle's context (urllib3 loads the bundle into it
        again from ``verify``: harmless, and it keeps requests' own checks of the path).

        urllib3 matches the host name itself, as with the contexts it makes (``check_hostname``
        off): urllib3 1.26 (Blender 4.2) passes no server name for an IP address, which a context
        that checks host names refuses."""

        def __init__(self, context: ssl.SSLContext) -> None:
            context.check_hostname = False
            self._context = context
            super().__init__()

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["ssl_context"] = self._context
            super().init_poolmanager(*args, **kwargs)

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            kwargs["ssl_context"] = self._context
            return super().proxy_manager_for(proxy, **kwargs)

    return _BundleAdapter


def mount(session: requests.Session, verify: bool | str) -> None:
    """Make ``session``'s https connections use the user's bundle's context, if there is one.

    Raises :class:`ConfigError` when the bundle cannot be read, before any request."""
    bundle = user_ca_bundle(verify)
    if not bundle:
        return
    try:
        context = ssl_context(bundle)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise unusable_bundle(bundle, exc) from None
    session.mount("https://", _adapter_class()(context))


def unusable_bundle(bundle: str, exc: OSError | ValueError) -> ConfigError:
    """The error of a CA bundle that :func:`ssl_context` could not load (requests and Check Connection alike)."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return ConfigError(
        msg("The CA bundle {bundle} cannot be used ({reason})", bundle=bundle, reason=reason),
        code=ErrorCode.CA_BUNDLE_UNUSABLE,
        hint=CA_BUNDLE_HINT,
    )


CA_BUNDLE_HINT = msg(
    "Set the add-on's CA bundle setting (or ARK3D_CA_BUNDLE, or REQUESTS_CA_BUNDLE) to a PEM file holding "
    "your company's CA certificate"
)
