"""Runs inside a real Blender window (Xvfb) for ``test_window_issue6.py``: generate, and a job surviving a quit.

    blender --factory-startup --enable-event-simulate --python issue6_driver.py -- CONFIG.json

``phase: generate``: the Generate panel on the Ark 3D tab, its button's operator invoked in the
sidebar (an image file), a screenshot while Ark works, then the model imported.

``phase: start``: import the slow task as the panel's button does, wait until part of it is on
disk, then quit Blender with the job running (the add-on must keep its journal and ``.part``).
``phase: resume``: do nothing but watch: the add-on's own start-up timer must find the journal
and resume the job (modal, in ``jobs.active`` like any job, shown in the panel), which imports
it.  Everything runs from ``bpy.app.timers`` on the main thread; the driver writes a JSON report,
unregisters its timers (one left registered at exit makes Blender hang) and quits.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path

import addon_utils
import bpy

CONFIG = json.loads(Path(sys.argv[sys.argv.index("--") + 1]).read_text())
REPORT = Path(CONFIG["report"])
LIBRARY = Path(os.environ["ARK3D_LIBRARY"])
TASK = CONFIG.get("task_id", "")
SHOTS = Path(CONFIG["shots"]) if CONFIG.get("shots") else None
T0 = time.perf_counter()
report: dict = {"phase": CONFIG["phase"], "errors": [], "log": [], "blender": list(bpy.app.version)}


def log(text: str) -> None:
    report["log"].append(f"{time.perf_counter() - T0:7.3f} {text}")
    print(f"[issue6-driver {time.perf_counter() - T0:7.3f}] {text}", flush=True)


def save_report() -> None:
    tmp = REPORT.with_name(REPORT.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1, default=str))
    tmp.replace(REPORT)


bpy.context.preferences.view.show_splash = False
addon_utils.enable("ark3d_addon", default_set=True)

from ark3d_addon.blender import jobs  # noqa: E402 - importable once enabled

report["resume_timer_registered_at_start"] = bpy.app.timers.is_registered(jobs.resume_on_start)


def window() -> bpy.types.Window:
    return bpy.context.window_manager.windows[0]


def view3d() -> bpy.types.Area:
    return next(a for a in window().screen.areas if a.type == "VIEW_3D")


def part_size() -> int:
    part = LIBRARY / TASK / "result.zip.part"
    return part.stat().st_size if part.exists() else 0


def wait_until(predicate, seconds: float, what: str):  # noqa: ANN001, ANN201
    deadline = time.perf_counter() + seconds
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"waited {seconds} s for {what}")
        yield 0.05


def scenario_start():  # noqa: ANN201
    yield 1.0
    area = view3d()
    area.spaces.active.show_region_ui = True
    region = next(r for r in area.regions if r.type == "UI")
    with bpy.context.temp_override(window=window(), area=area, region=region):
        report["invoke"] = sorted(bpy.ops.ark3d.import_task("INVOKE_DEFAULT", task_id=TASK))
    log(f"invoked {report['invoke']}")
    yield from wait_until(lambda: part_size() >= 1 << 20, 20, "a part of the download on disk")
    entry = jobs.active.get(TASK)
    report["before_quit"] = {
        "phase": entry.job.snapshot().phase if entry else None,
        "part": part_size(),
        "journal": (LIBRARY / TASK / "job.json").exists(),
    }
    report["quit_while_running"] = True


def scenario_resume():  # noqa: ANN201
    seen: list[dict] = []
    report["seen"] = seen
    report["journal_at_start"] = (LIBRARY / TASK / "job.json").exists()

    def imported() -> bool:
        entry = jobs.active.get(TASK)
        if entry is not None:
            state = entry.job.snapshot()
            sample = {"t": round(time.perf_counter() - T0, 2), "phase": state.phase, "text": state.text}
            if not seen or seen[-1]["phase"] != sample["phase"]:
                seen.append(sample)
        return TASK in bpy.data.collections and TASK not in jobs.active

    yield from wait_until(imported, 30, "the resumed job to import its model")
    yield 0.5
    report["after"] = {
        "objects": sorted(o.name for o in bpy.data.collections[TASK].objects),
        "tagged": sorted(o.name for o in bpy.data.objects if o.get("ark3d_task_id") == TASK),
        "last_message": dict(jobs.last_message),
        "active": sorted(jobs.active),
        "journal": (LIBRARY / TASK / "job.json").exists(),
        "part": (LIBRARY / TASK / "result.zip.part").exists(),
        "zip": (LIBRARY / TASK / "result.zip").exists(),
        "threads": sorted(t.name for t in threading.enumerate() if t.name.startswith("ark3d")),
        "resume_timer_registered": bpy.app.timers.is_registered(jobs.resume_on_start),
    }


generate_draws: list[float] = []


def _generate_hook(self, context) -> None:  # noqa: ANN001 - Blender's draw signature
    generate_draws.append(time.perf_counter())


def event(kind: str, value: str, x: int = 0, y: int = 0, **mods: bool) -> None:
    window().event_simulate(type=kind, value=value, x=x, y=y, **mods)


def show_ark_tab():  # noqa: ANN201
    """The sidebar open on the Ark 3D tab (3.4 has no Region.active_panel_category: Ctrl+Wheel over
    the tab strip moves to the next tab, and the Generate panel's draw hook says when it shows)."""
    cube = bpy.data.objects.get("Cube")
    if cube is not None:
        bpy.data.objects.remove(cube)
    area = view3d()
    area.spaces.active.show_region_ui = True
    yield 0.3
    # Wider, to read it: drag the sidebar's edge (as test_window's driver does).
    for inset in (10, 8, 12, 6, 14):
        ui = next(r for r in area.regions if r.type == "UI")
        if ui.width >= 380:
            break
        x, y = ui.x + inset, ui.y + ui.height - 12
        event("MOUSEMOVE", "NOTHING", x, y)
        yield 0.05
        event("LEFTMOUSE", "PRESS", x, y)
        yield 0.05
        for dx in (40, 100, 160):
            event("MOUSEMOVE", "NOTHING", x - dx, y)
            yield 0.02
        event("LEFTMOUSE", "RELEASE", x - 160, y)
        yield 0.2
    for _ in range(10):
        n = len(generate_draws)
        region = next(r for r in area.regions if r.type == "UI")
        region.tag_redraw()
        yield 0.3
        if len(generate_draws) > n:
            return
        x, y = region.x + region.width - 10, region.y + region.height - 30
        event("MOUSEMOVE", "NOTHING", x, y)
        yield 0.05
        event("WHEELDOWNMOUSE", "PRESS", x, y, ctrl=True)
        yield 0.3
    raise TimeoutError("the Ark 3D tab never showed the Generate panel")


def screenshot(name: str) -> None:
    if SHOTS is None:
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    area = view3d()
    region = next(r for r in area.regions if r.type == "WINDOW")
    with bpy.context.temp_override(window=window(), area=area, region=region):
        bpy.ops.screen.screenshot(filepath=str(SHOTS / name))
    report.setdefault("screenshots", []).append(name)


def scenario_generate():  # noqa: ANN201
    bpy.types.ARK3D_PT_generate.append(_generate_hook)
    yield from show_ark_tab()
    state = bpy.context.window_manager.ark3d_generate
    state.source = "FILE"
    state.image_path = CONFIG["image"]
    state.fileformat = "obj"
    area = view3d()
    region = next(r for r in area.regions if r.type == "UI")
    started = time.perf_counter()
    with bpy.context.temp_override(window=window(), area=area, region=region):
        # What the panel's Generate button runs (generate_panel.py sets these from the state).
        result = bpy.ops.ark3d.create_task("INVOKE_DEFAULT", image_path=state.image_path, model=state.model,
                                           subdivisionlevel=state.subdivisionlevel, fileformat=state.fileformat)
    report["invoke"] = {"result": sorted(result), "ms": round((time.perf_counter() - started) * 1000, 1)}
    keys: list[str] = []
    report["keys"] = keys
    phases: list[str] = []
    report["phases"] = phases

    def watch() -> bool:
        for key, entry in jobs.active.items():
            if key not in keys:
                keys.append(key)
            phase = entry.job.snapshot().phase
            if not phases or phases[-1] != phase:
                phases.append(phase)
        return any(e.job.snapshot().phase in ("queued", "running") for e in jobs.active.values())

    yield from wait_until(watch, 15, "the new task to be queued or running")
    region.tag_redraw()
    yield 0.6
    screenshot("panel_generate.png")
    task_id = next(iter(jobs.active), "")
    report["task_id"] = task_id

    def imported() -> bool:
        watch()
        return bool(task_id) and task_id in bpy.data.collections and not jobs.active

    yield from wait_until(imported, 30, "the generated model to be imported")
    region.tag_redraw()
    yield 0.6
    screenshot("panel_generated.png")
    bpy.types.ARK3D_PT_generate.remove(_generate_hook)
    report["after"] = {
        "tagged": sorted(o.name for o in bpy.data.objects if o.get("ark3d_task_id") == task_id),
        "last_message": dict(jobs.last_message),
        "journal": sorted(p.parent.name for p in LIBRARY.glob("*/job.json")),
        "threads": sorted(t.name for t in threading.enumerate() if t.name.startswith("ark3d")),
        "generate_draws": len(generate_draws),
    }


_steps = {"start": scenario_start, "resume": scenario_resume, "generate": scenario_generate}[CONFIG["phase"]]()


def finish() -> None:
    if bpy.app.timers.is_registered(main_tick):
        bpy.app.timers.unregister(main_tick)
    report["done"] = True
    save_report()
    log("quit")
    bpy.ops.wm.quit_blender()


def main_tick() -> float | None:
    try:
        delay = next(_steps)
    except StopIteration:
        finish()
        return None
    except BaseException as exc:  # noqa: BLE001 - anything must end in a report and a quit
        report["errors"].append("".join(traceback.format_exception(exc)))
        log(f"scenario failed: {exc!r}")
        finish()
        return None
    return max(0.0, float(delay))


bpy.app.timers.register(main_tick, first_interval=0.2, persistent=True)
log(f"driver ready: phase {CONFIG['phase']}")
