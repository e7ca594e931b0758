"""Where the key, the base URL and the library come from: one reader for every entry point.

Order of precedence: the environment (``ARK_API_KEY``, ``ARK_BASE_URL``, ``ARK3D_LIBRARY``,
as the official SDKs and pipelines use them), then the add-on preferences, then defaults.
The panel, the operators and the command line all build a :class:`Settings` here, so the
loopback-only rule for plain ``http://`` is enforced in one place.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlparse

from .errors import ConfigError, ErrorCode
from .messages import msg

__all__ = [
    "BASE_URL_CN",
    "BASE_URL_INTL",
    "DEFAULT_POLL_INTERVAL",
    "Settings",
    "check_base_url",
    "is_loopback_host",
]

BASE_URL_CN = "https://ark.cn-beijing.volces.com/api/v3"
BASE_URL_INTL = "https://ark.ap-southeast.bytepluses.com/api/v3"
DEFAULT_POLL_INTERVAL = 5.0

KEY_HINT = msg(
    "Set your Ark API key in Edit > Preferences > Add-ons > Ark 3D, or in the ARK_API_KEY "
    "environment variable (create one in the Ark console under API Key management)"
)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1``: the only hosts plain http may reach."""
    host = (host or "").strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """Normalise the API base URL; refuse plain http except on loopback (the local server)."""
    text = (url or "").strip().rstrip("/")
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        # Not echoed: text pasted into the wrong field (the API key, most likely) must not
        # end up in a message or a log.
        raise ConfigError(
            msg("The Ark base URL is not a web address (it must start with https://)"),
            code=ErrorCode.INVALID_BASE_URL,
            hint=msg("Use {cn} (or {intl} for BytePlus ModelArk)", cn=BASE_URL_CN, intl=BASE_URL_INTL),
        )
    if parsed.scheme == "http" and not is_loopback_host(parsed.hostname):
        shown = f"{parsed.scheme}://{parsed.netloc.rpartition('@')[2]}{parsed.path}"
        raise ConfigError(
            msg("The Ark base URL '{url}' uses plain http, which would send your API key unencrypted", url=shown),
            code=ErrorCode.INSECURE_BASE_URL,
            hint=msg("Use an https:// address; plain http is only allowed for a local test server"),
        )
    return text


class Settings:
    """Everything a job needs to talk to Ark and store results.  ``api_key`` is never shown.

    A plain class, not a dataclass: a dataclass writes and compiles its methods when the module is
    imported, which every Blender start with the add-on enabled would pay.  Read-only by convention.
    """

    __slots__ = ("api_key", "base_url", "library_dir", "poll_interval", "variant", "ca_bundle")

    def __init__(self, api_key: str, base_url: str = BASE_URL_CN, library_dir: Path | None = None,
                 poll_interval: float = DEFAULT_POLL_INTERVAL, variant: str = "pbr", ca_bundle: str = "") -> None:
        self.api_key = api_key
        self.base_url = base_url
        self.library_dir = library_dir
        self.poll_interval = poll_interval
        self.variant = variant
        self.ca_bundle = ca_bundle

    def _shown(self) -> tuple[object, ...]:
        return self.base_url, self.library_dir, self.poll_interval, self.variant, self.ca_bundle

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Settings):
            return NotImplemented
        return self.api_key == other.api_key and self._shown() == other._shown()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:  # never the key: a repr lands in logs and tracebacks
        fields = ", ".join(f"{name}={value!r}" for name, value in zip(self.__slots__[1:], self._shown(), strict=True))
        return f"Settings({fields})"

    @classmethod
    def resolve(
        cls,
        *,
        api_key: str = "",
        base_url: str = "",
        library_dir: str | Path | None = None,
        poll_interval: float | None = None,
        variant: str = "pbr",
        ca_bundle: str = "",
        environ: dict[str, str] | None = None,
    ) -> Settings:
        """Merge preferences (the arguments) with the environment, which wins."""
        env = os.environ if environ is None else environ
        key = (env.get("ARK_API_KEY") or api_key or "").strip()
        base = check_base_url(env.get("ARK_BASE_URL") or base_url or BASE_URL_CN)
        lib_text = env.get("ARK3D_LIBRARY") or (str(library_dir) if library_dir else "")
        interval = poll_interval if poll_interval and poll_interval > 0 else DEFAULT_POLL_INTERVAL
        return cls(
            api_key=key,
            base_url=base,
            library_dir=Path(lib_text).expanduser() if lib_text else None,
            poll_interval=max(1.0, float(interval)),
            variant=variant if variant in ("pbr", "rgb") else "pbr",
            ca_bundle=(env.get("ARK3D_CA_BUNDLE") or ca_bundle or "").strip(),
        )

    def require_key(self) -> str:
        """The key, or a :class:`ConfigError` that says where to set it."""
        if not self.api_key:
            raise ConfigError(msg("No Ark API key is set"), code=ErrorCode.MISSING_API_KEY, hint=KEY_HINT)
        return self.api_key

    @property
    def verify(self) -> bool | str:
        """What ``requests`` should verify TLS with: a CA bundle path, or the default store."""
        return self.ca_bundle or True
