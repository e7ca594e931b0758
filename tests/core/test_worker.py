"""The one thread runner: results, errors the user can act on, and bugs that keep their traceback."""

from __future__ import annotations

import pytest

from ark3d_addon.core.errors import ArkError
from ark3d_addon.core.messages import msg
from ark3d_addon.core.worker import Worker


def test_a_result_and_an_ark_error_are_kept() -> None:
    ok: Worker[int] = Worker(lambda cancel: 42).start()
    assert ok.join(5) and ok.done and ok.result == 42 and ok.error is None and not ok.traceback

    def refused(cancel: object) -> int:
        raise ArkError(msg("nope"), code="X")

    failing: Worker[int] = Worker(refused).start()
    assert failing.join(5) and failing.error is not None and failing.error.code == "X"
    assert not failing.traceback, "a failure the user can act on is no bug"


def test_a_bug_prints_its_traceback_and_shows_a_short_message(capsys: pytest.CaptureFixture[str]) -> None:
    def bug(cancel: object) -> int:
        return {"secret-key in here": 1}["missing"]

    crashed: Worker[int] = Worker(bug, secret="secret-key")
    crashed.run()
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "KeyError: 'missing'" in err and 'in bug' in err
    assert crashed.traceback == err
    error = crashed.error
    assert error is not None and error.code == "InternalError"
    assert error.message == "An internal error stopped the job: KeyError: 'missing'"
    assert "console" in error.user_message()


def test_the_key_is_redacted_from_a_bugs_traceback_and_message(capsys: pytest.CaptureFixture[str]) -> None:
    def bug(cancel: object) -> int:
        raise ZeroDivisionError("secret-key in here")

    crashed: Worker[int] = Worker(bug, secret="secret-key")
    crashed.run()
    err = capsys.readouterr().err
    assert "ZeroDivisionError" in err and "secret-key" not in err
    assert crashed.error is not None and "secret-key" not in crashed.error.user_message()
