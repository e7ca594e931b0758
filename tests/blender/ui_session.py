"""``bpy_session.py`` plus the commands of ``test_ui.py``: the Tasks browser, cancel/delete,
the import options, the connection check, and drawing the new panels.

Run as ``python ui_session.py`` by the test (never imported by it), with the same protocol as
``bpy_session.py`` (``session_common.serve``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import bpy
from mathutils import Vector

import bpy_session
from bpy_session import _LayoutRecorder, scene_facts
from session_common import ADDON, TASK_PROPERTY, addon_module, commands_of, last_message, library, serve
from session_common import threads as _threads


def _mod(name: str) -> Any:
    return addon_module(f"blender.{name}")


def _state() -> Any:
    return bpy.context.window_manager.ark3d.browser


def _known() -> Any:
    """What the Tasks browser knows (its part of the add-on's state): rows by task id, status line."""
    return _mod("state").get().part(_mod("tasks").TaskBrowser)


def _items() -> list[dict[str, Any]]:
    """Each line of the list (a task id) with the typed row it is drawn from."""
    rows = _known().rows
    return [
        {
            "task_id": row.task_id,
            "name": item.name,
            "status": row.status_text or row.status.value,
            "model": row.model,
            "fileformat": row.fileformat,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "remote": row.remote,
            "in_library": row.in_library,
            "extracted": row.extracted,
            "size_bytes": row.size_bytes,
            "error_code": row.error_code,
            "link_seconds_left": row.link_seconds_left(),
        }
        for item in _state().tasks
        for row in [rows[item.name]]
    ]


def _browser() -> dict[str, Any]:
    state = _state()
    status = _known().status
    return {
        "items": _items(),
        "page": state.page,
        "pages": state.pages,
        "total": state.total,
        "index": state.index,
        "filter": state.status_filter,
        "message": status.text,
        "level": status.level,
        "threads": _threads(),
    }


def _call(op: str, **kwargs: Any) -> dict[str, Any]:
    """``bpy.ops.ark3d.<op>(**kwargs)`` as a script calls it; the error text of a refusal."""
    started = time.monotonic()
    try:
        result, error = sorted(getattr(bpy.ops.ark3d, op)(**kwargs)), None
    except RuntimeError as exc:
        result, error = [], str(exc)
    return {"result": result, "error": error, "seconds": round(time.monotonic() - started, 3)}


def cmd_page_size(size: int) -> dict[str, Any]:
    _mod("tasks").PAGE_SIZE = size
    return {"page_size": size}


def cmd_refresh(page: int = 0) -> dict[str, Any]:
    return {**_call("refresh_tasks", page=page), **_browser()}


def cmd_page(step: int) -> dict[str, Any]:
    return {**_call("tasks_page", step=step), **_browser()}


def cmd_filter(value: str) -> dict[str, Any]:
    _state().status_filter = value  # its update callback refreshes (in place: no event loop here)
    return _browser()


def cmd_browser() -> dict[str, Any]:
    return _browser()


def cmd_op(op: str, **kwargs: Any) -> dict[str, Any]:
    """Any ark3d operator, then the browser's state and what the scene holds."""
    answer = _call(op, **kwargs)
    return {**answer, **_browser(), "message": _known().status.text,
            "last_message": last_message(), "objects": len(bpy.data.objects)}


def _bounds(objects: list[bpy.types.Object]) -> tuple[list[float], list[float]]:
    """World-space box of every vertex (the test's own computation, not the add-on's)."""
    lo = [float("inf")] * 3
    hi = [float("-inf")] * 3
    for obj in objects:
        if obj.type != "MESH":
            continue
        matrix = obj.matrix_world
        for v in obj.data.vertices:
            world = matrix @ v.co
            for i in range(3):
                lo[i] = min(lo[i], world[i])
                hi[i] = max(hi[i], world[i])
    return lo, hi


def cmd_import(task_id: str, undo: bool = False, **options: Any) -> dict[str, Any]:
    """``ark3d.import_task`` with options; what it made, measured independently."""
    before = set(bpy.data.objects)
    args = ("EXEC_DEFAULT", True) if undo else ()
    started = time.monotonic()
    try:
        result, error = sorted(bpy.ops.ark3d.import_task(*args, task_id=task_id, **options)), None
    except RuntimeError as exc:
        result, error = [], str(exc)
    made = [o for o in bpy.data.objects if o not in before]
    bpy.context.view_layer.update()
    lo, hi = _bounds(made)
    triangles = 0
    for obj in made:
        if obj.type == "MESH":
            obj.data.calc_loop_triangles()
            triangles += len(obj.data.loop_triangles)
    active = bpy.context.view_layer.objects.active
    return {
        "result": result,
        "error": error,
        "seconds": round(time.monotonic() - started, 3),
        "message": last_message(),
        "objects": {
            o.name: {
                "type": o.type,
                "parent": o.parent.name if o.parent else None,
                "task_id": o.get(TASK_PROPERTY),
                "location": [round(x, 5) for x in o.matrix_world.translation],
                "scale": [round(x, 5) for x in o.matrix_world.to_scale()],
                "collections": [c.name for c in o.users_collection],
                "selected": o.select_get(),
            }
            for o in made
        },
        "active": active.name if active else None,
        "bounds": {"lo": lo, "hi": hi} if made else None,
        "triangles": triangles,
        "polygons": sum(len(o.data.polygons) for o in made if o.type == "MESH"),
        "materials": len({s.material.name for o in made for s in o.material_slots if s.material}),
        "cursor": list(bpy.context.scene.cursor.location),
    }


def cmd_remove_imports() -> dict[str, Any]:
    """Clear the scene of earlier imports, so each import step measures only itself."""
    for obj in [o for o in bpy.data.objects if o.get(TASK_PROPERTY)]:
        bpy.data.objects.remove(obj)
    for coll in [c for c in bpy.data.collections if c.name.startswith("cgt-")]:
        bpy.data.collections.remove(coll)
    return {"objects": len(bpy.data.objects)}


def cmd_library(task_id: str) -> dict[str, Any]:
    lib = library()
    folder = lib.task_dir(task_id)
    return {"exists": folder.is_dir(), "extracted": lib.is_extracted(task_id),
            "files": sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
            if folder.is_dir() else []}


def _connection_report() -> Any:
    return _mod("state").get().part(_mod("preferences").ConnectionReport)


def cmd_check_connection() -> dict[str, Any]:
    answer = _call("check_connection")
    report = _connection_report()
    return {**answer, "running": report.running, "error": answer["error"], "report_error": str(report.error or ""),
            "checks": [{"name": c.name, "ok": c.ok, "message": str(c.message)} for c in report.checks],
            "threads": _threads()}


def cmd_draw_ui() -> dict[str, Any]:
    """Draw the Tasks sub-panel (list rows and details of every item) and the preferences, through
    the RNA-checking recorder of bpy_session: every call must exist in this Blender."""
    browser = _mod("ui.browser")
    calls: list[str] = []
    problems: list[str] = []
    state = _state()
    ctx = bpy.context
    panel = type("Panel", (), {"layout": _LayoutRecorder(calls, problems)})()
    browser.ARK3D_PT_tasks.draw(panel, ctx)
    for index, item in enumerate(state.tasks):
        browser.ARK3D_UL_tasks.draw_item(None, ctx, _LayoutRecorder(calls, problems), state, item, 0, state, "index",
                                         index)
        browser.draw_details(_LayoutRecorder(calls, problems), _known().rows[item.name])
    prefs = ctx.preferences.addons[ADDON].preferences
    report = _connection_report()
    type(prefs).draw(type("Prefs", (), {"layout": _LayoutRecorder(calls, problems), "bl_rna": prefs.bl_rna, **{
        name: getattr(prefs, name) for name in prefs.bl_rna.properties.keys() if name != "rna_type"}})(), ctx)
    return {"calls": calls, "problems": problems, "checks_drawn": len(report.checks)}


def cmd_format_problems() -> dict[str, Any]:
    """What the add-on finds this Blender cannot import, by a task's file format."""
    importer = _mod("importer")
    found = {f: importer.format_problem(f) for f in ("glb", "gltf", "obj", "usdz", "usd")}
    return {"problems": {f: None if p is None else p.user_message() for f, p in found.items()},
            "usd_built": bool(getattr(bpy.app.build_options, "usd", False))}


def cmd_default_tls(ca_path: str, port: int) -> dict[str, Any]:
    """This Blender's Python, and whether its default TLS context (strict on Python 3.13)
    accepts the server's certificate with ``ca_path`` as the only CA: "ok" or OpenSSL's reason."""
    import socket
    import ssl

    context = ssl.create_default_context(cafile=ca_path)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            with context.wrap_socket(sock, server_hostname="127.0.0.1"):
                result = "ok"
    except ssl.SSLCertVerificationError as exc:
        result = str(exc.verify_message)
    return {"python": list(sys.version_info[:2]), "strict": bool(context.verify_flags & ssl.VERIFY_X509_STRICT),
            "result": result}


def cmd_list_columns() -> dict[str, Any]:
    """The Tasks list's columns: the widest text each can show, measured with Blender's UI font
    at scale 1 (11 pt: 20 px a UI unit), and the columns chosen for rows of every width.

    The bpy wheels carry no CJK font: a wide character is counted as one em (11 px), as Blender's
    CJK fallback font draws it."""
    import blf

    browser = _mod("ui.browser")
    zh = addon_module("blender.i18n.zh_hans").CATALOG
    points = 11

    def px(text: str) -> float:
        wide = [ch for ch in text if ord(ch) >= 0x2E80]
        narrow = "".join(ch for ch in text if ord(ch) < 0x2E80)
        if bpy.app.version >= (4, 0, 0):
            blf.size(0, points)
        else:
            blf.size(0, points, 72)
        return blf.dimensions(0, narrow)[0] + len(wide) * points

    hours = [browser.i18n.iface("{n} h").format(n=n) for n in (23, 47)]
    samples = {
        "id": [browser.short_id("cgt-20251124053107-uavwo"), browser.short_id("cgt-20251124235959-mmmmm")],
        "format": ["USDZ", "GLB", "OBJ"],
        "age": [browser.age_text(s) for s in (59 * 60, 47 * 3600, 6 * 86400)]
        + [zh[t].format(n=n) for t, n in (("{n} min", 59), ("{n} h", 47), ("{n} d", 6))],
        "link": hours + [zh["{n} h"].format(n=n) for n in (23, 47)],
        "library": [""],
    }
    icons = {"id": True, "format": False, "age": False, "link": True, "library": True}
    rows = [w / 2 for w in range(8, 81)]  # 4 to 40 UI units
    return {
        "units": dict(browser.COLUMN_UNITS),
        "chrome": browser.LIST_CHROME_UNITS,
        "texts": {col: [[t, px(t)] for t in texts] for col, texts in samples.items()},
        "icons": icons,
        "rows": [[w, browser.list_columns(w)] for w in rows],
    }


def cmd_prepare_old_task(task_id: str, zip_path: str, days: float) -> dict[str, Any]:
    """A result Ark no longer lists (``days`` old), put in the library as the add-on keeps one."""
    lib = library()
    archive = addon_module("core.archive")
    created = int(time.time() - days * 86400)
    lib.save_task({"id": task_id, "model": "doubao-seed3d-1-0-250928", "status": "succeeded",
                       "created_at": created, "updated_at": created + 240, "fileformat": "obj",
                       "subdivisionlevel": "medium", "content": {"file_url": "https://example.invalid/expired.zip"}})
    files = lib.files_dir(task_id)
    archive.safe_extract(Path(zip_path), files)
    model = archive.choose_model(archive.find_models(files), "pbr", root=files)
    lib.mark_extracted(task_id, model.path)
    return {"model": str(model.path)}


def cmd_cursor(location: list[float]) -> dict[str, Any]:
    bpy.context.scene.cursor.location = Vector(location)
    return {"cursor": list(bpy.context.scene.cursor.location)}


def cmd_scene() -> dict[str, Any]:
    return scene_facts()


COMMANDS = {**bpy_session.COMMANDS, **commands_of(globals())}

if __name__ == "__main__":
    sys.exit(serve(COMMANDS))
