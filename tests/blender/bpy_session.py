"""One real Blender (the ``bpy`` wheel) driven by tests/blender/test_extension.py.

Run as ``python bpy_session.py`` by the test, never imported by it: this process loads bpy,
the test process does not.  The protocol (JSON commands on stdin, one JSON answer a line on
``ARK3D_RESULT_FD``) is ``session_common.serve``.  ``HOME``/``XDG_CONFIG_HOME`` point at a
fresh folder, so the extension is installed into a throw-away user configuration.

Commands are deliberately plain (install, set a preference, import, undo, save, disable...):
the facts they report back are what a user would see in the outliner, the properties editor
and the status bar, gathered without judging them; the test asserts.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import bpy

from session_common import ADDON, TASK_PROPERTY, commands_of, serve
from session_common import last_message as _last_message
from session_common import runner_module as _runner_module
from session_common import threads as _threads


def _vec(v: Any) -> list[float]:
    return [round(float(x), 5) for x in v]


def _image_facts(image: bpy.types.Image) -> dict[str, Any]:
    path = bpy.path.abspath(image.filepath, library=image.library) if image.filepath else ""
    packed = image.packed_file is not None
    try:
        size = list(image.size)  # reading size loads the pixels from the file or the packed data
    except Exception:  # a broken image is a fact to report
        size = [0, 0]
    return {
        "name": image.name,
        "filepath": image.filepath,
        "abspath": path,
        "exists": bool(path) and os.path.isfile(path),
        "packed": packed,
        "size": size,
        "has_data": bool(image.has_data),
    }


def _material_facts(material: bpy.types.Material) -> dict[str, Any]:
    images = []
    if material.node_tree is not None:
        for node in material.node_tree.nodes:
            if node.type == "TEX_IMAGE" and node.image is not None:
                images.append(_image_facts(node.image))
    return {"name": material.name, "images": images}


def _object_facts(obj: bpy.types.Object, view_layer: bpy.types.ViewLayer) -> dict[str, Any]:
    in_layer = obj.name in view_layer.objects
    return {
        "name": obj.name,
        "type": obj.type,
        "task_id": obj.get(TASK_PROPERTY),
        "collections": [c.name for c in obj.users_collection],
        "parent": obj.parent.name if obj.parent else None,
        "location": _vec(obj.location),
        "world_location": _vec(obj.matrix_world.translation),
        "selected": bool(in_layer and obj.select_get()),
        "faces": len(obj.data.polygons) if obj.type == "MESH" else 0,
        "materials": [slot.material.name for slot in obj.material_slots if slot.material],
    }


def scene_facts() -> dict[str, Any]:
    """What the outliner and properties show: objects, collections, selection, materials."""
    context = bpy.context
    scene = context.scene
    view_layer = context.view_layer
    objects = {o.name: _object_facts(o, view_layer) for o in bpy.data.objects}
    materials = {m.name: _material_facts(m) for m in bpy.data.materials}
    return {
        "scene": scene.name,
        "cursor": _vec(scene.cursor.location),
        "top_collections": [c.name for c in scene.collection.children],
        "collections": {c.name: sorted(o.name for o in c.objects) for c in bpy.data.collections},
        "objects": objects,
        "materials": materials,
        "selected": sorted(o.name for o in view_layer.objects if o.select_get()),
        "active": view_layer.objects.active.name if view_layer.objects.active else None,
    }


# -- commands ---------------------------------------------------------------------------


def cmd_install(zip_path: str, online: bool = True) -> dict[str, Any]:
    """Install the built zip exactly as Edit > Preferences > Get Extensions > Install from Disk."""
    bpy.context.preferences.system.use_online_access = online
    started = time.monotonic()
    result = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default",
                                                      enable_on_install=True)
    return {
        "result": sorted(result),
        "seconds": round(time.monotonic() - started, 3),
        "enabled": ADDON in bpy.context.preferences.addons,
        "operator": hasattr(bpy.types, "ARK3D_OT_import_task"),
        "threads": _threads(),
        "online_access": bool(bpy.app.online_access),
        "blender": ".".join(str(n) for n in bpy.app.version),
    }


def cmd_prefs(**values: Any) -> dict[str, Any]:
    prefs = bpy.context.preferences.addons[ADDON].preferences
    for name, value in values.items():
        setattr(prefs, name, value)
    return {"set": sorted(values)}


def cmd_online(value: bool) -> dict[str, Any]:
    bpy.context.preferences.system.use_online_access = value
    return {"online_access": bool(bpy.app.online_access)}


def cmd_cursor(location: list[float]) -> dict[str, Any]:
    bpy.context.scene.cursor.location = location
    return {"cursor": _vec(bpy.context.scene.cursor.location)}


def run_op(call: Callable[[], set[str]]) -> dict[str, Any]:
    """Run an operator call and report what a user would see: its result or error, the status
    bar's message, the objects it made and the scene's facts."""
    before = set(bpy.data.objects.keys())
    started = time.monotonic()
    error = None
    result: list[str] = []
    try:
        result = sorted(call())
    except RuntimeError as exc:
        error = str(exc)
    facts = scene_facts()
    return {
        "result": result,
        "error": error,
        "message": _last_message(),
        "seconds": round(time.monotonic() - started, 3),
        "new_objects": sorted(set(facts["objects"]) - before),
        "facts": facts,
        "threads": _threads(),
    }


def cmd_import(task_id: str, variant: str | None = None, undo: bool = False) -> dict[str, Any]:
    """``bpy.ops.ark3d.import_task``; ``undo=True`` calls it as a UI button does (pushes a step)."""
    kwargs: dict[str, Any] = {"task_id": task_id}
    if variant:
        kwargs["variant"] = variant
    args = ("EXEC_DEFAULT", True) if undo else ()
    return run_op(lambda: bpy.ops.ark3d.import_task(*args, **kwargs))


def cmd_undo_push(message: str) -> dict[str, Any]:
    return {"result": sorted(bpy.ops.ed.undo_push(message=message)), "can_undo": bpy.ops.ed.undo.poll()}


def cmd_undo() -> dict[str, Any]:
    try:
        result = sorted(bpy.ops.ed.undo())
        error = None
    except RuntimeError as exc:
        result, error = [], str(exc)
    return {"result": result, "error": error, "facts": scene_facts()}


def cmd_facts() -> dict[str, Any]:
    return scene_facts()


def cmd_save(path: str) -> dict[str, Any]:
    result = bpy.ops.wm.save_as_mainfile(filepath=path, copy=True)
    return {"result": sorted(result), "size": os.path.getsize(path)}


def cmd_start_worker(task_id: str) -> dict[str, Any]:
    """Start an import in a worker thread as the modal operator does with a window.

    Background Blender has no event loop, so the operator itself always runs blocking here;
    this does the modal path's bookkeeping (the running jobs + ``ImportJob.start``) so that
    unregister() has a live worker to stop.
    """
    runner = _runner_module()
    job_mod = importlib.import_module(ADDON + ".core.job")  # imported on first use by the add-on
    prefs_mod = sys.modules[ADDON + ".blender.preferences"]
    job = job_mod.ImportJob(task_id, prefs_mod.read_settings(bpy.context), prefs_mod.library(bpy.context))
    runner.active_jobs()[job.task_id] = runner.ActiveJob(job, time.monotonic())
    job.start()
    deadline = time.monotonic() + 10
    while job.snapshot().phase in ("starting",) and time.monotonic() < deadline:
        time.sleep(0.05)
    return {"threads": _threads(), "phase": job.snapshot().phase, "text": str(job.snapshot().text)}


def _our_handlers() -> list[str]:
    """Our functions still hooked into bpy.app.handlers (unregister must remove them)."""
    found = []
    for name in dir(bpy.app.handlers):
        hooks = getattr(bpy.app.handlers, name)
        if isinstance(hooks, list):
            found += [f"{name}:{h.__module__}.{h.__name__}" for h in hooks if "ark3d" in getattr(h, "__module__", "")]
    return found


def _registration_facts() -> dict[str, Any]:
    """What registering/unregistering the extension leaves behind."""
    return {
        "threads": _threads(),
        "enabled": ADDON in bpy.context.preferences.addons,
        "operator": hasattr(bpy.types, "ARK3D_OT_import_task"),
        "wm_property": hasattr(bpy.types.WindowManager, "ark3d"),
        "handlers": _our_handlers(),
    }


#: The add-on's state before the last disable: enabling again must make a new one.
_STATE_BEFORE: list[Any] = []


def _state_facts() -> dict[str, Any]:
    """Whether the add-on's one state object exists, and what it holds."""
    state_mod = sys.modules[ADDON + ".blender.state"]
    if not state_mod.is_enabled():
        return {"state": None}
    current = state_mod.get()
    runner = current.part(_runner_module().RunnerState)
    return {"state": {"fresh": all(current is not old for old in _STATE_BEFORE), "jobs": sorted(runner.jobs),
                      "queued": len(runner.queue), "loops": len(runner.loops), "message": runner.message.text}}


def cmd_disable() -> dict[str, Any]:
    runner = _runner_module()  # kept: its timers, to ask Blender about once the add-on is off
    _STATE_BEFORE.append(sys.modules[ADDON + ".blender.state"].get())
    started = time.monotonic()
    result = sorted(bpy.ops.preferences.addon_disable(module=ADDON))
    timers = [t.__name__ for t in runner.TIMERS if bpy.app.timers.is_registered(t)]
    return {"result": result, "seconds": round(time.monotonic() - started, 3), "timers": timers,
            **_state_facts(), **_registration_facts()}


def cmd_enable() -> dict[str, Any]:
    result = sorted(bpy.ops.preferences.addon_enable(module=ADDON))
    timers = [t.__name__ for t in _runner_module().TIMERS if bpy.app.timers.is_registered(t)]
    return {"result": result, "timers": timers, **_state_facts(), **_registration_facts()}


def cmd_threads() -> dict[str, Any]:
    return {"threads": _threads()}


def cmd_default_library() -> dict[str, Any]:
    """The library folder the preferences give when none is set (``ARK3D_LIBRARY`` aside)."""
    prefs_mod = sys.modules[ADDON + ".blender.preferences"]
    prefs = bpy.context.preferences.addons[ADDON].preferences
    saved, prefs.library_dir = prefs.library_dir, ""
    environment = os.environ.pop("ARK3D_LIBRARY", None)
    try:
        path = prefs_mod.library(bpy.context).root
    finally:
        prefs.library_dir = saved
        if environment is not None:
            os.environ["ARK3D_LIBRARY"] = environment
    return {"path": str(path), "exists": path.is_dir(), "config": bpy.utils.resource_path("USER")}


class _LayoutRecorder:
    """Stands in for the sidebar's ``UILayout`` (background Blender draws no panel): records each
    call and checks it against this Blender's RNA: the function, its keywords, enum values (icons)."""

    def __init__(self, calls: list[str], problems: list[str]) -> None:
        self.calls, self.problems = calls, problems
        self.enabled, self.scale_y = True, 1.0

    def __getattr__(self, name: str) -> Any:
        functions = bpy.types.UILayout.bl_rna.functions
        if name.startswith("_") or name in ("calls", "problems"):
            raise AttributeError(name)
        if name not in functions:
            raise AttributeError(name)  # hasattr() is how the add-on asks for newer functions

        def call(*args: Any, **kwargs: Any) -> Any:
            params = {p.identifier: p for p in functions[name].parameters}
            shown = [repr(a) for a in args if isinstance(a, str)] + [f"{k}={v!r}" for k, v in sorted(kwargs.items())]
            self.calls.append(f"{name}({', '.join(shown)})")
            if name == "operator" and args:
                module, _, op = str(args[0]).partition(".")
                try:
                    getattr(getattr(bpy.ops, module), op).get_rna_type()
                except (AttributeError, KeyError):
                    self.problems.append(f"no operator {args[0]!r}")
            if name == "prop" and len(args) >= 2 and args[1] not in args[0].bl_rna.properties:
                self.problems.append(f"{type(args[0]).__name__} has no property {args[1]!r}")
            for key, value in kwargs.items():
                if key not in params:
                    self.problems.append(f"UILayout.{name}() has no parameter {key!r}")
                elif params[key].type == "ENUM" and isinstance(value, str):
                    if value not in {item.identifier for item in params[key].enum_items}:
                        self.problems.append(f"UILayout.{name}({key}={value!r}): not a valid value")
            if name in ("column", "row", "box", "split"):
                return _LayoutRecorder(self.calls, self.problems)
            return type("OperatorProperties", (), {})()

        return call


def cmd_draw_panel() -> dict[str, Any]:
    """Draw the sidebar panel with no key, online access off, a job downloading and a last
    message: every branch of ``draw``; then again with that job's id typed in the task id field."""
    runner = _runner_module()
    panel = sys.modules[ADDON + ".blender.ui.panel"]
    prefs = bpy.context.preferences.addons[ADDON].preferences
    system = bpy.context.preferences.system

    messages = sys.modules[ADDON + ".core.messages"]

    class Snapshot:
        fraction = 0.27
        text = messages.msg("Downloading {done} / {total} ({percent}%) · {speed}/s", done="12.3 MB",
                            total="45.6 MB", percent="27", speed="8.1 MB")

    class Job:
        task_id, kind = "cgt-20251124123456-abcde", "import"

        def snapshot(self) -> Snapshot:
            return Snapshot()

    class Entry:
        job = Job()

    calls: list[str] = []
    problems: list[str] = []
    memory = sys.modules[ADDON + ".blender.state"].get().part(runner.RunnerState)
    message = memory.message
    saved = (prefs.api_key, system.use_online_access, (message.what, message.level, message.task_id, message.kind),
             memory.last_import)
    prefs.api_key, system.use_online_access = "", False
    runner.active_jobs()["cgt-20251124123456-abcde"] = Entry()
    runner.set_message(messages.msg("Imported {task_id} ({file}, {source}): {summary}", task_id=Job.task_id,
                                    file="mushroom.glb", source=messages.msg("downloaded"), summary="2 objects"),
                       "INFO")
    fields = bpy.context.window_manager.ark3d
    typed_calls: list[str] = []
    try:
        panel.ARK3D_PT_import.draw(type("Panel", (), {"layout": _LayoutRecorder(calls, problems)})(), bpy.context)
        fields.task_id = Job.task_id  # the job of the typed id: in place of the Import button
        panel.ARK3D_PT_import.draw(type("Panel", (), {"layout": _LayoutRecorder(typed_calls, problems)})(),
                                   bpy.context)
    finally:
        fields.task_id = ""
        del runner.active_jobs()["cgt-20251124123456-abcde"]
        prefs.api_key, system.use_online_access = saved[0], saved[1]
        message.say(*saved[2])
        memory.last_import = saved[3]
    return {"calls": calls, "typed_calls": typed_calls, "problems": problems}


#: The kinds of class whose texts Blender shows by itself: names, labels, tooltips, enum items.
_UI_BASES = ("AddonPreferences", "Menu", "Operator", "Panel", "PropertyGroup", "UIList")


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def cmd_static_texts() -> dict[str, Any]:
    """Every text Blender shows (and translates by itself) from a class the extension registered:
    operator names and descriptions (their docstrings), panel labels, and the name, tooltip and
    enum items of every property they declare (inherited ones aside), as Blender's RNA holds
    them; with the installed add-on's catalog."""
    texts: dict[str, str] = {}  # text -> where it was seen first

    def add(where: str, *found: str) -> None:
        for text in found:
            if text and not text.startswith(("http://", "https://")):
                texts.setdefault(text, where)

    def properties(rna: Any, where: str, inherited: set[str]) -> None:
        for prop in rna.properties:
            if prop.identifier in inherited:
                continue
            # a property declared without name= is named by its identifier, which is no label
            add(f"{where}.{prop.identifier}", "" if prop.name == prop.identifier else prop.name, prop.description)
            if prop.type == "ENUM":
                for item in prop.enum_items:
                    add(f"{where}.{prop.identifier}", item.name, item.description)

    ours = {cls for base in _UI_BASES for cls in _subclasses(getattr(bpy.types, base))
            if cls.__module__.startswith(ADDON) and cls.is_registered}
    for cls in sorted(ours, key=lambda c: c.__name__):
        if issubclass(cls, bpy.types.Operator):
            module, _, name = cls.bl_idname.partition(".")
            rna = getattr(getattr(bpy.ops, module), name).get_rna_type()
            add(cls.__name__, rna.name, rna.description)
            properties(rna, cls.__name__, {"rna_type"})
        else:
            add(cls.__name__, getattr(cls, "bl_label", ""), getattr(cls, "bl_description", ""))
            properties(cls.bl_rna, cls.__name__, {p.identifier for p in cls.bl_rna.base.properties})
    return {"classes": sorted(c.__name__ for c in ours), "texts": texts,
            "listed": sorted(c.__name__ for c in sys.modules[ADDON + ".blender"]._CLASSES),
            "catalog": sorted(sys.modules[ADDON + ".blender.i18n"].CATALOG)}


COMMANDS = commands_of(globals())


def main() -> int:
    return serve(COMMANDS)


if __name__ == "__main__":
    sys.exit(main())
