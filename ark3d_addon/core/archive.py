"""Safe extraction of Ark's result zip and the choice of the model file inside it.

The zip comes from the network, so it is treated as hostile: the whole central directory is
checked before a single byte is written (paths, links, encryption, sizes, duplicates), the
extraction goes to a temporary sibling folder that replaces ``dest`` only when complete, and
the bytes actually written are counted so a header that lies about sizes cannot fill the disk.

What is inside is not documented beyond "the requested format": nested folders, ``pbr``/``rgb``
variants side by side, OBJ with ``.mtl`` and textures in sub-folders, extra files and GBK file
names all occur.  :func:`find_models` and :func:`choose_model` make a deterministic choice.
Hyper3D and Hitem3D links serve the model file itself, not a zip: :func:`unpack` tells the two
apart and puts a bare model file in the folder a zip would have filled.

The library must stay copyable to Windows, where most Blender users are, so names Windows
cannot store (device names such as ``CON`` or ``com1.png``, a trailing dot or space, any of
``<>:"|?*`` or a control character) are refused, never renamed: renaming would have to rewrite
every reference to the file inside OBJ, MTL, glTF, FBX and USD files, and a result that holds
such names is not one Ark's tools write.
"""

from __future__ import annotations

import errno
import lzma
import os
import re
import secrets
import shutil
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from .errors import ArchiveError, Cancelled, ErrorCode, NoModelError
from .messages import msg
from .zip_entries import (
    ARCHIVE_HINT,
    DEFAULT_LIMITS,
    SKIPPED_DIRS,
    Entry,
    Limits,
    check_directory,
    decode_name,
    refuse,
    split_name,
)

__all__ = [
    "MODEL_EXTENSIONS",
    "ModelFile",
    "choose_model",
    "find_models",
    "model_suffix",
    "safe_extract",
    "unpack",
]

_CHUNK = 1 << 20

#: Extension -> (format, preference rank; lower is preferred).
MODEL_EXTENSIONS: dict[str, tuple[str, int]] = {
    ".glb": ("gltf", 0),
    ".gltf": ("gltf", 1),
    ".usdz": ("usd", 2),
    ".usdc": ("usd", 3),
    ".usd": ("usd", 4),
    ".usda": ("usd", 5),
    ".obj": ("obj", 6),
    ".fbx": ("fbx", 7),
    ".stl": ("stl", 8),
    ".ply": ("ply", 9),
}
_PBR_WORDS = {"pbr"}
_RGB_WORDS = {"rgb", "baked", "color", "colour"}


@dataclass(frozen=True)
class ModelFile:
    """A model found in the extracted tree; ``variant`` is ``"pbr"``, ``"rgb"`` or ``None``."""

    path: Path
    format: str
    variant: str | None


def _not_a_zip(zip_path: Path) -> ArchiveError:
    """Say what the file is instead: usually an HTML/XML error page saved as the zip."""
    try:
        with open(zip_path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        return _unreadable(zip_path, exc)
    if not head:
        return ArchiveError(msg("The download is empty (0 bytes)"), code=ErrorCode.NOT_A_ZIP, hint=ARCHIVE_HINT)
    if head.startswith(b"PK\x03\x04"):
        return ArchiveError(
            msg("The download is not a zip file that can be read: it starts like one but its end is missing "
                "or damaged (a truncated download?)"),
            code=ErrorCode.NOT_A_ZIP,
            hint=ARCHIVE_HINT,
        )
    text = head.lstrip()
    if text[:1] == b"<":
        summary = " ".join(re.sub(rb"<[^>]*>", b" ", text).decode("utf-8", "replace").split())[:120]
        return ArchiveError(
            msg("The download is not a zip: the server sent an HTML/XML page ({summary})", summary=summary)
            if summary else msg("The download is not a zip: the server sent an HTML/XML page"),
            code=ErrorCode.NOT_A_ZIP,
            hint=ARCHIVE_HINT,
        )
    return ArchiveError(msg("The download is not a zip file (it starts with {head})", head=repr(head[:16])),
                        code=ErrorCode.NOT_A_ZIP, hint=ARCHIVE_HINT)


def _unreadable(zip_path: Path, exc: OSError) -> ArchiveError:
    return ArchiveError(msg("Cannot read the downloaded file {file}: {reason}", file=str(zip_path),
                            reason=str(exc.strerror)), code=ErrorCode.DISK_ERROR, hint=ARCHIVE_HINT)


def _open_new(path: Path) -> int:
    """Create a fresh file, never through a link and never over an existing file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    return os.open(path, flags, 0o644)


def _write_error(exc: OSError, where: Path) -> ArchiveError:
    if exc.errno == errno.ENOSPC:
        return ArchiveError(msg("The disk is full"), code=ErrorCode.DISK_FULL,
                            hint=msg("Free some space where {where} lives", where=str(where)))
    return ArchiveError(
        msg("Could not write {file}: {reason}", file=str(where), reason=exc.strerror or str(exc)),
        code=ErrorCode.WRITE_FAILED,
        hint=msg("Check that the library folder is writable, or choose another one in the add-on preferences"),
    )


def unpack(
    download: Path,
    dest: Path,
    *,
    name: str = "",
    limits: Limits = DEFAULT_LIMITS,
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Fill ``dest`` from a result download: a zip is extracted, a bare model file put in it.

    ``name`` is the file name of the result link (``Task.file_name()``): a link ending in
    ``.zip`` is a zip, one ending in a model extension is that model (a ``.usdz`` is a zip that
    Blender imports whole).  Otherwise the first bytes decide.  Every file stays as Ark sent it:
    a GLB is the ``.glb`` a pipeline asked for (how the asset library stores its textures is the
    asset maker's business).
    """
    download, dest = Path(download), Path(dest)
    try:
        with open(download, "rb") as fh:
            head = fh.read(512)
        size = download.stat().st_size
    except OSError as exc:
        raise _unreadable(download, exc) from exc
    named = PurePosixPath(name).suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        unnamed = named not in MODEL_EXTENSIONS and named != ".zip"
        if not (named == ".usdz" or (unnamed and _is_usdz(download))):
            return safe_extract(download, dest, limits=limits, cancel=cancel, progress=progress)
        suffix = ".usdz"
    else:
        suffix = model_suffix(head, size) or (named if named in MODEL_EXTENSIONS else "")
        if not suffix:  # neither: the zip reader's error says what the download is instead
            return safe_extract(download, dest, limits=limits, cancel=cancel, progress=progress)
    filename = _bare_name(PurePosixPath(name).name, suffix)

    def place(tmp: Path) -> list[tuple[str, ...]]:
        target = tmp / filename
        try:
            os.link(download, target)  # the download stays the lasting copy: no second one on disk
        except OSError:
            shutil.copyfile(download, target)
        if progress is not None:
            progress(size, size)
        return [(filename,)]

    written = _fill(dest, place)
    return [dest.joinpath(*parts) for parts in written]


def model_suffix(head: bytes, size: int) -> str:
    """The extension of a bare model file from its first bytes and size, or "" if none is known."""
    if head.startswith(b"glTF"):
        return ".glb"
    if head.startswith(b"Kaydara FBX Binary"):
        return ".fbx"
    if head.startswith(b"PXR-USDC"):
        return ".usdc"
    if head.lstrip().startswith(b"#usda"):
        return ".usda"
    if head.startswith((b"ply\n", b"ply\r\n")):
        return ".ply"
    if len(head) >= 84 and 84 + 50 * int.from_bytes(head[80:84], "little") == size:
        return ".stl"  # binary STL: an 80-byte header, the count, 50 bytes a triangle
    if head.lstrip().startswith(b"solid") and b"facet" in head:
        return ".stl"  # ASCII STL
    return ""


def _is_usdz(path: Path) -> bool:
    """A USDZ package: a zip stored without compression whose first file is a USD layer at its top."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (OSError, zipfile.BadZipFile, EOFError):
        return False
    return bool(infos) and "/" not in infos[0].filename and PurePosixPath(infos[0].filename).suffix.lower() in (
        ".usd", ".usda", ".usdc") and all(i.compress_type == zipfile.ZIP_STORED for i in infos)


def _bare_name(name: str, suffix: str) -> str:
    """The link's file name when it is one Windows and every file system can store, else ``model.<ext>``."""
    if PurePosixPath(name).suffix.lower() == suffix:
        try:
            parts, is_dir = split_name(name, DEFAULT_LIMITS)
        except ArchiveError:
            parts, is_dir = (), True
        if len(parts) == 1 and not is_dir:
            return parts[0]
    return "model" + suffix


def _fill(dest: Path, write: Callable[[Path], list[tuple[str, ...]]]) -> list[tuple[str, ...]]:
    """Write into a temporary sibling folder, then replace ``dest`` with it as a whole.

    On any error or cancel nothing is left behind and ``dest`` is untouched.
    """
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".tmp-{dest.name}-{secrets.token_hex(4)}"
        tmp.mkdir()
    except OSError as exc:
        raise _write_error(exc, dest.parent) from exc
    try:
        written = write(tmp)
        if dest.is_symlink() or dest.is_file():
            dest.unlink()
        elif dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _write_error(exc, dest) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return written


def safe_extract(
    zip_path: Path,
    dest: Path,
    *,
    limits: Limits = DEFAULT_LIMITS,
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Extract ``zip_path`` into ``dest`` (replaced as a whole) and return the files written.

    ``progress(done_bytes, total_bytes)`` is called at most ten times a second and once at the
    end.  On any error or cancel nothing is left behind and ``dest`` is untouched.
    """
    zip_path, dest = Path(zip_path), Path(dest)
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise _not_a_zip(zip_path) from exc
    except OSError as exc:
        raise _unreadable(zip_path, exc) from exc
    with zf:
        entries = check_directory(zf, limits)
        declared = sum(e.info.file_size for e in entries if not e.is_dir)
        def write(tmp: Path) -> list[tuple[str, ...]]:
            return _extract_into(zf, entries, tmp.resolve(), declared, limits, cancel, progress)

        written = _fill(dest, write)
    return [dest.joinpath(*parts) for parts in written]


def _extract_into(
    zf: zipfile.ZipFile,
    entries: list[Entry],
    root: Path,
    declared: int,
    limits: Limits,
    cancel: threading.Event | None,
    progress: Callable[[int, int], None] | None,
) -> list[tuple[str, ...]]:
    """One streaming pass; counts real bytes so a lying header is caught while writing."""
    counter = _Written(declared, limits, cancel, progress)
    made: set[Path] = {root}
    written: list[tuple[str, ...]] = []
    for entry in entries:
        counter.check_cancel()
        target = root.joinpath(*entry.parts)
        folder = target if entry.is_dir else target.parent
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        if not target.resolve().is_relative_to(root):
            raise refuse(decode_name(entry.info), msg("resolves outside the destination folder"))
        if not entry.is_dir:
            _copy_entry(zf, entry, target, counter)
            written.append(entry.parts)
    counter.report()
    return written


@dataclass
class _Written:
    """The bytes written so far, against the archive's limit; progress at most ten times a second."""

    declared: int
    limits: Limits
    cancel: threading.Event | None
    progress: Callable[[int, int], None] | None
    done: int = 0
    last_report: float = 0.0

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()

    def add(self, name: str, n: int) -> None:
        self.done += n
        if self.done > self.limits.max_total_bytes:
            raise refuse(name, msg("takes the archive over {limit} bytes", limit=str(self.limits.max_total_bytes)))

    def tick(self) -> None:
        """Between chunks: stop on cancel, and say how far the extraction is."""
        self.check_cancel()
        if self.progress is not None and time.monotonic() - self.last_report >= 0.1:
            self.last_report = time.monotonic()
            self.progress(self.done, self.declared)

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.done, self.declared)


def _copy_entry(zf: zipfile.ZipFile, entry: Entry, target: Path, counter: _Written) -> None:
    """Stream one file out, refusing it as soon as it grows past its header's size or the archive's limit."""
    name = decode_name(entry.info)
    try:
        src = zf.open(entry.info)
    except (zipfile.BadZipFile, NotImplementedError, ValueError) as exc:
        raise refuse(name, msg("is damaged ({reason})", reason=str(exc))) from exc
    size = 0
    with src, open(_open_new(target), "wb", buffering=0) as out:
        while chunk := _read_chunk(src, name):
            size += len(chunk)
            if size > entry.info.file_size:
                raise refuse(name, msg("is larger than its header says (a damaged or forged archive)"))
            counter.add(name, len(chunk))
            out.write(chunk)
            counter.tick()
    if size != entry.info.file_size:
        raise refuse(name, msg("is shorter than its header says (a damaged archive)"))


def _read_chunk(src: IO[bytes], name: str) -> bytes:
    """The next chunk of an entry; a damaged one is refused by name."""
    try:
        return src.read(_CHUNK)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error, lzma.LZMAError) as exc:
        raise refuse(name, msg("is damaged ({reason})", reason=str(exc))) from exc


def _variant(rel: PurePosixPath) -> str | None:
    """``pbr`` or ``rgb`` from the nearest path component that names one (the file stem first)."""
    for part in (rel.stem, *reversed(rel.parts[:-1])):
        words = set(re.split(r"[^a-z0-9]+", part.lower()))
        if words & _PBR_WORDS:
            return "pbr"
        if words & _RGB_WORDS:
            return "rgb"
    return None


def find_models(root: Path) -> list[ModelFile]:
    """Every importable model under ``root``, in a stable sorted order."""
    root = Path(root)
    found: list[ModelFile] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d.lower() not in SKIPPED_DIRS)
        for name in sorted(names):
            kind = MODEL_EXTENSIONS.get(os.path.splitext(name)[1].lower())
            path = Path(folder, name)
            if kind is None or name.startswith("._") or path.is_symlink():
                continue
            rel = PurePosixPath(path.relative_to(root).as_posix())
            found.append(ModelFile(path=path, format=kind[0], variant=_variant(rel)))
    return found


def _few_files(root: Path, count: int = 5) -> list[str]:
    names: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            names.append(Path(folder, name).relative_to(root).as_posix())
            if len(names) >= count:
                return names
    return names


_FORMATS = ", ".join(MODEL_EXTENSIONS)


def choose_model(models: list[ModelFile], variant: str = "pbr", *, root: Path | None = None) -> ModelFile:
    """The model to import: the requested variant, then format preference, then the shallowest.

    ``root`` (the extracted folder) only serves the error message, which lists what the
    archive holds instead.
    """
    if not models:
        held = _few_files(root) if root is not None else []
        raise NoModelError(
            msg("The result holds no model file ({formats}) (it holds: {files})", formats=_FORMATS,
                files=", ".join(held))
            if held else msg("The result holds no model file ({formats})", formats=_FORMATS),
            code=ErrorCode.NO_MODEL,
            hint=msg("Check the task's file format; report the task id to Ark support if the result is wrong"),
        )
    wanted = variant.lower()

    def rank(model: ModelFile) -> tuple[int, int, int, str]:
        variant_rank = 0 if model.variant == wanted else (1 if model.variant is None else 2)
        format_rank = MODEL_EXTENSIONS.get(model.path.suffix.lower(), ("", 99))[1]
        return (variant_rank, format_rank, len(model.path.parts), model.path.as_posix())

    return min(models, key=rank)
