"""Model files into the scene: the importer for the format, then collection, tag, place, select.

Runs on the main thread only.  Each import gets a new collection named after the task id in
the current scene; every object it made carries ``ark3d_task_id`` (so scripts can find them),
the result is moved to the 3D cursor, selected and active.  The calling operator has the
``UNDO`` option, so the nested importer pushes no step of its own and one undo removes it all.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bpy
from mathutils import Vector

from ..core.errors import ArkError

TASK_PROPERTY = "ark3d_task_id"

#: format -> (operator idname, keyword arguments)
_IMPORTERS: dict[str, tuple[str, dict[str, Any]]] = {
    "gltf": ("import_scene.gltf", {}),
    "obj": ("wm.obj_import", {}),
    "usd": ("wm.usd_import", {}),
}


@dataclass(frozen=True)
class ImportSummary:
    collection: str
    objects: int
    meshes: int
    faces: int
    materials: int
    images: int
    dimensions: tuple[float, float, float]

    def text(self) -> str:
        x, y, z = self.dimensions
        return (
            f"{self.objects} objects, {self.faces:,} faces, {self.materials} materials, "
            f"{self.images} textures, {x:.2f} x {y:.2f} x {z:.2f} m"
        )


#: A ``bpy.ops`` operator, called with keyword arguments; returns its result set.
_Op = Callable[..., set[str]]


def _operator(idname: str) -> _Op | None:
    module, name = idname.split(".")
    op = getattr(getattr(bpy.ops, module), name)
    try:
        op.get_rna_type()
    except KeyError:
        return None
    return op


def _find_operator(fmt: str, path: Path) -> tuple[_Op, dict[str, Any]]:
    idname, kwargs = _IMPORTERS[fmt]
    op = _operator(idname)
    if op is None and fmt == "gltf":
        import addon_utils  # Blender's own module: turns on the bundled glTF add-on

        addon_utils.enable("io_scene_gltf2", default_set=False)
        op = _operator(idname)
    if op is None:
        raise ArkError(
            f"This Blender cannot import {path.suffix} files ({idname} is missing)",
            code="NoImporter",
            hint="Use a Blender with that importer, or create the task with another file format",
        )
    return op, kwargs


def _layer_collection(
    root: bpy.types.LayerCollection, coll: bpy.types.Collection
) -> bpy.types.LayerCollection | None:
    if root.collection == coll:
        return root
    for child in root.children:
        found = _layer_collection(child, coll)
        if found is not None:
            return found
    return None


def import_model(context: bpy.types.Context, task_id: str, model_path: Path, fmt: str) -> ImportSummary:
    """Import one model file for ``task_id``; on failure nothing it made is left behind."""
    op, kwargs = _find_operator(fmt, model_path)
    scene = context.scene
    view_layer = context.view_layer
    if scene is None or view_layer is None:
        raise ArkError(
            "There is no scene to import into",
            code="NoScene",
            hint="Open a scene (or a new file) and import again",
        )
    collection = bpy.data.collections.new(task_id)
    scene.collection.children.link(collection)
    previous_active = view_layer.active_layer_collection
    layer = _layer_collection(view_layer.layer_collection, collection)
    if layer is not None:
        view_layer.active_layer_collection = layer

    before_objects = set(bpy.data.objects)
    before_materials = set(bpy.data.materials)
    before_images = set(bpy.data.images)
    try:
        result = op(filepath=str(model_path), **kwargs)
        if "FINISHED" not in result:
            raise RuntimeError(f"the importer returned {sorted(result)}")
    except RuntimeError as exc:
        for obj in [o for o in bpy.data.objects if o not in before_objects]:
            bpy.data.objects.remove(obj)
        bpy.data.collections.remove(collection)
        reason = str(exc).strip()
        raise ArkError(
            f"Blender could not import {model_path.name}: {reason.splitlines()[-1] if reason else exc!r}",
            code="ImportFailed",
            hint=f"The file is kept in {model_path.parent}; try opening it with File > Import",
        ) from None
    finally:
        view_layer.active_layer_collection = previous_active

    new_objects = [o for o in bpy.data.objects if o not in before_objects]
    for obj in new_objects:
        if collection not in obj.users_collection:
            collection.objects.link(obj)
        for other in list(obj.users_collection):
            if other != collection:
                other.objects.unlink(obj)
        obj[TASK_PROPERTY] = task_id

    cursor = scene.cursor.location.copy()
    roots = [o for o in new_objects if o.parent is None or o.parent not in new_objects]
    for obj in roots:
        obj.location = obj.location + cursor

    for obj in view_layer.objects:
        if obj.select_get():
            obj.select_set(False)
    for obj in new_objects:
        if obj.name in view_layer.objects:
            obj.select_set(True)
    meshes = [o for o in new_objects if o.type == "MESH"]
    active = next((o for o in roots if o.type == "MESH"), None) or (roots[0] if roots else None)
    if active is not None and active.name in view_layer.objects:
        view_layer.objects.active = active

    view_layer.update()
    return ImportSummary(
        collection=collection.name,
        objects=len(new_objects),
        meshes=len(meshes),
        faces=sum(len(o.data.polygons) for o in meshes if isinstance(o.data, bpy.types.Mesh)),
        materials=len([m for m in bpy.data.materials if m not in before_materials]),
        images=len([i for i in bpy.data.images if i not in before_images]),
        dimensions=_dimensions(meshes),
    )


def _dimensions(meshes: list[bpy.types.Object]) -> tuple[float, float, float]:
    """World-space bounding box size of all meshes together."""
    if not meshes:
        return (0.0, 0.0, 0.0)
    lo = [float("inf")] * 3
    hi = [float("-inf")] * 3
    for obj in meshes:
        for corner in obj.bound_box:
            world = obj.matrix_world @ Vector(corner)
            for i in range(3):
                lo[i] = min(lo[i], world[i])
                hi[i] = max(hi[i], world[i])
    return (hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])

