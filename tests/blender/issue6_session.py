"""bpy_session.py plus the commands of tests/blender/test_issue6_flows.py: generate, batch, resume, API.

Run as ``python issue6_session.py`` by the test, never imported by it: same protocol as
``bpy_session.py`` (one JSON command a line on stdin, one JSON answer a line on the file
descriptor ``ARK3D_RESULT_FD``), whose commands it reuses.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any

import bpy
import bpy_session as base

ADDON = base.ADDON


def _module(name: str) -> Any:
    return sys.modules[f"{ADDON}.{name}"]


def _library() -> Any:
    prefs = _module("blender.preferences")
    return prefs.library_for(prefs.read_settings(bpy.context))


def _run_op(call: Any) -> dict[str, Any]:
    """Run an operator call as cmd_import does and report what a user would see."""
    before = set(bpy.data.objects.keys())
    before_collections = set(bpy.data.collections.keys())
    started = time.monotonic()
    error = None
    result: list[str] = []
    try:
        result = sorted(call())
    except RuntimeError as exc:
        error = str(exc)
    facts = base.scene_facts()
    return {
        "result": result,
        "error": error,
        "message": base._last_message(),
        "seconds": round(time.monotonic() - started, 3),
        "new_objects": sorted(set(facts["objects"]) - before),
        "new_collections": sorted(set(bpy.data.collections.keys()) - before_collections),
        "facts": facts,
        "threads": base._threads(),
        "active": sorted(_module("blender.jobs").active),
        "journal": [e.task_id for e in _library().journal_entries()],
    }


def cmd_create(**kwargs: Any) -> dict[str, Any]:
    """``bpy.ops.ark3d.create_task(**kwargs)``."""
    return _run_op(lambda: bpy.ops.ark3d.create_task(**kwargs))


def cmd_import_ids(task_ids: str) -> dict[str, Any]:
    """``bpy.ops.ark3d.import_task(task_ids=...)``: a batch."""
    return _run_op(lambda: bpy.ops.ark3d.import_task(task_ids=task_ids))


def cmd_slots(limit: int) -> dict[str, Any]:
    slots = _module("core.slots").DOWNLOAD_SLOTS
    slots.limit = limit
    return {"limit": slots.limit}


def cmd_camera_scene(engine: str = "CYCLES", samples: int = 4, size: tuple[int, int] = (320, 240)) -> dict[str, Any]:
    """A quick-to-render scene: the default cube and camera, a small Cycles render."""
    scene = bpy.context.scene
    scene.render.engine = engine
    if engine == "CYCLES":
        scene.cycles.samples = samples
        scene.cycles.device = "CPU"
    scene.render.resolution_x, scene.render.resolution_y = size
    scene.render.resolution_percentage = 100
    scene.render.filepath = "//before/"
    scene.render.image_settings.file_format = "JPEG"
    return render_settings()


def render_settings() -> dict[str, Any]:
    scene = bpy.context.scene
    return {
        "engine": scene.render.engine,
        "filepath": scene.render.filepath,
        "percentage": scene.render.resolution_percentage,
        "format": scene.render.image_settings.file_format,
        "samples": scene.cycles.samples if scene.render.engine == "CYCLES" else None,
        "camera": scene.camera.name if scene.camera else None,
    }


def cmd_render_settings() -> dict[str, Any]:
    return render_settings()


def cmd_render() -> dict[str, Any]:
    result = sorted(bpy.ops.render.render())
    return {"result": result, "images": sorted(bpy.data.images.keys())}


def cmd_start_journaled(task_id: str) -> dict[str, Any]:
    """Start an import as the modal operator does (worker thread, journaled), without waiting."""
    operators = _module("blender.operators")
    jobs = _module("blender.jobs")
    [job] = operators.import_jobs(bpy.context, task_id)
    jobs.active[job.key] = jobs.ActiveJob(job)
    job.start()
    return {"key": job.key, "threads": base._threads()}


def cmd_job_state(task_id: str) -> dict[str, Any]:
    entry = _module("blender.jobs").active.get(task_id)
    if entry is None:
        return {"phase": None}
    state = entry.job.snapshot()
    return {"phase": state.phase, "text": state.text, "fraction": state.fraction}


def cmd_journal() -> dict[str, Any]:
    return {"entries": [e.to_json() for e in _library().journal_entries()],
            "timer": bpy.app.timers.is_registered(_module("blender.jobs").resume_on_start)}


def cmd_resume() -> dict[str, Any]:
    """``jobs.resume_journaled(bpy.context)``: what an interactive Blender runs from its start-up timer."""
    jobs = _module("blender.jobs")
    holder: dict[str, Any] = {}

    def call() -> set[str]:
        holder["ids"] = jobs.resume_journaled(bpy.context)
        return {"FINISHED"}

    step = _run_op(call)
    step["resumed"] = holder.get("ids")
    return step


def cmd_registered() -> dict[str, Any]:
    panel = getattr(bpy.types, "ARK3D_PT_generate", None)
    wm = bpy.context.window_manager
    state = getattr(wm, "ark3d_generate", None)
    return {
        "panel": panel is not None,
        "parent": getattr(panel, "bl_parent_id", None),
        "operator": hasattr(bpy.types, "ARK3D_OT_create_task"),
        "state": None if state is None else {
            "source": state.source, "model": state.model, "subdivisionlevel": state.subdivisionlevel,
            "fileformat": state.fileformat,
            "sources": [i.identifier for i in state.bl_rna.properties["source"].enum_items],
            "models": [i.identifier for i in state.bl_rna.properties["model"].enum_items],
        },
        "import_props": sorted(p.identifier for p in bpy.ops.ark3d.import_task.get_rna_type().properties),
        "timer": bpy.app.timers.is_registered(_module("blender.jobs").resume_on_start),
    }


def _imported_facts(value: Any) -> Any:
    """An API result as JSON: Imported -> its fields; Task -> id/status; lists element-wise."""
    if isinstance(value, list):
        return [_imported_facts(v) for v in value]
    if hasattr(value, "collection") and hasattr(value, "objects"):
        return {"kind": "Imported", "task_id": value.task_id, "collection": value.collection,
                "objects": sorted(o.name for o in value.objects), "message": value.message,
                "from_library": value.from_library,
                "tagged": sorted(o.get("ark3d_task_id", "") for o in value.objects)}
    if hasattr(value, "status") and hasattr(value, "id"):
        return {"kind": "Task", "id": value.id, "status": value.status.value, "model": value.model}
    if value is None:
        return None
    return {"kind": type(value).__name__, "repr": repr(value)[:200]}


def cmd_api(fn: str, args: list[Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """``bl_ext.user_default.ark3d.api.<fn>(*args, **kwargs)``, as a script calls it."""
    api = importlib.import_module(ADDON + ".api")
    started = time.monotonic()
    try:
        value = getattr(api, fn)(*(args or []), **kwargs)
    except Exception as exc:  # an error is a fact to report to the test
        return {"error": str(exc), "error_type": type(exc).__name__,
                "is_ark_error": isinstance(exc, api.ArkError), "seconds": round(time.monotonic() - started, 3)}
    return {"error": None, "value": _imported_facts(value), "seconds": round(time.monotonic() - started, 3),
            "legacy_name": hasattr(sys.modules[ADDON], "api")}


def cmd_files(task_id: str) -> dict[str, Any]:
    folder = _library().task_dir(task_id)
    return {"files": sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
            if folder.is_dir() else []}


COMMANDS = {**base.COMMANDS, **{name[4:]: fn for name, fn in globals().items() if name.startswith("cmd_")}}


def main() -> int:
    out = os.fdopen(int(os.environ["ARK3D_RESULT_FD"]), "w", encoding="utf-8", buffering=1)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        name = request.pop("cmd")
        if name == "quit":
            out.write(json.dumps({"ok": True, "threads": base._threads()}) + "\n")
            break
        try:
            answer = {"ok": True, **COMMANDS[name](**request)}
        except Exception as exc:  # reported to the test, which fails with it
            answer = {"ok": False, "exception": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        out.write(json.dumps(answer, ensure_ascii=False, default=str) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
