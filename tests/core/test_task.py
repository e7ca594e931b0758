"""Parsing the query call's JSON (the seed) and validating task ids."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ark3d_addon.core.errors import ConfigError
from ark3d_addon.core.retention import LINK_LIFETIME_S
from ark3d_addon.core.task import Status, parse_task, signed_link_expiry, validate_task_id

# The seed's own example, made valid JSON: note the times are strings there.
SEED_EXAMPLE = {
    "id": "cgt-2025******-****",
    "model": "doubao-seed3d-1-0-250928",
    "status": "succeeded",
    "created_at": "1718049470",
    "updated_at": "1718049470",
    "content": {"file_url": "https://xxx"},
    "subdivisionlevel": "medium",
    "fileformat": "glb",
    "usage": {"total_tokens": 30000, "completion_tokens": 30000},
}


def test_seed_example_parses_every_field() -> None:
    task = parse_task(SEED_EXAMPLE)
    assert task.id == "cgt-2025******-****"
    assert task.model == "doubao-seed3d-1-0-250928"
    assert task.status is Status.SUCCEEDED and task.status.is_final
    assert task.created_at == 1718049470 and task.updated_at == 1718049470
    assert task.file_url == "https://xxx"
    assert task.subdivisionlevel == "medium" and task.fileformat == "glb"
    assert task.usage.total_tokens == 30000 and task.usage.completion_tokens == 30000
    assert task.error is None
    assert task.link_expires_at() == 1718049470 + LINK_LIFETIME_S
    assert task.raw == SEED_EXAMPLE


def test_integer_times_and_failed_task() -> None:
    task = parse_task({"id": "cgt-1", "status": "failed", "created_at": 5, "updated_at": 7,
                       "error": {"code": "InputImageSensitiveContentDetected", "message": "sensitive"}})
    assert task.status is Status.FAILED
    assert (task.created_at, task.updated_at) == (5, 7)
    assert task.error is not None and task.error.code == "InputImageSensitiveContentDetected"
    assert task.file_url == "" and task.link_expires_at() is None


@pytest.mark.parametrize("status", ["queued", "running", "cancelled", "succeeded", "failed", "QUEUED "])
def test_documented_statuses(status: str) -> None:
    assert parse_task({"id": "cgt-1", "status": status}).status.value == status.strip().lower()


def test_unknown_status_and_fields_are_tolerated() -> None:
    task = parse_task({"id": "cgt-1", "status": "paused", "brand_new": {"x": 1}, "created_at": "soon",
                       "content": "not an object", "usage": [1, 2]})
    assert task.status is Status.UNKNOWN and not task.status.is_final
    assert task.status_text == "paused"
    assert task.created_at is None and task.file_url == ""
    assert task.raw["brand_new"] == {"x": 1}


def test_file_name_drops_the_signed_query() -> None:
    task = parse_task({"id": "cgt-1", "status": "succeeded",
                       "content": {"file_url": "https://tos.example/a/b/model%20x.zip?X-Tos-Signature=abc"}})
    assert task.file_name() == "model x.zip"


@pytest.mark.parametrize("body", [None, [], "x", 3, {}, {"id": ""}, {"id": None}])
def test_unusable_bodies_raise_value_error(body: object) -> None:
    with pytest.raises(ValueError):
        parse_task(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
task_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values | st.just("cgt-20251124123456-abcde"),
        "status": json_values | st.sampled_from([s.value for s in Status]),
        "created_at": json_values,
        "updated_at": json_values,
        "content": json_values | st.fixed_dictionaries({"file_url": json_values}),
        "error": json_values | st.fixed_dictionaries({"code": json_values, "message": json_values}),
        "usage": json_values,
        "fileformat": json_values,
        "subdivisionlevel": json_values,
        "model": json_values,
    },
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(json_values, task_like))
def test_no_generated_json_crashes_the_parser(data: object) -> None:
    try:
        task = parse_task(data)
    except ValueError:
        return
    # Whatever came in, the result is usable by the UI and serialisable for the library.
    assert isinstance(task.status, Status)
    assert isinstance(task.file_url, str) and isinstance(task.fileformat, str)
    json.dumps(task.raw, default=str)
    task.link_seconds_left(0)
    task.elapsed(0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cgt-20251124123456-abcde", "cgt-20251124123456-abcde"),
        ("  cgt-20251124123456-abcde\n", "cgt-20251124123456-abcde"),
        ("https://ark.cn-beijing.volces.com/api/v3/contents/generations/tasks/cgt-2025-abc?x=1", "cgt-2025-abc"),
        ("https://console.example/task/cgt-2025-abc/", "cgt-2025-abc"),
    ],
)
def test_valid_ids_are_trimmed(text: str, expected: str) -> None:
    assert validate_task_id(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "../../etc/passwd", "cgt-../x", "cgt-a/b", "cgt-a%2Fb", "cgt-a?b=1", "cgt-a b", "task-123",
     "cgt-" + "a" * 200, "cgt-模型", "cgt-a\x00", "https://evil.example/tasks/../../x"],
)
def test_invalid_ids_are_refused(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_task_id(text)
    assert "task id" in info.value.user_message().lower()


def test_a_links_own_date_and_expiry_say_when_it_dies() -> None:
    """``X-Tos-Date`` + ``X-Tos-Expires`` win over the model's documented lifetime; without them it applies."""
    link = ("https://tos.example/r.zip?X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Date=20251124T123456Z"
            "&X-Tos-Expires=3600&X-Tos-Signature=abc")
    signed = 1763987696  # 2025-11-24 12:34:56 UTC
    assert signed_link_expiry(link) == signed + 3600
    assert signed_link_expiry(link.replace("X-Tos-", "x-tos-")) == signed + 3600, "query keys in any case"
    task = parse_task({**SEED_EXAMPLE, "content": {"file_url": link}})
    assert task.link_expires_at() == signed + 3600
    for unreadable in ("https://x/r.zip?X-Tos-Expires=86400",  # no date: the model's lifetime applies
                       "https://x/r.zip?X-Tos-Date=20251124T123456Z",
                       "https://x/r.zip?X-Tos-Date=yesterday&X-Tos-Expires=86400",
                       "https://x/r.zip?X-Tos-Date=20251124T123456Z&X-Tos-Expires=-5", "", "not a url"):
        assert signed_link_expiry(unreadable) is None, unreadable
        fallback = parse_task({**SEED_EXAMPLE, "content": {"file_url": unreadable}})
        assert fallback.link_expires_at() == 1718049470 + LINK_LIFETIME_S
    assert parse_task({**SEED_EXAMPLE, "status": "running", "content": {"file_url": link}}).link_expires_at() is None


@pytest.mark.parametrize(("model", "link", "given", "expected"), [
    ("hyper3d-gen2-260112", "https://tos.example/a/0217abc.fbx?X-Tos-Expires=604800", None, "fbx"),
    ("hitem3d-2-0-251223", "https://tos.example/a/0217abc.STL", None, "stl"),
    ("hitem3d-2-0-251223", "https://tos.example/a/mesh%20one.usdz?x=1", None, "usdz"),
    ("doubao-seed3d-1-0-250928", "https://tos.example/a/result.zip", "obj", "obj"),  # Ark's own word wins
    ("doubao-seed3d-1-0-250928", "https://tos.example/a/result.zip", None, ""),  # a zip says no format
    ("hyper3d-gen2-260112", "https://tos.example/a/readme.txt", None, ""),
])
def test_the_format_comes_from_the_link_when_ark_does_not_say_it(model: str, link: str, given: str | None,
                                                                  expected: str) -> None:
    """Only Seed3D's answer carries ``fileformat``; Hyper3D's and Hitem3D's links name the model file."""
    data = {"id": "cgt-1", "model": model, "status": "succeeded", "content": {"file_url": link}}
    if given is not None:
        data["fileformat"] = given
    assert parse_task(data).fileformat == expected
