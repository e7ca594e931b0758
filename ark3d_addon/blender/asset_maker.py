"""The background Blender's side of the visual library: one task's picture and asset file.

Runs in its own Blender process (``blender --background --factory-startup --python-expr``,
or ``python -c`` where Blender is the ``bpy`` module), never in the user's: importing a model
and rendering it take seconds that the user's main thread must not lose.  :data:`BOOT` loads
this package from its folder under a private name (an extension's ``bl_ext.…`` name does not
exist in a factory-startup Blender) and calls :func:`main`.

For one task it makes what :mod:`..core.assets` says is missing:

- ``input_preview.png``: the input image scaled to :data:`THUMB_SIZE`;
- ``preview.png``: the model rendered by Cycles on the CPU (every build has it, a GPU may be
  absent), :data:`PREVIEW_SIZE` pixels, :data:`SAMPLES` samples, denoised only where the build
  has OpenImageDenoise;
- ``asset.blend``: the model's collection marked as an asset, with that picture, the task's
  description, tags and catalog.  The collection alone is written (``bpy.data.libraries.write``:
  no screens or workspaces), except in the Blenders where that drops ID previews
  (:data:`PARTIAL_WRITE_DROPS_PREVIEWS`), where the whole file is saved.  Textures stay files,
  referenced by relative paths: the result's own (OBJ, glTF), or, for images a model embeds
  (GLB, FBX), written once into the task folder's ``textures/``, the asset's own, in the bytes
  the model embeds (a JPEG stays a JPEG).  The result itself stays as Ark sent it (a GLB is the
  user's ``.glb``).  The asset file holds meshes and materials.
"""

import math
import os
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import bpy
from mathutils import Vector

from ..core import assets
from ..core.archive import MODEL_EXTENSIONS
from ..core.chain import load_chain
from ..core.errors import ArkError
from ..core.library import Library
from .image_source import has_denoiser, png_output
from .importer import import_model, world_bounds
from .options import ImportOptions

#: Side of the model's picture in pixels (Blender's own asset previews are 256).
PREVIEW_SIZE = 256
#: Longest side of the input image's small copy.
THUMB_SIZE = 128
#: Cycles samples for the picture: a small image, quick on a CPU.
SAMPLES = 16
#: The model is seen from the front right, a little from above (Blender's -Y is the front).
VIEW_DIRECTION = Vector((1.0, -1.4, 0.9)).normalized()
CAMERA_LENS = 50.0

#: The console line of a bug (its traceback follows), which the add-on then shows whole.
INTERNAL_ERROR = "ark3d: internal error making the asset of"
ERROR_FILE_HINT = "the reason is in its folder's asset_error.txt"

#: Loads the package from the folder given as the first argument after ``--`` and runs :func:`main`.
BOOT = (
    "import importlib.util, os, sys\n"
    "args = sys.argv[sys.argv.index('--') + 1:]\n"
    "spec = importlib.util.spec_from_file_location('ark3d_background', os.path.join(args[0], '__init__' + '.py'),"
    " submodule_search_locations=[args[0]])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "sys.modules['ark3d_background'] = module\n"
    "spec.loader.exec_module(module)\n"
    "from ark3d_background.blender import asset_maker\n"
    "sys.exit(asset_maker.main(args[1:]))\n"
)


def command(package_dir: Path, library_root: Path, task_ids: list[str]) -> list[str]:
    """The background process's command line, for this Blender (an application or the ``bpy`` module)."""
    tail = ["--", str(package_dir), str(library_root), *task_ids]
    if bpy.app.binary_path:
        return [bpy.app.binary_path, "--background", "--factory-startup", "--python-exit-code", "1",
                "--python-expr", BOOT, *tail]
    return [sys.executable, "-c", BOOT, *tail]


def main(args: list[str]) -> int:
    """Make what is missing for each task given; 1 if any failed (each failure is kept in its folder)."""
    library = Library(Path(args[0]))
    failed = 0
    for task_id in args[1:]:
        started = time.monotonic()
        try:
            if assets.needs_input_preview(library, task_id):
                make_input_preview(library, task_id)
            if assets.needs_asset(library, task_id):
                make_asset(library, task_id)
        except Exception as exc:
            if isinstance(exc, ArkError):  # the result's own problem (a format this Blender cannot import)
                print(f"ark3d: no asset for {task_id} ({exc.code}): {ERROR_FILE_HINT}", flush=True)
            else:  # a bug: its traceback
                print(f"{INTERNAL_ERROR} {task_id}", flush=True)
                traceback.print_exc()
            failed += 1
            folder = library.task_dir(task_id)
            if folder.is_dir():
                (folder / assets.ERROR_FILE).write_text(f"{type(exc).__name__}: {exc}\n", encoding="utf-8")
            continue
        print(f"ark3d: assets of {task_id} made in {time.monotonic() - started:.2f} s", flush=True)
    assets.write_catalogs(library)
    return 1 if failed else 0


def make_input_preview(library: Library, task_id: str) -> None:
    source = assets.input_image(library, task_id)
    assert source is not None
    image = bpy.data.images.load(str(source))
    width, height = image.size
    scale = THUMB_SIZE / max(width, height, 1)
    if scale < 1.0:
        image.scale(max(1, round(width * scale)), max(1, round(height * scale)))
    _save_png(image, library.task_dir(task_id) / assets.INPUT_PREVIEW)
    bpy.data.images.remove(image)


def _save_png(image: bpy.types.Image, path: Path) -> None:
    """Save ``image`` as a PNG beside ``path`` first, then move it there (readers never see half a file)."""
    tmp = path.with_name(".tmp-" + path.name)
    image.filepath_raw = str(tmp)
    image.file_format = "PNG"
    image.save()
    tmp.replace(path)


def make_asset(library: Library, task_id: str) -> None:
    model = library.extracted_model(task_id)
    if model is None:
        raise RuntimeError(f"the library has no model file for {task_id}")  # kept in asset_error.txt
    bpy.ops.wm.read_factory_settings(use_empty=True)
    context = bpy.context
    fmt = MODEL_EXTENSIONS.get(model.suffix.lower(), (model.suffix.lower().lstrip("."), 0))[0]
    summary = import_model(context, task_id, model, fmt, ImportOptions(origin_to_base=True), images_as_files=True)
    scene = context.scene
    assert scene is not None  # the factory scene
    collection = bpy.data.collections[summary.collection]
    folder = library.task_dir(task_id)
    picture = folder / assets.PREVIEW_FILE
    staging = [bpy.data.objects.new("ark3d preview camera", bpy.data.cameras.new("ark3d preview camera"))]
    render_preview(scene, collection, picture, staging)
    for obj in staging:
        data = obj.data
        bpy.data.objects.remove(obj)
        if isinstance(data, bpy.types.Camera):
            bpy.data.cameras.remove(data)
        elif isinstance(data, bpy.types.Light):
            bpy.data.lights.remove(data)

    info = assets.AssetInfo.from_task(task_id, library.load_task(task_id), load_chain(library, task_id))
    collection.asset_mark()
    asset_data: Any = collection.asset_data
    asset_data.description = info.description
    asset_data.catalog_id = info.catalog_id
    if hasattr(asset_data, "author"):
        asset_data.author = "Ark 3D"
    for tag in info.tags:
        asset_data.tags.new(tag, skip_if_exists=True)
    _set_preview(collection, picture)
    _save(folder / assets.ASSET_FILE, collection)


def render_preview(scene: bpy.types.Scene, collection: bpy.types.Collection, out: Path,
                   staging: list[bpy.types.Object]) -> None:
    """Frame the collection from :data:`VIEW_DIRECTION` and render it with Cycles on the CPU.

    ``staging[0]`` is the camera; the light made here is added to ``staging`` (the caller removes them).
    """
    _frame(scene, collection, staging[0])
    staging.append(_light_and_world(scene))
    _cycles_on_the_cpu(scene)
    render = scene.render
    render.resolution_x = render.resolution_y = PREVIEW_SIZE
    render.resolution_percentage = 100
    render.film_transparent = True
    render.filepath = str(out.with_name(".tmp-" + out.name))
    render.use_file_extension = False
    # lossless either way: a sixth smaller than Blender's default 15, for no visible time
    with png_output(scene, compression=100):
        bpy.ops.render.render(write_still=True)
    Path(render.filepath).replace(out)


def _frame(scene: bpy.types.Scene, collection: bpy.types.Collection, camera: bpy.types.Object) -> None:
    """The camera looking at the collection's meshes from :data:`VIEW_DIRECTION`, all of them in view."""
    meshes = [obj for obj in collection.all_objects if obj.type == "MESH"]
    lo, hi = world_bounds(meshes) if meshes else ([-1.0] * 3, [1.0] * 3)
    low, high = Vector(lo), Vector(hi)
    centre = (low + high) / 2
    radius = max((high - low).length / 2, 1e-3)
    scene.collection.objects.link(camera)
    camera_data = camera.data
    assert isinstance(camera_data, bpy.types.Camera)
    camera_data.lens = CAMERA_LENS
    fov = 2 * math.atan(camera_data.sensor_width / (2 * CAMERA_LENS))
    distance = radius / math.sin(fov / 2) * 1.05
    camera.location = centre + VIEW_DIRECTION * distance
    camera.rotation_euler = (-VIEW_DIRECTION).to_track_quat("-Z", "Y").to_euler()
    camera_data.clip_start = max(distance - radius * 2, 1e-3) / 2
    camera_data.clip_end = distance + radius * 2
    scene.camera = camera


def _light_and_world(scene: bpy.types.Scene) -> bpy.types.Object:
    """A sun and a soft grey world; returns the sun (to be removed after)."""
    sun = bpy.data.objects.new("ark3d preview light", bpy.data.lights.new("ark3d preview light", "SUN"))
    sun_data: Any = sun.data
    sun_data.energy = 3.0
    sun.rotation_euler = (math.radians(40), math.radians(10), math.radians(30))
    scene.collection.objects.link(sun)
    world = bpy.data.worlds.new("ark3d preview world")
    world.color = (0.6, 0.6, 0.6)
    scene.world = world
    world.use_nodes = True
    background = world.node_tree.nodes.get("Background") if world.node_tree else None
    if background is not None:
        inputs: Any = background.inputs
        inputs[0].default_value = (0.55, 0.55, 0.58, 1.0)
        inputs[1].default_value = 1.0
    return sun


def _cycles_on_the_cpu(scene: bpy.types.Scene) -> None:
    """Cycles on the CPU (every build has it), :data:`SAMPLES` samples, one core left to the user's Blender."""
    render: Any = scene.render
    render.engine = "CYCLES"
    scene_any: Any = scene  # scene.cycles is the Cycles add-on's: the stubs know it not
    cycles = scene_any.cycles
    cycles.device = "CPU"
    cores = os.cpu_count() or 1
    if cores > 1:  # (the process also runs below the user's Blender's priority)
        render.threads_mode = "FIXED"
        render.threads = cores - 1
    cycles.samples = SAMPLES
    if hasattr(cycles, "use_adaptive_sampling"):
        cycles.use_adaptive_sampling = False
    cycles.use_denoising = has_denoiser()
    if hasattr(cycles, "denoiser") and cycles.use_denoising:
        cycles.denoiser = "OPENIMAGEDENOISE"


def _set_preview(collection: bpy.types.Collection, picture: Path) -> None:
    """The rendered picture as the asset's preview (the Asset Browser's thumbnail)."""
    image = bpy.data.images.load(str(picture))
    width, height = image.size
    pixels = [0.0] * (width * height * 4)
    image_pixels: Any = image.pixels
    image_pixels.foreach_get(pixels)
    preview: Any = collection.preview_ensure()
    preview.image_size = (width, height)
    preview.image_pixels_float.foreach_set(pixels)
    bpy.data.images.remove(image)


#: Blenders whose ``bpy.data.libraries.write`` drops ID previews (measured by writing a collection
#: and reading it back): there the asset is saved as a whole file, screens and workspaces too.
PARTIAL_WRITE_DROPS_PREVIEWS = ((5, 0), (5, 1))


def _save(path: Path, collection: bpy.types.Collection) -> None:
    """Save the asset: its packed textures as files beside it first, paths relative.

    The collection alone (``bpy.data.libraries.write``: it and what it uses, not the screens and
    workspaces a whole file carries) where that keeps its preview, else the whole file.
    """
    tmp = path.with_name(".tmp-" + path.name)
    # A first save makes "//" the task's folder: the textures go to //textures/ and paths become
    # relative to it.  Unpacking writes the bytes as they were packed (a JPEG stays a JPEG).
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp), compress=True, relative_remap=True)
    embedded = any(image.packed_file is not None for image in bpy.data.images)
    if embedded:
        bpy.ops.file.unpack_all(method="WRITE_LOCAL")
    bpy.ops.file.make_paths_relative()
    if bpy.app.version[:2] in PARTIAL_WRITE_DROPS_PREVIEWS:
        bpy.ops.wm.save_as_mainfile(filepath=str(tmp), compress=True, relative_remap=True)
    else:
        bpy.data.libraries.write(str(tmp), {collection}, path_remap="RELATIVE_ALL", fake_user=True, compress=True)
    tmp.with_name(tmp.name + "1").unlink(missing_ok=True)  # Blender's backup of the first save
    tmp.replace(path)
    if not embedded:  # a model whose images are files (OBJ, glTF) needs no copies: those of an earlier result go
        shutil.rmtree(path.parent / "textures", ignore_errors=True)
