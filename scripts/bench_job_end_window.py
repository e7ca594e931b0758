"""The frames at a job's end, inside a real Blender window: started by ``scripts/bench_job_end.py``, never by hand.

Two modes (the config's ``mode``), each with a 10 ms timer probe whose tick gaps are the main
thread's holds, and hooks that note what Blender drew meanwhile (the 3D Viewport's sidebar and
its viewport, the status bar) and each status-bar text set:

* ``addon``: the add-on enabled, the sidebar open on the Ark 3D tab; one sidebar redraw's cost
  is measured, then Import is clicked (the operator's INVOKE, as the panel's button does) and
  the probe runs from the click until the model's objects are in the scene, and 1.5 s more.
  The figures are taken from the click to the moment the add-on calls Blender's importer (the
  job: download, extraction, checks), the import's own hold apart, then what follows it;
* ``bare``: no add-on code at all, the sidebar open.  What Blender itself costs: a new status
  text every 10 ms for a second, the same second without text changes, and ``wm.obj_import``
  of the same model followed by 1.5 s of the probe.

The report holds raw figures; ``bench_job_end.py`` prints them.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "window"))

import bpy

import driver_common as dc

CONFIG = dc.load_config()
reporter = dc.Reporter(Path(CONFIG["report"]), "job_end", {"mode": CONFIG["mode"]})
report = reporter.report
trace: list[tuple[float, str]] = []  # (time, what happened)
probe = dc.Probe()
_handles: list = []
_original_status = bpy.types.WorkSpace.status_text_set


def _status_draw(self, context) -> None:  # Blender's draw signature
    trace.append((dc.clock(), "status_draw"))


def _status_text_set(self, text) -> None:
    trace.append((dc.clock(), "status_text"))
    _original_status(self, text)


def install() -> None:
    space = bpy.types.SpaceView3D
    for kind, name in (("UI", "sidebar_draw"), ("WINDOW", "viewport_draw")):
        handler = space.draw_handler_add(lambda n=name: trace.append((dc.clock(), n)), (), kind, "POST_PIXEL")
        _handles.append((handler, kind))
    bpy.types.STATUSBAR_HT_header.append(_status_draw)
    bpy.types.WorkSpace.status_text_set = _status_text_set


def cleanup() -> None:
    probe.stop()
    for handle, kind in _handles:
        bpy.types.SpaceView3D.draw_handler_remove(handle, kind)
    _handles.clear()
    bpy.types.STATUSBAR_HT_header.remove(_status_draw)
    bpy.types.WorkSpace.status_text_set = _original_status
    try:
        bpy.types.ARK3D_PT_import.remove(_panel_draw)
    except (AttributeError, ValueError):  # bare: no add-on
        pass


KINDS = ("sidebar_draw", "panel_draw", "viewport_draw", "status_draw", "status_text")


def stats(ticks: list[float], start: float, end: float) -> dict:
    """The probe's gaps in ``[start, end]``: percentiles, the holds over 25 ms, what was drawn, the worst."""
    pairs = [(a, b) for a, b in zip(ticks, ticks[1:], strict=False) if a >= start and b <= end]
    gaps = sorted((b - a) * 1000 for a, b in pairs)
    if not gaps:
        return {"n": 0}
    return {
        "n": len(gaps),
        "seconds": round(end - start, 3),
        "p50_ms": round(dc.percentile(gaps, 50), 2),
        "p99_ms": round(dc.percentile(gaps, 99), 2),
        "max_ms": round(gaps[-1], 2),
        "holds_over_25ms": [round(g, 1) for g in gaps if g > 25],
        "counts": {k: sum(1 for t, kind in trace if kind == k and start <= t <= end) for k in KINDS},
        "worst": [{"at_s": round(a - start, 3), "ms": round((b - a) * 1000, 1),
                   "during": sorted({k for t, k in trace if a <= t <= b + 0.002})}
                  for a, b in sorted(pairs, key=lambda g: g[0] - g[1])[:6]],
        "events": [(round(t - start, 3), k) for t, k in trace if start <= t <= end],
    }


def sidebar_cost():
    """One sidebar redraw here, the CPU otherwise idle: 8 of them, 4 a second."""
    probe.start()
    start = dc.clock()
    for _ in range(8):
        dc.region("UI").tag_redraw()
        yield 0.25
    report["sidebar_redraw"] = stats(probe.stop(), start, dc.clock())


def calm():
    left = 5.0 - (dc.clock() - reporter.t0)  # Xvfb redraws a lot in the first seconds
    if left > 0:
        yield left


def tagged(task: str) -> list[str]:
    return [o.name for o in bpy.data.objects if o.get("ark3d_task_id") == task]


def trace_redraw_requests() -> None:
    """Note each redraw the add-on asks for, and which module asks: a frame with no request
    before it is Blender's own."""
    ark = dc.ADDON + "."
    for name, module in list(sys.modules.items()):
        original = getattr(module, "redraw_sidebars", None)
        if not name.startswith(ark) or original is None:
            continue

        who = name.rpartition(".")[2]

        def asked(wm, _original=original, _who=who):
            trace.append((dc.clock(), f"asked_by_{_who}"))
            return _original(wm)

        module.redraw_sidebars = asked


panel_draws: list[float] = []


def _panel_draw(self, context) -> None:  # Blender's draw signature: tells when the Ark 3D tab shows
    panel_draws.append(dc.clock())
    trace.append((dc.clock(), "panel_draw"))


marks: dict[str, float] = {}


def time_the_import() -> None:
    """Note when the add-on hands the model to Blender's importer, and when that returns: Blender's
    import holds the main thread by nature, so it is measured apart from the job before it."""
    importer = dc.addon_module("blender.importer")
    original = importer.import_model

    def import_model(*args, **kwargs):
        marks.setdefault("import_start", dc.clock())
        try:
            return original(*args, **kwargs)
        finally:
            marks.setdefault("import_end", dc.clock())

    importer.import_model = import_model


def scenario_addon():
    dc.enable_addon()
    install()
    time_the_import()
    trace_redraw_requests()
    bpy.types.ARK3D_PT_import.append(_panel_draw)
    yield from dc.open_ark_tab(panel_draws, 380)
    yield from calm()
    yield from sidebar_cost()
    yield 0.5
    task = CONFIG["task"]
    bpy.context.window_manager.ark3d.task_id = task
    probe.start()
    clicked = dc.clock()
    with bpy.context.temp_override(window=dc.window(), area=dc.view3d(), region=dc.region("UI")):
        result = bpy.ops.ark3d.import_task("INVOKE_DEFAULT", task_id=task)
    report["invoke"] = sorted(result)
    yield from dc.wait_until(lambda: tagged(task), 200, "the model's objects in the scene", step=0.01)
    appeared = dc.clock()
    yield 1.5
    ticks = probe.stop()
    start, end = marks.get("import_start", appeared), marks.get("import_end", appeared)
    report["click_to_import"] = stats(ticks, clicked, start)
    report["import_s"] = round(end - start, 3)
    report["after_model"] = stats(ticks, end, dc.clock())
    report["click_to_model_s"] = round(appeared - clicked, 3)
    report["objects"] = len(tagged(task))


def scenario_bare():
    install()
    dc.remove_cube()
    dc.view3d().spaces.active.show_region_ui = True
    yield from calm()
    yield from sidebar_cost()
    workspace = dc.window().workspace
    for name, change in (("status_text_every_10ms", True), ("no_text_changes", False)):
        yield 0.5
        probe.start()
        start = dc.clock()
        for i in range(100):
            if change:
                workspace.status_text_set(f"Probe {i}")
            yield 0.01
        report[name] = stats(probe.stop(), start, dc.clock())
        workspace.status_text_set(None)
    yield 0.5
    probe.start()
    start = dc.clock()
    bpy.ops.wm.obj_import(filepath=CONFIG["obj"])
    imported = dc.clock()
    yield 1.5
    ticks = probe.stop()
    report["obj_import_s"] = round(imported - start, 3)
    report["after_obj_import"] = stats(ticks, imported, dc.clock())


dc.run_steps(scenario_addon() if CONFIG["mode"] == "addon" else scenario_bare(), reporter, cleanup)
