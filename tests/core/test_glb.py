"""A GLB with embedded images kept as glTF, its buffer and its image files; and when it is left whole."""

from __future__ import annotations

import json
import secrets
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ark3d_addon.core.archive import choose_model, find_models, unpack
from ark3d_addon.core.glb import split_glb
from ark3d_addon.core.references import outside_references

_COMPONENT = {5123: ("H", 2), 5125: ("I", 4), 5126: ("f", 4)}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3}


def png(rgb: tuple[int, int, int] = (200, 30, 40), size: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + bytes(rgb) * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0" + bytes(range(200)) + b"\xff\xd9"


def glb_bytes(doc: dict[str, Any], binary: bytes, text: str | None = None) -> bytes:
    """A GLB of ``doc`` (or of the JSON ``text``, when given as it is) and ``binary``."""
    text_bytes = (json.dumps(doc) if text is None else text).encode()
    text_bytes += b" " * (-len(text_bytes) % 4)
    binary += b"\0" * (-len(binary) % 4)
    body = (struct.pack("<I4s", len(text_bytes), b"JSON") + text_bytes + struct.pack("<I4s", len(binary), b"BIN\0")
            + binary)
    return b"glTF" + struct.pack("<II", 2, 12 + len(body)) + body


def triangle(images: list[tuple[str, str, bytes]]) -> tuple[dict[str, Any], bytes]:
    """A textured triangle whose image bytes sit between its mesh's buffer views (as exporters write them)."""
    blobs: list[bytes] = [struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)]
    blobs += [data for _name, _mime, data in images]
    blobs += [struct.pack("<3H", 0, 1, 2), struct.pack("<6f", 0, 0, 1, 0, 0, 1)]
    binary, views = b"", []
    for blob in blobs:
        binary += b"\0" * (-len(binary) % 4)
        views.append({"buffer": 0, "byteOffset": len(binary), "byteLength": len(blob)})
        binary += blob
    n = len(images)
    doc: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "test"},
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0, "name": "tri"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "TEXCOORD_0": 2}, "indices": 1, "material": 0}]}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3", "min": [0, 0, 0], "max": [1, 1, 0]},
            {"bufferView": n + 1, "componentType": 5123, "count": 3, "type": "SCALAR"},
            {"bufferView": n + 2, "componentType": 5126, "count": 3, "type": "VEC2"},
        ],
        "materials": [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}],
        "textures": [{"source": i} for i in range(n)],
        "images": [{"name": name, "mimeType": mime, "bufferView": i + 1} for i, (name, mime, _d) in enumerate(images)],
        "bufferViews": views,
        "buffers": [{"byteLength": len(binary) + (-len(binary) % 4)}],
    }
    return doc, binary


def accessor_values(doc: dict[str, Any], binary: bytes) -> list[tuple[float, ...]]:
    out = []
    for acc in doc["accessors"]:
        view = doc["bufferViews"][acc["bufferView"]]
        code, size = _COMPONENT[acc["componentType"]]
        count = acc["count"] * _WIDTH[acc["type"]]
        start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
        assert start % size == 0, "an accessor lost its alignment"
        out.append(struct.unpack_from(f"<{count}{code}", binary, start))
    return out


def test_a_glb_becomes_gltf_bin_and_its_images_byte_for_byte(tmp_path: Path) -> None:
    images = [("Base Color", "image/png", png()), ("normal", "image/jpeg", JPEG)]
    doc, binary = triangle(images)
    path = tmp_path / "m.glb"
    path.write_bytes(glb_bytes(doc, binary))

    written = split_glb(path)

    assert not path.exists()
    assert written is not None and sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "m.bin", "m.gltf", "m_textures/Base_Color.png", "m_textures/normal.jpg"]
    new = json.loads((tmp_path / "m.gltf").read_text(encoding="utf-8"))
    new_bin = (tmp_path / "m.bin").read_bytes()
    assert new["buffers"] == [{"byteLength": len(new_bin), "uri": "m.bin"}]
    assert len(new["bufferViews"]) == 3
    assert accessor_values(new, new_bin) == accessor_values(doc, binary)
    for image, (_name, mime, data) in zip(new["images"], images, strict=True):
        assert "bufferView" not in image and image["mimeType"] == mime
        assert (tmp_path / unquote(image["uri"])).read_bytes() == data
    assert len(new_bin) < len(binary) - len(png()) - len(JPEG) + 32, "the images left the buffer"
    assert {k: v for k, v in new.items() if k not in ("images", "bufferViews", "buffers", "accessors")} == {
        k: v for k, v in doc.items() if k not in ("images", "bufferViews", "buffers", "accessors")}
    assert outside_references(tmp_path / "m.gltf", tmp_path) == []


def test_buffer_views_keep_their_offset_modulo_16(tmp_path: Path) -> None:
    doc, binary = triangle([("a", "image/png", png(size=3))])
    path = tmp_path / "m.glb"
    path.write_bytes(glb_bytes(doc, binary))
    split_glb(path)
    new = json.loads((tmp_path / "m.gltf").read_text(encoding="utf-8"))
    old_views = [v for i, v in enumerate(doc["bufferViews"]) if i != 1]
    assert [v["byteOffset"] % 16 for v in new["bufferViews"]] == [v["byteOffset"] % 16 for v in old_views]


def test_a_buffer_of_images_only_leaves_no_buffer(tmp_path: Path) -> None:
    data = png()
    doc = {"asset": {"version": "2.0"}, "images": [{"mimeType": "image/png", "bufferView": 0}],
           "bufferViews": [{"buffer": 0, "byteLength": len(data)}], "buffers": [{"byteLength": len(data)}]}
    path = tmp_path / "only.glb"
    path.write_bytes(glb_bytes(doc, data))
    assert split_glb(path) is not None
    new = json.loads((tmp_path / "only.gltf").read_text(encoding="utf-8"))
    assert "buffers" not in new and "bufferViews" not in new and not (tmp_path / "only.bin").exists()
    assert (tmp_path / unquote(new["images"][0]["uri"])).read_bytes() == data


def test_image_file_names_are_safe_and_unique(tmp_path: Path) -> None:
    images = [("../../secret", "image/png", png((1, 2, 3))), ("con.backup", "image/png", png((4, 5, 6))),
              ("tex", "image/png", png((7, 8, 9))), ("TEX", "image/png", png((9, 8, 7))),
              ("底色.png", "image/png", png((5, 5, 5))), ("", "image/webp", b"RIFF....WEBPVP8 ")]
    doc, binary = triangle(images)
    path = tmp_path / "椅子 1.glb"
    path.write_bytes(glb_bytes(doc, binary))
    split_glb(path)
    new = json.loads((tmp_path / "椅子 1.gltf").read_text(encoding="utf-8"))
    uris = [unquote(image["uri"]) for image in new["images"]]
    assert uris == ["椅子 1_textures/secret.png", "椅子 1_textures/image_con.backup.png", "椅子 1_textures/tex.png",
                    "椅子 1_textures/TEX_2.png", "椅子 1_textures/image_4.png", "椅子 1_textures/image_5.webp"]
    assert [image["name"] for image in new["images"]][:5] == ["../../secret", "con.backup", "tex", "TEX", "底色.png"]
    assert new["images"][0]["uri"].isascii(), "URIs are percent-encoded"
    assert outside_references(tmp_path / "椅子 1.gltf", tmp_path) == []


def _with(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        doc, binary = triangle([("a", "image/png", png())])
        change(doc)
        path.write_bytes(glb_bytes(doc, binary))
    return write


def _truncated(path: Path) -> None:
    doc, binary = triangle([("a", "image/png", png())])
    path.write_bytes(glb_bytes(doc, binary)[:-40])


def _version_1(path: Path) -> None:
    doc, binary = triangle([("a", "image/png", png())])
    data = bytearray(glb_bytes(doc, binary))
    data[4:8] = struct.pack("<I", 1)
    path.write_bytes(bytes(data))


def _nested(depth: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        doc, binary = triangle([("a", "image/png", png())])
        nested = json.dumps(doc)[:-1] + ', "extras": ' + "[" * depth + "]" * depth + "}"
        path.write_bytes(glb_bytes(doc, binary, nested))
    return write


def _taken(path: Path) -> None:
    _with(lambda doc: None)(path)
    (path.parent / "M_Textures").mkdir()


KEPT: dict[str, Callable[[Path], None]] = {
    "no embedded image": _with(lambda doc: doc.update(images=[], textures=[])),
    "an extension naming buffers another way": _with(
        lambda doc: doc.update(extensionsUsed=["EXT_meshopt_compression"])),
    "the image's buffer view read by an accessor too": _with(lambda doc: doc["accessors"].append(
        {"bufferView": 1, "componentType": 5126, "count": 1, "type": "SCALAR"})),
    "a buffer view outside the binary chunk": _with(lambda doc: doc["bufferViews"][2].update(byteOffset=1 << 20)),
    "a second buffer": _with(lambda doc: doc["buffers"].append({"byteLength": 4, "uri": "x.bin"})),
    "an image type with no known extension": _with(lambda doc: doc["images"][0].update(mimeType="image/gif")),
    "a truncated file": _truncated,
    "GLB version 1": _version_1,
    "a name the split would write already taken (in another case)": _taken,
    "a document nested deeper than Python's JSON reads": _nested(100_000),
}


@pytest.mark.parametrize("case", list(KEPT))
def test_a_glb_the_split_would_have_to_guess_about_is_kept_whole(tmp_path: Path, case: str) -> None:
    path = tmp_path / "m.glb"
    KEPT[case](path)
    before = path.read_bytes()
    assert split_glb(path) is None
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["m.glb"] + (["M_Textures"] if case.startswith(
        "a name") else []))


def test_an_extracted_result_keeps_its_glbs_as_gltf_and_the_download_as_sent(tmp_path: Path) -> None:
    doc, binary = triangle([("basecolor", "image/png", png())])
    textured = glb_bytes(doc, binary)
    plain = glb_bytes({"asset": {"version": "2.0"}}, b"")
    download = tmp_path / "result.zip"
    with zipfile.ZipFile(download, "w") as zf:
        zf.writestr("chair/pbr/chair.glb", textured)
        zf.writestr("chair/rgb/chair.glb", textured)
        zf.writestr("chair/preview.glb", plain)
    before = download.read_bytes()
    files = tmp_path / "files"

    written = unpack(download, files, name="result.zip")

    assert sorted(p.relative_to(files).as_posix() for p in written) == [
        "chair/pbr/chair.bin", "chair/pbr/chair.gltf", "chair/pbr/chair_textures/basecolor.png",
        "chair/preview.glb", "chair/rgb/chair.bin", "chair/rgb/chair.gltf", "chair/rgb/chair_textures/basecolor.png"]
    assert sorted(p.relative_to(files).as_posix() for p in files.rglob("*") if p.is_file()) == sorted(
        p.relative_to(files).as_posix() for p in written)
    model = choose_model(find_models(files), "pbr", root=files)
    assert model.path == files / "chair" / "pbr" / "chair.gltf" and model.format == "gltf"
    assert outside_references(model.path, files) == []
    assert download.read_bytes() == before


def test_a_bare_glb_download_stays_whole_beside_its_gltf(tmp_path: Path) -> None:
    doc, binary = triangle([("basecolor", "image/png", png())])
    download = tmp_path / "result.download"
    download.write_bytes(glb_bytes(doc, binary))
    before = download.read_bytes()
    files = tmp_path / "files"

    written = unpack(download, files, name="0a1b2c.glb")

    assert sorted(p.relative_to(files).as_posix() for p in written) == [
        "0a1b2c.bin", "0a1b2c.gltf", "0a1b2c_textures/basecolor.png"]
    assert download.read_bytes() == before, "the download (hard-linked into the folder) is the GLB as sent"


def test_a_buffer_view_named_inside_an_extension_is_renumbered(tmp_path: Path) -> None:
    """Draco-compressed primitives name their data as the extension's ``bufferView``."""
    doc, binary = triangle([("a", "image/png", png())])
    compressed = b"DRACO-bytes-stand-in"
    binary += b"\0" * (-len(binary) % 4)
    doc["bufferViews"].append({"buffer": 0, "byteOffset": len(binary), "byteLength": len(compressed)})
    binary += compressed
    doc["buffers"][0]["byteLength"] = len(binary) + (-len(binary) % 4)
    doc["extensionsUsed"] = doc["extensionsRequired"] = ["KHR_draco_mesh_compression"]
    doc["meshes"][0]["primitives"][0]["extensions"] = {
        "KHR_draco_mesh_compression": {"bufferView": len(doc["bufferViews"]) - 1, "attributes": {"POSITION": 0}}}
    path = tmp_path / "d.glb"
    path.write_bytes(glb_bytes(doc, binary))

    assert split_glb(path) is not None
    new = json.loads((tmp_path / "d.gltf").read_text(encoding="utf-8"))
    view = new["bufferViews"][new["meshes"][0]["primitives"][0]["extensions"]["KHR_draco_mesh_compression"][
        "bufferView"]]
    start = view["byteOffset"]
    assert (tmp_path / "d.bin").read_bytes()[start:start + view["byteLength"]] == compressed
    assert new["extensionsRequired"] == ["KHR_draco_mesh_compression"]


def test_a_folder_named_like_a_glb_is_left_alone(tmp_path: Path) -> None:
    download = tmp_path / "result.zip"
    with zipfile.ZipFile(download, "w") as zf:
        zf.writestr("odd.glb/", b"")
        zf.writestr("odd.glb/readme.txt", b"not a model")
        zf.writestr("m.glb", glb_bytes(*triangle([("a", "image/png", png())])))
    files = tmp_path / "files"
    unpack(download, files, name="result.zip")
    assert (files / "odd.glb" / "readme.txt").read_bytes() == b"not a model"
    assert (files / "m.gltf").is_file() and not (files / "m.glb").exists()


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 40) | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["bufferView", "byteOffset", "byteLength", "buffer", "uri", "mimeType", "name", "images"]), inner, max_size=3),
    max_leaves=6,
)
_PLACES = [("images", 0, "bufferView"), ("images", 0, "mimeType"), ("images", 0, "name"), ("images", 0),
           ("bufferViews", 0, "byteOffset"), ("bufferViews", 1, "byteLength"), ("bufferViews", 2, "buffer"),
           ("bufferViews", 3), ("accessors", 1, "bufferView"), ("buffers", 0, "uri"), ("buffers",), ("images",),
           ("extensionsUsed",), ("meshes", 0, "primitives", 0, "extensions")]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(st.sampled_from(_PLACES), _JSON_VALUES), max_size=3),
       flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=2))
def test_any_damaged_glb_is_split_correctly_or_kept_whole_never_a_crash(tmp_path: Path, changes: list[Any],
                                                                        flips: list[tuple[int, int]]) -> None:
    """A hostile GLB reaches the split before any importer: it may be kept whole, never raise."""
    doc, binary = triangle([("a", "image/png", png()), ("b", "image/jpeg", JPEG)])
    for place, value in changes:
        node: Any = doc
        for key in place[:-1]:
            node = node[key] if isinstance(node, dict) and key in node or isinstance(node, list) and isinstance(
                key, int) and key < len(node) else None
        if isinstance(node, dict):
            node[place[-1]] = value
        elif isinstance(node, list) and isinstance(place[-1], int) and place[-1] < len(node):
            node[place[-1]] = value
    data = bytearray(glb_bytes(doc, binary))
    for at, byte in flips:
        data[at % len(data)] = byte
    folder = tmp_path / secrets.token_hex(4)
    folder.mkdir()
    path = folder / "m.glb"
    path.write_bytes(bytes(data))

    written = split_glb(path)

    if written is None:
        assert path.read_bytes() == bytes(data) and [p.name for p in folder.iterdir()] == ["m.glb"]
        return
    new = json.loads((folder / "m.gltf").read_text(encoding="utf-8"))
    new_bin = (folder / "m.bin").read_bytes() if (folder / "m.bin").exists() else b""
    for view in new.get("bufferViews", []):
        assert view["byteOffset"] + view["byteLength"] <= len(new_bin)
    moved = [image["uri"] for image in new["images"] if isinstance(image, dict)
             and isinstance(image.get("uri"), str) and image["uri"].startswith("m_textures/")]
    assert moved, "a split moves at least one image"
    for uri in moved:
        assert (folder / unquote(uri)).is_file()
    assert outside_references(folder / "m.gltf", folder) == []
