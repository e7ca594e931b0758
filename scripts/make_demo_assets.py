"""Build Ark-like results with real Blender, for the demo server and the import tests.

Why real Blender: the importer must cope with what Blender's own exporters (and so, very
likely, the services' pipeline tools) write -- embedded GLB images, OBJ+MTL with relative texture
paths, USDZ with packed textures, FBX with embedded textures, binary STL -- and hand-made
fixtures would only prove we can read our own guesses.  The Seed3D zips copy what is known or
feared about real results (Ark's API reference): two GLB variants side by side (``pbr``/``rgb``),
extra files, nested texture folders, and folder names in GBK without the zip UTF-8 flag, as
Chinese Windows tools write them.  Hyper3D's and Hitem3D's results seen in public were bare model
files, not zips, so ``hyper3d_fbx.fbx`` and ``hitem3d_stl.stl`` are bare files too (how those
two services pack FBX and STL was never seen).  ``video_last_frame.png`` stands in for a video
task's last frame.

Run with the bpy venv::

    .venv/bin/python scripts/make_demo_assets.py OUT_DIR [--force]

Outputs are reused when newer than this script; ``--force`` rebuilds them.
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
import sys
import tempfile
import zipfile

import numpy as np

# isort: off
import bpy  # first: importing bpy is what makes bmesh and mathutils importable
import bmesh
from mathutils import Matrix, Vector
# isort: on

NAME = "mushroom"
GBK_NAME = "蘑菇"  # "mushroom"
OUTPUTS = ("seed3d_glb.zip", "seed3d_obj.zip", "seed3d_usdz.zip", "seed3d_gbk.zip", "hyper3d_fbx.fbx",
           "hitem3d_stl.stl", "video_last_frame.png")
#: Fixed member timestamps, so rebuilding gives byte-identical zip headers.
ZIP_DATE = (2025, 11, 24, 12, 0, 0)
TEXTURE_SIZE = 512
PREVIEW_SIZE = 256

# Shape, in metres: a stem with a flattened ellipsoid cap on top.
STEM_TOP = 1.1
CAP_CENTRE_Z = 1.25
CAP_RADIUS = 1.0
CAP_HALF_HEIGHT = 0.55
MODEL_TOP = CAP_CENTRE_Z + CAP_HALF_HEIGHT

CREAM = np.array([0.93, 0.86, 0.72])
RED = np.array([0.78, 0.09, 0.06])
WHITE = np.array([0.97, 0.96, 0.93])


class _LegacyNameZipInfo(zipfile.ZipInfo):
    """A member whose name is stored in GBK with the UTF-8 flag clear.

    zipfile itself writes any non-ASCII name as UTF-8 and sets flag 0x800, so the only way to
    reproduce what Chinese Windows tools write is to take over the name encoding here.
    """

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # zipfile's name
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def albedo_pixels() -> np.ndarray:
    """The colour texture, as RGBA floats with row 0 at the bottom (Blender's pixel order).

    The model's UVs are a cylindrical projection (u = angle, v = height), so rows map to
    heights: cream stem and gills below ``STEM_TOP``, a red cap with white spots above.
    """
    size = TEXTURE_SIZE
    u = np.linspace(0.0, 1.0, size)[None, :, None]
    v = np.linspace(0.0, 1.0, size)[:, None, None]
    stem_v = STEM_TOP / MODEL_TOP
    stem = CREAM * (0.92 + 0.08 * np.sin(u * 2 * math.pi * 24))
    cap = RED * (0.7 + 0.3 * np.clip((v - stem_v) / (1 - stem_v), 0, 1))
    rgb = np.where(v < stem_v, stem, cap)
    rng = np.random.default_rng(7)
    spots = zip(rng.uniform(0, 1, 14), rng.uniform(stem_v + 0.08, 0.9, 14), rng.uniform(0.025, 0.05, 14), strict=True)
    for cu, cv, radius in spots:
        du = np.minimum(abs(u - cu), 1 - abs(u - cu))  # the texture wraps around in u
        rgb = np.where(du**2 + (v - cv) ** 2 < radius**2, WHITE, rgb)
    rgb = np.broadcast_to(rgb, (size, size, 3))
    return np.concatenate([rgb, np.ones((size, size, 1))], axis=2).astype(np.float32)


def baked_pixels(albedo: np.ndarray) -> np.ndarray:
    """The "rgb" variant's texture: the albedo with soft top-down lighting baked in."""
    shade = np.linspace(0.55, 1.0, albedo.shape[0], dtype=np.float32)[:, None, None]
    baked = albedo.copy()
    baked[..., :3] *= shade
    return baked


def make_image(name: str, pixels: np.ndarray, path: pathlib.Path) -> bpy.types.Image:
    """A Blender image filled from ``pixels`` and saved as PNG at ``path``."""
    height, width = pixels.shape[:2]
    image = bpy.data.images.new(name, width, height, alpha=False)
    image.pixels.foreach_set(pixels.ravel())
    save_image(image, path)
    return image


def save_image(image: bpy.types.Image, path: pathlib.Path) -> None:
    """Write the image to ``path`` and point it there, as exporters reference its file path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image.filepath_raw = str(path)
    image.file_format = "PNG"
    image.save()


def build_mesh(name: str) -> bpy.types.Object:
    """The mushroom: a subdivided cone stem and a 96x48 flattened sphere cap (~5k faces)."""
    bm = bmesh.new()
    bmesh.ops.create_cone(bm, cap_ends=True, cap_tris=False, segments=48, radius1=0.32, radius2=0.26,
                          depth=STEM_TOP, matrix=Matrix.Translation((0, 0, STEM_TOP / 2)))
    vertical = [e for e in bm.edges if abs(e.verts[0].co.z - e.verts[1].co.z) > 1e-6]
    bmesh.ops.subdivide_edges(bm, edges=vertical, cuts=6, use_grid_fill=True)
    cap_matrix = Matrix.Translation((0, 0, CAP_CENTRE_Z)) @ Matrix.Diagonal((1, 1, CAP_HALF_HEIGHT / CAP_RADIUS, 1))
    bmesh.ops.create_uvsphere(bm, u_segments=96, v_segments=48, radius=CAP_RADIUS, matrix=cap_matrix)

    uv_layer = bm.loops.layers.uv.new("UVMap")
    for face in bm.faces:
        face.smooth = True
        coords = [loop.vert.co for loop in face.loops]
        us = [math.atan2(c.y, c.x) / (2 * math.pi) + 0.5 for c in coords]
        if max(us) - min(us) > 0.5:  # the face straddles the seam: keep it on one side
            us = [x + 1 if x < 0.5 else x for x in us]
        off_axis = [x for x, c in zip(us, coords, strict=True) if math.hypot(c.x, c.y) > 1e-6]
        centre_u = sum(off_axis) / len(off_axis) if off_axis else 0.5
        for loop, x, c in zip(face.loops, us, coords, strict=True):
            on_axis = math.hypot(c.x, c.y) <= 1e-6  # poles have no angle of their own
            loop[uv_layer].uv = (centre_u if on_axis else x, min(max(c.z / MODEL_TOP, 0.0), 1.0))

    mesh = bpy.data.meshes.new(name)
    bm.to_mesh(mesh)
    bm.free()
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    return obj


def textured_material(name: str, image: bpy.types.Image, *, roughness: float, metallic: float) -> bpy.types.Material:
    """A Principled BSDF with ``image`` as Base Color."""
    material = bpy.data.materials.new(name)
    if material.node_tree is None:  # before 5.0 a new material has no nodes (5.2 deprecates use_nodes)
        material.use_nodes = True
    nodes = material.node_tree.nodes
    bsdf = nodes["Principled BSDF"]
    texture = nodes.new("ShaderNodeTexImage")
    texture.image = image
    material.node_tree.links.new(texture.outputs["Color"], bsdf.inputs["Base Color"])
    bsdf.inputs["Roughness"].default_value = roughness
    bsdf.inputs["Metallic"].default_value = metallic
    return material


def render_preview(path: pathlib.Path) -> None:
    """A small Cycles render (CPU, so it works headless), then remove the camera and light."""
    scene = bpy.context.scene
    camera = bpy.data.objects.new("PreviewCamera", bpy.data.cameras.new("PreviewCamera"))
    camera.location = (3.4, -3.4, 2.8)
    camera.rotation_euler = (Vector((0, 0, 0.9)) - camera.location).to_track_quat("-Z", "Y").to_euler()
    sun = bpy.data.objects.new("PreviewSun", bpy.data.lights.new("PreviewSun", "SUN"))
    sun.rotation_euler = (0.7, 0.2, 0.6)
    sun.data.energy = 3.0
    for obj in (camera, sun):
        scene.collection.objects.link(obj)
    scene.camera = camera
    scene.world = bpy.data.worlds.new("PreviewWorld")
    scene.world.color = (0.35, 0.38, 0.42)
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 16
    scene.render.resolution_x = scene.render.resolution_y = PREVIEW_SIZE
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = True
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    for obj in (camera, sun):
        bpy.data.objects.remove(obj)


def export_glb(path: pathlib.Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.export_scene.gltf(filepath=str(path), export_format="GLB", use_selection=False,
                              export_materials="EXPORT", export_image_format="AUTO", export_yup=True,
                              export_animations=False, export_cameras=False, export_lights=False)


def export_obj(root: pathlib.Path, name: str, albedo: bpy.types.Image) -> list[pathlib.Path]:
    """``<name>/<name>.obj`` + ``.mtl`` + ``textures/<name>_albedo.png``, with a relative map_Kd."""
    folder = root / name
    texture = folder / "textures" / f"{name}_albedo.png"
    save_image(albedo, texture)
    obj_path = folder / f"{name}.obj"
    bpy.ops.wm.obj_export(filepath=str(obj_path), export_selected_objects=False, export_materials=True,
                          export_normals=True, export_uv=True, path_mode="RELATIVE")
    mtl_path = folder / f"{name}.mtl"
    expected = f"map_Kd textures/{name}_albedo.png"
    if expected not in mtl_path.read_text(encoding="utf-8"):
        raise RuntimeError(f"{mtl_path} does not reference its texture as {expected!r}")
    return [obj_path, mtl_path, texture]


def usd_texture_export() -> dict[str, object]:
    """The ``wm.usd_export`` keyword that exports textures, as this Blender's operator names it.

    4.2 has the switch ``export_textures``; 4.5 added the mode ``export_textures_mode`` ("NEW":
    write the images out) beside it, and 5.0 dropped the switch.  Asking the operator for its
    properties keeps this right on any Blender, whichever release renames it next.
    """
    properties = bpy.ops.wm.usd_export.get_rna_type().properties
    if "export_textures_mode" in properties:
        return {"export_textures_mode": "NEW"}
    if "export_textures" in properties:
        return {"export_textures": True}
    raise RuntimeError("wm.usd_export has neither export_textures_mode nor export_textures: "
                       f"cannot export textures with Blender {bpy.app.version_string}")


def export_usdz(path: pathlib.Path) -> None:
    """USDZ with its textures packed inside (checked: a usdz is itself a zip)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.usd_export(filepath=str(path), selected_objects_only=False, export_materials=True,
                          generate_preview_surface=True, export_animation=False, export_lights=False,
                          export_cameras=False, **usd_texture_export())
    with zipfile.ZipFile(path) as usdz:
        if not any(n.lower().endswith(".png") for n in usdz.namelist()):
            raise RuntimeError(f"{path} holds no texture")


def export_fbx(path: pathlib.Path) -> None:
    """FBX with its textures embedded, so the one file is the whole result (checked)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.export_scene.fbx(filepath=str(path), use_selection=False, object_types={"MESH"},
                             path_mode="COPY", embed_textures=True, bake_anim=False)
    if b"\x89PNG" not in path.read_bytes():
        raise RuntimeError(f"{path} holds no embedded texture")


def export_stl(path: pathlib.Path) -> None:
    """Binary STL: geometry only, as a 3D printing format carries (``wm.stl_export``, Blender 4.2+)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.stl_export(filepath=str(path), export_selected_objects=False, ascii_format=False)


def publish(source: pathlib.Path, target: pathlib.Path) -> None:
    """Copy a finished file into the output folder under a temporary name, then rename."""
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(source.read_bytes())
    partial.replace(target)


def write_zip(target: pathlib.Path, root: pathlib.Path, files: list[pathlib.Path], *, legacy_gbk: bool = False) -> None:
    """Zip ``files`` under names relative to ``root``; write to a temporary name, then rename.

    With ``legacy_gbk`` the names are GBK without the UTF-8 flag, and folder entries are
    included, as Windows' own zip tools write them.
    """
    info_type = _LegacyNameZipInfo if legacy_gbk else zipfile.ZipInfo
    names = [f.relative_to(root).as_posix() for f in files]
    folders = sorted({"/".join(n.split("/")[:i]) + "/" for n in names for i in range(1, n.count("/") + 1)})
    partial = target.with_name(target.name + ".part")
    with zipfile.ZipFile(partial, "w") as archive:
        for folder in folders if legacy_gbk else []:
            info = info_type(folder, date_time=ZIP_DATE)
            info.external_attr = 0o40755 << 16 | 0x10
            archive.writestr(info, b"")
        for name, file in zip(names, files, strict=True):
            info = info_type(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, file.read_bytes())
    partial.replace(target)


def build(out_dir: pathlib.Path) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    with tempfile.TemporaryDirectory(prefix="ark3d-assets-") as temp:
        stage = pathlib.Path(temp)
        albedo_data = albedo_pixels()
        albedo = make_image(f"{NAME}_albedo", albedo_data, stage / "images" / f"{NAME}_albedo.png")
        baked = make_image(f"{NAME}_baked", baked_pixels(albedo_data), stage / "images" / f"{NAME}_baked.png")
        pbr = textured_material(f"{NAME}_pbr", albedo, roughness=0.45, metallic=0.1)
        rgb = textured_material(f"{NAME}_rgb", baked, roughness=1.0, metallic=0.0)
        obj = build_mesh(NAME)
        obj.data.materials.append(pbr)

        glb_root = stage / "glb"
        preview = glb_root / NAME / "preview.png"
        render_preview(preview)
        pbr_glb = glb_root / NAME / "pbr" / f"{NAME}.glb"
        export_glb(pbr_glb)
        obj.data.materials[0] = rgb
        rgb_glb = glb_root / NAME / "rgb" / f"{NAME}.glb"
        export_glb(rgb_glb)
        obj.data.materials[0] = pbr
        write_zip(out_dir / "seed3d_glb.zip", glb_root, [pbr_glb, rgb_glb, preview])

        obj_root = stage / "obj"
        write_zip(out_dir / "seed3d_obj.zip", obj_root, export_obj(obj_root, NAME, albedo))

        usdz_root = stage / "usdz"
        usdz = usdz_root / NAME / f"{NAME}.usdz"
        export_usdz(usdz)
        write_zip(out_dir / "seed3d_usdz.zip", usdz_root, [usdz])

        gbk_root = stage / "gbk"
        write_zip(out_dir / "seed3d_gbk.zip", gbk_root, export_obj(gbk_root, GBK_NAME, albedo), legacy_gbk=True)

        fbx = stage / "fbx" / f"{NAME}.fbx"
        export_fbx(fbx)
        publish(fbx, out_dir / "hyper3d_fbx.fbx")
        stl = stage / "stl" / f"{NAME}.stl"
        export_stl(stl)
        publish(stl, out_dir / "hitem3d_stl.stl")
        publish(preview, out_dir / "video_last_frame.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=pathlib.Path)
    parser.add_argument("--force", action="store_true", help="rebuild even if the outputs are up to date")
    args = parser.parse_args(argv)
    out_dir: pathlib.Path = args.out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = [out_dir / name for name in OUTPUTS]
    script_time = pathlib.Path(__file__).stat().st_mtime
    if args.force or not all(p.is_file() and p.stat().st_mtime > script_time for p in outputs):
        build(out_dir)
    for path in outputs:
        print(f"{path}\t{path.stat().st_size}")
    return 0


if __name__ == "__main__":
    status = main()
    # Leave without Blender's exit teardown: bpy 4.2's crashes there (SIGSEGV, exit 139) after any
    # glTF export, when every file is already written.  Nothing of this run needs tearing down.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
