"""The files a model points at, for every format that can point: which of them leave its folder.

Blender's importers follow a model's references to other files: OBJ's ``mtllib`` and the
``.mtl``'s ``map_*`` textures, glTF's ``uri`` (a ``.glb`` may have them too), FBX's texture
and video file names, USD's asset paths.  A result that points at ``../../secret.png`` or an
absolute path would make Blender read a file of the user's outside the library (and a saved
``.blend`` would keep the path), so such a result is refused rather than imported.  STL and PLY
name no other file.

Each reader reads the file the way its importer does, and only as far as the references:

* OBJ/MTL: the lines the importer reads (``mtllib``; ``map_*``, ``bump``, ``disp``, ``decal``,
  ``refl``, ``norm`` after their options).
* glTF: the JSON (of a ``.glb``: its first chunk), ``buffers`` and ``images`` ``uri``.
* FBX (binary; Blender refuses ASCII FBX): every ``Texture`` and ``Video`` node.  Blender's
  importer opens ``RelativeFilename`` joined to the FBX's folder when it is set, else the
  absolute ``FileName`` (``Filename`` in video nodes): those are the paths checked.
* USD: the ``@asset@`` paths of a text layer (``.usda``, or a ``.usd`` that is text), of the
  text layers inside a ``.usdz``, and the path-like strings of a binary (crate) layer's token
  table, where USD keeps its asset paths.
"""

from __future__ import annotations

import json
import mmap
import re
import struct
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import unquote, urlparse

__all__ = ["outside_references"]

#: The MTL statements that name a texture file (``map_Kd``, ``map_Bump``... and the older names).
_MTL_MAP = re.compile(r"map_\w+|bump|disp|decal|refl|norm", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
#: A USD asset path in a text layer: ``@path@``, or ``@@@path@@@`` when the path holds an ``@``.
_USD_ASSET = re.compile(r"@@@(.*?)@@@|@([^@\n]*)@")
_USDA_MAGIC = b"#usda"
_USDC_MAGIC = b"PXR-USDC"
_FBX_MAGIC = b"Kaydara FBX Binary  \x00\x1a\x00"
#: FBX nodes whose file names the importer opens, and the children that hold them.
_FBX_FILE_NODES = {b"Texture", b"Video"}
_FBX_NAME_FIELDS = (b"RelativeFilename", b"FileName", b"Filename")
#: A crate token that names a file: no white space, and a file extension or a path shape.
_FILE_TOKEN = re.compile(r"^[^\s@]*\.[A-Za-z0-9]{1,5}$|^(?:\.\.[/\\]|[/\\]|[A-Za-z]:[/\\])\S*$")
#: Bounds no genuine model reaches: a hostile file stops the reader, never the machine.
_MAX_FBX_NODES = 2_000_000
_MAX_TEXT_BYTES = 256 << 20
#: How much of a big text file one call of a worker thread handles (see :func:`_lines_holding`).
_TEXT_CHUNK = 1 << 20
_MAX_TOKENS_BYTES = 256 << 20


def outside_references(path: Path, root: Path) -> list[str]:
    """The references of the model at ``path`` that resolve outside ``root`` (as written in it, once each)."""
    return list(dict.fromkeys(_outside(Path(path), Path(root).resolve())))


def _outside(path: Path, root: Path) -> list[str]:
    suffix = path.suffix.lower()
    if suffix == ".obj":
        return _obj(path, root)
    if suffix in (".gltf", ".glb"):
        return _gltf(path, root)
    if suffix == ".fbx":
        return [ref for ref, base in _fbx_files(path) if _escapes(ref, base, root)]
    if suffix in (".usd", ".usda", ".usdc"):
        try:
            layer = path.read_bytes() if _small(path) else b""
        except OSError:
            layer = b""
        return [ref for ref in _usd_layer(layer) if _escapes(ref, path.parent, root)]
    if suffix == ".usdz":
        # Inside the package a path is relative to its layer's folder there: the package is
        # taken for a folder beside it, so leaving the package's top leaves the model's folder.
        return [ref for ref, inner in _usdz(path) if _escapes(ref, path.parent.joinpath(*inner), root)]
    return []


def _small(path: Path) -> bool:
    try:
        return path.stat().st_size <= _MAX_TEXT_BYTES
    except OSError:
        return False


def _escapes(ref: str, base: Path, root: Path) -> bool:
    if PureWindowsPath(ref).is_absolute() or PureWindowsPath(ref).drive or ref.startswith(("/", "\\")):
        return True
    target = (base / ref.replace("\\", "/")).resolve()
    return not target.is_relative_to(root)


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


# -- OBJ and MTL ----------------------------------------------------------------------------


def _mtl_path(args: str) -> str:
    """The file name of a ``map_*`` line, after its options (``-s 1 1 1``, ``-bm 0.5`` ...)."""
    tokens = args.split()
    i = 0
    while i < len(tokens) - 1 and tokens[i].startswith("-"):
        option = tokens[i].lower()
        i += 1
        if option in ("-o", "-s", "-t"):
            for _ in range(3):
                if i < len(tokens) - 1 and _NUMBER.fullmatch(tokens[i]):
                    i += 1
        else:
            i += min(2 if option == "-mm" else 1, len(tokens) - 1 - i)
    return " ".join(tokens[i:])


def _lines_holding(path: Path, word: bytes) -> Iterator[str]:
    """The lines of a text file that hold ``word`` (ASCII, any case), read a chunk at a time.

    An OBJ result may be hundreds of MB.  Read, decoded and split whole, it held Python's lock for
    most of a second in one call each, from the job's thread: every frame Blender drew meanwhile
    (its UI is Python) waited for it.  Here no call of this thread handles more than a chunk, and
    only the few lines holding ``word`` are decoded.  A line is cut at every line boundary that
    ``str.splitlines`` knows (``\r`` too), as the whole file's reading did.
    """
    pending: list[bytes] = []  # the start of a line that has not ended yet
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_TEXT_CHUNK):
                cut = chunk.rfind(b"\n") + 1
                if not cut:
                    pending.append(chunk)
                    continue
                yield from _holding(b"".join([*pending, chunk[:cut]]), word)
                pending = [chunk[cut:]]
    except OSError:
        return
    yield from _holding(b"".join(pending), word)


def _holding(block: bytes, word: bytes) -> Iterator[str]:
    lower = block.lower()
    at = lower.find(word)
    while at >= 0:
        end = block.find(b"\n", at)
        end = len(block) if end < 0 else end
        line = block[block.rfind(b"\n", 0, at) + 1:end].decode("utf-8", errors="replace")
        yield from (part for part in line.splitlines() if word.decode() in part.lower())
        at = lower.find(word, end)


def _statement(line: str, keyword: Callable[[str], object]) -> str:
    """What follows the line's first word when ``keyword`` takes that word, stripped; "" otherwise.

    Split, not a regular expression: ``\\s*mtllib\\s+(.+?)\\s*$`` took quadratic time on a line of
    a few MB of spaces (a hostile file would have held the job for hours)."""
    words = line.split(None, 1)
    return words[1].strip() if len(words) == 2 and keyword(words[0]) else ""


def _obj(path: Path, root: Path) -> list[str]:
    bad: list[str] = []
    mtls: list[Path] = []
    for line in _lines_holding(path, b"mtllib"):
        whole = _statement(line, lambda keyword: keyword.lower() == "mtllib")
        if not whole:
            continue
        # One name with spaces, or several names: check both readings.
        for ref in dict.fromkeys([whole, *whole.split()]):
            if _escapes(ref, path.parent, root):
                bad.append(ref)
            else:
                mtls.append((path.parent / ref.replace("\\", "/")).resolve())
    for mtl in dict.fromkeys(mtls):
        for mtl_line in _read_lines(mtl):
            args = _statement(mtl_line, _MTL_MAP.fullmatch)
            tex = _mtl_path(args) if args else ""
            if tex and _escapes(tex, mtl.parent, root):
                bad.append(tex)
    return bad


# -- glTF -----------------------------------------------------------------------------------


def _gltf(path: Path, root: Path) -> list[str]:
    doc = _gltf_json(path)
    bad: list[str] = []
    for key in ("buffers", "images"):
        items = doc.get(key) if isinstance(doc, dict) else None
        for item in items if isinstance(items, list) else []:
            uri = item.get("uri") if isinstance(item, dict) else None
            if not isinstance(uri, str) or uri.startswith("data:"):
                continue
            if len(urlparse(uri).scheme) > 1 or _escapes(unquote(uri), path.parent, root):
                bad.append(uri)
    return bad


def _gltf_json(path: Path) -> object:
    """The JSON of a .gltf, or of a .glb's first chunk: a .glb may point at outside files too."""
    try:
        if path.suffix.lower() != ".glb":
            return json.loads(path.read_text(encoding="utf-8"))
        with open(path, "rb") as fh:
            header = fh.read(20)
            if len(header) < 20 or header[:4] != b"glTF" or header[16:20] != b"JSON":
                return None
            length = int.from_bytes(header[12:16], "little")
            return json.loads(fh.read(min(length, 64 << 20)).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None


# -- FBX ------------------------------------------------------------------------------------


class _FbxReader:
    """Walks a binary FBX's node tree as Blender's ``parse_fbx`` does, skipping array data."""

    def __init__(self, data: mmap.mmap | bytes) -> None:
        self.data = data
        self.version = struct.unpack_from("<I", data, len(_FBX_MAGIC))[0]
        self.wide = self.version >= 7500
        self.head = 25 if self.wide else 13
        self.nodes = 0

    def nodes_at(self, pos: int, end: int) -> Iterator[tuple[bytes, list[object], int, int]]:
        """(name, string properties, start of children, end) of each node from ``pos`` to ``end``."""
        while pos + self.head <= end:
            if self.wide:
                node_end, count, plen, nlen = struct.unpack_from("<QQQB", self.data, pos)
            else:
                node_end, count, plen, nlen = struct.unpack_from("<IIIB", self.data, pos)
            if node_end == 0:
                return  # the null record that closes a list
            self.nodes += 1
            if node_end > end or node_end <= pos or self.nodes > _MAX_FBX_NODES:
                raise ValueError("damaged FBX node")
            name = bytes(self.data[pos + self.head : pos + self.head + nlen])
            props_at = pos + self.head + nlen
            strings = self._strings(props_at, count) if name in _FBX_NAME_FIELDS else []
            yield name, strings, props_at + plen, node_end
            pos = node_end

    def _strings(self, pos: int, count: int) -> list[object]:
        """The node's ``S`` (string) properties; others only move the position along."""
        found: list[object] = []
        fixed = {ord("Z"): 1, ord("B"): 1, ord("C"): 1, ord("Y"): 2, ord("I"): 4, ord("F"): 4, ord("D"): 8, ord("L"): 8}
        for _ in range(min(count, 64)):
            kind = self.data[pos]
            pos += 1
            if kind in fixed:
                pos += fixed[kind]
            elif kind in (ord("S"), ord("R")):
                (size,) = struct.unpack_from("<I", self.data, pos)
                if kind == ord("S"):
                    found.append(bytes(self.data[pos + 4 : pos + 4 + size]))
                pos += 4 + size
            elif kind in b"bcilfd":
                _length, _encoding, size = struct.unpack_from("<III", self.data, pos)
                pos += 12 + size
            else:
                raise ValueError("unknown FBX property type")
        return found

    def file_names(self) -> Iterator[dict[bytes, str]]:
        """For each Texture and Video node: its file name fields (decoded)."""
        stack = [(len(_FBX_MAGIC) + 4, len(self.data))]
        while stack:
            pos, end = stack.pop()
            for name, _strings, children, node_end in self.nodes_at(pos, end):
                if name in _FBX_FILE_NODES:
                    fields: dict[bytes, str] = {}
                    for child, strings, _c, _e in self.nodes_at(children, node_end):
                        if child in _FBX_NAME_FIELDS and strings and isinstance(strings[0], bytes):
                            fields.setdefault(child, strings[0].decode("utf-8", "replace"))
                    yield fields
                elif children < node_end:
                    stack.append((children, node_end))


def _fbx_files(path: Path) -> list[tuple[str, Path]]:
    """(reference, folder it is relative to) of each file the FBX importer would open.

    Blender's importer takes ``RelativeFilename`` (leading separators stripped) joined to the
    FBX's folder when it is set, else ``FileName``/``Filename`` as it stands.
    """
    found: list[tuple[str, Path]] = []
    try:
        with open(path, "rb") as fh:
            if fh.read(len(_FBX_MAGIC)) != _FBX_MAGIC:
                return found  # ASCII or not an FBX: Blender's importer refuses it
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                for fields in _FbxReader(data).file_names():
                    relative = fields.get(b"RelativeFilename", "").lstrip("/\\")
                    absolute = fields.get(b"FileName") or fields.get(b"Filename") or ""
                    if relative:
                        found.append((relative, path.parent))
                    elif absolute:
                        found.append((absolute, path.parent))
    except (OSError, ValueError, struct.error, IndexError):
        # Damaged where the importer would stop too; what was read so far is still checked.
        pass
    return found


# -- USD ------------------------------------------------------------------------------------


def _usd_layer(data: bytes) -> list[str]:
    """The asset paths of one layer, text or binary."""
    if data.lstrip()[: len(_USDA_MAGIC)] == _USDA_MAGIC:
        text = data.decode("utf-8", "replace")
        return [m.group(1) if m.group(1) is not None else m.group(2) for m in _USD_ASSET.finditer(text)
                if (m.group(1) or m.group(2))]
    if data[: len(_USDC_MAGIC)] == _USDC_MAGIC:
        try:
            return [t for t in _crate_tokens(data) if _FILE_TOKEN.match(t)]
        except (ValueError, struct.error, IndexError):
            return []
    return []


def _usdz(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(asset path, its layer's folder in the package) for every layer inside a ``.usdz``."""
    found: list[tuple[str, tuple[str, ...]]] = []
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                name = PurePosixPath(info.filename)
                if name.suffix.lower() in (".usd", ".usda", ".usdc") and info.file_size <= _MAX_TEXT_BYTES:
                    inner = tuple(part for part in name.parent.parts if part not in ("", "."))
                    found.extend((ref, inner) for ref in _usd_layer(zf.read(info)))
    except (OSError, zipfile.BadZipFile, ValueError, NotImplementedError):
        return found
    return found


def _crate_tokens(data: bytes) -> list[str]:
    """The token table of a USD crate (binary) layer, where its asset paths are kept.

    Layout (USD's ``crateFile.cpp``): ``PXR-USDC``, 8 version bytes, the table of contents'
    offset; the TOC is a count and sections of (16-byte name, start, size); ``TOKENS`` holds
    the count, then (from version 0.4) the sizes and the LZ4-compressed, NUL-separated text.
    """
    major, minor = data[8], data[9]
    (toc,) = struct.unpack_from("<q", data, 16)
    (count,) = struct.unpack_from("<Q", data, toc)
    for i in range(min(count, 64)):
        name, start, _size = struct.unpack_from("<16sqq", data, toc + 8 + i * 32)
        if name.rstrip(b"\0") != b"TOKENS":
            continue
        (tokens,) = struct.unpack_from("<Q", data, start)
        if (major, minor) < (0, 4):
            text = data[start + 8 : start + 8 + min(_MAX_TOKENS_BYTES, len(data))]
        else:
            raw, packed = struct.unpack_from("<QQ", data, start + 8)
            if raw > _MAX_TOKENS_BYTES:
                raise ValueError("token table too large")
            text = _tf_decompress(data[start + 24 : start + 24 + packed], raw)
        return [t.decode("utf-8", "replace") for t in text.split(b"\0")[:tokens]]
    return []


def _tf_decompress(data: bytes, size: int) -> bytes:
    """USD's ``TfFastCompression``: a chunk count, then one LZ4 block or (size, block) chunks."""
    chunks = data[0]
    if chunks == 0:
        return _lz4_block(data[1:], size)
    out = bytearray()
    pos = 1
    for _ in range(chunks):
        (length,) = struct.unpack_from("<i", data, pos)
        out += _lz4_block(data[pos + 4 : pos + 4 + length], size - len(out))
        pos += 4 + length
    return bytes(out)


def _lz4_length(src: bytes, i: int, n: int) -> tuple[int, int]:
    """A length nibble of 15 goes on in the following bytes until one is not 255: (length, next index)."""
    if n == 15:
        while True:
            extra = src[i]
            i += 1
            n += extra
            if extra != 255:
                break
    return n, i


def _lz4_block(src: bytes, limit: int) -> bytes:
    """Decompress one raw LZ4 block (no frame), at most ``limit`` bytes."""
    out = bytearray()
    i = 0
    while i < len(src):
        token = src[i]
        i += 1
        literal, i = _lz4_length(src, i, token >> 4)
        out += src[i : i + literal]
        i += literal
        if i >= len(src) or len(out) > limit:
            break
        offset = src[i] | (src[i + 1] << 8)
        i += 2
        if offset == 0 or offset > len(out):
            raise ValueError("damaged LZ4 block")
        match, i = _lz4_length(src, i, token & 15)
        match += 4
        start = len(out) - offset
        for k in range(match):  # may overlap itself: byte by byte
            out.append(out[start + k])
        if len(out) > limit:
            raise ValueError("LZ4 block larger than declared")
    return bytes(out[:limit])
