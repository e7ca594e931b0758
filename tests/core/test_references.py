"""References a model makes to other files, per format: which of them leave the model's folder.

FBX and USD files come from Blender's own exporters (``format_assets``, built once with bpy in
a subprocess), and from a small binary FBX writer here for what no exporter writes (an empty
``RelativeFilename`` with an absolute ``FileName``, the 64-bit node layout of FBX 7.5).
"""

from __future__ import annotations

import json
import shutil
import struct
import zipfile
from pathlib import Path

import pytest

from ark3d_addon.core.references import outside_references


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


# -- a minimal binary FBX writer ---------------------------------------------------------------


def _node(name: bytes, props: list[bytes], children: list[bytes], *, wide: bool, at: int) -> bytes:
    """One node record at offset ``at``: header, string properties, children, null record."""
    head = 25 if wide else 13
    body = b"".join(b"S" + struct.pack("<I", len(p)) + p for p in props)
    nested = b""
    start = at + head + len(name) + len(body)
    for child in children:
        nested += child
    if children:
        nested += b"\0" * head
    end = start + len(nested)
    fmt = "<QQQB" if wide else "<IIIB"
    return struct.pack(fmt, end, len(props), len(body), len(name)) + name + body + nested


def fbx_file(textures: list[dict[bytes, bytes]], *, wide: bool = False) -> bytes:
    """An FBX holding ``Objects`` with one ``Texture`` node per dict of (field -> file name)."""
    magic = b"Kaydara FBX Binary  \x00\x1a\x00"
    version = 7500 if wide else 7400
    head = 25 if wide else 13
    start = len(magic) + 4
    objects_at = start
    pos = objects_at + head + len(b"Objects")
    texture_nodes = []
    for fields in textures:
        tex_pos = pos + head + len(b"Texture") + 5 + len(b"tex")
        kids = []
        for field, value in fields.items():
            kid = _node(field, [value], [], wide=wide, at=tex_pos)
            kids.append(kid)
            tex_pos += len(kid)
        node = _node(b"Texture", [b"tex"], kids, wide=wide, at=pos)
        texture_nodes.append(node)
        pos += len(node)
    objects = _node(b"Objects", [], texture_nodes, wide=wide, at=objects_at)
    return magic + struct.pack("<I", version) + objects + b"\0" * head


# -- OBJ and glTF -------------------------------------------------------------------------------


def test_obj_mtllib_and_mtl_maps_leaving_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "files"
    touch(root, "m/tex/ok.png", "m/tex/ok 2.png")
    (root / "m" / "model.obj").write_text("mtllib model.mtl\nmtllib ../../outside.mtl\nv 0 0 0\n")
    (root / "m" / "model.mtl").write_text(
        "newmtl a\n"
        "map_Kd tex/ok.png\n"
        "map_Ks -s 1 1 1 -bm 0.5 tex/ok 2.png\n"
        "map_Bump -bm 1 ../../../secret.png\n"
        "bump /etc/passwd\n"
        "map_d C:\\Windows\\x.png\n"
        "  map_Ka   -o 1 -clamp on ..\\..\\up.png\n"
    )
    assert outside_references(root / "m" / "model.obj", root) == [
        "../../outside.mtl",
        "../../../secret.png",
        "/etc/passwd",
        "C:\\Windows\\x.png",
        "..\\..\\up.png",
    ]


def test_obj_with_its_material_and_textures_inside_is_clean(tmp_path: Path) -> None:
    touch(tmp_path, "m/tex/a.png")
    (tmp_path / "m" / "a.obj").write_text("mtllib a.mtl\n")
    (tmp_path / "m" / "a.mtl").write_text("map_Kd tex/a.png\nmap_Kd ../m/tex/a.png\n")
    assert outside_references(tmp_path / "m" / "a.obj", tmp_path) == []


def test_gltf_uris_leaving_the_folder_or_naming_another_scheme(tmp_path: Path) -> None:
    doc = {
        "buffers": [
            {"uri": "data:application/octet-stream;base64,AAAA"},
            {"uri": "model.bin"},
            {"uri": "%2e%2e/%2e%2e/leak.bin"},
        ],
        "images": [
            {"uri": "tex/a%20b.png"},
            {"uri": "file:///etc/passwd"},
            {"uri": "https://evil/x.png"},
            {"bufferView": 0},
        ],
    }
    (tmp_path / "a.gltf").write_text(json.dumps(doc))
    refs = outside_references(tmp_path / "a.gltf", tmp_path)
    assert refs == ["%2e%2e/%2e%2e/leak.bin", "file:///etc/passwd", "https://evil/x.png"]
    (tmp_path / "b.glb").write_bytes(b"glTF")
    assert outside_references(tmp_path / "b.glb", tmp_path) == []


# -- FBX ---------------------------------------------------------------------------------------


def test_blenders_fbx_with_its_texture_beside_it_is_clean(format_assets: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(format_assets / "fbx.zip") as zf:
        zf.extractall(tmp_path)
    assert (tmp_path / "model" / "textures" / "albedo.png").is_file()
    assert outside_references(tmp_path / "model" / "cube.fbx", tmp_path) == []


def test_fbx_texture_climbing_out_of_the_folder_is_found(format_assets: Path, tmp_path: Path) -> None:
    shutil.copy(format_assets / "fbx_outside.fbx", tmp_path / "cube.fbx")
    assert outside_references(tmp_path / "cube.fbx", tmp_path) == ["../../../secret.png"]


def test_fbx_relative_filename_wins_over_an_absolute_filename(tmp_path: Path) -> None:
    # What exporters write: the artist's absolute path, and the path relative to the FBX, which
    # Blender's importer opens instead.
    (tmp_path / "a.fbx").write_bytes(fbx_file([{b"FileName": b"C:\\Users\\artist\\tex.png",
                                               b"RelativeFilename": b"tex.png"}]))
    assert outside_references(tmp_path / "a.fbx", tmp_path) == []


def test_fbx_absolute_filename_without_a_relative_one_is_found(tmp_path: Path) -> None:
    for wide in (False, True):
        (tmp_path / "a.fbx").write_bytes(fbx_file([{b"RelativeFilename": b"", b"FileName": b"/etc/ssl/private.png"},
                                                   {b"RelativeFilename": b"inside.png"}], wide=wide))
        assert outside_references(tmp_path / "a.fbx", tmp_path) == ["/etc/ssl/private.png"], wide


def test_fbx_leading_separators_of_a_relative_filename_are_dropped_as_blender_does(tmp_path: Path) -> None:
    (tmp_path / "a.fbx").write_bytes(fbx_file([{b"RelativeFilename": b"/textures/a.png"},
                                               {b"RelativeFilename": b"\\..\\..\\b.png"}]))
    assert outside_references(tmp_path / "a.fbx", tmp_path) == ["..\\..\\b.png"]


def test_a_damaged_or_ascii_fbx_names_nothing(tmp_path: Path) -> None:
    whole = fbx_file([{b"RelativeFilename": b"../x.png"}])
    (tmp_path / "cut.fbx").write_bytes(whole[:40])
    (tmp_path / "ascii.fbx").write_text('; FBX 7.4.0 project file\nRelativeFilename: "../x.png"\n')
    assert outside_references(tmp_path / "cut.fbx", tmp_path) == []
    assert outside_references(tmp_path / "ascii.fbx", tmp_path) == []  # Blender refuses ASCII FBX


# -- USD ---------------------------------------------------------------------------------------


def test_usda_asset_path_out_of_the_folder_is_found(format_assets: Path, tmp_path: Path) -> None:
    shutil.copy(format_assets / "usda_outside.usda", tmp_path / "a.usda")
    assert outside_references(tmp_path / "a.usda", tmp_path) == ["../../../secret.usda"]


def crate_file(tokens: list[str]) -> bytes:
    """A USD crate layer with only a token table (LZ4 block of literals), as USD 0.8 lays it out."""
    text = b"\0".join(t.encode() for t in tokens) + b"\0"
    n = len(text)
    lengths = bytes([min(n, 15) << 4]) + (b"\xff" * ((n - 15) // 255) + bytes([(n - 15) % 255]) if n >= 15 else b"")
    packed = b"\0" + lengths + text  # TfFastCompression: 0 chunks = one LZ4 block
    section = struct.pack("<QQQ", len(tokens), len(text), len(packed)) + packed
    start = 24
    toc = start + len(section)
    header = b"PXR-USDC" + bytes([0, 8, 0, 0, 0, 0, 0, 0]) + struct.pack("<q", toc)
    return header + section + struct.pack("<Q", 1) + struct.pack("<16sqq", b"TOKENS", start, len(section))


def test_usdc_crate_asset_paths_are_read_from_its_token_table(format_assets: Path, tmp_path: Path) -> None:
    shutil.copy(format_assets / "usdc.usdc", tmp_path / "a.usdc")  # Blender's, texture in ./textures
    assert outside_references(tmp_path / "a.usdc", tmp_path) == []
    names = ["asset", "inputs:file", "Blender v4.5", "/etc/passwd.png", "./ok.png", "x" * 300 + ".png",
             "../../up.usd", "C:\\Users\\a.png"]
    (tmp_path / "b.usdc").write_bytes(crate_file(names))
    assert outside_references(tmp_path / "b.usdc", tmp_path) == ["/etc/passwd.png", "../../up.usd", "C:\\Users\\a.png"]


def test_usd_text_layer_named_usd_and_a_usdz_holding_one(tmp_path: Path) -> None:
    layer = '#usda 1.0\ndef "a" (references = @@@/abs/with@sign.usd@@@)\n{\n asset f = @./tex/a.png@\n}\n'
    (tmp_path / "a.usd").write_text(layer)
    assert outside_references(tmp_path / "a.usd", tmp_path) == ["/abs/with@sign.usd"]
    with zipfile.ZipFile(tmp_path / "b.usdz", "w") as zf:
        zf.writestr("sub/b.usda", '#usda 1.0\ndef "b" { asset f = @../tex/b.png@ asset g = @../../c.png@ }\n')
    assert outside_references(tmp_path / "b.usdz", tmp_path) == ["../../c.png"]


# -- formats that name no other file ------------------------------------------------------------


def test_stl_and_ply_name_no_file(format_assets: Path, tmp_path: Path) -> None:
    for name in ("stl.zip", "ply.zip"):
        with zipfile.ZipFile(format_assets / name) as zf:
            zf.extractall(tmp_path / name)
    models = [p for p in tmp_path.rglob("*") if p.suffix in (".stl", ".ply")]
    assert len(models) == 2
    assert all(outside_references(p, tmp_path) == [] for p in models)


# -- a big OBJ, read a chunk at a time -------------------------------------------------------


_VERTICES = b"v 0.123456 0.654321 0.000001\n" * 40_000  # 1.2 MB: more than one chunk


@pytest.mark.parametrize(("text", "outside"), [
    # The line straddles the first chunk's end.
    (_VERTICES[:-7] + b"\nmtllib ../../secret.mtl\n" + _VERTICES, ["../../secret.mtl"]),
    (_VERTICES + b"MTLLIB ../up.mtl\n", ["../up.mtl"]),
    # Lines ended by \r alone, as splitlines cuts them.
    (b"v 1 2 3\rmtllib ../cr.mtl\rv 4 5 6\r" + _VERTICES, ["../cr.mtl"]),
    # One line longer than a chunk: every name on it is read.
    (b"mtllib ok.mtl " + b" " * (2 << 20) + b"../../far.mtl", ["../../far.mtl"]),
    (_VERTICES + b"# no material library\n", []),
])
def test_a_big_obj_is_read_a_chunk_at_a_time_without_missing_a_line(tmp_path: Path, text: bytes,
                                                                     outside: list[str]) -> None:
    (tmp_path / "model.obj").write_bytes(text)
    touch(tmp_path, "ok.mtl")
    assert outside_references(tmp_path / "model.obj", tmp_path) == outside
