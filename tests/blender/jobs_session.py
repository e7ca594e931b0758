"""bpy_session.py plus the commands of tests/blender/test_jobs.py: generate, batch, resume, API.

Run as ``python jobs_session.py`` by the test, never imported by it: same protocol as
``bpy_session.py`` (``session_common.serve``), whose commands it reuses.
"""

from __future__ import annotations

import importlib
import sys
import time
from typing import Any

import bpy

import bpy_session as base
from session_common import ADDON, commands_of, serve, threads
from session_common import addon_module as _module
from session_common import library as _library


def _run_op(call: Any) -> dict[str, Any]:
    """``bpy_session.run_op``, plus the collections made, the jobs left running and the journal."""
    before_collections = set(bpy.data.collections.keys())
    step = base.run_op(call)
    step["new_collections"] = sorted(set(bpy.data.collections.keys()) - before_collections)
    step["active"] = sorted(_module("blender.runner").active_jobs())
    step["journal"] = [e.task_id for e in _library().journal_entries()]
    return step


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
    runner = _module("blender.runner")
    [job] = _module("blender.job_builder").import_jobs(bpy.context, task_id)
    runner.active_jobs()[job.key] = runner.ActiveJob(job, time.monotonic())
    job.start()
    return {"key": job.key, "threads": threads()}


def cmd_job_state(task_id: str) -> dict[str, Any]:
    entry = _module("blender.runner").active_jobs().get(task_id)
    if entry is None:
        return {"phase": None}
    state = entry.job.snapshot()
    return {"phase": state.phase, "text": str(state.text), "fraction": state.fraction}


def cmd_journal() -> dict[str, Any]:
    return {"entries": [e.to_json() for e in _library().journal_entries()],
            "timer": any(bpy.app.timers.is_registered(t) for t in _module("blender.runner").TIMERS)}


def cmd_resume() -> dict[str, Any]:
    """``runner.resume_journaled(bpy.context)``: what an interactive Blender runs from its start-up timer."""
    runner = _module("blender.runner")
    holder: dict[str, Any] = {}

    def call() -> set[str]:
        holder["ids"] = runner.resume_journaled(bpy.context)
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
            "models": [item[0] for item in _module("blender.options")._models(state, bpy.context)],
        },
        "import_props": sorted(p.identifier for p in bpy.ops.ark3d.import_task.get_rna_type().properties),
        "timer": any(bpy.app.timers.is_registered(t) for t in _module("blender.runner").TIMERS),
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
    if hasattr(value, "spec") and hasattr(value, "retiring"):
        return {"kind": "ModelInfo", "id": value.spec.id, "retiring": value.retiring, "listed": value.listed}
    if hasattr(value, "status") and hasattr(value, "id"):
        return {"kind": "Task", "id": value.id, "status": value.status.value, "model": value.model}
    if value is None:
        return None
    return {"kind": type(value).__name__, "repr": repr(value)[:200]}


def cmd_menu() -> dict[str, Any]:
    """The generate panel's model menu as it shows now: (id, label, icon) of each item, and the
    format menu of each model."""
    options = _module("blender.options")
    state = bpy.context.window_manager.ark3d_generate
    catalog = _module("core.catalog").CATALOG
    formats = {spec.id: [item[0] for item in options._formats(type("Fields", (), {"model": spec.id})(), bpy.context)]
               for spec in catalog}
    return {"models": [list(item[:2]) + [item[3]] for item in options._models(state, bpy.context)],
            "formats": formats}


def cmd_hints(**values: Any) -> dict[str, Any]:
    """Set the generate panel's state and read what it would show: the faces and price hint (or
    the refusal), and whether Generate is enabled."""
    generate = _module("blender.ui.generate")
    state = bpy.context.window_manager.ark3d_generate
    for name, value in values.items():
        setattr(state, name, value)
    spec = generate._spec(state)
    ready, why = generate._ready(bpy.context, state)
    return {"hint": generate._hints(state, spec), "ready": ready, "why": why, "model": spec.id}


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


COMMANDS = {**base.COMMANDS, **commands_of(globals())}

if __name__ == "__main__":
    sys.exit(serve(COMMANDS))
