"""Runs inside a real Blender window (Xvfb) for ``test_window_jobs.py``: generate, and a job surviving a quit.

    blender --factory-startup --enable-event-simulate --python-expr DRIVER_PATH --python jobs_driver.py -- CONFIG.json

``phase: generate``: the Generate panel on the Ark 3D tab, its button's operator invoked in the
sidebar (an image file), a screenshot while Ark works, then the model imported.

``phase: start``: import the slow task as the panel's button does, wait until part of it is on
disk, then quit Blender with the job running (the add-on must keep its journal and ``.part``).
``phase: resume``: do nothing but watch: the add-on's own start-up timer must find the journal
and resume the job (modal, in ``runner.active_jobs()`` like any job, shown in the panel), which imports
it.  Everything runs from ``bpy.app.timers`` on the main thread; the driver writes a JSON report,
unregisters its timers (one left registered at exit makes Blender hang) and quits.
"""

from __future__ import annotations

import os
from pathlib import Path

import bpy

from driver_common import (  # on the path through harness.DRIVER_PATH
    Reporter,
    addon_module,
    clock,
    enable_addon,
    in_sidebar,
    job_threads,
    last_message,
    load_config,
    open_ark_tab,
    region,
    run_steps,
    view3d,
    wait_until,
    window_screenshot,
)

CONFIG = load_config()
LIBRARY = Path(os.environ["ARK3D_LIBRARY"])
TASK = CONFIG.get("task_id", "")
SHOTS = Path(CONFIG["shots"]) if CONFIG.get("shots") else None
reporter = Reporter(Path(CONFIG["report"]), "jobs-driver", {"phase": CONFIG["phase"]})
report = reporter.report
T0 = reporter.t0
log = reporter.log
enable_addon()

runner = addon_module("blender.runner")  # importable once enabled

report["resume_timer_registered_at_start"] = any(bpy.app.timers.is_registered(t) for t in runner.TIMERS)


def part_size() -> int:
    part = LIBRARY / TASK / "result.zip.part"
    return part.stat().st_size if part.exists() else 0


def scenario_start():
    yield 1.0
    view3d().spaces.active.show_region_ui = True
    with in_sidebar():
        report["invoke"] = sorted(bpy.ops.ark3d.import_task("INVOKE_DEFAULT", task_id=TASK))
    log(f"invoked {report['invoke']}")
    yield from wait_until(lambda: part_size() >= 1 << 20, 20, "a part of the download on disk")
    entry = runner.active_jobs().get(TASK)
    report["before_quit"] = {
        "phase": entry.job.snapshot().phase if entry else None,
        "part": part_size(),
        "journal": (LIBRARY / TASK / "job.json").exists(),
    }
    report["quit_while_running"] = True


def scenario_resume():
    seen: list[dict] = []
    report["seen"] = seen
    report["journal_at_start"] = (LIBRARY / TASK / "job.json").exists()
    report["part_at_start"] = part_size()

    def imported() -> bool:
        entry = runner.active_jobs().get(TASK)
        if entry is not None:
            state = entry.job.snapshot()
            sample = {"t": round(clock() - T0, 2), "phase": state.phase, "text": str(state.text)}
            if not seen or seen[-1]["phase"] != sample["phase"]:
                seen.append(sample)
        return TASK in bpy.data.collections and TASK not in runner.active_jobs()

    yield from wait_until(imported, 30, "the resumed job to import its model")
    yield 0.5
    report["after"] = {
        "objects": sorted(o.name for o in bpy.data.collections[TASK].objects),
        "tagged": sorted(o.name for o in bpy.data.objects if o.get("ark3d_task_id") == TASK),
        "last_message": last_message(),
        "active": sorted(runner.active_jobs()),
        "journal": (LIBRARY / TASK / "job.json").exists(),
        "part": (LIBRARY / TASK / "result.zip.part").exists(),
        "zip": (LIBRARY / TASK / "result.zip").exists(),
        "threads": job_threads(),
        "resume_timer_registered": any(bpy.app.timers.is_registered(t) for t in runner.TIMERS),
    }


generate_draws: list[float] = []


def _generate_hook(self, context) -> None:  # Blender's draw signature
    generate_draws.append(clock())


def screenshot(name: str):
    """The window once the sidebar has redrawn (when the test asks for screenshots)."""
    region("UI").tag_redraw()
    yield 0.6
    if SHOTS is None:
        return
    window_screenshot(SHOTS / name)
    report.setdefault("screenshots", []).append(name)


def scenario_generate():
    bpy.types.ARK3D_PT_generate.append(_generate_hook)
    # The sidebar widened to read it; the Generate panel's draw hook says when its tab shows.
    yield from open_ark_tab(generate_draws, 380, (40, 100, 160), tries=10, redraw=True)
    state = bpy.context.window_manager.ark3d_generate
    state.source = "FILE"
    state.image_path = CONFIG["image"]
    state.fileformat = "obj"
    started = clock()
    with in_sidebar():
        # What the panel's Generate button runs (ui/generate.py sets these from the state).
        result = bpy.ops.ark3d.create_task("INVOKE_DEFAULT", image_path=state.image_path, model=state.model,
                                           subdivisionlevel=state.subdivisionlevel, fileformat=state.fileformat)
    report["invoke"] = {"result": sorted(result), "ms": round((clock() - started) * 1000, 1)}
    keys: list[str] = []
    report["keys"] = keys
    phases: list[str] = []
    report["phases"] = phases

    def watch() -> bool:
        for key, entry in runner.active_jobs().items():
            if key not in keys:
                keys.append(key)
            phase = entry.job.snapshot().phase
            if not phases or phases[-1] != phase:
                phases.append(phase)
        return any(e.job.snapshot().phase in ("queued", "running") for e in runner.active_jobs().values())

    yield from wait_until(watch, 15, "the new task to be queued or running")
    yield from screenshot("panel_generate.png")
    task_id = next(iter(runner.active_jobs()), "")
    report["task_id"] = task_id

    def imported() -> bool:
        watch()
        return bool(task_id) and task_id in bpy.data.collections and not runner.active_jobs()

    yield from wait_until(imported, 30, "the generated model to be imported")
    yield from screenshot("panel_generated.png")
    bpy.types.ARK3D_PT_generate.remove(_generate_hook)
    report["after"] = {
        "tagged": sorted(o.name for o in bpy.data.objects if o.get("ark3d_task_id") == task_id),
        "last_message": last_message(),
        "journal": sorted(p.parent.name for p in LIBRARY.glob("*/job.json")),
        "threads": job_threads(),
        "generate_draws": len(generate_draws),
    }


steps = {"start": scenario_start, "resume": scenario_resume, "generate": scenario_generate}[CONFIG["phase"]]()
run_steps(steps, reporter)
log(f"driver ready: phase {CONFIG['phase']}")
