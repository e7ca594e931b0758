"""Runs inside a real Blender window (Xvfb) for ``test_window_idea.py``: a prompt becomes a model.

    blender --factory-startup --enable-event-simulate --python-expr DRIVER_PATH --python idea_driver.py -- CONFIG.json

The Generate panel on the Ark 3D tab, its source set to Prompt and a sentence typed; Make
Pictures invoked in the sidebar as its button runs it (modal: Seedream's picture is made in a
worker), the picture shown (a screenshot), Create 3D From This invoked on it, and the model
imported; then a Hitem3D set of four views made and shown (a screenshot).  Everything runs
from ``bpy.app.timers`` on the main thread; the driver writes a JSON report, unregisters its
timers and quits.
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
    event,
    in_sidebar,
    job_threads,
    last_message,
    load_config,
    open_ark_tab,
    region,
    run_steps,
    wait_until,
    window_screenshot,
)

CONFIG = load_config()
LIBRARY = Path(os.environ["ARK3D_LIBRARY"])
SHOTS = Path(CONFIG["shots"]) if CONFIG.get("shots") else None
reporter = Reporter(Path(CONFIG["report"]), "idea-driver", {"phase": "idea"})
report = reporter.report
log = reporter.log
enable_addon()

runner = addon_module("blender.runner")
pictures = addon_module("blender.idea_pictures").pictures
draws: list[float] = []


def _hook(self, context) -> None:  # Blender's draw signature
    draws.append(clock())


def screenshot(name: str):
    """The window once the sidebar has redrawn (when the test asks for screenshots)."""
    region("UI").tag_redraw()
    yield 0.6
    if SHOTS is not None:
        window_screenshot(SHOTS / name)
        report.setdefault("screenshots", []).append(name)


def scroll_sidebar(steps: int):
    """The mouse wheel over the sidebar: its lower part (the pictures) in view."""
    ui = region("UI")
    for _ in range(steps):
        event("WHEELDOWNMOUSE", "PRESS", ui.x + ui.width // 2, ui.y + ui.height // 2)
        yield 0.05


def invoke(name: str, **kwargs: object) -> dict:
    """The operator as the panel's button runs it, in the sidebar; its result and how long the click took."""
    started = clock()
    with in_sidebar():
        result = getattr(bpy.ops.ark3d, name)("INVOKE_DEFAULT", **kwargs)
    return {"result": sorted(result), "ms": round((clock() - started) * 1000, 1)}


def scenario_idea():
    bpy.types.ARK3D_PT_generate.append(_hook)
    yield from open_ark_tab(draws, 420, (40, 100, 160, 200), tries=10, redraw=True)
    state = bpy.context.window_manager.ark3d_generate
    state.source = "PROMPT"
    state.model = CONFIG["model"]
    state.fileformat = "obj"
    state.prompt = CONFIG["prompt"]
    bpy.context.window_manager.ark3d.show_options = False  # folded: room for the pictures
    yield from screenshot("generate_prompt.png")
    report["make"] = invoke("make_pictures")
    yield from wait_until(lambda: pictures().shown and not pictures().busy, 20, "the picture to be shown")
    report["shown"] = [str(p.path) for p in pictures().shown]
    yield from scroll_sidebar(8)
    yield from screenshot("generate_pictures.png")
    report["create"] = invoke("picture_create", index=0)
    yield from wait_until(lambda: pictures().task_id, 20, "the 3D task to be created")
    task_id = pictures().task_id
    report["task_id"] = task_id
    yield from wait_until(lambda: task_id in bpy.data.collections and not runner.active_jobs(), 40,
                          "the model to be imported")
    yield from screenshot("generate_from_prompt.png")
    # A multi-view set for Hitem3D: each view named, with Redo and Drop.
    state.model = CONFIG["set_model"]
    state.views = {"FRONT", "BACK", "LEFT", "RIGHT"}
    report["make_set"] = invoke("make_pictures")
    yield from wait_until(lambda: len(pictures().shown) == 4 and not pictures().busy, 20, "the set to be shown")
    report["set_views"] = list(pictures().plan.views)
    yield from scroll_sidebar(8)
    yield from screenshot("generate_views.png")
    bpy.types.ARK3D_PT_generate.remove(_hook)
    report["after"] = {
        "tagged": sorted(o.name for o in bpy.data.objects if o.get("ark3d_task_id") == task_id),
        "last_message": last_message(),
        "chain": (LIBRARY / task_id / "chain.json").is_file(),
        "threads": job_threads(),
        "draws": len(draws),
    }


run_steps(scenario_idea(), reporter)
log("driver ready: idea")
