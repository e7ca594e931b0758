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
import stat
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from .errors import ArchiveError, Cancelled, ErrorCode, NoModelError
from .messages import Message, msg

__all__ = [
    "MODEL_EXTENSIONS",
    "Limits",
    "ModelFile",
    "choose_model",
    "decode_name",
    "find_models",
    "model_suffix",
    "safe_extract",
    "unpack",
]

_CHUNK = 1 << 20
_HINT = msg(
    "The result archive looks damaged or unsafe; download it again, "
    "and report the task id to Ark support if it persists"
)
_SUPPORTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_SKIPPED_DIRS = {"__macosx"}
_SKIPPED_FILES = {".ds_store"}
_UTF8_FLAG = 0x800
#: Names Windows keeps for devices, whatever the extension (``con.txt`` is the console too).
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{port}{n}" for port in ("COM", "LPT") for n in "123456789\u00b9\u00b2\u00b3"]
)
_WINDOWS_FORBIDDEN = set('<>"|?*')

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
class Limits:
    """Bounds that a genuine result never reaches but a zip bomb does.

    ``max_ratio`` applies only to entries larger than 1 MiB: tiny files compress absurdly well.
    """

    max_total_bytes: int = 8 << 30
    max_entries: int = 20000
    max_ratio: float = 1000.0
    max_name_length: int = 1024
    #: One file or folder name, in UTF-8 bytes: what Linux and macOS file systems take.
    max_component_bytes: int = 255


@dataclass(frozen=True)
class ModelFile:
    """A model found in the extracted tree; ``variant`` is ``"pbr"``, ``"rgb"`` or ``None``."""

    path: Path
    format: str
    variant: str | None


@dataclass(frozen=True)
class _Entry:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]
    is_dir: bool


def _refuse(name: str, why: Message) -> ArchiveError:
    return ArchiveError(msg("Refusing the result archive: entry '{name}' {why}", name=name, why=why),
                        code=ErrorCode.UNSAFE_ARCHIVE, hint=_HINT)


def decode_name(info: zipfile.ZipInfo) -> str:
    """The entry's real name: zips made on Chinese Windows store GBK without saying so.

    Without the UTF-8 flag :mod:`zipfile` decodes as cp437; re-encoding gives back the raw
    bytes, which are tried as UTF-8 (many tools omit the flag), then GBK/GB18030.
    """
    if info.flag_bits & _UTF8_FLAG:
        return info.orig_filename
    try:
        raw = info.orig_filename.encode("cp437")
    except UnicodeEncodeError:
        return info.orig_filename
    for encoding in ("utf-8", "gbk", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.orig_filename


def _split_name(name: str, limits: Limits) -> tuple[tuple[str, ...], bool]:
    """Validate one entry name; return its clean components and whether it is a folder."""
    if "\x00" in name:
        raise _refuse(name.replace("\x00", "\\0"), msg("contains a NUL character"))
    if len(name) > limits.max_name_length:
        raise _refuse(name[:60] + "...", msg("has a name longer than {n} characters",
                                                     n=str(limits.max_name_length)))
    text = name.replace("\\", "/")
    if text.startswith("/"):
        raise _refuse(name, msg("has an absolute path"))
    if re.match(r"^[A-Za-z]:", text):
        raise _refuse(name, msg("starts with a drive letter"))
    is_dir = text.endswith("/")
    parts = []
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise _refuse(name, msg("points outside the folder ('..')"))
        if ":" in part:
            raise _refuse(name, msg("contains ':', which Windows reads as a drive or a stream"))
        if part.rstrip(". ") == "":
            raise _refuse(name, msg("has a component made only of dots and spaces"))
        if any(ord(ch) < 32 for ch in part):
            raise _refuse(name.encode("unicode_escape").decode(), msg("contains control characters"))
        if any(ch in _WINDOWS_FORBIDDEN for ch in part):
            raise _refuse(name, msg("contains one of < > \" | ? *, which Windows cannot store in a name"))
        if part[-1] in ". ":
            raise _refuse(name, msg("ends with a dot or a space, which Windows drops from names"))
        if part.split(".")[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
            raise _refuse(name, msg("is a name Windows keeps for a device (CON, PRN, AUX, NUL, COM1-9, LPT1-9)"))
        if len(part.encode("utf-8", "surrogatepass")) > limits.max_component_bytes:
            raise _refuse(
                name[:60] + "...",
                msg("has a file or folder name longer than {n} bytes, which the file system cannot store",
                    n=str(limits.max_component_bytes)),
            )
        parts.append(part)
    if not parts:
        raise _refuse(name, msg("has an empty path"))
    return tuple(parts), is_dir


def _not_a_zip(zip_path: Path) -> ArchiveError:
    """Say what the file is instead: usually an HTML/XML error page saved as the zip."""
    try:
        with open(zip_path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        return _unreadable(zip_path, exc)
    if not head:
        return ArchiveError(msg("The download is empty (0 bytes)"), code=ErrorCode.NOT_A_ZIP, hint=_HINT)
    if head.startswith(b"PK\x03\x04"):
        return ArchiveError(
            msg("The download is not a zip file that can be read: it starts like one but its end is missing "
                "or damaged (a truncated download?)"),
            code=ErrorCode.NOT_A_ZIP,
            hint=_HINT,
        )
    text = head.lstrip()
    if text[:1] == b"<":
        summary = " ".join(re.sub(rb"<[^>]*>", b" ", text).decode("utf-8", "replace").split())[:120]
        return ArchiveError(
            msg("The download is not a zip: the server sent an HTML/XML page ({summary})", summary=summary)
            if summary else msg("The download is not a zip: the server sent an HTML/XML page"),
            code=ErrorCode.NOT_A_ZIP,
            hint=_HINT,
        )
    return ArchiveError(msg("The download is not a zip file (it starts with {head})", head=repr(head[:16])),
                        code=ErrorCode.NOT_A_ZIP, hint=_HINT)


def _unreadable(zip_path: Path, exc: OSError) -> ArchiveError:
    return ArchiveError(msg("Cannot read the downloaded file {file}: {reason}", file=str(zip_path),
                            reason=str(exc.strerror)), code=ErrorCode.DISK_ERROR, hint=_HINT)


def _check_directory(zf: zipfile.ZipFile, limits: Limits) -> list[_Entry]:
    """Every refusal happens here, before anything is written."""
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise ArchiveError(
            msg("Refusing the result archive: it has {n} entries (limit {limit})", n=str(len(infos)),
                limit=str(limits.max_entries)),
            code=ErrorCode.UNSAFE_ARCHIVE,
            hint=_HINT,
        )
    directory = _Directory(limits)
    entries = [entry for entry in map(directory.check, infos) if entry is not None]
    if not any(not e.is_dir for e in entries):
        raise ArchiveError(msg("The result archive is empty"), code=ErrorCode.EMPTY_ARCHIVE, hint=_HINT)
    return entries


def _check_kind(name: str, info: zipfile.ZipInfo, mode: int) -> None:
    """Only plain files and folders, readable without a password."""
    if stat.S_ISLNK(mode):
        raise _refuse(name, msg("is a symbolic link"))
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise _refuse(name, msg("is a special file (device, pipe or socket)"))
    if info.flag_bits & 0x1:
        raise _refuse(name, msg("is encrypted"))


@dataclass
class _Directory:
    """The entries checked so far, by case-folded path (as Windows and macOS compare names), so that each
    new one is refused if it clashes with one before it, and the sizes declared so far."""

    limits: Limits
    files: dict[tuple[str, ...], tuple[str, str]] = field(default_factory=dict)  # key -> (name, normalised path)
    folders: dict[tuple[str, ...], str] = field(default_factory=dict)
    total: int = 0

    def check(self, info: zipfile.ZipInfo) -> _Entry | None:
        """The entry to extract, None for one left out (``__MACOSX``, ``.DS_Store``...); raises a refusal."""
        name = decode_name(info)
        parts, is_dir = _split_name(name, self.limits)
        mode = info.external_attr >> 16
        _check_kind(name, info, mode)
        if any(p.lower() in _SKIPPED_DIRS for p in parts) or parts[-1].lower() in _SKIPPED_FILES:
            return None
        normal = "/".join(p.rstrip(". ") for p in parts)
        key = tuple(normal.casefold().split("/"))
        if is_dir or stat.S_ISDIR(mode):
            if key in self.files:
                raise _refuse(name, msg("is both a file and a folder (clashes with '{other}')",
                                        other=self.files[key][0]))
            self.folders.setdefault(key, name)
            return _Entry(info, parts, True)
        if info.compress_type not in _SUPPORTED_METHODS:
            raise _refuse(name, msg("uses compression method {method}, which is not supported",
                                    method=str(info.compress_type)))
        self._place_file(name, parts, normal, key)
        self._count(name, info)
        return _Entry(info, parts, False)

    def _place_file(self, name: str, parts: tuple[str, ...], normal: str, key: tuple[str, ...]) -> None:
        """A file clashes with a file or folder of the same name, or sits below a file."""
        if key in self.files:
            other, other_normal = self.files[key]
            why = (msg("appears twice: it clashes with '{other}' (the names differ only in case)", other=other)
                   if other_normal != normal else
                   msg("appears twice: it clashes with '{other}' (the names are the same path)", other=other))
            raise _refuse(name, why)
        if key in self.folders:
            raise _refuse(name, msg("is both a file and a folder (clashes with '{other}')", other=self.folders[key]))
        for depth in range(1, len(key)):
            prefix = key[:depth]
            if prefix in self.files:
                raise _refuse(name, msg("is inside '{other}', which is a file", other=self.files[prefix][0]))
            self.folders.setdefault(prefix, "/".join(parts[:depth]))
        self.files[key] = (name, normal)

    def _count(self, name: str, info: zipfile.ZipInfo) -> None:
        """A zip bomb: one entry that expands too many times, or all of them to too many bytes."""
        limits = self.limits
        if info.file_size > _CHUNK and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise _refuse(
                name,
                msg("expands {ratio} times (limit {limit}): a zip bomb",
                    ratio=f"{info.file_size / max(info.compress_size, 1):.0f}", limit=f"{limits.max_ratio:g}"),
            )
        self.total += info.file_size
        if self.total > limits.max_total_bytes:
            raise ArchiveError(
                msg("Refusing the result archive: it would expand to more than {limit} bytes",
                    limit=str(limits.max_total_bytes)),
                code=ErrorCode.UNSAFE_ARCHIVE,
                hint=_HINT,
            )


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
    limits: Limits = Limits(),
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
            parts, is_dir = _split_name(name, Limits())
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
    limits: Limits = Limits(),
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
        entries = _check_directory(zf, limits)
        declared = sum(e.info.file_size for e in entries if not e.is_dir)
        def write(tmp: Path) -> list[tuple[str, ...]]:
            return _extract_into(zf, entries, tmp.resolve(), declared, limits, cancel, progress)

        written = _fill(dest, write)
    return [dest.joinpath(*parts) for parts in written]


def _extract_into(
    zf: zipfile.ZipFile,
    entries: list[_Entry],
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
            raise _refuse(decode_name(entry.info), msg("resolves outside the destination folder"))
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
            raise _refuse(name, msg("takes the archive over {limit} bytes", limit=str(self.limits.max_total_bytes)))

    def tick(self) -> None:
        """Between chunks: stop on cancel, and say how far the extraction is."""
        self.check_cancel()
        if self.progress is not None and time.monotonic() - self.last_report >= 0.1:
            self.last_report = time.monotonic()
            self.progress(self.done, self.declared)

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.done, self.declared)


def _copy_entry(zf: zipfile.ZipFile, entry: _Entry, target: Path, counter: _Written) -> None:
    """Stream one file out, refusing it as soon as it grows past its header's size or the archive's limit."""
    name = decode_name(entry.info)
    try:
        src = zf.open(entry.info)
    except (zipfile.BadZipFile, NotImplementedError, ValueError) as exc:
        raise _refuse(name, msg("is damaged ({reason})", reason=str(exc))) from exc
    size = 0
    with src, open(_open_new(target), "wb", buffering=0) as out:
        while chunk := _read_chunk(src, name):
            size += len(chunk)
            if size > entry.info.file_size:
                raise _refuse(name, msg("is larger than its header says (a damaged or forged archive)"))
            counter.add(name, len(chunk))
            out.write(chunk)
            counter.tick()
    if size != entry.info.file_size:
        raise _refuse(name, msg("is shorter than its header says (a damaged archive)"))


def _read_chunk(src: IO[bytes], name: str) -> bytes:
    """The next chunk of an entry; a damaged one is refused by name."""
    try:
        return src.read(_CHUNK)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error, lzma.LZMAError) as exc:
        raise _refuse(name, msg("is damaged ({reason})", reason=str(exc))) from exc


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
        dirs[:] = sorted(d for d in dirs if d.lower() not in _SKIPPED_DIRS)
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
