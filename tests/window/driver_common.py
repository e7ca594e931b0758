"""What the in-Blender drivers of ``tests/window`` share: config, report, the add-on, the screen, waits, quitting.

Imported by ``blender_driver.py``, ``jobs_driver.py`` and ``ui_driver.py``, which Blender runs
with ``--python`` after ``harness.DRIVER_PATH`` has put this folder on ``sys.path``.  A driver is
a generator of steps (``yield seconds`` waits without blocking Blender's main thread) run from
one ``bpy.app.timers`` function; whatever happens, it ends with the JSON report written and a
quit.

The harness says how the add-on comes in (``ARK3D_WINDOW_MODULE``: ``ark3d_addon`` as a legacy
add-on, or ``bl_ext.user_default.ark3d`` installed from ``ARK3D_WINDOW_ZIP``) and where Xvfb
keeps the screen (``ARK3D_WINDOW_FB``); the report always carries the add-on's own main-thread
time (:class:`OwnTime`).
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from types import ModuleType

import addon_utils
import bpy

import xwd

clock = time.perf_counter
#: The add-on's package in this Blender.
ADDON = os.environ.get("ARK3D_WINDOW_MODULE", "ark3d_addon")


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
    """No splash (Blender shows it after the --python scripts ran), then the add-on on, its own
    time measured from here.

    The extension is installed from the zip as *Install from Disk* does; a second Blender on the
    same HOME (a restart) finds it installed and enables it, as a saved preference would.  Online
    access on, as a user allows it on Blender 4.2+."""
    prefs = bpy.context.preferences
    prefs.view.show_splash = False
    if hasattr(prefs.system, "use_online_access"):  # 4.2+: off in a factory Blender, as for a new user
        prefs.system.use_online_access = True
    archive = os.environ.get("ARK3D_WINDOW_ZIP")
    repo = "user_default"
    if archive and not (Path(bpy.utils.user_resource("EXTENSIONS", path=repo)) / ADDON.split(".")[-1]).is_dir():
        bpy.ops.extensions.package_install_files(filepath=archive, repo=repo, enable_on_install=True)
    else:
        addon_utils.enable(ADDON, default_set=True)
    if ADDON not in prefs.addons:
        raise RuntimeError(f"the add-on {ADDON} is not enabled")
    own_time.install(ADDON)


def addon_module(name: str) -> ModuleType:
    """The add-on's module ``name`` (``"blender.runner"``), whichever way it was loaded."""
    return importlib.import_module(f"{ADDON}.{name}")


def addon_preferences() -> bpy.types.AddonPreferences:
    return bpy.context.preferences.addons[ADDON].preferences


def runner_state():
    """The runner's part of the add-on's state (running jobs, loops, the last message), or None while disabled."""
    state = addon_module("blender.state")
    return state.get().part(addon_module("blender.runner").RunnerState) if state.is_enabled() else None


def last_message() -> dict:
    """The panel's last message as a report holds it: its text as the panel draws it now, its level, task and kind."""
    message = runner_state().message
    return {"text": message.text, "level": message.level, "task_id": message.task_id, "kind": message.kind}


class OwnTime:
    """The add-on's own main-thread time apart from Blender's redraws: every call of its
    operators' ``modal()`` (a ``TIMER`` event is a tick) and of its panels' ``draw()``, timed
    around the add-on's functions (only the outermost of nested calls).  The model's import
    (``import_model``: Blender's own importer, which has to run on the main thread) is timed
    apart, as ``import``, and left out of the tick it ran in."""

    #: Module-level functions timed apart from the tick that calls them.
    APART = ("import_model",)

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {"tick": [], "event": [], "draw": [], "import": []}
        self._depth = 0
        self._apart = 0.0  # seconds of APART calls inside the outermost call under way

    def install(self, package: str) -> None:
        """Wrap the functions in place: Blender looks ``modal`` and ``draw`` up on each call, the
        add-on its own functions by module name.  The wrappers keep their parameters (Blender
        passes as many arguments as the function names)."""
        modules = [m for n, m in list(sys.modules.items()) if n == package or n.startswith(package + ".")]
        apart: dict[object, Callable] = {}
        for module in modules:
            # Each operator and panel Blender calls (a bl_idname of its own), with the modal()
            # or draw() it inherits from a mixin, if so: one wrapper per class Blender calls.
            for cls in [c for c in vars(module).values() if isinstance(c, type) and c.__module__ == module.__name__]:
                if not getattr(cls, "bl_idname", ""):
                    continue
                if issubclass(cls, bpy.types.Operator) and inspect.isfunction(getattr(cls, "modal", None)):
                    cls.modal = self._modal(cls.modal)
                if issubclass(cls, bpy.types.Panel) and inspect.isfunction(getattr(cls, "draw", None)):
                    cls.draw = self._draw(cls.draw)
            for name in self.APART:
                function = vars(module).get(name)
                if callable(function):
                    if function not in apart:
                        apart[function] = self._apart_call(function)
                    setattr(module, name, apart[function])

    def _timed(self, kind: str, call: Callable[[], object]) -> object:
        outermost = not self._depth
        self._depth += 1
        start = clock()
        try:
            return call()
        finally:
            self._depth -= 1
            elapsed = clock() - start
            if kind == "import":
                self.samples[kind].append(round(elapsed * 1000, 4))
                self._apart += elapsed
            elif outermost:
                self.samples[kind].append(round((elapsed - self._apart) * 1000, 4))
            if outermost:
                self._apart = 0.0

    def _apart_call(self, function: Callable) -> Callable:
        def call(*args, **kwargs):  # the add-on calls it, with its own arguments
            return self._timed("import", lambda: function(*args, **kwargs))

        return call

    def _modal(self, function: Callable) -> Callable:
        def modal(self_, context, event):  # Blender's modal signature
            kind = "tick" if event.type == "TIMER" else "event"
            return self._timed(kind, lambda: function(self_, context, event))

        return modal

    def _draw(self, function: Callable) -> Callable:
        def draw(self_, context):  # Blender's draw signature
            return self._timed("draw", lambda: function(self_, context))

        return draw


own_time = OwnTime()


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


def window_screenshot(path: Path, box: bpy.types.Region | None = None) -> None:
    """A PNG of the window (or of the region ``box``, its empty bottom trimmed), read from Xvfb's
    framebuffer: ``bpy.ops.screen.screenshot`` writes a black image in Blender 5.2's window.
    The window sits at the screen's top left; Blender counts from the bottom left."""
    w = window()
    if box is None:
        area = (0, 0, w.width, w.height)
    else:
        area = (box.x, w.height - box.y - box.height, box.width, box.height)
    xwd.save_png(Path(os.environ["ARK3D_WINDOW_FB"]), path, area, trim=box is not None)


def remove_cube() -> None:
    cube = bpy.data.objects.get("Cube")
    if cube is not None:
        bpy.data.objects.remove(cube)


def widen_sidebar(width: int, drags: tuple[int, ...] | None = None) -> Iterator[float]:
    """Drag the sidebar's edge (its action zone sits a few pixels inside the region, beside the
    panels) over the top panel's header row, where a missed drag moves nothing; every step
    resizes (and redraws) the viewport: few steps, ``drags`` pixels to the left (by default
    60, 140, then as far as ``width`` asks)."""
    for inset in (10, 8, 12, 6, 14, 3, 1, 0):  # 3.4's zone is inside; 5.2's at the edge
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


def job_threads() -> list[str]:
    """The add-on's threads but the asset maker's ("ark3d-assets", and its output reader), which
    wait for the background Blender making a result's picture after its import, by design: they
    outlive the job they follow.  (Disabling the add-on or quitting ends them too: those checks
    count every thread.)"""
    return [name for name in ark_threads() if not name.startswith("ark3d-assets")]


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
        reporter.report["own_time"] = own_time.samples
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
