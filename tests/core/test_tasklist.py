"""The tasks browser's data against the loopback Ark server: paging, filter, library merge, cancel/delete."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ark3d_addon.core.client import ArkClient
from ark3d_addon.core.errors import ArkError, ConfigError
from ark3d_addon.core.library import Library
from ark3d_addon.core.messages import msg
from ark3d_addon.core.settings import Settings
from ark3d_addon.core.task import Status
from ark3d_addon.core.tasklist import (
    LIST_WINDOW_S,
    TaskRow,
    cancel_or_delete,
    delete_action,
    delete_refusal,
    fetch_rows,
    merge_rows,
)

KEY = "test-key"
OLD_ID = "cgt-20240101000000-oldie"


def settings_for(server, key: str = KEY) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(api_key=key, base_url=server.api_base)


def store(library: Library, task: dict, extracted: bool = True) -> None:
    library.save_task(task)
    if extracted:
        files = library.files_dir(task["id"])
        files.mkdir(parents=True, exist_ok=True)
        (files / "m.glb").write_bytes(b"glTF")
        library.mark_extracted(task["id"], files / "m.glb")


def old_task(created: float) -> dict:
    return {"id": OLD_ID, "model": "doubao-seed3d-1-0-250928", "status": "succeeded", "created_at": int(created),
            "updated_at": int(created) + 300, "fileformat": "obj", "content": {"file_url": "https://x.invalid/r.zip"}}


def test_rows_merge_arks_page_with_the_library(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = ark_server.add_file("m.zip", b"PK\x05\x06" + b"\0" * 18)
    done = ark_server.add_task(file=url, fileformat="glb")
    failed = ark_server.add_task(outcome="failed", error_code="InputImageSensitiveContentDetected",
                                 error_message="sensitive")
    queued = ark_server.add_task(file=url, queued_s=3600)
    library = Library(tmp_path)
    store(library, {"id": done, "status": "succeeded", "created_at": int(time.time())})
    store(library, old_task(time.time() - LIST_WINDOW_S - 3600))

    result = fetch_rows(settings_for(ark_server), library, page=1, page_size=20)
    assert result.error is None and result.total == 3
    ids = [r.task_id for r in result.rows]
    assert ids == [queued, failed, done, OLD_ID], "Ark's order (newest first), then library-only tasks"
    rows = {r.task_id: r for r in result.rows}
    assert rows[queued].status == "queued" and rows[queued].remote and not rows[queued].in_library
    assert rows[failed].error_code == "InputImageSensitiveContentDetected"
    assert rows[done].in_library and rows[done].extracted and rows[done].remote
    assert rows[done].fileformat == "glb" and rows[done].link_seconds_left() is not None
    assert 0 < rows[done].link_seconds_left() <= 24 * 3600  # type: ignore[operator]
    old = rows[OLD_ID]
    assert not old.remote and old.in_library and old.extracted and old.status == "succeeded"
    assert old.age() > LIST_WINDOW_S and old.link_seconds_left() < 0  # type: ignore[operator]


def test_paging_and_status_filter(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ids = [ark_server.add_task(outcome="failed") for _ in range(5)]
    ok = ark_server.add_task(file=ark_server.add_file("m.zip", b"x"))
    library = Library(tmp_path)
    store(library, old_task(time.time() - LIST_WINDOW_S - 60))
    first = fetch_rows(settings_for(ark_server), library, page=1, page_size=2)
    assert first.total == 6 and first.pages == 3
    assert [r.task_id for r in first.rows] == [ok, ids[4]], "no library rows before the last page"
    last = fetch_rows(settings_for(ark_server), library, page=3, page_size=2)
    assert [r.task_id for r in last.rows] == [ids[1], ids[0], OLD_ID]
    failed = fetch_rows(settings_for(ark_server), library, page=1, page_size=20, status="failed")
    assert [r.task_id for r in failed.rows] == ids[::-1], "the old succeeded one is filtered out too"
    query = [r.query for r in ark_server.requests_log if r.method == "GET" and "filter.status" in r.query]
    assert query and "filter.status=failed" in query[-1]


def test_recent_library_tasks_on_other_pages_are_not_repeated(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A recent library task is on some page of Ark's list; only one Ark no longer has shows at the end."""
    url = ark_server.add_file("m.zip", b"x")
    kept = ark_server.add_task(file=url)
    for _ in range(3):
        ark_server.add_task(outcome="failed")
    library = Library(tmp_path)
    now = int(time.time())
    store(library, {"id": kept, "status": "succeeded", "created_at": now - 100, "updated_at": now - 50})
    gone = "cgt-20990101000000-gone1"  # deleted from Ark, still in the library
    store(library, {"id": gone, "status": "succeeded", "created_at": now - 200, "updated_at": now - 100})
    page1 = fetch_rows(settings_for(ark_server), library, page=1, page_size=3)
    assert kept not in [r.task_id for r in page1.rows] and gone not in [r.task_id for r in page1.rows]
    last = fetch_rows(settings_for(ark_server), library, page=2, page_size=3)
    assert [r.task_id for r in last.rows] == [kept, gone]
    assert any("filter.task_ids" in r.query for r in ark_server.requests_log)


def test_without_the_network_the_library_is_shown_with_the_reason(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    library = Library(tmp_path)
    store(library, old_task(time.time() - LIST_WINDOW_S - 60))
    bad = fetch_rows(settings_for(ark_server, key="wrong"), library)
    assert bad.error is not None and bad.error.http_status == 401
    assert [r.task_id for r in bad.rows] == [OLD_ID]
    offline = fetch_rows(None, library, offline=ConfigError(msg("offline"), code="OnlineAccessDisabled"))
    assert offline.error is not None and offline.error.code == "OnlineAccessDisabled"
    assert [r.task_id for r in offline.rows] == [OLD_ID]
    assert ark_server.count(method=None) == 1, "offline: no request"


def test_cancel_queued_delete_finished_refuse_running(ark_server) -> None:  # type: ignore[no-untyped-def]
    client = ArkClient(settings_for(ark_server))
    queued = ark_server.add_task(queued_s=3600)
    running = ark_server.add_task(running_s=3600)
    done = ark_server.add_task(file=ark_server.add_file("m.zip", b"x"))
    out = cancel_or_delete(client, queued)
    assert (out.action, out.status_before) == ("cancelled", "queued")
    assert client.get_task(queued).status.value == "cancelled"
    with pytest.raises(ArkError) as again:
        cancel_or_delete(client, queued)
    assert again.value.code == "AlreadyCancelled" and "already cancelled" in again.value.user_message()
    with pytest.raises(ArkError) as busy:
        cancel_or_delete(client, running)
    assert busy.value.code == "TaskRunning" and "queued" in busy.value.user_message()
    assert ark_server.count(method="DELETE", path_contains=running) == 0, "refused before any DELETE"
    out = cancel_or_delete(client, done)
    assert out.action == "deleted"
    with pytest.raises(ArkError) as gone:
        client.get_task(done)
    assert gone.value.http_status == 404
    expired = ark_server.add_task(outcome="expired")
    assert cancel_or_delete(client, expired).action == "deleted"


def test_merge_rows_without_task_json() -> None:
    from ark3d_addon.core.library import LibraryEntry

    entry = LibraryEntry("cgt-20250101000000-nojsn", Path("/x"), None, True, 10)
    rows = merge_rows((), [entry], last_page=True)
    assert rows == [TaskRow("cgt-20250101000000-nojsn", Status.SUCCEEDED, in_library=True, extracted=True,
                            size_bytes=10)]
    assert merge_rows((), [entry], last_page=False) == []
    assert merge_rows((), [entry], last_page=True, status="failed") == []


def test_video_tasks_are_left_out_of_the_browser(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shown = ark_server.add_task()
    ark_server.add_task(model="doubao-seedance-2-0-260128",
                        extra_fields={"content": {"video_url": ark_server.file_base + "/files/v/a.mp4"}})
    ark_server.add_task(model="doubao-seedance-1-5-pro-251215", queued_s=3600, extra_fields={"duration": 5})
    result = fetch_rows(settings_for(ark_server), Library(tmp_path / "library"))
    assert [r.task_id for r in result.rows] == [shown]
    assert result.hidden == 2


@pytest.mark.parametrize(("status", "action", "refusal"), [
    ("queued", "cancel", None),
    ("succeeded", "delete", None),
    ("failed", "delete", None),
    ("running", "", "is running and cannot be cancelled"),
    ("cancelled", "", "is already cancelled"),
    ("expired", "delete", None),
    ("post_processing", "", "has the status 'post_processing'"),
])
def test_what_delete_does_is_decided_before_asking(status: str, action: str, refusal: str | None) -> None:
    assert delete_action(status) == action
    error = delete_refusal("cgt-20260101000000-abcde", status)
    assert (error is None) == (refusal is None)
    if error is not None and refusal is not None:
        assert refusal in error.user_message() and error.hint is not None


def test_each_row_says_its_retention_rule() -> None:
    now = float(int(time.time()))
    row = TaskRow("cgt-20260101000000-abcde", Status.SUCCEEDED, model="hyper3d-gen2-260112", created_at=int(now) - 3600,
                  updated_at=int(now) - 3600, remote=True)
    assert str(row.retention(now)).startswith("Result files are deleted 7 d after the task finished: 6 d 23 h left")
    assert row.link_seconds_left(now) == pytest.approx(7 * 86400 - 3600, abs=2)
    gone = TaskRow("cgt-20260101000000-abcde", Status.SUCCEEDED, remote=False)
    assert "Only in your library" in str(gone.retention(now))


def test_hyper3d_and_hitem3d_rows_take_format_and_link_life_from_the_link(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Their answers carry no ``fileformat``: the browser's row reads it from the link's file name, so the
    "can this Blender import it" check has a format to check; the link's own expiry gives its time left."""
    hyper = ark_server.add_task(model="hyper3d-gen2-260112", file=ark_server.add_file("0217ab.fbx", b"Kaydara FBX"))
    hitem = ark_server.add_task(model="hitem3d-2-0-251223", file=ark_server.add_file("0217cd.stl", b"solid x"))
    result = fetch_rows(settings_for(ark_server), Library(tmp_path), page=1, page_size=20)
    rows = {r.task_id: r for r in result.rows}
    assert rows[hyper].fileformat == "fbx" and rows[hitem].fileformat == "stl"
    now = time.time()
    for row in rows.values():
        assert row.link_expires is not None
        assert row.link_seconds_left(now) == pytest.approx(7 * 86400, abs=5)
        assert str(row.retention(now)).startswith("The result link expires in 6 d 23 h (as the link says)")


def test_the_links_own_expiry_wins_over_the_models_lifetime() -> None:
    now = float(int(time.time()))
    row = TaskRow("cgt-20260101000000-abcde", Status.SUCCEEDED, model="hyper3d-gen2-260112", created_at=int(now) - 60,
                  updated_at=int(now) - 60, remote=True, link_expires=int(now) + 2 * 3600)
    assert row.link_expires_at() == int(now) + 2 * 3600
    assert str(row.retention(now)) == "The result link expires in 2 h (as the link says)"
    dead = TaskRow("cgt-20260101000000-abcde", Status.SUCCEEDED, updated_at=int(now) - 60, remote=True,
                   link_expires=int(now) - 1)
    assert str(dead.retention(now)).startswith("The result link has expired (as the link says)")
    assert TaskRow("cgt-20260101000000-abcde", Status.RUNNING, link_expires=int(now)).link_expires_at() is None
