"""Progress in the UI at the cost of a sidebar redraw, never a whole viewport.

Under software OpenGL a 3D Viewport redraw costs about 240 ms and a status-bar text change
about 50 ms; a timer tick that redrew everything would freeze Blender.  So texts are set only
when they change, the status bar at most every :data:`STATUS_PERIOD` seconds (or when the
phase changes), and only the sidebar (``UI``) regions of 3D Viewports are tagged for redraw,
at most every :data:`SIDEBAR_PERIOD` seconds.
"""

import time

import bpy

from ..core.job import JobState

SIDEBAR_PERIOD = 0.25
STATUS_PERIOD = 1.0


def redraw_sidebars(wm: bpy.types.WindowManager | None) -> None:
    if wm is None:
        return
    for window in wm.windows:
        for area in window.screen.areas:
            if area.type == "VIEW_3D":
                for region in area.regions:
                    if region.type == "UI":
                        region.tag_redraw()


class ProgressDisplay:
    """Moves a job's :class:`JobState` to the status bar and the sidebar, throttled."""

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        self._status_text = ""
        self._status_phase = ""
        self._status_at = 0.0
        self._sidebar_state: JobState | None = None
        self._sidebar_at = 0.0

    def update(self, context: bpy.types.Context, state: JobState) -> None:
        now = time.monotonic()
        if state != self._sidebar_state and now - self._sidebar_at >= SIDEBAR_PERIOD:
            self._sidebar_state = state
            self._sidebar_at = now
            redraw_sidebars(context.window_manager)
        text = f"Ark 3D {self.task_id}: {state.text}"
        if text != self._status_text and (
            state.phase != self._status_phase or now - self._status_at >= STATUS_PERIOD
        ):
            self._status_text = text
            self._status_phase = state.phase
            self._status_at = now
            workspace = context.workspace
            if workspace is not None:
                workspace.status_text_set(text)

    def clear(self, context: bpy.types.Context) -> None:
        workspace = context.workspace
        if workspace is not None and self._status_text:
            workspace.status_text_set(None)
        self._status_text = ""
        redraw_sidebars(context.window_manager)
