"""The key never shows, and redacting it garbles nothing else."""

from __future__ import annotations

from ark3d_addon.core.errors import ArkError, redact, scrub
from ark3d_addon.core.messages import msg

KEY = "0d6f7c1e-5b2a-4c1e-9f3a-7e2b8c4d5a6f"


def test_a_key_is_redacted_wherever_it_is_quoted() -> None:
    assert redact(f"bad key {KEY}!", KEY) == "bad key ***!"
    assert redact("Authorization: Bearer abc.def-123", "") == "Authorization: Bearer ***"


def test_a_string_too_short_to_be_a_key_is_not_redacted() -> None:
    # With the key "x", the proxy layer's text read "pro***y".
    assert redact("the proxy answered", "x") == "the proxy answered"
    assert redact("the proxy answered", "proxy") == "the proxy answered"
    error = scrub(ArkError(msg("{what} via the proxy", what="refused"), hint=msg("Check the proxy")), "x")
    assert error.user_message() == "refused via the proxy. Check the proxy."
