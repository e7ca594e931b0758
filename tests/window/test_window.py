"""The modal import in a real Blender window, on each window Blender (harness.py: the system's,
legacy add-on; sid's 5.2, the installed extension) under Xvfb, driven by ``blender_driver.py``.

Headless ``bpy`` has no event loop, so only here do the modal operator, its timer, the sidebar's
redraws, a real ESC key, loading a new file and quitting with a job running actually happen.
The Ark server runs in this process on loopback; Blender gets a clean environment and a
throw-away HOME (harness.py).

Each test starts one Blender under a hard ``timeout``; the driver writes a JSON report that
the test checks.  ``-s`` shows the measured figures (they are also printed on failure).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from .harness import (
    API_KEY,
    WINDOW_MARKS,
    WindowBlender,
    blender_env,
    publish,
    read_report,
    run_driver_script,
)

DRIVER = Path(__file__).with_name("blender_driver.py")
#: blender/progress.py asks for at most one frame per this many seconds while the phase holds.
DISPLAY_PERIOD = 2.0

pytestmark = WINDOW_MARKS


class Run:
    def __init__(
        self, report: dict, output: str, returncode: int, wall_s: float, exited_wall: float, exit_stamp: float | None
    ) -> None:
        self.report = report
        self.output = output
        self.returncode = returncode
        self.wall_s = wall_s
        self.exited_wall = exited_wall
        self.exit_stamp = exit_stamp

    def explain(self) -> str:
        shown = {k: v for k, v in self.report.items() if k not in ("samples",)}
        text = json.dumps(shown, indent=1, default=str)[-12000:]
        return f"report: {text}\n--- blender output (tail):\n{self.output[-6000:]}"


def run_blender(
    blender: WindowBlender,
    tmp: Path,
    server,
    scenario: str,
    tasks: dict[str, str],
    *,
    shots: Path | None = None,
    extra: dict | None = None,
) -> Run:
    env = blender_env(tmp, server, blender)
    report_path = tmp / "report.json"
    stamp = tmp / "exit_stamp"
    config = {
        "scenario": scenario,
        "report": str(report_path),
        "tasks": tasks,
        "shots": str(shots) if shots else None,
        "exit_stamp": str(stamp),
        **(extra or {}),
    }
    config_path = tmp / "config.json"
    config_path.write_text(json.dumps(config))
    started = time.time()
    output, returncode = run_driver_script(DRIVER, config_path, env, blender)
    exited = time.time()
    report = read_report(report_path)
    exit_stamp = float(stamp.read_text()) if stamp.exists() else None
    run = Run(report, output, returncode, exited - started, exited, exit_stamp)
    (tmp / "blender_output.txt").write_text(output)
    assert report.get("done"), f"the driver did not finish (exit {returncode})\n{run.explain()}"
    assert not report["errors"], f"the scenario failed:\n{''.join(report['errors'])}\n{run.explain()}"
    return run


def _no_traceback(run: Run) -> None:
    assert "Traceback" not in run.output, run.explain()


@pytest.fixture
def obj_zip(demo_assets: Path) -> Path:
    path = demo_assets / "seed3d_obj.zip"
    assert path.exists(), "make_demo_assets.py gave no seed3d_obj.zip"
    return path


def _slow_task(server, zip_path: Path, seconds: float, task_id: str | None = None) -> str:
    """A succeeded OBJ task whose download is throttled to take about ``seconds``."""
    size = zip_path.stat().st_size
    url = server.add_file(zip_path.name, zip_path, throttle_bps=max(1, int(size / seconds)))
    return server.add_task(task_id, file=url, fileformat="obj")


def test_modal_import_keeps_blender_responsive(window_blender: WindowBlender, tmp_path: Path, server,
                                               obj_zip: Path) -> None:
    task = _slow_task(server, obj_zip, 6.5)
    shots = tmp_path / "shots"
    run = run_blender(window_blender, tmp_path, server, "import", {"slow": task}, shots=shots)
    r = run.report
    figures = {
        "invoke": r["invoke"],
        "idle": {k: r["idle"][k] for k in ("max_ms", "p99_ms", "p50_ms", "n")},
        "before_import": {
            k: r["before_import"][k] for k in ("max_ms", "p99_ms", "p50_ms", "n", "over_50ms", "excluded")
        },
        "before_import_draws": r["before_import"]["draws"],
        "modal_ticks": r["modal_ticks"],
        "panel_draw_ms": r["panel_draw_ms"],
        "import_ms": r["import_ms"],
        "costs": {k: {"frames_ms": v["frames_ms"], "draws": v["draws"]} for k, v in r["costs"].items()},
        "timeline_s": r["timeline_s"],
    }
    print("\nwindow figures:", json.dumps(figures, indent=1))
    print("worst gaps before import:", json.dumps(r["before_import"]["worst"], indent=1))

    assert r["invoke"]["result"] == ["RUNNING_MODAL"], run.explain()
    assert r["invoke"]["ms"] < 50, run.explain()
    assert r["thread_name"] == f"ark3d-{task}"
    # The job went through the download with progress, and the panel drew it.
    phases = [s[1] for s in r["samples"]]
    assert "downloading" in phases, run.explain()
    # Progress moves steadily: on this ~23 KB/s link, at least every 1.5 s.
    moves = [s[0] for s in r["samples"] if s[1] == "downloading"]
    stalls = [round(b - a, 2) for a, b in zip(moves, moves[1:], strict=False) if b - a > 1.5]
    assert not stalls, f"the progress stood still for {stalls} s: {r['samples']}"
    assert r["timeline_s"]["last_downloading"] - r["timeline_s"]["first_downloading"] > 4.0, run.explain()
    assert any(t.startswith("Downloading") and "%" in t for t in r["panel_draw_texts"]), run.explain()
    mid = r["panel_while_downloading"]["active"][task]
    assert mid["phase"] == "downloading" and 0.4 < mid["fraction"] < 1.0
    # With the sidebar open the status bar says that the job runs, once: the panel has the figures.
    shown = [s for _, s in r["status_texts"] if s is not None]
    assert shown and set(shown) == {f"Ark 3D {task}: working... (Esc cancels)"}, r["status_texts"]
    # Responsive.  Here (software OpenGL, 2 CPUs, 1600x900) one frame of *anything*, even a
    # 27-pixel header, costs the main thread 35-50 ms in 3.4 and 100-130 ms in 5.2, and twice
    # that when the machine is busy: Blender composites the whole window for it.  The stalls
    # the probe saw, and what one frame costs in this same Blender, are printed above (and the
    # add-on's own time per tick and per draw in the summary), not asserted: they are the
    # machine's.  What the add-on controls is checked: it asks for about one frame every
    # DISPLAY_PERIOD, of the sidebar only (never the viewport), and between those frames the
    # main thread is free (half of the 10 ms probe's gaps are at most two of its periods).
    own = r["modal_ticks"]
    assert own["n"] > 10, run.explain()
    before = r["before_import"]
    frames = before["draws"]
    assert frames["viewport_draws"] == 0, run.explain()
    # The add-on's own redraw requests, not the frames Blender draws: 4.3 draws the sidebar about
    # twice more than it is asked to (on its own), and those frames are not the add-on's.
    assert frames["sidebar_tags"] <= before["seconds"] / DISPLAY_PERIOD + 4, run.explain()
    assert before["n"] > 100 and before["p50_ms"] <= 20, run.explain()
    assert frames["status_text_sets"] <= 1, run.explain()
    # The model is in the scene, in a collection named after the task.
    scene = r["scene"]
    assert scene["collection"] == task and scene["collection_in_scene"]
    assert scene["meshes"] and set(scene["tagged_objects"]) == set(scene["collection_objects"])
    assert r["after"]["last_message"]["level"] == "INFO"
    assert r["after"]["last_message"]["text"].startswith(f"Imported {task}")
    assert r["after"]["active"] == {}
    # The job's worker is gone (the asset library's own threads may still be making its picture).
    assert f"ark3d-{task}" not in r["threads_after"] and r["part_files"] == [], r["threads_after"]
    # The status bar was cleared at the end.
    assert r["status_texts"][-1][1] is None
    for name in ("panel_rest.png", "panel_downloading.png", "panel_imported.png"):
        publish(window_blender, shots / name)
    _no_traceback(run)


def test_escape_cancels_the_download(window_blender: WindowBlender, tmp_path: Path, server,
                                     obj_zip: Path) -> None:
    task = _slow_task(server, obj_zip, 20.0)
    run = run_blender(window_blender, tmp_path, server, "cancel", {"slow": task})
    r = run.report
    print("\nESC figures:", json.dumps(r["esc"], indent=1))
    assert r["invoke"]["result"] == ["RUNNING_MODAL"]
    assert r["part_before_esc"] == [f"{task}/result.zip.part"], run.explain()
    assert f"ark3d-{task}" in r["threads_before_esc"], run.explain()
    esc = r["esc"]
    assert esc["cancel_event_set"] and esc["phase"] == "cancelled", run.explain()
    assert esc["to_thread_dead_ms"] is not None and esc["to_thread_dead_ms"] < 1000, run.explain()
    assert esc["to_operator_done_ms"] is not None and esc["to_operator_done_ms"] < 1000, run.explain()
    assert r["part_files"] == [] and r["threads_after"] == [], run.explain()
    assert r["after"]["active"] == {}
    message = r["after"]["last_message"]
    assert (message["text"], message["level"]) == (f"Cancelled {task}", "INFO"), message
    assert r["scene_tagged"] == []
    # No sidebar open: the status bar carried the figures, then was cleared.
    texts = [t for _, t in r["status_texts"]]
    assert any(t and t.startswith(f"Ark 3D {task}: Downloading") and "%" in t for t in texts), texts
    assert texts[-1] is None, "the status bar kept the job's text"
    _no_traceback(run)


def test_new_file_and_quit_stop_jobs(window_blender: WindowBlender, tmp_path: Path, server,
                                     obj_zip: Path) -> None:
    first = _slow_task(server, obj_zip, 20.0)
    second = _slow_task(server, obj_zip, 20.0)
    run = run_blender(window_blender, tmp_path, server, "lifecycle", {"slow": first, "slow2": second})
    r = run.report
    quit_s = run.exited_wall - r["quit_called_wall"]
    python_exit_s = (run.exit_stamp - r["quit_called_wall"]) if run.exit_stamp else None
    print("\nnew file:", json.dumps(r["new_file"], indent=1))
    print(
        f"quit: process gone {quit_s:.2f} s after wm.quit_blender (Python's atexit after "
        f"{python_exit_s if python_exit_s is None else round(python_exit_s, 2)} s), exit code {run.returncode}"
    )
    new_file = r["new_file"]
    # Blender is frozen while read_homefile waits for the worker: bounded by jobs.STOP_WAIT (2 s).
    assert new_file["read_homefile_ms"] < 2500, run.explain()
    assert r["invoke_first"] == ["RUNNING_MODAL"] and r["invoke_second"] == ["RUNNING_MODAL"]
    assert r["part_before_new_file"] == [f"{first}/result.zip.part"]
    assert new_file["thread_dead_ms"] < 2500, run.explain()
    assert new_file["phase"] == "cancelled" and new_file["active"] == [], run.explain()
    assert new_file["threads"] == [] and new_file["part_files"] == [], run.explain()
    assert new_file["addon_still_registered"]
    assert f"ark3d-{second}" in r["quit"]["threads"] and r["quit"]["phase"] == "downloading", run.explain()
    # Quitting with a job running: gone within a few seconds, cleanly, nothing half-written left.
    assert run.returncode == 0, run.explain()
    assert quit_s < 5.0, run.explain()
    # Quitting stops the job but keeps it resumable: its partial download and journal
    # stay for the next Blender (test_window_jobs.py); only the user's cancel removes them.
    assert (tmp_path / "library" / second / "result.zip.part").exists()
    assert (tmp_path / "library" / second / "job.json").exists()
    _no_traceback(run)


def test_failed_task_and_bad_key_are_shown(window_blender: WindowBlender, tmp_path: Path, server,
                                           obj_zip: Path) -> None:
    failed = server.add_task(
        file=None,
        fileformat="obj",
        outcome="failed",
        error_code="InputImageSensitiveContentDetected",
        error_message="The input image may contain sensitive information",
    )
    url = server.add_file(obj_zip.name, obj_zip)
    good = server.add_task(file=url, fileformat="obj")
    shots = tmp_path / "shots"
    run = run_blender(window_blender, tmp_path, server, "errors", {"failed": failed, "bad_key": good}, shots=shots,
                      extra={"bad_key": "not-the-key"})
    seen = run.report["errors_seen"]
    print("\nerrors:", json.dumps(seen, indent=1))
    for name, needle in (("failed", "sensitive information"), ("bad_key", "AuthenticationError")):
        entry = seen[name]
        assert entry["invoke"] == ["RUNNING_MODAL"], run.explain()
        assert entry["last_message"]["level"] == "ERROR", run.explain()
        assert needle in entry["last_message"]["text"], run.explain()
        assert needle in entry["info_reports"], run.explain()
        assert entry["threads"] == []
    assert "InputImageSensitiveContentDetected" in seen["failed"]["last_message"]["text"]
    assert API_KEY not in json.dumps(seen) and "not-the-key" not in json.dumps(seen)
    for name in ("panel_error_failed.png", "panel_error_bad_key.png"):
        publish(window_blender, shots / name)
    _no_traceback(run)
