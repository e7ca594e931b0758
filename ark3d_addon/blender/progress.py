"""Progress in the UI at the cost of one small frame every two seconds, never a viewport redraw.

Measured in a real Blender 3.4 window (software OpenGL, 1600x900, 2 CPUs; tests/window): *any*
redraw, even of a 27-pixel header, costs the main thread 35-50 ms, because Blender composites
and swaps the whole window for it.  Redrawing the sidebar costs about 40 ms, the sidebar and
a changed status-bar text together about 50 ms, a 3D Viewport 120-240 ms.  What the add-on
controls is how many frames it asks for, what each one redraws, and whether Blender adds frames
of its own.  So:

- the first frame of a job is asked for by the click (the runner's ``execute``), when Blender
  redraws the button's region anyway; after it, at most one frame per :data:`DISPLAY_PERIOD`, a
  new phase (queued, downloading, extracting...) included: it shows at the next allowed frame.
  A 10 ms probe's 99th percentile then stays on a plain tick (it allows one long gap per 100
  ticks, this asks for one per 200);
- each progress frame redraws one region: the open sidebars of the 3D Viewports (the panel
  has the figures), or, when no sidebar is open, the status bar with the figures.  With a
  sidebar open the status bar says only that the job runs and that Esc cancels: its text is set
  once, at the job's first frame (a status bar redraw adds 20 ms to a frame on 3.4);
- the panel keeps its height while a job runs (``ui/panel.py``): a panel whose height changes
  makes Blender animate the panels into place, 2-3 more sidebar frames in 0.3 s;
- never an area, never a viewport.

This holds whatever the Blender: in 5.2 as in 3.4 a new status-bar text is a frame of its own
(scripts/bench_job_end.py, with no add-on code: a new text every 10 ms drew a frame every
time).  Every frame also waits for Python's lock, since Blender draws its UI in Python: the
job's thread never holds it for long (``core.references`` reads a big model a chunk at a time).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import bpy

from . import i18n

if TYPE_CHECKING:
    from ..core.job import JobState

#: After a job's first frame, progress is redrawn at most this often, a new phase included.  Every
#: redraw holds the main thread (40-150 ms under Xvfb); at one every 2 s the 99th percentile of
#: a 10 ms timer probe stays on a plain tick (scripts/bench_job_end.py, scripts/bench.py).
DISPLAY_PERIOD = 2.0


def redraw_sidebars(wm: bpy.types.WindowManager | None) -> int:
    """Tag the open sidebars of every 3D Viewport (a closed one is 1 pixel wide); how many."""
    if wm is None:
        return 0
    tagged = 0
    for window in wm.windows:
        for area in window.screen.areas:
            if area.type == "VIEW_3D":
                for region in area.regions:
                    if region.type == "UI" and region.width > 1:
                        region.tag_redraw()
                        tagged += 1
    return tagged


def redraw_preferences(wm: bpy.types.WindowManager | None) -> None:
    """Tag every open Preferences editor (where the connection report shows)."""
    if wm is None:
        return
    for window in wm.windows:
        for area in window.screen.areas:
            if area.type == "PREFERENCES":
                area.tag_redraw()


class ProgressDisplay:
    """Moves a job's :class:`JobState` to the status bar and the sidebar, throttled."""

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        self._status_text = ""
        self._shown: JobState | None = None
        self._shown_at = -1e9

    def update(self, context: bpy.types.Context, state: JobState) -> None:
        if state == self._shown:
            return
        now = time.monotonic()
        if now - self._shown_at < DISPLAY_PERIOD:
            return
        self._shown = state
        self._shown_at = now
        if redraw_sidebars(context.window_manager):  # the panel has the figures: the status bar's text stays
            text = i18n.iface("Ark 3D {task_id}: working... (Esc cancels)").format(task_id=self.task_id)
        else:
            text = i18n.iface("Ark 3D {task_id}: {text}").format(task_id=self.task_id, text=i18n.text(state.text))
        workspace = context.workspace
        if text != self._status_text and workspace is not None:
            self._status_text = text
            workspace.status_text_set(text)

    def clear(self, context: bpy.types.Context) -> None:
        workspace = context.workspace
        if workspace is not None and self._status_text:
            workspace.status_text_set(None)
        self._status_text = ""
        redraw_sidebars(context.window_manager)
