"""``bpy_session.py`` plus the commands of ``test_idea_pictures.py``: the Generate section from a prompt.

Run as ``python idea_session.py`` by the test (never imported by it), with the same protocol as
``bpy_session.py`` (``session_common.serve``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import bpy
import bpy.utils.previews

import bpy_session
from bpy_session import _LayoutRecorder, run_op
from session_common import ADDON, addon_module, commands_of, library, serve


class _Recorder(_LayoutRecorder):
    """The recorder, with grid_flow's grid recorded too (the section lays running generates in one)."""

    def __getattr__(self, name: str) -> Any:
        call = super().__getattr__(name)
        if name != "grid_flow":
            return call

        def grid(*args: Any, **kwargs: Any) -> Any:
            call(*args, **kwargs)
            return _Recorder(self.calls, self.problems)

        return grid


def _round() -> Any:
    module = addon_module("blender.idea_pictures")
    return module.pictures()


def _round_facts() -> dict[str, Any]:
    round_ = _round()
    plan = round_.plan
    return {
        "pictures": [str(p.path) for p in round_.shown],
        "views": list(plan.views) if plan is not None else [],
        "params": dict(plan.params) if plan is not None else {},
        "status": round_.status.text,
        "busy": round_.busy,
        "task_id": round_.task_id,
        "seed": round_.idea.seed if round_.idea is not None else None,
    }


def cmd_generate_fields(**values: Any) -> dict[str, Any]:
    """Set the Generate section's fields as a user does."""
    fields = bpy.context.window_manager.ark3d_generate
    for name, value in values.items():
        setattr(fields, name, set(value) if name == "views" else value)
    return {"set": sorted(values)}


def cmd_picture_op(op: str, **kwargs: Any) -> dict[str, Any]:
    """``bpy.ops.ark3d.<op>(**kwargs)``; what the user sees, and the pictures the section shows."""
    answer = run_op(lambda: getattr(bpy.ops.ark3d, op)(**kwargs))
    return {**answer, **_round_facts()}


def cmd_draw_generate() -> dict[str, Any]:
    """Draw the Generate section through the RNA-checking recorder: every call must exist in this Blender."""
    generate = addon_module("blender.ui.generate")
    calls: list[str] = []
    problems: list[str] = []
    generate.ARK3D_PT_generate.draw(type("Panel", (), {"layout": _Recorder(calls, problems)})(), bpy.context)
    return {"calls": calls, "problems": problems}


def cmd_draw_details(task_id: str) -> dict[str, Any]:
    """Draw the Tasks browser's details of a task from the library (its chain, the reuse buttons)."""
    tasklist = addon_module("core.tasklist")
    browser = addon_module("blender.ui.browser")
    rows = tasklist.merge_rows((), library().entries(), last_page=True)
    row = next(r for r in rows if r.task_id == task_id)
    calls: list[str] = []
    problems: list[str] = []
    browser.draw_details(_LayoutRecorder(calls, problems), row)
    return {"calls": calls, "problems": problems}


def cmd_chain(task_id: str) -> dict[str, Any]:
    """What the library keeps of the task's chain: chain.json and the pictures."""
    folder = Path(library().task_dir(task_id))
    chain_file = folder / "chain.json"
    images = sorted(p.name for p in (folder / "images").glob("*")) if (folder / "images").is_dir() else []
    return {"chain": json.loads(chain_file.read_text(encoding="utf-8")) if chain_file.is_file() else None,
            "images": images, "files": sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []}


def cmd_asset(task_id: str) -> dict[str, Any]:
    """``ark.make_assets([task_id])`` as a script calls it, then the asset's description and tags as saved."""
    addon_module("api").make_assets([task_id])
    path = library().task_dir(task_id) / "asset.blend"
    with bpy.data.libraries.load(str(path), link=True, assets_only=True) as (_source, target):
        target.collections = [task_id]
    collection = next(c for c in bpy.data.collections if c.name == task_id and c.library is not None)
    asset = collection.asset_data
    return {"description": asset.description, "tags": [tag.name for tag in asset.tags]}


def cmd_generate_state() -> dict[str, Any]:
    fields = bpy.context.window_manager.ark3d_generate
    return {"source": fields.source, "prompt": fields.prompt, "image_path": fields.image_path}


def cmd_disable_with_pictures() -> dict[str, Any]:
    """Disable the add-on while pictures are shown: their previews and their folder must go."""
    round_ = _round()
    folder = round_.folder
    previews = round_.previews
    open_before = len(bpy.utils.previews._uuid_open)  # type: ignore[attr-defined]
    answer = bpy_session.cmd_disable()
    return {**answer, "open_before": open_before,
            "open_after": len(bpy.utils.previews._uuid_open),  # type: ignore[attr-defined]
            "had_previews": previews is not None, "folder_was": str(folder or ""),
            "folder_left": bool(folder and Path(folder).exists()),
            "enabled": sys.modules[ADDON + ".blender.state"].is_enabled()}


COMMANDS = {**bpy_session.COMMANDS, **commands_of(globals())}

if __name__ == "__main__":
    sys.exit(serve(COMMANDS))
