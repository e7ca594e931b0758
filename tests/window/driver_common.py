"""What the in-Blender drivers of ``tests/window`` share: config, report, the screen, waits, quitting.

Imported by ``blender_driver.py``, ``jobs_driver.py`` and ``ui_driver.py``, which Blender runs
with ``--python`` after ``harness.DRIVER_PATH`` has put this folder on ``sys.path``.  A driver is
a generator of steps (``yield seconds`` waits without blocking Blender's main thread) run from
one ``bpy.app.timers`` function; whatever happens, it ends with the JSON report written and a
quit.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import addon_utils
import bpy

clock = time.perf_counter


def load_config(encoding: str | None = None) -> dict:
    """The JSON config whose path follows ``--`` on Blender's command line."""
    return json.loads(Path(sys.argv[sys.argv.index("--") + 1]).read_text(encoding=encoding))


class Reporter:
    """The report the test reads: ``errors``, ``log`` and what the scenario adds; written atomically."""

    def __init__(self, path: Path, tag: str, head: dict, *, ensure_ascii: bool = True) -> None:
        self.path = path
        self.tag = tag
        self.ensure_ascii = ensure_ascii
        self.t0 = clock()
        self.report: dict = {**head, "errors": [], "log": [], "blender": list(bpy.app.version)}

    def log(self, text: str) -> None:
        self.report["log"].append(f"{clock() - self.t0:7.3f} {text}")
        print(f"[{self.tag} {clock() - self.t0:7.3f}] {text}", flush=True)

    def save(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        text = json.dumps(self.report, indent=1, default=str, ensure_ascii=self.ensure_ascii)
        tmp.write_text(text, encoding=None if self.ensure_ascii else "utf-8")
        tmp.replace(self.path)


def enable_addon() -> None:
    """No splash (Blender shows it after the --python scripts ran), then the legacy add-on on."""
    bpy.context.preferences.view.show_splash = False
    addon_utils.enable("ark3d_addon", default_set=True)


# -- the screen -------------------------------------------------------------------------------


def window() -> bpy.types.Window:
    return bpy.context.window_manager.windows[0]


def view3d() -> bpy.types.Area:
    return next(a for a in window().screen.areas if a.type == "VIEW_3D")


def region(kind: str, area: bpy.types.Area | None = None) -> bpy.types.Region:
    return next(r for r in (area or view3d()).regions if r.type == kind)


def in_sidebar() -> AbstractContextManager:
    """The context a click on a button in the 3D Viewport's sidebar gives an operator."""
    area = view3d()
    return bpy.context.temp_override(window=window(), area=area, region=region("UI", area))


def event(kind: str, value: str, x: int = 0, y: int = 0, **mods: bool) -> None:
    window().event_simulate(type=kind, value=value, x=x, y=y, **mods)


def window_screenshot(path: Path) -> None:
    """A full-window PNG, taken as from the 3D Viewport."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with bpy.context.temp_override(window=window(), area=view3d(), region=region("WINDOW")):
        bpy.ops.screen.screenshot(filepath=str(path))


def remove_cube() -> None:
    cube = bpy.data.objects.get("Cube")
    if cube is not None:
        bpy.data.objects.remove(cube)


def widen_sidebar(width: int, drags: tuple[int, ...] | None = None) -> Iterator[float]:
    """Drag the sidebar's edge (its action zone sits a few pixels inside the region, beside the
    panels) over the top panel's header row, where a missed drag moves nothing; every step
    resizes (and redraws) the viewport: few steps, ``drags`` pixels to the left (by default
    60, 140, then as far as ``width`` asks)."""
    for inset in (10, 8, 12, 6, 14):
        ui = region("UI")
        if ui.width >= width:
            break
        x, y = ui.x + inset, ui.y + ui.height - 12
        event("MOUSEMOVE", "NOTHING", x, y)
        yield 0.05
        event("LEFTMOUSE", "PRESS", x, y)
        yield 0.05
        steps = drags or (60, 140, width - ui.width)
        for dx in steps:
            event("MOUSEMOVE", "NOTHING", x - dx, y)
            yield 0.02
        event("LEFTMOUSE", "RELEASE", x - steps[-1], y)
        yield 0.2


def next_sidebar_tab() -> Iterator[float]:
    """Region.active_panel_category does not exist in 3.4: Ctrl+Wheel over the tab strip moves
    to the next tab."""
    ui = region("UI")
    x, y = ui.x + ui.width - 10, ui.y + ui.height - 30
    event("MOUSEMOVE", "NOTHING", x, y)
    yield 0.05
    event("WHEELDOWNMOUSE", "PRESS", x, y, ctrl=True)
    yield 0.3


def show_ark_tab(draws: list, tries: int = 8, redraw: bool = False) -> Iterator[float]:
    """Step through the sidebar's tabs until ``draws`` (a panel's draw hook's list) grows (with
    ``redraw``, asking for a redraw each time); then park the mouse over the viewport, away from
    the sidebar's buttons."""
    for _ in range(tries):
        n = len(draws)
        if redraw:
            region("UI").tag_redraw()
        yield 0.3
        if len(draws) > n:
            break
        yield from next_sidebar_tab()
    n = len(draws)
    region("UI").tag_redraw()
    yield 0.3
    if len(draws) == n:
        raise AssertionError("could not bring the Ark 3D tab of the sidebar to the front")
    vp = region("WINDOW")
    event("MOUSEMOVE", "NOTHING", vp.x + vp.width // 3, vp.y + vp.height // 2)


def open_ark_tab(draws: list, width: int = 0, drags: tuple[int, ...] | None = None, *, tries: int = 8,
                 redraw: bool = False) -> Iterator[float]:
    """The default cube out of the way, the sidebar open, widened to ``width`` (0: as it is), on
    the Ark 3D tab (``draws``, ``tries``, ``redraw``: as :func:`show_ark_tab`)."""
    remove_cube()
    view3d().spaces.active.show_region_ui = True
    yield 0.3
    if width:
        yield from widen_sidebar(width, drags)
    yield from show_ark_tab(draws, tries, redraw)


# -- waits and probes -------------------------------------------------------------------------


def wait_until(
    cond: Callable[[], object], timeout: float, what: str, step: float = 0.05, error: type = AssertionError
) -> Iterator[float]:
    end = clock() + timeout
    while not cond():
        if clock() > end:
            raise error(f"timed out after {timeout} s waiting for {what}")
        yield step


class Probe:
    """A 10 ms timer: the gaps between its ticks are the main thread's stalls."""

    PERIOD = 0.01

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self.on = False

    def _tick(self) -> float | None:
        self.ticks.append(clock())
        return self.PERIOD if self.on else None

    def start(self) -> None:
        self.ticks, self.on = [clock()], True
        bpy.app.timers.register(self._tick, first_interval=self.PERIOD, persistent=True)

    def stop(self) -> list[float]:
        self.on = False
        if bpy.app.timers.is_registered(self._tick):
            bpy.app.timers.unregister(self._tick)
        return self.ticks


def percentile(ordered: list[float], p: float) -> float:
    """The ``p``-th percentile of the sorted, non-empty ``ordered`` (nearest rank)."""
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))]


def ark_threads(prefix: str = "ark3d-") -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.name.startswith(prefix))


# -- the timer that runs it all ---------------------------------------------------------------


def run_steps(
    steps: Iterator[float],
    reporter: Reporter,
    cleanup: Callable[[], None] = lambda: None,
    on_error: Callable[[], None] = lambda: None,
) -> None:
    """Run the scenario's steps from a persistent timer; at its end or on any error, ``cleanup()``
    (one timer left registered at exit makes Blender hang), write the report, quit."""

    def finish() -> None:
        cleanup()
        if bpy.app.timers.is_registered(main_tick):
            bpy.app.timers.unregister(main_tick)
        reporter.report["done"] = True
        reporter.save()
        reporter.log("quit")
        bpy.ops.wm.quit_blender()

    def main_tick() -> float | None:
        try:
            delay = next(steps)
        except StopIteration:
            finish()
            return None
        except BaseException as exc:  # anything must end in a report and a quit
            reporter.report["errors"].append("".join(traceback.format_exception(exc)))
            reporter.log(f"scenario failed: {exc!r}")
            on_error()
            finish()
            return None
        return max(0.0, float(delay))

    bpy.app.timers.register(main_tick, first_interval=0.2, persistent=True)
