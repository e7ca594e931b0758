"""What a user pastes as the task id: trimmed, or refused before any request or any folder.

tests/core/test_task.py covers validate_task_id on its own; here the text goes through
ImportJob (as the panel and the console do) and the CLI, and the server's log proves that a
refused id never caused a request.
"""

from __future__ import annotations

from ark3d_addon.core.errors import ConfigError

from .support import KEY, Scenario, glb, zip_bytes

RESULT = zip_bytes([("model/m.glb", glb())])


def refused(sc: Scenario, text: str) -> ConfigError:
    """The id is refused by ImportJob itself: no request, nothing created in the library."""
    error = sc.refused(ConfigError, lambda: sc.job(text))
    assert error.code in ("InvalidTaskId", "MissingTaskId") and "task id" in error.user_message().lower()
    assert sc.server.requests_log == [] and not sc.lib_root.exists()
    return error  # type: ignore[return-value]


def test_taskid_empty(sc: Scenario) -> None:
    """expected: "No task id given", hint "Paste the task id (it starts with cgt-)"; no request, no folder."""
    for text in ("", "   ", "\t\n", "\u3000\u200b"):
        error = refused(sc, text)
        assert error.message == "No task id given" and "starts with cgt-" in str(error.hint)


def test_taskid_whitespace_around(sc: Scenario) -> None:
    """expected: spaces, tabs, newlines, ideographic spaces and zero-width marks around the id are trimmed: the import succeeds into <library>/<id>."""  # noqa: E501
    tid = sc.serve(RESULT)
    result = sc.run(f" \t\u3000\u200b{tid}\ufeff\n ")
    assert result.task_id == tid and result.files_dir == sc.lib_root / tid / "files"
    assert [p.name for p in sc.lib_root.iterdir()] == [tid]


def test_taskid_full_url_pasted(sc: Scenario, lookups: list[str]) -> None:
    """expected: a pasted URL ending in the id gives the id; only the configured base URL is asked (the pasted host is never contacted)."""  # noqa: E501
    tid = sc.serve(RESULT)
    sc.run(f"https://evil.example.com/api/v3/contents/generations/tasks/{tid}?token=1")
    assert "evil.example.com" not in lookups
    assert [r.path for r in sc.server.requests_log if r.server == "api"] == [
        f"/api/v3/contents/generations/tasks/{tid}"]


def test_taskid_path_like(sc: Scenario) -> None:
    """expected: '../../outside/x', 'cgt-../x', 'cgt-a/b', 'cgt-a\\b', 'cgt-%2e%2e', a URL ending in '..' are refused: "is not a valid Ark task id"; no request, no folder."""  # noqa: E501
    for text in ("../../outside/x", "cgt-../x", "cgt-a/b", "cgt-a\\b", "cgt-%2e%2e", "cgt-a?b=1",
                 "https://ark.example/tasks/cgt-a/../..", "/etc/passwd", "cgt-.", "cgt-a\x00"):
        assert "is not a valid Ark task id" in refused(sc, text).message


def test_taskid_very_long(sc: Scenario) -> None:
    """expected: a 504-character id is refused: "'cgt-aaaa...' is not a valid Ark task id", quoting at most 40 characters."""  # noqa: E501
    error = refused(sc, "cgt-" + "a" * 500)
    assert error.message == f"'cgt-{'a' * 33}...' is not a valid Ark task id"


def test_taskid_non_ascii(sc: Scenario) -> None:
    """expected: 'cgt-模型', full-width digits, an inner zero-width space, a Cyrillic 'а' are refused, shown with invisible characters escaped."""  # noqa: E501
    for text in ("cgt-模型", "cgt-２０２５１１２４", "cgt-abc\u200bdef", "cgt-аbc"):
        refused(sc, text)
    assert "'cgt-abc\\u200bdef' is not a valid Ark task id" in str(sc.errors[2])


def test_taskid_api_key_pasted(sc: Scenario) -> None:
    """expected: the API key pasted as the id is refused without being echoed: "The text given is not a valid Ark task id (it does not start with cgt-)"."""  # noqa: E501
    error = refused(sc, KEY)
    assert error.message == "The text given is not a valid Ark task id (it does not start with cgt-)"


def test_taskid_cli_refuses_before_any_request(sc: Scenario) -> None:
    """expected: `python -m ark3d_addon fetch` with a path-like id or the key exits 1 with the message on stderr; no request, no folder."""  # noqa: E501
    for text in ("../../outside/x", KEY):
        proc = sc.cli("fetch", text, "--dest", str(sc.lib_root))
        assert proc.returncode == 1 and proc.stdout == ""
        assert proc.stderr.startswith("error: ") and "not a valid Ark task id" in proc.stderr
    assert sc.server.requests_log == [] and not sc.lib_root.exists()
