"""A GLB result as the library keeps it extracted: a ``.gltf``, its ``.bin`` and its images as files.

A ``.blend`` can point at an image file, never at an image inside a GLB.  Kept whole, a GLB's
textures would be on disk once more in every asset file made from it (see :mod:`.assets`), and
textures are most of a generated model's bytes.  Written out, the images are files that the
asset file, and any import that leaves them external, share.  The GLB itself is not lost: the
library keeps the download as Ark sent it (``result.zip``, or the bare file), and the extraction
is the working copy made from it.

The split moves bytes, it never re-encodes them: the ``.bin`` is the GLB's binary chunk without
the image bytes, every other buffer view byte for byte (each keeps its offset modulo 16, so
every accessor keeps its alignment), and each image is the bytes the GLB holds (a JPEG stays a
JPEG).  Buffer view indices are renumbered wherever the document names one.

A GLB is left as it is when the split would have to guess: not a well-formed GLB 2.0 (the
importer's error will say what), a second buffer, a buffer view whose bytes lie outside the
binary chunk, an image buffer view used by anything but images, an image type with no file
extension known here, an extension this module does not know (one may point at buffer views
under another name), or a name the split would write already taken.
"""

from __future__ import annotations

import json
import os
import re
import struct
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import quote

__all__ = [
    "split_glb",
    "split_glbs",
]

_MAGIC = b"glTF"
_JSON_CHUNK = 0x4E4F534A
_BIN_CHUNK = 0x004E4942
_MAX_JSON_BYTES = 64 << 20
_COPY_CHUNK = 1 << 20
#: A buffer view's new offset keeps its old one modulo this (the largest alignment glTF asks for is 4).
_ALIGN = 16
_MIME_SUFFIX = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "image/ktx2": ".ktx2"}
#: Extensions that name buffer views only as ``bufferView`` (or not at all): the split understands them.
_KNOWN_EXTENSIONS = frozenset({
    "KHR_draco_mesh_compression", "KHR_lights_punctual", "KHR_mesh_quantization", "KHR_texture_basisu",
    "KHR_texture_transform", "KHR_xmp_json_ld", "EXT_mesh_gpu_instancing", "EXT_texture_webp",
    "KHR_node_visibility",
})
#: Image file names are ASCII letters, digits, ``.``, ``_`` and ``-``: every file system and tool
#: takes them (the image's own name stays in the document, which Blender names the image after).
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]+")
#: Windows' device names, which it takes whatever follows the first dot (``con.backup.png`` too).
_WINDOWS_DEVICE = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\.|$)", re.IGNORECASE)
_MAX_NAME = 60


def split_glbs(root: Path, written: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Split every GLB among ``written`` (paths relative to ``root``); returns the files now there."""
    result: list[tuple[str, ...]] = []
    for parts in written:
        path = root.joinpath(*parts)
        is_glb = bool(parts) and parts[-1].lower().endswith(".glb") and not parts[-1].startswith("._")
        made = split_glb(path) if is_glb else None
        if made is None:
            result.append(parts)
        else:
            result.extend(tuple(p.relative_to(root).parts) for p in made)
    return result


def split_glb(path: Path) -> list[Path] | None:
    """Write ``path`` (a GLB) out as ``<stem>.gltf``, ``<stem>.bin`` and ``<stem>_textures/``; remove it.

    Returns the files written, or None when the GLB is kept (no embedded image, or one of the
    cases in the module's docstring).  An ``OSError`` (a full disk) is raised as it comes.
    """
    with open(path, "rb") as fh:
        layout = _read_layout_or_none(fh, path.stat().st_size)
        if layout is None:
            return None
        doc, bin_start, bin_length = layout
        try:
            plan = _plan_or_none(doc, bin_length)
        except RecursionError:  # a document nested deeper than any exporter writes
            plan = None
        if plan is None:
            return None
        images, views = plan
        folder, stem = path.parent, path.stem
        gltf, binary, textures = folder / f"{stem}.gltf", folder / f"{stem}.bin", folder / f"{stem}_textures"
        names = _image_names(doc["images"], images)
        present = {name.lower() for name in os.listdir(folder)}  # a name differing only in case is taken on Windows
        if any(p.name.lower() in present for p in (gltf, binary, textures)):
            return None
        written = _write(fh, doc, bin_start, images, views, names, gltf, binary, textures)
    path.unlink()
    return written


def _read_layout_or_none(fh: BinaryIO, size: int) -> tuple[dict[str, Any], int, int] | None:
    """The JSON document, and the binary chunk's start and length; None if not a GLB 2.0 read as one."""
    header = fh.read(20)
    if len(header) < 20:
        return None
    magic, version, length, json_length, json_type = struct.unpack("<4sIIII", header)
    if magic != _MAGIC or version != 2 or length > size or json_type != _JSON_CHUNK:
        return None
    if json_length > _MAX_JSON_BYTES or 20 + json_length > length:
        return None
    try:
        doc = json.loads(fh.read(json_length).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    bin_header = 20 + json_length + (-json_length % 4)
    if not isinstance(doc, dict) or bin_header + 8 > length:
        return None
    fh.seek(bin_header)
    bin_length, bin_type = struct.unpack("<II", fh.read(8))
    if bin_type != _BIN_CHUNK or bin_header + 8 + bin_length > length:
        return None
    return doc, bin_header + 8, bin_length


def _int_or_none(value: object, minimum: int) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= minimum else None


def _plan_or_none(doc: dict[str, Any], bin_length: int) -> tuple[dict[int, int], list[tuple[int, int, int]]] | None:
    """What moves: image index -> its buffer view, and every buffer view as (index, offset, length)."""
    for field in ("extensionsUsed", "extensionsRequired"):
        used = doc.get(field, [])
        if not isinstance(used, list) or any(
            not isinstance(name, str) or not (name in _KNOWN_EXTENSIONS or name.startswith("KHR_materials_"))
            for name in used
        ):
            return None
    buffers, views, images = doc.get("buffers"), doc.get("bufferViews"), doc.get("images")
    if not (isinstance(buffers, list) and len(buffers) == 1 and isinstance(buffers[0], dict)
            and "uri" not in buffers[0] and isinstance(views, list) and isinstance(images, list)):
        return None
    spans: list[tuple[int, int, int]] = []
    for index, view in enumerate(views):
        if not isinstance(view, dict) or view.get("buffer") != 0:
            return None
        offset, length = _int_or_none(view.get("byteOffset", 0), 0), _int_or_none(view.get("byteLength"), 1)
        if offset is None or length is None or offset + length > bin_length:
            return None
        spans.append((index, offset, length))
    moved: dict[int, int] = {}
    for index, image in enumerate(images):
        if not isinstance(image, dict):
            return None
        view_index, mime = _int_or_none(image.get("bufferView"), 0), image.get("mimeType")
        if view_index is not None and view_index < len(views) and isinstance(mime, str) and mime in _MIME_SUFFIX:
            moved[index] = view_index
    # Another use of an image's buffer view (a second image of an unknown type, an extension)
    # keeps it in the .bin: only the moved images' own bufferView is left out of the count.
    rest = [{k: v for k, v in image.items() if k != "bufferView"} if index in moved else image
            for index, image in enumerate(images)]
    others = list(_view_references(dict(doc, images=rest)))
    if any(_int_or_none(view, 0) is None or view >= len(views) for view in others):
        return None  # a reference to no buffer view: the importer's error will say so
    moved = {image: view for image, view in moved.items() if view not in others}
    return (moved, spans) if moved else None


def _view_references(node: object) -> Iterator[Any]:
    """Every value of a ``bufferView`` key at any depth: the buffer views the document names."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "bufferView":
                yield value
            else:
                yield from _view_references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _view_references(item)


def _renumber(node: object, new_index: dict[int, int]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "bufferView" and isinstance(value, int):
                node[key] = new_index[value]
            else:
                _renumber(value, new_index)
    elif isinstance(node, list):
        for item in node:
            _renumber(item, new_index)


def _image_names(images: list[Any], moved: dict[int, int]) -> dict[int, str]:
    """A file name per moved buffer view: the image's name where it makes a safe one, unique ignoring case."""
    names: dict[int, str] = {}
    taken: set[str] = set()
    for index, view in sorted(moved.items()):
        if view in names:
            continue
        image = images[index]
        suffix = _MIME_SUFFIX[image["mimeType"]]
        raw = image.get("name") if isinstance(image.get("name"), str) else ""
        base = _NAME_UNSAFE.sub("_", PurePosixPath(raw).stem if raw.lower().endswith(suffix) else raw)
        base = base.strip("._ ")[:_MAX_NAME] or f"image_{index}"
        if _WINDOWS_DEVICE.match(base):
            base = f"image_{base}"
        name, n = base + suffix, 1
        while name.lower() in taken:
            n += 1
            name = f"{base}_{n}{suffix}"
        taken.add(name.lower())
        names[view] = name
    return names


def _copy(fh: BinaryIO, start: int, length: int, out: BinaryIO) -> None:
    fh.seek(start)
    while length > 0:
        data = fh.read(min(length, _COPY_CHUNK))
        if not data:
            raise OSError(f"{getattr(fh, 'name', 'the GLB')} ended early")
        out.write(data)
        length -= len(data)


def _write(fh: BinaryIO, doc: dict[str, Any], bin_start: int, moved: dict[int, int], spans: list[tuple[int, int, int]],
           names: dict[int, str], gltf: Path, binary: Path, textures: Path) -> list[Path]:
    written: list[Path] = []
    textures.mkdir()
    for view, name in names.items():
        _, offset, length = spans[view]
        with open(textures / name, "wb") as out:
            _copy(fh, bin_start + offset, length, out)
        written.append(textures / name)

    gone = set(names)
    new_index: dict[int, int] = {}
    kept: list[dict[str, Any]] = []
    cursor = 0
    with open(binary, "wb") as out:
        for index, offset, length in spans:
            if index in gone:
                continue
            start = cursor + (offset - cursor) % _ALIGN
            out.write(b"\0" * (start - cursor))
            _copy(fh, bin_start + offset, length, out)
            cursor = start + length
            entry = dict(doc["bufferViews"][index], byteOffset=start)
            new_index[index] = len(kept)
            kept.append(entry)

    for image_index, view in moved.items():
        image = doc["images"][image_index]
        del image["bufferView"]
        image["uri"] = quote(f"{textures.name}/{names[view]}")
    _renumber(doc, new_index)
    if kept:
        doc["bufferViews"] = kept
        doc["buffers"][0] = dict(doc["buffers"][0], uri=quote(binary.name), byteLength=cursor)
        written.append(binary)
    else:  # the binary chunk held images only
        binary.unlink()
        doc.pop("bufferViews")
        doc.pop("buffers")
    gltf.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    written.append(gltf)
    return written
