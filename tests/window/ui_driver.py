"""Runs inside a real Blender window (Xvfb) for ``test_window_ui.py``: the Tasks browser, the
Generate section and the panel in Chinese, used as a user does, with screenshots.

    blender --factory-startup --enable-event-simulate --python-expr DRIVER_PATH --python ui_driver.py -- CONFIG.json

``scenario: browser``: open the sidebar on the Ark 3D tab, press Refresh (its list call runs in a
worker thread while the main thread keeps ticking), select a task, screenshot
(``browser.png``); copy a task id; cancel a queued task through its confirmation (Return
presses OK); run the preferences' Check Connection; then switch the interface to Simplified
Chinese and screenshot again (``panel_zh.png``).
``scenario: generate``: the Generate sub-panel open with an image file chosen, Generate pressed,
screenshot while the new task is queued (``generate.png``).
``scenario: camera``: Generate from the active camera (Cycles, its denoiser on) rendered as F12
does, the render view's redraws counted meanwhile; the task created after the render completes.
``scenario: visual``: results in the library with their pictures and asset files; the browser
shows them (``browser_thumbnails.png``); the 3D Viewport turned into the Asset Browser on the
"Ark 3D" library (``asset_browser.png``).
``scenario: default_width``: the sidebar as Blender opens it (not widened), the import options
and Generate open, a task imported from the library: screenshots in English and Chinese
(``panel_default_width.png``, ``panel_default_width_zh.png``).
``scenario: disable``: the add-on disabled while an import runs, and right after enabling it
(its start-up timer registered).

Everything runs from ``bpy.app.timers`` on Blender's main thread (``yield 0.5`` waits without
blocking it); a 10 ms probe timer measures the main thread's stalls while the refresh runs.  The
report holds what was seen; the test judges.
"""

from __future__ import annotations

import os
from pathlib import Path

import bpy

from driver_common import (  # on the path through harness.DRIVER_PATH
    ADDON,
    Probe,
    Reporter,
    addon_module,
    addon_preferences,
    ark_threads,
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
    runner_state,
    view3d,
    wait_until,
    window_screenshot,
)

CONFIG = load_config(encoding="utf-8")
SCENARIO = CONFIG["scenario"]
SHOTS = Path(CONFIG["shots"])
TASKS = CONFIG["tasks"]
reporter = Reporter(Path(CONFIG["report"]), "ui-driver", {"scenario": SCENARIO}, ensure_ascii=False)
report = reporter.report
report["shots"] = {}
log = reporter.log
enable_addon()

runner = addon_module("blender.runner")  # importable once enabled
tasks = addon_module("blender.tasks")
thumbnails = addon_module("blender.thumbnails")

prefs = addon_preferences()


probe = Probe()
panel_draws: list[float] = []


def _panel_hook(self, context) -> None:  # Blender's draw signature
    panel_draws.append(clock())


def setup_ui(width: int = 440):
    """Sidebar open on the Ark 3D tab and widened; the cube removed.  No region overlap: the
    sidebar is opaque (in 5.2 the viewport shows through it otherwise), as the pictures crop it."""
    bpy.context.preferences.system.use_region_overlap = False
    bpy.types.ARK3D_PT_import.append(_panel_hook)
    yield from open_ark_tab(panel_draws, width)
    report["sidebar_width"] = region("UI").width
    log(f"sidebar open on Ark 3D, width {region('UI').width}")


def screenshot(name: str):
    """The sidebar as a PNG, its empty bottom trimmed (the README shows these); the mouse parked
    over the viewport first, so that no tooltip covers the panel."""
    vp = region("WINDOW")
    event("MOUSEMOVE", "NOTHING", vp.x + vp.width // 3, vp.y + vp.height // 2)
    region("UI").tag_redraw()
    yield 0.6
    path = SHOTS / name
    window_screenshot(path, region("UI"))
    report["shots"][name] = {"path": str(path), "exists": path.exists()}
    log(f"screenshot {path}")


def state():
    return bpy.context.window_manager.ark3d.browser


def connection_report():
    return addon_module("blender.state").get().part(addon_module("blender.preferences").ConnectionReport)


def known():
    """What the Tasks browser knows: its rows by task id, its refresh and its status line."""
    return addon_module("blender.state").get().part(tasks.TaskBrowser)


def status_of(row) -> str:
    return row.status_text or row.status.value


def items() -> list[dict]:
    rows = known().rows
    return [{"task_id": row.task_id, "status": status_of(row), "remote": row.remote, "extracted": row.extracted}
            for row in (rows[i.name] for i in state().tasks)]


def scenario_browser():
    prefs.target_size = 1.0
    prefs.merge_empty = True
    yield from setup_ui()
    yield 1.0

    # Refresh as the button does; the list call runs in a worker, the main thread keeps ticking.
    probe.start()
    started = clock()
    with in_sidebar():
        result = bpy.ops.ark3d.refresh_tasks("INVOKE_DEFAULT")
    report["refresh"] = {"result": sorted(result), "ms": round((clock() - started) * 1000, 2),
                         "items_right_after": len(state().tasks)}
    yield from wait_until(lambda: known().refresh is not None and known().refresh.done and len(state().tasks),
                          15, "the refresh to fill the list")
    yield 0.3
    ticks = probe.stop()
    gaps = [(b - a) * 1000 for a, b in zip(ticks, ticks[1:], strict=False)]
    report["refresh"].update(seconds=round(clock() - started, 3), max_gap_ms=round(max(gaps), 1) if gaps else None,
                             ticks=len(ticks), items=items(), message=known().status.text,
                             threads_after=job_threads())
    index = next(i for i, item in enumerate(state().tasks) if item.name == TASKS["done"])
    state().index = index
    yield from screenshot("browser.png")

    # Copy the id; cancel the queued task through its confirmation, as a click on the button does.
    with in_sidebar():
        bpy.ops.ark3d.copy_task_id(task_id=TASKS["done"])
    report["clipboard"] = bpy.context.window_manager.clipboard
    ui = region("UI")
    x, y = ui.x + ui.width // 2, ui.y + ui.height // 2
    event("MOUSEMOVE", "NOTHING", x, y)
    yield 0.2
    started = clock()
    with in_sidebar():
        result = bpy.ops.ark3d.cancel_task("INVOKE_DEFAULT", task_id=TASKS["queued"])
    report["cancel"] = {"result": sorted(result), "ms": round((clock() - started) * 1000, 2)}
    yield 0.6  # the confirmation pops up under the mouse: Return presses its OK
    report["cancel"]["status_before_ok"] = status_of(known().rows[TASKS["queued"]])
    event("RET", "PRESS", x, y)
    event("RET", "RELEASE", x, y)
    yield from wait_until(lambda: status_of(known().rows[TASKS["queued"]]) == "cancelled",
                          10, "the queued task to show cancelled")
    report["cancel"]["message"] = known().status.text
    yield 0.3
    report["cancel"]["threads_after"] = job_threads()

    # The preferences' Check Connection, as its button runs it: modal, the checks in a worker.
    started = clock()
    with in_sidebar():
        result = bpy.ops.ark3d.check_connection("INVOKE_DEFAULT")
    report["check"] = {"result": sorted(result), "ms": round((clock() - started) * 1000, 2),
                       "running_right_after": connection_report().running}
    yield from wait_until(lambda: not connection_report().running, 15, "the connection check to end")
    report["check"]["checks"] = [(c.name, c.ok) for c in connection_report().checks]

    # The same panel in Simplified Chinese.
    view = bpy.context.preferences.view
    view.language = chinese()
    view.use_translate_interface = True
    view.use_translate_tooltips = True
    state().index = index
    yield 0.5
    report["locale"] = bpy.app.translations.locale
    report["zh_samples"] = {m: bpy.app.translations.pgettext_iface(m) for m in ("Tasks", "Import Options",
                                                                                 "Re-download")}
    yield from screenshot("panel_zh.png")
    view.language = "en_US"


def chinese() -> str:
    """Simplified Chinese's name: ``zh_HANS`` from Blender 4.0 on, ``zh_CN`` before.  By version:
    the language enum's items are made when it is set, and 4.3's ``enum_items`` does not list them."""
    return "zh_HANS" if bpy.app.version >= (4, 0, 0) else "zh_CN"


def scenario_generate():
    bpy.context.window_manager.ark3d.show_options = False  # the picture is about Generate
    gen = bpy.context.window_manager.ark3d_generate
    gen.source = "FILE"
    gen.image_path = CONFIG["image"]
    yield from setup_ui()
    yield 1.0
    with in_sidebar():
        result = bpy.ops.ark3d.create_task("INVOKE_DEFAULT", image_path=CONFIG["image"])
    report["generate"] = {"result": sorted(result)}
    yield from wait_until(lambda: any(e.job.snapshot().phase in ("queued", "running")
                                      for e in runner.active_jobs().values()), 15, "the new task to be queued")
    yield 1.5
    report["generate"]["active"] = {k: str(e.job.snapshot().text) for k, e in runner.active_jobs().items()}
    yield from screenshot("generate.png")


def scenario_default_width():
    gen = bpy.context.window_manager.ark3d_generate
    gen.source = "FILE"
    gen.image_path = CONFIG["image"]
    bpy.context.window_manager.ark3d.show_options = True
    yield from setup_ui(width=0)
    yield 1.0
    task = TASKS["done"]
    with in_sidebar():
        result = bpy.ops.ark3d.import_task("INVOKE_DEFAULT", task_id=task)
    report["import"] = {"result": sorted(result)}
    yield from wait_until(lambda: task not in runner.active_jobs() and task in bpy.data.collections, 20, "the import")
    yield 0.5
    report["import"]["last_message"] = last_message()
    report["import"]["rows"] = runner_state().last_import is not None
    yield from screenshot("panel_default_width.png")
    view = bpy.context.preferences.view
    view.language = chinese()
    view.use_translate_interface = True
    yield 0.5
    yield from screenshot("panel_default_width_zh.png")
    view.language = "en_US"


def scenario_camera():
    """Generate from the active camera as a user clicks it: Cycles with its denoiser on (Debian's
    build has no OpenImageDenoise), rendered as F12 renders, the render view redrawn meanwhile;
    the task is created once the render completes; every setting is put back."""
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.samples = 4
    scene.cycles.use_denoising = True
    scene.render.resolution_x, scene.render.resolution_y = 640, 360  # quick: the run has 50 s in all
    gen = bpy.context.window_manager.ark3d_generate
    gen.source = "CAMERA"
    yield from setup_ui()
    yield 1.0
    # Python timers wait while Blender renders; the interface does not: the render view's
    # redraws (an image editor's draw callback) are what shows it live.
    draws: list[float] = []
    handle = bpy.types.SpaceImageEditor.draw_handler_add(lambda: draws.append(clock()), (), "WINDOW", "POST_PIXEL")
    started = clock()
    with in_sidebar():
        result = bpy.ops.ark3d.create_task("INVOKE_DEFAULT", use_camera=True)
    report["camera"] = {"result": sorted(result), "ms": round((clock() - started) * 1000, 2)}
    yield from wait_until(lambda: any(e.job.kind == "create" for e in runner.active_jobs().values())
                          or runner_state().message.level == "ERROR", 120, "the render, then the generate")
    bpy.types.SpaceImageEditor.draw_handler_remove(handle, "WINDOW")
    gaps = sorted((b - a) * 1000 for a, b in zip(draws, draws[1:], strict=False))
    report["camera"].update(
        seconds=round(clock() - started, 2), ticks=len(draws),
        gap_p50_ms=round(gaps[len(gaps) // 2], 1) if gaps else None, gap_max_ms=round(gaps[-1], 1) if gaps else None,
        last_message=last_message(),
        settings_after={"use_denoising": scene.cycles.use_denoising, "resolution_percentage":
                        scene.render.resolution_percentage, "filepath": scene.render.filepath},
        windows=len(bpy.context.window_manager.windows))
    yield from wait_until(lambda: any(e.job.task_id for e in runner.active_jobs().values()), 20, "the task id")
    report["camera"]["task_ids"] = task_ids = [e.job.task_id for e in runner.active_jobs().values()]
    folder = Path(os.environ["ARK3D_LIBRARY"]) / task_ids[0]
    # its small copy comes from a background Blender, seconds later: tests/blender checks that one
    yield from wait_until(lambda: (folder / "input.png").is_file(), 20, "the input image kept")
    report["camera"]["input_kept"] = sorted(p.name for p in folder.glob("input*"))


def scenario_visual():
    """Results in the library with their pictures and asset files: the browser shows the pictures;
    the 3D Viewport becomes the Asset Browser on "Ark 3D"."""
    library = Path(os.environ["ARK3D_LIBRARY"])
    ids = CONFIG["library_ids"]
    yield from setup_ui()
    started = clock()
    yield from wait_until(lambda: all((library / t / "asset.blend").is_file() for t in ids), 240,
                          "the pictures and asset files (the asset file is written last)")
    report["pictures"] = {"seconds": round(clock() - started, 1),
                          "files": {t: sorted(p.name for p in (library / t).iterdir()) for t in ids}}
    with in_sidebar():
        bpy.ops.ark3d.refresh_tasks("INVOKE_DEFAULT")
    yield from wait_until(lambda: known().refresh is not None and known().refresh.done and len(state().tasks),
                          15, "the refresh to fill the list")
    state().index = next(i for i, item in enumerate(state().tasks) if item.name == ids[0])
    yield 1.5  # Blender loads the small PNGs when their icons are first drawn
    report["items"] = items()
    report["icons"] = {t: thumbnails.icon(t) for t in ids}
    yield from screenshot("browser_thumbnails.png")

    libraries = bpy.context.preferences.filepaths.asset_libraries
    report["asset_libraries"] = [{"name": lib.name, "path": lib.path} for lib in libraries]
    area = view3d()
    area.ui_type = "ASSETS"
    yield 0.5
    params = area.spaces.active.params
    name = "asset_library_reference" if hasattr(params, "asset_library_reference") else "asset_library_ref"
    setattr(params, name, "Ark 3D")
    report["asset_browser"] = {"library": getattr(params, name), "area": [area.x, area.y, area.width, area.height]}
    yield 4.0  # the asset files are read and their previews shown
    path = SHOTS / "asset_browser.png"
    window_screenshot(path, area)
    report["shots"]["asset_browser.png"] = {"path": str(path), "exists": path.exists()}
    area.ui_type = "VIEW_3D"


def scenario_disable():
    """Disabling the add-on while it works leaves no timer, loop or thread behind: an import
    running (a modal loop with its window timer), and the start-up timer just registered."""
    task = TASKS["done"]
    yield from setup_ui(width=0)
    with in_sidebar():
        report["second_import"] = sorted(bpy.ops.ark3d.import_task("INVOKE_DEFAULT", task_id=task))
    report["loops_before"] = len(runner_state().loops)
    bpy.ops.preferences.addon_disable(module=ADDON)
    bpy.ops.preferences.addon_enable(module=ADDON)
    report["timers_after_enable"] = [t.__name__ for t in runner.TIMERS if bpy.app.timers.is_registered(t)]
    # One pass of the event loop, as between a user's clicks: the disable left the first loop's
    # modal handler for Blender to free there (4.3 crashes adding a handler before it has).
    yield 0.1
    with in_sidebar():
        bpy.ops.ark3d.import_task("INVOKE_DEFAULT", task_id=task)
    bpy.ops.preferences.addon_disable(module=ADDON)
    yield 0.5
    report["after_disable"] = {
        "timers": [t.__name__ for t in runner.TIMERS if bpy.app.timers.is_registered(t)],
        "state": runner_state() is not None, "threads": ark_threads(),
    }


def prepare() -> None:
    """Panels opened or closed as each picture needs (their open state is set when first drawn)."""
    def reregister(cls: type, options: set[str]) -> None:
        bpy.utils.unregister_class(cls)
        cls.bl_options = options
        bpy.utils.register_class(cls)

    if SCENARIO in ("generate", "default_width"):
        reregister(bpy.types.ARK3D_PT_tasks, {"DEFAULT_CLOSED"})
        reregister(bpy.types.ARK3D_PT_generate, set())
    else:  # the browser's pictures: Generate folded away
        reregister(bpy.types.ARK3D_PT_generate, {"DEFAULT_CLOSED"})


def cleanup() -> None:
    probe.stop()
    try:
        bpy.types.ARK3D_PT_import.remove(_panel_hook)
    except (AttributeError, ValueError):
        pass
    if runner_state() is not None:  # the disable scenario ends with the add-on off: nothing left to cancel
        runner.cancel_all(wait=3.0)


prepare()
scenarios = {"browser": scenario_browser, "generate": scenario_generate, "default_width": scenario_default_width,
             "visual": scenario_visual, "camera": scenario_camera, "disable": scenario_disable}
run_steps(scenarios[SCENARIO](), reporter, cleanup)
log(f"driver ready: scenario {SCENARIO}; library {os.environ.get('ARK3D_LIBRARY')}")
