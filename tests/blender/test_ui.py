"""The Tasks browser, cancel/delete, the import options and report, and the connection check in
real Blender.

One Blender of the version matrix per round, the ``bpy`` wheel, the built extension zip installed
as a user installs it (``ui_session.py``): the browser against the project's Ark server (refresh,
paging, the status filter, the library merged in, a library-only task older than 7 days),
``ark3d.cancel_task`` on queued, running, cancelled, succeeded tasks, import and re-download from
the browser, the connection check (good and bad key), the import options measured independently
(target size, the empty, the base at the cursor, triangles), one undo, and every new panel drawn
through an RNA-checking recorder.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ark_server import ArkServer
from harness import BlenderPython, Scenario, session

pytestmark = pytest.mark.blender

KEY = "ark-ui-" + secrets.token_hex(16)
WRONG_KEY = "ark-wrong-" + secrets.token_hex(16)
OLD_ID = "cgt-20240101000000-oldie"
CURSOR = [1.0, 2.0, 3.0]
#: "2 objects, 9,788 triangles, 1 material, 1 texture, 2.00 × 2.00 × 1.80 m"
SUMMARY = re.compile(r"(\d+) objects?, ([\d,]+) triangles?, (\d+) materials?, (\d+) textures?, "
                     r"([\d.]+) × ([\d.]+) × ([\d.]+) m")


@pytest.fixture(scope="module")
def ui(blender_python: BlenderPython, extension_zip: Path, demo_assets: Path,
       tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    with ArkServer(api_key=KEY) as server:
        glb = server.add_file("seed3d_glb.zip", demo_assets / "seed3d_glb.zip")
        ids = {
            "failed": server.add_task(fileformat="glb", outcome="failed",
                                      error_code="InputImageSensitiveContentDetected",
                                      error_message="The input image may contain sensitive information."),
            "done2": server.add_task(file=glb, fileformat="glb"),
            "done": server.add_task(file=glb, fileformat="glb"),
            "running": server.add_task(fileformat="glb", running_s=3600),
            "queued": server.add_task(fileformat="glb", queued_s=3600),
            "old": OLD_ID,
        }
        sc = Scenario(ids, server, tmp_path_factory.mktemp(f"ui-{blender_python.id}-"))
        run = sc.run

        def downloads() -> int:
            return server.count(server="file", method="GET")

        with session(sc, sc.root, {}, blender_python.python, script="ui_session.py") as blender:
            run(blender, "install", "install", zip_path=str(extension_zip))
            run(blender, "prefs", "prefs", region="CUSTOM", custom_base_url=server.api_base, api_key=KEY,
                poll_interval=2.0)
            run(blender, "old", "prepare_old_task", task_id=OLD_ID, zip_path=str(demo_assets / "seed3d_obj.zip"),
                days=10)
            run(blender, "draw empty", "draw_ui")
            run(blender, "list columns", "list_columns")
            run(blender, "formats", "format_problems")
            run(blender, "refresh", "refresh")
            run(blender, "page size", "page_size", size=2)
            run(blender, "page 1", "refresh", page=1)
            run(blender, "page 2", "page", step=1)
            run(blender, "page 3", "page", step=1)
            run(blender, "page 4", "page", step=1)
            run(blender, "page size back", "page_size", size=20)
            run(blender, "failed only", "filter", value="failed")
            run(blender, "all", "filter", value="ALL")
            run(blender, "browser import", "op", op="browser_import", task_id=ids["done"])
            sc.steps["downloads before"] = {"n": downloads()}
            run(blender, "redownload", "op", op="browser_import", task_id=ids["done"], redownload=True)
            sc.steps["downloads after"] = {"n": downloads()}
            run(blender, "redownload expired", "op", op="browser_import", task_id=OLD_ID, redownload=True)
            run(blender, "old library", "library", task_id=OLD_ID)
            run(blender, "import old", "op", op="browser_import", task_id=OLD_ID)
            run(blender, "cancel queued", "op", op="cancel_task", task_id=ids["queued"])
            run(blender, "cancel cancelled", "op", op="cancel_task", task_id=ids["queued"])
            run(blender, "cancel running", "op", op="cancel_task", task_id=ids["running"])
            run(blender, "delete done2", "op", op="cancel_task", task_id=ids["done2"])
            run(blender, "delete done", "op", op="cancel_task", task_id=ids["done"])
            run(blender, "delete failed", "op", op="cancel_task", task_id=ids["failed"])
            run(blender, "refresh after", "refresh")
            run(blender, "draw online", "draw_ui")
            run(blender, "copy", "op", op="copy_task_id", task_id=ids["done"])
            run(blender, "check", "check_connection")
            run(blender, "wrong key", "prefs", api_key=WRONG_KEY)
            run(blender, "check bad key", "check_connection")
            run(blender, "refresh bad key", "refresh")
            run(blender, "key back", "prefs", api_key=KEY)
            run(blender, "online off", "online", value=False)
            run(blender, "refresh offline", "refresh")
            run(blender, "cancel offline", "op", op="cancel_task", task_id=ids["running"])
            run(blender, "online on", "online", value=True)
            run(blender, "draw", "draw_ui")
            # Import options, each import measured on its own (the model is the library's copy now).
            model = ids["done"]
            run(blender, "clear 1", "remove_imports")
            run(blender, "plain", "import", task_id=model)
            run(blender, "clear 2", "remove_imports")
            run(blender, "scaled", "import", task_id=model, target_size=0.5)
            run(blender, "clear 3", "remove_imports")
            run(blender, "cursor", "cursor", location=CURSOR)
            run(blender, "based", "import", task_id=model, origin_to_base=True)
            run(blender, "clear 4", "remove_imports")
            run(blender, "all options", "import", task_id=model, target_size=0.5, merge_empty=True,
                origin_to_base=True)
            run(blender, "clear 5", "remove_imports")
            run(blender, "prefs options", "prefs", target_size=1.0, merge_empty=True)
            run(blender, "from prefs", "import", task_id=model)
            run(blender, "clear 6", "remove_imports")
            run(blender, "overridden", "import", task_id=model, target_size=0.0, merge_empty=False)
            run(blender, "clear 7", "remove_imports")
            run(blender, "undo push", "undo_push", message="Before the import")
            run(blender, "undoable", "import", task_id=model, undo=True, target_size=0.5, origin_to_base=True)
            run(blender, "undo", "undo")
            run(blender, "threads at the end", "threads")
        yield sc


def rows(step: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["task_id"]: item for item in step["items"]}


def test_refresh_lists_arks_tasks_and_the_library(ui: Scenario) -> None:
    step = ui.step("refresh")
    assert step["result"] == ["FINISHED"] and step["message"] == "", step
    ids = ui.ids
    order = [i["task_id"] for i in step["items"]]
    assert order == [ids["queued"], ids["running"], ids["done"], ids["done2"], ids["failed"], OLD_ID], order
    r = rows(step)
    assert {k: r[ids[k]]["status"] for k in ("queued", "running", "done", "failed")} == {
        "queued": "queued", "running": "running", "done": "succeeded", "failed": "failed"}
    assert all(r[ids[k]]["remote"] and not r[ids[k]]["in_library"] for k in ("queued", "done", "failed"))
    assert r[ids["failed"]]["error_code"] == "InputImageSensitiveContentDetected"
    assert r[ids["done"]]["fileformat"] == "glb" and r[ids["done"]]["model"].startswith("doubao-seed3d")
    left = r[ids["done"]]["link_seconds_left"]
    assert left is not None and 23.9 * 3600 < left <= 24 * 3600, left
    assert r[ids["queued"]]["link_seconds_left"] is None
    assert step["total"] == 5 and step["pages"] == 1


def test_a_task_older_than_7_days_stays_visible_from_the_library(ui: Scenario) -> None:
    old = rows(ui.step("refresh"))[OLD_ID]
    assert old["status"] == "succeeded" and not old["remote"] and old["in_library"] and old["extracted"]
    assert int(old["created_at"]) < time.time() - 9.9 * 86400
    assert old["link_seconds_left"] < 0, "its link died long ago"
    assert int(old["size_bytes"]) > 10000


def test_paging_shows_the_library_after_the_last_page(ui: Scenario) -> None:
    ids = ui.ids
    pages = [ui.step(f"page {n}") for n in (1, 2, 3, 4)]
    assert [p["page"] for p in pages] == [1, 2, 3, 3], "the last page is the end"
    assert all(p["pages"] == 3 and p["total"] == 5 for p in pages)
    assert [[i["task_id"] for i in p["items"]] for p in pages[:3]] == [
        [ids["queued"], ids["running"]], [ids["done"], ids["done2"]], [ids["failed"], OLD_ID]]
    queries = [r.query for r in ui.server.requests_log if r.method == "GET" and "page_size=2" in r.query]
    assert any("page_num=3" in q for q in queries), queries


def test_the_status_filter_goes_to_ark_and_to_the_library(ui: Scenario) -> None:
    failed = ui.step("failed only")
    assert failed["filter"] == "failed" and [i["task_id"] for i in failed["items"]] == [ui.ids["failed"]]
    assert any("filter.status=failed" in r.query for r in ui.server.requests_log)
    assert len(ui.step("all")["items"]) == 6


def test_import_from_the_browser_then_the_row_is_in_the_library(ui: Scenario) -> None:
    step = ui.step("browser import")
    assert step["result"] == ["FINISHED"] and step["error"] is None, step
    assert step["last_message"].startswith(f"Imported {ui.ids['done']} (mushroom.glb, pbr, downloaded)")
    row = rows(step)[ui.ids["done"]]
    assert row["in_library"] and row["extracted"] and row["remote"]


def test_redownload_removes_the_copy_and_downloads_again(ui: Scenario) -> None:
    step = ui.step("redownload")
    assert step["result"] == ["FINISHED"] and step["error"] is None, step
    assert "downloaded" in step["last_message"] and "from the library" not in step["last_message"]
    assert ui.step("downloads after")["n"] == ui.step("downloads before")["n"] + 1


def test_redownload_is_refused_when_the_link_has_expired(ui: Scenario) -> None:
    step = ui.step("redownload expired")
    assert step["result"] == [] and "has expired" in step["error"] and "only one left" in step["error"], step
    assert ui.step("old library")["extracted"], "the only copy was kept"
    imported = ui.step("import old")
    assert imported["result"] == ["FINISHED"] and "from the library" in imported["last_message"], imported


def test_cancel_a_queued_task(ui: Scenario) -> None:
    step = ui.step("cancel queued")
    assert step["result"] == ["FINISHED"] and step["error"] is None, step
    assert rows(step)[ui.ids["queued"]]["status"] == "cancelled"
    assert "Cancelled task" in step["message"]
    deletes = [r for r in ui.server.requests_log if r.method == "DELETE" and ui.ids["queued"] in r.path]
    assert len(deletes) == 1


def test_running_and_cancelled_tasks_are_refused_with_a_clear_message(ui: Scenario) -> None:
    running = ui.step("cancel running")
    assert running["result"] == [] and "is running and cannot be cancelled" in running["error"], running
    assert "only cancels queued tasks" in running["error"]
    again = ui.step("cancel cancelled")
    assert again["result"] == [] and "already cancelled" in again["error"], again
    sent = [r for r in ui.server.requests_log if r.method == "DELETE"]
    assert not [r for r in sent if ui.ids["running"] in r.path], "refused before any DELETE"
    assert len([r for r in sent if ui.ids["queued"] in r.path]) == 1


def test_delete_finished_tasks(ui: Scenario) -> None:
    gone = ui.step("delete done2")
    assert gone["result"] == ["FINISHED"], gone
    assert ui.ids["done2"] not in rows(gone), "not in the library: the row goes"
    kept = ui.step("delete done")
    row = rows(kept)[ui.ids["done"]]
    assert not row["remote"] and row["in_library"], "in the library: the row stays, from the library"
    assert "a copy in your library is kept" in kept["message"]
    assert ui.step("delete failed")["result"] == ["FINISHED"]
    after = rows(ui.step("refresh after"))
    assert ui.ids["done2"] not in after and ui.ids["failed"] not in after
    assert not after[ui.ids["done"]]["remote"] and after[ui.ids["queued"]]["status"] == "cancelled"
    assert ui.step("copy")["result"] == ["FINISHED"]


def test_the_list_shows_the_library_when_ark_cannot_be_asked(ui: Scenario) -> None:
    bad = ui.step("refresh bad key")
    assert bad["level"] == "WARNING" and "Only the library is shown" in bad["message"], bad
    assert "AuthenticationError" in bad["message"] and WRONG_KEY not in bad["message"]
    assert {i["task_id"] for i in bad["items"]} == {OLD_ID, ui.ids["done"]}
    offline = ui.step("refresh offline")
    assert "online access is turned off" in offline["message"], offline
    assert ui.step("cancel offline")["error"] and "online access" in ui.step("cancel offline")["error"]


def test_connection_check_reports_each_step(ui: Scenario) -> None:
    good = ui.step("check")
    assert good["result"] == ["FINISHED"] and not good["running"], good
    assert [c["name"] for c in good["checks"]] == ["proxy", "dns", "tcp", "auth"]
    assert all(c["ok"] for c in good["checks"])
    bad = ui.step("check bad key")
    assert bad["result"] == [] and bad["checks"][-1] == {**bad["checks"][-1], "name": "auth", "ok": False}
    assert "Connection check failed at Authentication" in bad["error"] and "AuthenticationError" in bad["error"]
    assert WRONG_KEY not in json.dumps(bad)


def test_every_new_panel_draws_with_this_blenders_ui_api(ui: Scenario) -> None:
    for name in ("draw empty", "draw"):
        step = ui.step(name)
        assert step["problems"] == [], step["problems"]
    drawn = " ".join(ui.step("draw")["calls"])
    for needed in ("template_list('ARK3D_UL_tasks'", "'ark3d.cancel_task'", "'ark3d.browser_import'",
                   "'ark3d.copy_task_id'", "'ark3d.check_connection'", "'target_size'", "'merge_empty'"):
        assert needed in drawn, needed
    assert ui.step("draw")["checks_drawn"] == 4


def _size(step: dict[str, Any]) -> list[float]:
    b = step["bounds"]
    return [hi - lo for lo, hi in zip(b["lo"], b["hi"], strict=True)]


def imported(ui: Scenario, name: str) -> dict[str, Any]:
    step = ui.step(name)
    assert step["error"] is None and step["result"] == ["FINISHED"], step
    return step


def test_the_report_counts_triangles_materials_and_dimensions(ui: Scenario) -> None:
    step = imported(ui, "plain")
    found = SUMMARY.search(step["message"])
    assert found, step["message"]
    objects, triangles, materials = int(found[1]), int(found[2].replace(",", "")), int(found[3])
    assert objects == len(step["objects"])
    assert triangles == step["triangles"] > step["polygons"] / 2, "triangles, counted as Blender triangulates"
    assert materials == step["materials"] >= 1
    reported = [float(found[i]) for i in (5, 6, 7)]
    assert reported == pytest.approx(_size(step), abs=0.006)


def test_the_report_says_1_material_and_2_objects(ui: Scenario) -> None:
    """English counts agree with their nouns: the demo model has one material and one texture."""
    message = imported(ui, "plain")["message"]
    counts = re.findall(r"(\d[\d,]*) (objects?|triangles?|materials?|textures?)\b", message)
    assert len(counts) == 4, message
    assert ("1", "material") in counts, message
    for count, noun in counts:
        assert noun.endswith("s") == (count != "1"), (count, noun, message)


def test_blenders_from_blender_org_import_every_format(ui: Scenario) -> None:
    """The bpy wheels are Blender's own builds (USD, numpy): nothing is refused here (Debian's
    Blender, which refuses USDZ and GLB, is test_chinese_interface.py's)."""
    step = ui.step("formats")
    assert step["usd_built"] is True, step
    assert step["problems"] == {"glb": None, "gltf": None, "obj": None, "usdz": None, "usd": None}, step


def test_each_list_column_holds_its_widest_text(ui: Scenario) -> None:
    """"23 h" showed as "23 …" in the 5.2 window: each column's width must hold its widest text
    (English and Chinese), its icon (1 UI unit) and a label's margins (0.8 unit)."""
    step = ui.step("list columns")
    for column, texts in step["texts"].items():
        for text, px in texts:
            need = px / 20 + (1.0 if step["icons"][column] else 0.0) + (0.8 if text else 0.0)
            assert need <= step["units"][column], (column, text, px, step["units"][column])


def test_the_list_shows_the_columns_that_fit_and_each_gets_its_width(ui: Scenario) -> None:
    step = ui.step("list columns")
    units = step["units"]
    for row, columns in step["rows"]:
        names = [name for name, _ in columns]
        assert names[0] == "id" and sum(share for _, share in columns) == pytest.approx(1.0), (row, columns)
        assert [n for n in ("id", "format", "age", "link", "library") if n in names] == names, "left to right"
        if row >= units["id"]:
            for name, share in columns:
                assert share * row >= units[name] - 1e-9, (row, name, share * row, units[name])
    # a row as wide as every column needs shows them all; narrower, the format goes first
    row, columns = min((r for r in step["rows"] if r[0] >= sum(units.values())), key=lambda r: r[0])
    assert len(columns) == 5, (row, columns)
    row, columns = max((r for r in step["rows"] if r[0] < sum(units.values())), key=lambda r: r[0])
    assert [name for name, _ in columns] == ["id", "age", "link", "library"], (row, columns)


def test_target_size_scales_the_largest_dimension(ui: Scenario) -> None:
    plain, scaled = _size(imported(ui, "plain")), _size(imported(ui, "scaled"))
    assert max(scaled) == pytest.approx(0.5, abs=1e-4)
    ratio = max(scaled) / max(plain)
    assert [s / p for s, p in zip(scaled, plain, strict=True)] == pytest.approx([ratio] * 3, rel=1e-4)
    found = SUMMARY.search(ui.step("scaled")["message"])
    assert found and max(float(found[i]) for i in (5, 6, 7)) == 0.5


def test_origin_to_base_puts_the_bottom_centre_at_the_cursor(ui: Scenario) -> None:
    step = imported(ui, "based")
    lo, hi = step["bounds"]["lo"], step["bounds"]["hi"]
    base = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]]
    assert base == pytest.approx(CURSOR, abs=1e-4)
    assert _size(step) == pytest.approx(_size(imported(ui, "plain")), abs=1e-4), "moved, not scaled"


def test_all_options_together_group_under_an_empty_at_the_base(ui: Scenario) -> None:
    step = imported(ui, "all options")
    task_id = ui.ids["done"]
    objects = step["objects"]
    empty = objects[task_id]
    assert empty["type"] == "EMPTY" and empty["parent"] is None and empty["task_id"] == task_id
    assert empty["location"] == pytest.approx(CURSOR, abs=1e-5), "the empty is the base, at the cursor"
    assert empty["collections"] == [task_id] and step["active"] == task_id and empty["selected"]
    others = [o for name, o in objects.items() if name != task_id]
    roots = [o for o in others if o["parent"] not in objects]
    assert not roots, "every object hangs under the empty"
    assert all(o["task_id"] == task_id for o in others)
    assert max(_size(step)) == pytest.approx(0.5, abs=1e-4)
    assert empty["scale"] == pytest.approx([0.5 / max(_size(imported(ui, "plain")))] * 3, rel=1e-4)
    lo, hi = step["bounds"]["lo"], step["bounds"]["hi"]
    assert [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]] == pytest.approx(CURSOR, abs=1e-4)


def test_preferences_give_the_defaults_and_arguments_override_them(ui: Scenario) -> None:
    from_prefs = imported(ui, "from prefs")
    assert max(_size(from_prefs)) == pytest.approx(1.0, abs=1e-4)
    assert any(o["type"] == "EMPTY" for o in from_prefs["objects"].values())
    overridden = imported(ui, "overridden")
    assert _size(overridden) == pytest.approx(_size(imported(ui, "plain")), abs=1e-4)
    assert not any(o["type"] == "EMPTY" for o in overridden["objects"].values())


def test_one_undo_removes_an_import_with_options(ui: Scenario) -> None:
    made = imported(ui, "undoable")
    assert made["objects"]
    undone = ui.step("undo")
    assert undone["error"] is None and undone["result"] == ["FINISHED"], undone
    left = [n for n, o in undone["facts"]["objects"].items() if o["task_id"]]
    assert left == [], left
    assert ui.step("threads at the end")["threads"] == []


def test_the_key_never_shows(ui: Scenario) -> None:
    assert KEY not in ui.output and WRONG_KEY not in ui.output
    assert KEY not in json.dumps(ui.steps) and WRONG_KEY not in json.dumps(ui.steps)


def test_the_details_say_the_retention_rule_and_what_ark_may_cancel_or_delete(ui: Scenario) -> None:
    # the labels' texts, wrapped lines joined again
    drawn = " ".join(re.findall(r"text='([^']*)'", " ".join(ui.step("draw online")["calls"])))
    assert "Ark lists a task for 7 days after it was created: 6 d 23 h left" in drawn, drawn
    assert "Ark removes a cancelled task 24 h after it was cancelled: 23 h left" in drawn
    assert "Only in your library: Ark lists tasks for 7 days, and no longer lists this one" in drawn
    # A running task: no Cancel button, and why, before anyone is asked
    assert "is running and cannot be cancelled" in drawn and "Ark only cancels queued tasks" in drawn
