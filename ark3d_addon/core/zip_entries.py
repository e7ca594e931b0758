"""What a result archive's directory may hold, checked before a byte is written.

A result zip comes from the network: its names may climb out of the folder (``..``, absolute
paths, drive letters), name Windows devices or carry characters Windows cannot store, clash
with each other once case is folded, hide links, devices or encrypted entries, or expand a
thousand times (a zip bomb).  :func:`check_directory` refuses all of these by entry name
(:func:`refuse`), from the central directory alone; :mod:`.archive` then extracts what passed.
"""

from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass, field

from .errors import ArchiveError, ErrorCode
from .messages import Message, msg

__all__ = ["ARCHIVE_HINT", "DEFAULT_LIMITS", "SKIPPED_DIRS", "Entry", "Limits", "check_directory", "decode_name",
           "refuse", "split_name"]

ARCHIVE_HINT = msg(
    "The result archive looks damaged or unsafe; download it again, "
    "and report the task id to Ark support if it persists"
)
#: Entries up to this size are not held to the expansion ratio: tiny files compress absurdly well.
_SMALL = 1 << 20
_SUPPORTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
SKIPPED_DIRS = {"__macosx"}
_SKIPPED_FILES = {".ds_store"}
_UTF8_FLAG = 0x800
#: Names Windows keeps for devices, whatever the extension (``con.txt`` is the console too).
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{port}{n}" for port in ("COM", "LPT") for n in "123456789\u00b9\u00b2\u00b3"]
)
_WINDOWS_FORBIDDEN = set('<>"|?*')


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


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Entry:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]
    is_dir: bool


def refuse(name: str, why: Message) -> ArchiveError:
    return ArchiveError(msg("Refusing the result archive: entry '{name}' {why}", name=name, why=why),
                        code=ErrorCode.UNSAFE_ARCHIVE, hint=ARCHIVE_HINT)


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


def split_name(name: str, limits: Limits) -> tuple[tuple[str, ...], bool]:
    """Validate one entry name; return its clean components and whether it is a folder."""
    if "\x00" in name:
        raise refuse(name.replace("\x00", "\\0"), msg("contains a NUL character"))
    if len(name) > limits.max_name_length:
        raise refuse(name[:60] + "...", msg("has a name longer than {n} characters",
                                                     n=str(limits.max_name_length)))
    text = name.replace("\\", "/")
    if text.startswith("/"):
        raise refuse(name, msg("has an absolute path"))
    if re.match(r"^[A-Za-z]:", text):
        raise refuse(name, msg("starts with a drive letter"))
    is_dir = text.endswith("/")
    parts = []
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise refuse(name, msg("points outside the folder ('..')"))
        if ":" in part:
            raise refuse(name, msg("contains ':', which Windows reads as a drive or a stream"))
        if part.rstrip(". ") == "":
            raise refuse(name, msg("has a component made only of dots and spaces"))
        if any(ord(ch) < 32 for ch in part):
            raise refuse(name.encode("unicode_escape").decode(), msg("contains control characters"))
        if any(ch in _WINDOWS_FORBIDDEN for ch in part):
            raise refuse(name, msg("contains one of < > \" | ? *, which Windows cannot store in a name"))
        if part[-1] in ". ":
            raise refuse(name, msg("ends with a dot or a space, which Windows drops from names"))
        if part.split(".")[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
            raise refuse(name, msg("is a name Windows keeps for a device (CON, PRN, AUX, NUL, COM1-9, LPT1-9)"))
        if len(part.encode("utf-8", "surrogatepass")) > limits.max_component_bytes:
            raise refuse(
                name[:60] + "...",
                msg("has a file or folder name longer than {n} bytes, which the file system cannot store",
                    n=str(limits.max_component_bytes)),
            )
        parts.append(part)
    if not parts:
        raise refuse(name, msg("has an empty path"))
    return tuple(parts), is_dir


def check_directory(zf: zipfile.ZipFile, limits: Limits) -> list[Entry]:
    """Every refusal happens here, before anything is written."""
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise ArchiveError(
            msg("Refusing the result archive: it has {n} entries (limit {limit})", n=str(len(infos)),
                limit=str(limits.max_entries)),
            code=ErrorCode.UNSAFE_ARCHIVE,
            hint=ARCHIVE_HINT,
        )
    directory = _Directory(limits)
    entries = [entry for entry in map(directory.check, infos) if entry is not None]
    if not any(not e.is_dir for e in entries):
        raise ArchiveError(msg("The result archive is empty"), code=ErrorCode.EMPTY_ARCHIVE, hint=ARCHIVE_HINT)
    return entries


def _check_kind(name: str, info: zipfile.ZipInfo, mode: int) -> None:
    """Only plain files and folders, readable without a password."""
    if stat.S_ISLNK(mode):
        raise refuse(name, msg("is a symbolic link"))
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise refuse(name, msg("is a special file (device, pipe or socket)"))
    if info.flag_bits & 0x1:
        raise refuse(name, msg("is encrypted"))


@dataclass
class _Directory:
    """The entries checked so far, by case-folded path (as Windows and macOS compare names), so that each
    new one is refused if it clashes with one before it, and the sizes declared so far."""

    limits: Limits
    files: dict[tuple[str, ...], tuple[str, str]] = field(default_factory=dict)  # key -> (name, normalised path)
    folders: dict[tuple[str, ...], str] = field(default_factory=dict)
    total: int = 0

    def check(self, info: zipfile.ZipInfo) -> Entry | None:
        """The entry to extract, None for one left out (``__MACOSX``, ``.DS_Store``...); raises a refusal."""
        name = decode_name(info)
        parts, is_dir = split_name(name, self.limits)
        mode = info.external_attr >> 16
        _check_kind(name, info, mode)
        if any(p.lower() in SKIPPED_DIRS for p in parts) or parts[-1].lower() in _SKIPPED_FILES:
            return None
        normal = "/".join(p.rstrip(". ") for p in parts)
        key = tuple(normal.casefold().split("/"))
        if is_dir or stat.S_ISDIR(mode):
            if key in self.files:
                raise refuse(name, msg("is both a file and a folder (clashes with '{other}')",
                                        other=self.files[key][0]))
            self.folders.setdefault(key, name)
            return Entry(info, parts, True)
        if info.compress_type not in _SUPPORTED_METHODS:
            raise refuse(name, msg("uses compression method {method}, which is not supported",
                                    method=str(info.compress_type)))
        self._place_file(name, parts, normal, key)
        self._count(name, info)
        return Entry(info, parts, False)

    def _place_file(self, name: str, parts: tuple[str, ...], normal: str, key: tuple[str, ...]) -> None:
        """A file clashes with a file or folder of the same name, or sits below a file."""
        if key in self.files:
            other, other_normal = self.files[key]
            why = (msg("appears twice: it clashes with '{other}' (the names differ only in case)", other=other)
                   if other_normal != normal else
                   msg("appears twice: it clashes with '{other}' (the names are the same path)", other=other))
            raise refuse(name, why)
        if key in self.folders:
            raise refuse(name, msg("is both a file and a folder (clashes with '{other}')", other=self.folders[key]))
        for depth in range(1, len(key)):
            prefix = key[:depth]
            if prefix in self.files:
                raise refuse(name, msg("is inside '{other}', which is a file", other=self.files[prefix][0]))
            self.folders.setdefault(prefix, "/".join(parts[:depth]))
        self.files[key] = (name, normal)

    def _count(self, name: str, info: zipfile.ZipInfo) -> None:
        """A zip bomb: one entry that expands too many times, or all of them to too many bytes."""
        limits = self.limits
        if info.file_size > _SMALL and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise refuse(
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
                hint=ARCHIVE_HINT,
            )


