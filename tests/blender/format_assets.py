"""Small result zips in the formats other 3D models return (FBX, STL, PLY), written by Blender's
own exporters.  Run by the tests as ``python format_assets.py OUT_DIR`` with a bpy Python.

* ``fbx.zip``: ``model/cube.fbx`` (a textured cube, ``path_mode="RELATIVE"``) with its texture
  in ``model/textures/albedo.png``, as Hyper3D-style results keep textures beside the FBX;
* ``embedded.fbx``: the same cube with its texture inside the FBX, as a bare result file;
* ``stl.zip``: ``out/mesh/cube.stl`` (binary STL, nested folders);
* ``ply.zip``: ``cube.ply``;
* ``fbx_outside.fbx``: the same FBX whose texture's ``RelativeFilename`` points outside the
  folder (``../../secret.png``), patched in place (same length, so the FBX stays valid);
* ``usda_outside.usda``: a text USD layer that references ``../../../secret.usda``;
* ``usdc.usdc``: a binary (crate) USD layer with its texture in ``textures/``.

Prints one JSON line: the file names written.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import sys
import zipfile

import bpy


def textured_cube(folder: pathlib.Path) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.mesh.primitive_cube_add(size=1.0)
    obj = bpy.context.active_object
    obj.name = "cube"
    tex_dir = folder / "textures"
    tex_dir.mkdir(parents=True, exist_ok=True)
    image = bpy.data.images.new("albedo", 8, 8)
    image.pixels[:] = [0.8, 0.2, 0.1, 1.0] * 64
    image.filepath_raw = str(tex_dir / "albedo.png")
    image.file_format = "PNG"
    image.save()
    material = bpy.data.materials.new("painted")
    material.use_nodes = True
    nodes = material.node_tree.nodes
    tex = nodes.new("ShaderNodeTexImage")
    tex.image = image
    material.node_tree.links.new(tex.outputs["Color"], nodes["Principled BSDF"].inputs["Base Color"])
    obj.data.materials.append(material)


def zip_folder(target: pathlib.Path, folder: pathlib.Path, prefix: str = "") -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())


def main(out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    fbx_dir = work / "fbx"
    textured_cube(fbx_dir)
    fbx = fbx_dir / "cube.fbx"
    bpy.ops.export_scene.fbx(filepath=str(fbx), path_mode="RELATIVE", use_selection=False)
    zip_folder(out / "fbx.zip", fbx_dir, "model/")
    bpy.ops.export_scene.fbx(filepath=str(out / "embedded.fbx"), path_mode="COPY", embed_textures=True,
                             use_selection=False)

    # The texture's path, as the exporter wrote it (RelativeFilename, and the tail of FileName),
    # becomes one of the same length that climbs out of the folder: the FBX stays well-formed.
    data = fbx.read_bytes()
    rel = b"textures/albedo.png"
    assert rel in data, "the FBX exporter no longer writes the texture path as expected"
    bad = b"../../../secret.png"
    assert len(bad) == len(rel)
    (out / "fbx_outside.fbx").write_bytes(data.replace(rel, bad))

    stl_dir = work / "stl" / "out" / "mesh"
    stl_dir.mkdir(parents=True)
    bpy.ops.wm.stl_export(filepath=str(stl_dir / "cube.stl"), ascii_format=False)
    zip_folder(out / "stl.zip", work / "stl")

    ply_dir = work / "ply"
    ply_dir.mkdir(parents=True)
    bpy.ops.wm.ply_export(filepath=str(ply_dir / "cube.ply"))
    zip_folder(out / "ply.zip", ply_dir)

    usd_dir = work / "usd"
    usd_dir.mkdir(parents=True)
    bpy.ops.wm.usd_export(filepath=str(usd_dir / "layer.usda"), export_materials=True)
    bpy.ops.wm.usd_export(filepath=str(out / "usdc.usdc"), export_materials=True)
    text = (usd_dir / "layer.usda").read_text(encoding="utf-8")
    outside = '\nover "extra" (\n    references = @../../../secret.usda@\n)\n{\n}\n'
    (out / "usda_outside.usda").write_text(text + outside, encoding="utf-8")
    shutil.rmtree(work)
    print(json.dumps(sorted(p.name for p in out.iterdir())))


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
