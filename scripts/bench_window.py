"""The UI-hold figure of ``scripts/bench.py``: runs inside a real Blender window under Xvfb.

Started by bench.py (never by hand) as::

    xvfb-run blender --factory-startup --enable-event-simulate --python bench_window.py -- CONFIG.json

Blender gets the add-on as a legacy add-on through ``BLENDER_USER_SCRIPTS`` and a clean
environment, as in tests/window, whose driver toolkit (``driver_common.py``: the screen, the
sidebar tab, the 10 ms probe, the step runner) this uses.  The scenario opens the sidebar on
the Ark 3D tab, measures the probe with Blender idle and while the sidebar is redrawn (what one
frame costs here), then, for each configured task, clicks Import (the operator's INVOKE, as the
panel's button does) and measures the probe while the download runs.  It writes raw figures to
the report; bench.py judges them.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "window"))

import bpy

import driver_common as dc

CONFIG = dc.load_config()
reporter = dc.Reporter(Path(CONFIG["report"]), "bench", {})
report = reporter.report
report["blender"] = f"Blender {bpy.app.version_string}"
trace: list[tuple[float, str]] = []  # (time, what Blender drew)
panel_draws: list[float] = []
probe = dc.Probe()
_handles: list = []


def _panel_hook(self, context) -> None:  # Blender's draw signature
    panel_draws.append(dc.clock())
    trace.append((dc.clock(), "panel_draw"))


def install() -> None:
    space = bpy.types.SpaceView3D
    for kind, name in (("UI", "sidebar_draw"), ("WINDOW", "viewport_draw")):
        handler = space.draw_handler_add(lambda n=name: trace.append((dc.clock(), n)), (), kind, "POST_PIXEL")
        _handles.append((handler, kind))
    bpy.types.ARK3D_PT_import.append(_panel_hook)


def cleanup() -> None:
    probe.stop()
    for handle, kind in _handles:
        bpy.types.SpaceView3D.draw_handler_remove(handle, kind)
    _handles.clear()
    try:
        bpy.types.ARK3D_PT_import.remove(_panel_hook)
    except (AttributeError, ValueError):
        pass
    runner = sys.modules.get("ark3d_addon.blender.runner")
    state = sys.modules.get("ark3d_addon.blender.state")
    if runner is not None and state is not None and state.is_enabled():
        runner.cancel_all(wait=3.0)


def gap_stats(ticks: list[float], start: float, end: float) -> dict:
    """Percentiles of the probe's gaps in ``[start, end]``, the frames drawn, the worst gaps."""
    pairs = [(a, b) for a, b in zip(ticks, ticks[1:], strict=False) if a >= start and b <= end]
    gaps = sorted((b - a) * 1000 for a, b in pairs)
    if not gaps:
        return {"n": 0}
    return {
        "n": len(gaps),
        "seconds": round(end - start, 3),
        "max_ms": round(gaps[-1], 2),
        "p99_ms": round(dc.percentile(gaps, 99), 2),
        "p95_ms": round(dc.percentile(gaps, 95), 2),
        "p50_ms": round(dc.percentile(gaps, 50), 2),
        "frames_ms": [round(g, 1) for g in gaps if g > 25],  # gaps that held a frame
        "draws": {k: sum(1 for t, kind in trace if kind == k and start <= t <= end)
                  for k in ("sidebar_draw", "panel_draw", "viewport_draw")},
        "worst": [{"at_s": round(a - reporter.t0, 3), "ms": round((b - a) * 1000, 1),
                   "during": [k for t, k in trace if a <= t <= b + 0.002]}
                  for a, b in sorted(pairs, key=lambda g: g[0] - g[1])[:5]],
    }


def scenario():
    dc.enable_addon()
    from ark3d_addon.blender import runner

    install()
    yield from dc.open_ark_tab(panel_draws, 380)
    left = 5.0 - (dc.clock() - reporter.t0)  # Xvfb redraws a lot in the first seconds
    if left > 0:
        yield left

    # Idle: the probe with nothing going on, the sidebar open on the Ark 3D panel.
    probe.start()
    start = dc.clock()
    yield CONFIG.get("idle_s", 3.0)
    report["idle"] = gap_stats(probe.stop(), start, dc.clock())
    # What one redraw of the sidebar costs here with the CPU idle (4 a second for 2 s).
    probe.start()
    start = dc.clock()
    for _ in range(8):
        dc.region("UI").tag_redraw()
        yield 0.25
    report["redraw_idle"] = gap_stats(probe.stop(), start, dc.clock())
    yield 0.3

    report["runs"] = {}
    for run in CONFIG["runs"]:
        task = run["task"]
        bpy.context.window_manager.ark3d.task_id = task
        probe.start()
        invoked = dc.clock()
        with bpy.context.temp_override(window=dc.window(), area=dc.view3d(), region=dc.region("UI")):
            result = bpy.ops.ark3d.import_task("INVOKE_DEFAULT", task_id=task)
        out: dict = {"invoke": {"result": sorted(result), "ms": round((dc.clock() - invoked) * 1000, 2)}}
        job = runner.active_jobs()[task].job
        phases: list[tuple[float, str]] = []
        deadline = dc.clock() + 150
        while dc.clock() < deadline and task in runner.active_jobs():
            phase = job.snapshot().phase
            if not phases or phases[-1][1] != phase:
                phases.append((dc.clock(), phase))
            if run.get("cancel_after_download") and phase == "extracting":
                job.cancel()  # only the download is measured: no need to wait for the extraction
            yield 0.02
        finished = dc.clock()
        ticks = probe.stop()
        out["phases"] = [(round(t - reporter.t0, 3), p) for t, p in phases]
        downloading = [t for t, p in phases if p == "downloading"]
        after = [t for t, p in phases if downloading and t > downloading[0]]
        if downloading:
            out["downloading"] = gap_stats(ticks, downloading[0], after[0] if after else finished)
        out["whole_job"] = gap_stats(ticks, invoked, finished)
        out["last_message"] = dc.last_message()
        report["runs"][run["name"]] = out
        yield 1.0


dc.run_steps(scenario(), reporter, cleanup)
