"""The key never shows, and redacting it garbles nothing else."""

from __future__ import annotations

import ast
from pathlib import Path

from ark3d_addon.core.errors import ArkError, ErrorCode, redact, scrub
from ark3d_addon.core.messages import msg

KEY = "0d6f7c1e-5b2a-4c1e-9f3a-7e2b8c4d5a6f"


def test_a_key_is_redacted_wherever_it_is_quoted() -> None:
    assert redact(f"bad key {KEY}!", KEY) == "bad key ***!"
    assert redact("Authorization: Bearer abc.def-123", "") == "Authorization: Bearer ***"


def test_a_string_too_short_to_be_a_key_is_not_redacted() -> None:
    # With the key "x", the proxy layer's text read "pro***y".
    assert redact("the proxy answered", "x") == "the proxy answered"
    assert redact("the proxy answered", "proxy") == "the proxy answered"
    error = scrub(ArkError(msg("{what} via the proxy", what="refused"), code=ErrorCode.PROXY_ERROR,
                           hint=msg("Check the proxy")), "x")
    assert error.user_message() == "refused via the proxy (code ProxyError). Check the proxy."


PACKAGE = Path(__file__).resolve().parents[2] / "ark3d_addon"
_ERRORS = {"ArkError", "ApiError", "ConfigError", "NetworkError", "TaskFailed", "TaskCancelled", "DownloadError",
           "LinkExpired", "ArchiveError", "NoModelError"}


def test_every_error_the_add_on_makes_names_its_code() -> None:
    """A script reading ``--json`` tells failures apart by ``code``: none of ours may be made without one."""
    missing = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _ERRORS
                    and not any(k.arg in ("code", None) for k in node.keywords)):
                missing.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not missing, missing


def test_an_error_keeps_its_code_as_plain_text() -> None:
    error = ArkError(msg("No task id given"), code=ErrorCode.MISSING_TASK_ID)
    assert error.code == "MissingTaskId" and error.as_dict()["code"] == "MissingTaskId"
