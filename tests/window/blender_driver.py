"""Runs inside a real Blender window (under Xvfb) for ``tests/window``: drives the add-on as a user would.

Started by ``test_window.py`` (``harness.DRIVER_PATH`` puts this folder on the path) as::

    blender --factory-startup --enable-event-simulate --python-expr DRIVER_PATH --python blender_driver.py -- CONFIG

Why a driver at all: headless ``bpy`` has no event loop, so a modal operator, its window-manager
timer, region redraws and real key presses only exist in a Blender with a window.  Everything
here runs from ``bpy.app.timers`` on Blender's main thread: one timer steps a generator (the
scenario: ``yield 0.5`` waits half a second without blocking the event loop), another 10 ms
timer is the probe whose tick gaps show how long the main thread was busy.  At the end the
driver writes a JSON report, unregisters every timer it made (a timer left registered at exit
makes Blender hang) and quits.

The report holds raw measurements and what was seen; the test decides what passes.
"""

from __future__ import annotations

import atexit
import os
import time
from pathlib import Path

import bpy

from driver_common import (  # on the path through harness.DRIVER_PATH
    Probe,
    Reporter,
    addon_module,
    ark_threads,
    clock,
    enable_addon,
    event,
    in_sidebar,
    job_threads,
    last_message,
    load_config,
    open_ark_tab,
    percentile,
    region,
    run_steps,
    runner_state,
    view3d,
    wait_until,
    window,
    window_screenshot,
)

CONFIG = load_config()
SCENARIO = CONFIG["scenario"]
SHOTS = Path(CONFIG["shots"]) if CONFIG.get("shots") else None
LIBRARY = Path(os.environ["ARK3D_LIBRARY"])
TASKS = CONFIG["tasks"]

reporter = Reporter(Path(CONFIG["report"]), "driver", {"scenario": SCENARIO})
report = reporter.report
T0 = reporter.t0
log = reporter.log


if CONFIG.get("exit_stamp"):
    # The last Python code Blender runs on its way out: when it ran, quitting was nearly done.
    _stamp = Path(CONFIG["exit_stamp"])
    atexit.register(lambda: _stamp.write_text(repr(time.time())))

# Before Blender shows its splash (it does so after --python scripts ran): none, please.
enable_addon()

importer = addon_module("blender.importer")  # only importable once enabled
operators = addon_module("blender.operators")
runner = addon_module("blender.runner")
progress = addon_module("blender.progress")

# -- instruments ----------------------------------------------------------------------------

trace: list[tuple[float, str, str]] = []  # (time, kind, detail): what the main thread did
_draw_handlers: list[tuple[object, str]] = []
_vp_started: list[float] = []


def mark(kind: str, detail: str = "") -> None:
    trace.append((clock(), kind, detail))


def _vp_pre() -> None:
    _vp_started.append(clock())


def _vp_post() -> None:
    start = _vp_started.pop() if _vp_started else clock()
    mark("viewport_draw", f"{(clock() - start) * 1000:.1f} ms")


def _ui_post() -> None:
    mark("sidebar_draw")


panel_draws: list[tuple[float, list]] = []


def _panel_hook(self, context) -> None:  # Blender's draw signature
    # Runs right after ARK3D_PT_import.draw: what the panel just showed, read from the same data.
    shown = [
        (tid, e.job.snapshot().phase, str(e.job.snapshot().text), e.job.snapshot().fraction)
        for tid, e in runner.active_jobs().items()
    ]
    panel_draws.append((clock(), shown))
    mark("panel_draw", "; ".join(s[2] for s in shown))


def install_instruments() -> None:
    space = bpy.types.SpaceView3D
    _draw_handlers.append((space.draw_handler_add(_vp_pre, (), "WINDOW", "PRE_VIEW"), "WINDOW"))
    _draw_handlers.append((space.draw_handler_add(_vp_post, (), "WINDOW", "POST_PIXEL"), "WINDOW"))
    _draw_handlers.append((space.draw_handler_add(_ui_post, (), "UI", "POST_PIXEL"), "UI"))
    bpy.types.ARK3D_PT_import.append(_panel_hook)

    # The panel's own draw time (Blender looks ``draw`` up on each redraw).
    panel_class = bpy.types.ARK3D_PT_import
    original_draw = panel_class.draw

    def draw(self, context):
        start = clock()
        try:
            return original_draw(self, context)
        finally:
            panel_draw_seconds.append(clock() - start)

    panel_class.draw = draw

    original_status = bpy.types.WorkSpace.status_text_set

    def status_text_set(self, text):
        start = clock()
        original_status(self, text)
        mark("status_text", f"{text!r} ({(clock() - start) * 1000:.2f} ms)")
        status_texts.append((clock() - T0, text))

    bpy.types.WorkSpace.status_text_set = status_text_set
    bpy.types.WorkSpace._ark_original_status = original_status

    original_redraw = progress.redraw_sidebars

    def redraw_sidebars(wm):
        mark("sidebar_tag")
        return original_redraw(wm)

    progress.redraw_sidebars = redraw_sidebars

    # The add-on's own main-thread work per timer tick (Blender looks ``modal`` up on each call).
    op_class = operators.ARK3D_OT_import_task
    original_modal = op_class.modal

    def modal(self, context, event):
        start = clock()
        try:
            return original_modal(self, context, event)
        finally:
            if event.type == "TIMER":
                modal_ticks.append((start, clock() - start))

    op_class.modal = modal

    original_import = importer.import_model  # finish() looks it up there at each import

    def import_model(*args, **kwargs):
        mark("import_start")
        try:
            return original_import(*args, **kwargs)
        finally:
            mark("import_end")

    importer.import_model = import_model


def remove_instruments() -> None:
    for handle, kind in _draw_handlers:
        bpy.types.SpaceView3D.draw_handler_remove(handle, kind)
    _draw_handlers.clear()
    try:
        bpy.types.ARK3D_PT_import.remove(_panel_hook)
    except (AttributeError, ValueError):
        pass


status_texts: list[tuple[float, object]] = []
modal_ticks: list[tuple[float, float]] = []  # (start, seconds) of each TIMER call of the operator's modal()
panel_draw_seconds: list[float] = []  # each ARK3D_PT_import.draw


probe = Probe()


def gap_stats(
    ticks: list[float], start: float, end: float, exclude: list[tuple[float, float]] = (), top: int = 6
) -> dict:
    """Stats of the tick gaps inside ``[start, end]``; gaps overlapping ``exclude`` windows
    (the test's own screenshots) are left out but counted."""
    pairs = [(a, b) for a, b in zip(ticks, ticks[1:], strict=False) if a >= start and b <= end]
    kept = [(a, b) for a, b in pairs if not any(a < e1 and b > e0 for e0, e1 in exclude)]
    gaps = sorted((b - a) * 1000 for a, b in kept)
    if not gaps:
        return {"n": 0}
    worst = sorted(kept, key=lambda g: g[0] - g[1])[:top]
    return {
        "n": len(gaps),
        "excluded": len(pairs) - len(kept),
        "seconds": round(end - start, 3),
        "max_ms": round(gaps[-1], 2),
        "p99_ms": round(percentile(gaps, 99), 2),
        "p95_ms": round(percentile(gaps, 95), 2),
        "p50_ms": round(percentile(gaps, 50), 2),
        "over_50ms": sum(1 for g in gaps if g > 50),
        "over_30ms": sum(1 for g in gaps if g > 30),
        "worst": [
            {
                "at_s": round(a - T0, 3),
                "ms": round((b - a) * 1000, 1),
                "during": [f"{k} {d}".strip() for t, k, d in trace if a <= t <= b + 0.002],
            }
            for a, b in worst
        ],
    }


def count_marks(kind: str, start: float, end: float) -> int:
    return sum(1 for t, k, _ in trace if k == kind and start <= t <= end)


def draw_summary(start: float, end: float) -> dict:
    vp = [float(d.split()[0]) for t, k, d in trace if k == "viewport_draw" and start <= t <= end]
    return {
        "viewport_draws": len(vp),
        "viewport_draw_ms_max": max(vp) if vp else None,
        "sidebar_draws": count_marks("sidebar_draw", start, end),
        "panel_draws": count_marks("panel_draw", start, end),
        "sidebar_tags": count_marks("sidebar_tag", start, end),
        "status_text_sets": count_marks("status_text", start, end),
    }


# -- helpers for scenarios --------------------------------------------------------------------


def screenshot(name: str) -> tuple[float, float] | None:
    """Full-window PNG into the shots folder; returns the time window it blocked the main thread."""
    if SHOTS is None:
        return None
    path = SHOTS / name
    start = clock()
    mark("screenshot_start", name)
    window_screenshot(path)
    end = clock()
    mark("screenshot_end", name)
    report.setdefault("screenshots", {})[name] = {
        "path": str(path),
        "ms": round((end - start) * 1000, 1),
        "exists": path.exists(),
    }
    log(f"screenshot {path} in {(end - start) * 1000:.0f} ms")
    return (start, end + 0.05)


def invoke_import(task_id: str) -> tuple[set, float]:
    """As the panel's Import button does: INVOKE in the window, the 3D Viewport and its sidebar."""
    start = clock()
    with in_sidebar():
        result = bpy.ops.ark3d.import_task("INVOKE_DEFAULT", task_id=task_id)
    elapsed = clock() - start
    mark("invoke", task_id)
    log(f"invoke {task_id} -> {sorted(result)} in {elapsed * 1000:.1f} ms")
    return result, elapsed


def active_job(task_id: str):
    entry = runner.active_jobs().get(task_id)
    return entry.job if entry else None


def start_download(task_id: str, what: str):
    """Import ``task_id`` as the panel's button does and wait until 5% of it is downloaded; the
    operator's result and the job."""
    result, _ = invoke_import(task_id)
    job = active_job(task_id)
    yield from wait_until(
        lambda: job.snapshot().phase == "downloading" and (job.snapshot().fraction or 0) > 0.05,
        15,
        f"the {what} download to be under way",
    )
    return result, job


def part_files() -> list[str]:
    found = list(LIBRARY.rglob("*.part")) + list(LIBRARY.rglob(".tmp-*"))
    return sorted(str(p.relative_to(LIBRARY)) for p in found)


def panel_text() -> dict:
    """What the panel draws right now, from the same data its draw() reads."""
    return {
        "active": {
            tid: {"phase": e.job.snapshot().phase, "text": str(e.job.snapshot().text),
                  "fraction": e.job.snapshot().fraction}
            for tid, e in runner.active_jobs().items()
        },
        "last_message": last_message(),
    }


def setup_ui(widen: bool = True):
    """Sidebar open on the Ark 3D tab, wide enough to read; the default cube out of the way."""
    # The panel's draw hook tells when the Ark 3D tab is the one showing.
    yield from open_ark_tab(panel_draws, 380 if widen else 0, (40, 100, 160))
    if widen:
        report["sidebar_width"] = region("UI").width
    log(f"sidebar open on Ark 3D, width {region('UI').width}")
    report["setup_s"] = round(clock() - T0, 2)


def calm(seconds_since_start: float = 4.0):
    """Xvfb redraws heavily for the first seconds: wait until that has passed."""
    left = seconds_since_start - (clock() - T0)
    if left > 0:
        yield left


# -- scenarios --------------------------------------------------------------------------------


def scenario_import():
    task = TASKS["slow"]
    yield from setup_ui()
    bpy.context.window_manager.ark3d.task_id = task
    yield from calm(4.5)
    region("UI").tag_redraw()
    yield 0.4
    screenshot("panel_rest.png")
    yield 0.5

    # Idle: the same probe with nothing going on (sidebar open).
    probe.start()
    start = clock()
    yield 2.0
    end = clock()
    report["idle"] = gap_stats(probe.stop(), start, end)
    report["idle"]["draws"] = draw_summary(start, end)

    # What each kind of redraw costs here, to explain any gap (each ~2 s, probe running).
    report["costs"] = {}
    w = window()
    experiments = {
        "header_tag_redraw_2hz": lambda i: region("HEADER").tag_redraw(),
        "sidebar_tag_redraw_4hz": lambda i: region("UI").tag_redraw(),
        "status_text_set_2hz": lambda i: w.workspace.status_text_set(f"Ark 3D cost probe {i}"),
        "viewport_tag_redraw_2hz": lambda i: region("WINDOW").tag_redraw(),
    }
    periods = {
        "header_tag_redraw_2hz": 0.5,
        "sidebar_tag_redraw_4hz": 0.25,
        "status_text_set_2hz": 0.5,
        "viewport_tag_redraw_2hz": 0.5,
    }
    for name, action in experiments.items():
        probe.start()
        start = clock()
        for i in range(int(1.5 / periods[name])):
            with bpy.context.temp_override(window=w):
                action(i)
            yield periods[name]
        end = clock()
        ticks = probe.stop()
        report["costs"][name] = gap_stats(ticks, start, end, top=3)
        # The frames it caused: gaps well above the 10 ms tick.
        report["costs"][name]["frames_ms"] = sorted(
            round((b - a) * 1000, 1)
            for a, b in zip(ticks, ticks[1:], strict=False)
            if a >= start and b <= end and b - a > 0.025
        )
        report["costs"][name]["draws"] = draw_summary(start, end)
        if name.startswith("status"):
            with bpy.context.temp_override(window=w):
                w.workspace.status_text_set(None)
        yield 0.3

    # The real thing: the modal import of a slow (throttled) download, probe running.
    status_texts.clear()
    probe.start()
    started = clock()
    result, elapsed = invoke_import(task)
    report["invoke"] = {"result": sorted(result), "ms": round(elapsed * 1000, 2)}
    job = active_job(task)
    # The job's worker thread, by the name it carries (the job keeps it in a Worker of its own).
    report["thread_name"] = next((n for n in ark_threads() if n == f"ark3d-{task}"), ark_threads())
    samples: list[tuple[float, str, str, float | None]] = []
    excluded: list[tuple[float, float]] = []
    deadline = clock() + 20  # the whole Blender run has harness.BLENDER_TIMEOUT
    shot_taken = False
    while clock() < deadline:
        snap = job.snapshot()
        if not samples or samples[-1][1:] != (snap.phase, str(snap.text), snap.fraction):
            samples.append((round(clock() - T0, 3), snap.phase, str(snap.text), snap.fraction))
        if not shot_taken and snap.phase == "downloading" and snap.fraction and snap.fraction >= 0.45:
            report["panel_while_downloading"] = panel_text()
            window_ = screenshot("panel_downloading.png")
            if window_:
                excluded.append(window_)
            shot_taken = True
        if task not in runner.active_jobs() and any(k == "import_end" for _, k, _ in trace):
            break
        yield 0.05
    ticks = probe.stop()
    finished = clock()
    import_start = next((t for t, k, _ in trace if k == "import_start" and t >= started), None)
    import_end = next((t for t, k, _ in trace if k == "import_end" and t >= started), None)
    first_download = next(
        (t for t, p, _, _ in [(s[0] + T0, s[1], s[2], s[3]) for s in samples] if p == "downloading"), None
    )
    last_download = max((s[0] + T0 for s in samples if s[1] == "downloading"), default=None)
    report["samples"] = samples
    report["status_texts"] = [(round(t, 3), s) for t, s in status_texts]
    report["excluded_windows_s"] = [(round(a - T0, 3), round(b - T0, 3)) for a, b in excluded]
    report["timeline_s"] = {
        "invoke": round(started - T0, 3),
        "first_downloading": round(first_download - T0, 3) if first_download else None,
        "last_downloading": round(last_download - T0, 3) if last_download else None,
        "import_start": round(import_start - T0, 3) if import_start else None,
        "import_end": round(import_end - T0, 3) if import_end else None,
    }
    if import_start is None:
        raise AssertionError(f"the import never started; samples: {samples[-5:]}")
    own = [d * 1000 for t, d in modal_ticks if started <= t and t + d < import_start]
    report["modal_ticks"] = {
        "n": len(own),
        "p99_ms": round(percentile(sorted(own), 99), 3) if own else None,
        "max_ms": round(max(own), 3) if own else None,
        "total_ms": round(sum(own), 1),
    }
    draws = sorted(d * 1000 for d in panel_draw_seconds)
    report["panel_draw_ms"] = {"n": len(draws), "p50": round(percentile(draws, 50), 3) if draws else None,
                               "p99": round(percentile(draws, 99), 3) if draws else None}
    report["before_import"] = gap_stats(ticks, started, import_start, excluded)
    report["before_import"]["draws"] = draw_summary(started, import_start)
    if first_download and last_download:
        report["downloading"] = gap_stats(ticks, first_download, last_download, excluded)
        report["downloading"]["draws"] = draw_summary(first_download, last_download)
    report["import_ms"] = round((import_end - import_start) * 1000, 1) if import_end else None
    report["after_import_gaps"] = gap_stats(ticks, import_start, finished, top=3)
    report["panel_draw_texts"] = sorted({s[2] for _, shown in panel_draws for s in shown if shown})

    yield 1.0
    report["after"] = panel_text()
    coll = bpy.data.collections.get(task)
    objects = [o.name for o in bpy.data.objects if o.get("ark3d_task_id") == task]
    report["scene"] = {
        "collection": coll.name if coll else None,
        "collection_in_scene": bool(coll and coll.name in bpy.context.scene.collection.children),
        "collection_objects": sorted(o.name for o in coll.objects) if coll else [],
        "tagged_objects": sorted(objects),
        "meshes": [o.name for o in bpy.data.objects if o.get("ark3d_task_id") == task and o.type == "MESH"],
    }
    report["threads_after"] = job_threads()
    report["part_files"] = part_files()
    # Frame the model so the last screenshot shows it.
    area = view3d()
    with bpy.context.temp_override(window=window(), area=area, region=region("WINDOW", area)):
        bpy.ops.view3d.view_selected()
    yield 1.0
    screenshot("panel_imported.png")


def scenario_cancel():
    task = TASKS["slow"]
    yield from setup_ui(widen=False)
    # With the sidebar closed the status bar is where the figures go.
    view3d().spaces.active.show_region_ui = False
    yield from calm(4.0)
    result, elapsed = invoke_import(task)
    report["invoke"] = {"result": sorted(result), "ms": round(elapsed * 1000, 2)}
    job = active_job(task)
    # Under way, and the status bar (no sidebar open) has shown a figure.
    yield from wait_until(
        lambda: job.snapshot().phase == "downloading" and any(isinstance(t, str) and "%" in t for _, t in status_texts),
        20,
        "the download's progress in the status bar",
    )
    report["part_before_esc"] = part_files()
    report["threads_before_esc"] = ark_threads()
    report["fraction_at_esc"] = job.snapshot().fraction
    vp = region("WINDOW")
    x, y = vp.x + vp.width // 2, vp.y + vp.height // 2
    event("MOUSEMOVE", "NOTHING", x, y)
    yield 0.05
    pressed = clock()
    event("ESC", "PRESS", x, y)
    event("ESC", "RELEASE", x, y)
    mark("esc")
    dead = finished_op = None
    end = clock() + 10
    while clock() < end and (dead is None or finished_op is None):
        if dead is None and not job.alive:
            dead = clock()
        if finished_op is None and task not in runner.active_jobs():
            finished_op = clock()
        yield 0.005
    report["esc"] = {
        "to_thread_dead_ms": round((dead - pressed) * 1000, 1) if dead else None,
        "to_operator_done_ms": round((finished_op - pressed) * 1000, 1) if finished_op else None,
        "phase": job.snapshot().phase,
        "cancel_event_set": job.cancel_event.is_set(),
    }
    yield 0.3
    report["part_files"] = part_files()
    report["threads_after"] = job_threads()
    report["after"] = panel_text()
    report["status_texts"] = [(round(t, 3), s) for t, s in status_texts]
    report["scene_tagged"] = [o.name for o in bpy.data.objects if o.get("ark3d_task_id")]


def scenario_lifecycle():
    first, second = TASKS["slow"], TASKS["slow2"]
    yield from setup_ui(widen=False)
    yield from calm(3.5)
    result, job = yield from start_download(first, "first")
    report["invoke_first"] = sorted(result)
    report["part_before_new_file"] = part_files()
    start = clock()
    bpy.ops.wm.read_homefile()
    loaded = clock()
    report["new_file"] = {
        "read_homefile_ms": round((loaded - start) * 1000, 1),
        "job_alive_right_after": job.alive,
        "phase_right_after": job.snapshot().phase,
        "active_right_after": sorted(runner.active_jobs()),
    }
    yield from wait_until(lambda: not job.alive, 12, "the first job's thread to end")
    report["new_file"]["thread_dead_ms"] = round((clock() - start) * 1000, 1)
    yield 0.3
    report["new_file"].update(
        {
            "phase": job.snapshot().phase,
            "active": sorted(runner.active_jobs()),
            "threads": ark_threads(),
            "part_files": part_files(),
            "addon_still_registered": hasattr(bpy.types, "ARK3D_PT_import"),
            "last_message": last_message(),
            "scene_tagged": [o.name for o in bpy.data.objects if o.get("ark3d_task_id")],
        }
    )
    # The new file's screen: the sidebar again, then a second job, and quit while it runs.
    view3d().spaces.active.show_region_ui = True
    yield 0.3
    result, job2 = yield from start_download(second, "second")
    report["invoke_second"] = sorted(result)
    report["quit"] = {"threads": ark_threads(), "part_files": part_files(), "phase": job2.snapshot().phase}
    report["quit_while_running"] = True


def scenario_errors():
    yield from setup_ui()
    # The timeline becomes an Info editor: it lists the operator's reports, which are read back.
    timeline = next(a for a in window().screen.areas if a.type == "DOPESHEET_EDITOR")
    timeline.type = "INFO"
    yield from calm(4.0)
    results = {}
    for name in ("failed", "bad_key"):
        task = TASKS[name]
        if name == "bad_key":
            os.environ["ARK_API_KEY"] = CONFIG["bad_key"]
        status_texts.clear()
        runner.set_message(None, "")
        result, elapsed = invoke_import(task)
        yield from wait_until(lambda t=task: t not in runner.active_jobs(), 20, f"the {name} job to end")
        yield 0.5
        info = timeline
        with bpy.context.temp_override(window=window(), area=info, region=region("WINDOW", info)):
            bpy.ops.info.select_all(action="SELECT")
            bpy.ops.info.report_copy()
            bpy.ops.info.select_all(action="DESELECT")
        results[name] = {
            "invoke": sorted(result),
            "invoke_ms": round(elapsed * 1000, 2),
            "last_message": last_message(),
            "status_texts": [s for _, s in status_texts],
            "info_reports": bpy.context.window_manager.clipboard,
            "threads": ark_threads(),
        }
        region("UI").tag_redraw()
        yield 0.5
        screenshot(f"panel_error_{name}.png")
        yield 0.2
    report["errors_seen"] = results


SCENARIOS = {
    "import": scenario_import,
    "cancel": scenario_cancel,
    "lifecycle": scenario_lifecycle,
    "errors": scenario_errors,
}

# -- the timer that runs it all ---------------------------------------------------------------


def cleanup() -> None:
    """Stop everything this driver started (the jobs too, unless the scenario quits with them)."""
    probe.stop()
    remove_instruments()
    if not report.get("quit_while_running", False) and runner_state() is not None:
        runner.cancel_all(wait=3.0)
    report["quit_called_wall"] = time.time()


def on_error() -> None:
    report["quit_while_running"] = False


install_instruments()
run_steps(SCENARIOS[SCENARIO](), reporter, cleanup, on_error)
log(f"driver ready: scenario {SCENARIO}")
