"""Where the key and URLs come from, and the plain-http rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from ark3d_addon.core.errors import ConfigError
from ark3d_addon.core.settings import BASE_URL_CN, Settings, check_base_url, is_loopback_host


def test_environment_wins_over_preferences() -> None:
    env = {"ARK_API_KEY": " env-key ", "ARK_BASE_URL": "https://ark.ap-southeast.bytepluses.com/api/v3/",
           "ARK3D_LIBRARY": "~/lib"}
    s = Settings.resolve(api_key="pref-key", base_url=BASE_URL_CN, library_dir="/prefs", environ=env)
    assert s.api_key == "env-key"
    assert s.base_url == "https://ark.ap-southeast.bytepluses.com/api/v3"
    assert s.library_dir == Path("~/lib").expanduser()


def test_preferences_and_defaults() -> None:
    s = Settings.resolve(api_key="pref-key", environ={})
    assert (s.api_key, s.base_url, s.library_dir, s.variant) == ("pref-key", BASE_URL_CN, None, "pbr")
    assert Settings.resolve(poll_interval=0.1, environ={}).poll_interval == 1.0


def test_the_key_never_shows_in_repr() -> None:
    s = Settings.resolve(api_key="sk-very-secret", environ={})
    assert "sk-very-secret" not in repr(s)


def test_missing_key_says_where_to_set_it() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.resolve(environ={}).require_key()
    message = info.value.user_message()
    assert "MissingAPIKey" in message and "Preferences" in message and "ARK_API_KEY" in message


@pytest.mark.parametrize("url", ["http://127.0.0.1:8400/api/v3", "http://localhost/api/v3", "http://[::1]:1/api/v3",
                                 "https://ark.cn-beijing.volces.com/api/v3"])
def test_allowed_base_urls(url: str) -> None:
    assert check_base_url(url) == url


@pytest.mark.parametrize("url", ["http://ark.cn-beijing.volces.com/api/v3", "http://10.0.0.1/api/v3",
                                 "ftp://127.0.0.1/x", "file:///etc/passwd", "ark.cn-beijing.volces.com", ""])
def test_refused_base_urls(url: str) -> None:
    with pytest.raises(ConfigError):
        check_base_url(url)


def test_loopback_hosts() -> None:
    assert is_loopback_host("127.8.9.10") and is_loopback_host("LOCALHOST") and is_loopback_host("::1")
    assert not is_loopback_host("localhost.evil.example") and not is_loopback_host("192.168.1.1")
