"""Ark's retention rules: which one the browser shows for a task, with the time left under it."""

from __future__ import annotations

import pytest

from ark3d_addon.core.catalog import HYPER3D, SEED3D_1
from ark3d_addon.core.retention import duration, link_lifetime, rule

NOW = 1_800_000_000.0
HOUR = 3600


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "1 min"), (59, "1 min"), (40 * 60, "40 min"), (7 * HOUR + 5, "7 h"), (24 * HOUR, "1 d"),
    (6 * 24 * HOUR + 23 * HOUR, "6 d 23 h"), (-5, "1 min"),
])
def test_durations(seconds: float, text: str) -> None:
    assert str(duration(seconds)) == text


def test_result_links_live_24_hours_for_seed3d_and_7_days_for_hyper3d_and_hitem3d() -> None:
    assert link_lifetime(SEED3D_1) == 24 * HOUR
    assert link_lifetime(HYPER3D) == 7 * 24 * HOUR
    assert link_lifetime("a-model-nobody-knows") == 24 * HOUR


@pytest.mark.parametrize(("status", "model", "created", "updated", "listed", "text"), [
    ("queued", SEED3D_1, NOW - HOUR, NOW - HOUR, True,
     "Ark lists a task for 7 days after it was created: 6 d 23 h left"),
    ("running", SEED3D_1, None, None, True, "Ark lists a task for 7 days after it was created"),
    ("failed", SEED3D_1, NOW - 6 * 24 * HOUR, NOW - 6 * 24 * HOUR, True,
     "Ark lists a task for 7 days after it was created: 1 d left"),
    ("succeeded", SEED3D_1, NOW - 3 * HOUR, NOW - 2 * HOUR, True,
     "Result files are deleted 1 d after the task finished: 22 h left"),
    ("succeeded", HYPER3D, NOW - 3 * HOUR, NOW - 2 * HOUR, True,
     "Result files are deleted 7 d after the task finished: 6 d 22 h left"),
    ("succeeded", SEED3D_1, NOW - 30 * HOUR, NOW - 25 * HOUR, True,
     "The result files were deleted 1 d after the task finished"),
    ("cancelled", SEED3D_1, NOW - 3 * HOUR, NOW - 2 * HOUR, True,
     "Ark removes a cancelled task 24 h after it was cancelled: 22 h left"),
    ("succeeded", SEED3D_1, NOW - 9 * 24 * HOUR, NOW - 9 * 24 * HOUR, False,
     "Only in your library: Ark lists tasks for 7 days, and no longer lists this one"),
])
def test_the_rule_that_applies(status: str, model: str, created: int | None, updated: int | None, listed: bool,
                               text: str) -> None:
    created_at = int(created) if created is not None else None
    updated_at = int(updated) if updated is not None else None
    assert str(rule(status, model, created_at, updated_at, listed=listed, now=NOW)) == text
