"""Safe extraction of hostile zips, and the choice of the model to import."""

from __future__ import annotations

import os
import random
import stat
import struct
import tempfile
import threading
import warnings
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ark3d_addon.core.archive import ModelFile, choose_model, find_models, safe_extract, unpack
from ark3d_addon.core.errors import ArchiveError, Cancelled, NoModelError
from ark3d_addon.core.zip_entries import DEFAULT_LIMITS, Limits, decode_name

# -- helpers ---------------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under root with its content (None for folders): compared before/after."""
    result: dict[str, bytes | None] = {}
    for base, dirs, files in os.walk(root):
        for name in dirs:
            result[os.path.relpath(os.path.join(base, name), root)] = None
        for name in files:
            path = os.path.join(base, name)
            result[os.path.relpath(path, root)] = Path(path).read_bytes()
    return result


def make_zip(
    path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]], method: int = zipfile.ZIP_DEFLATED
) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point of some tests
        with zipfile.ZipFile(path, "w", method) as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return path


class RawZipInfo(zipfile.ZipInfo):
    """Stores its name as the given bytes, without the UTF-8 flag (as old Windows zippers do)."""

    raw: bytes
    extra_flags: int

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # zipfile's name
        return self.raw, self.flag_bits | self.extra_flags


def raw_info(name: str | bytes, *, utf8: bool = False, mode: int | None = None, flags: int = 0) -> zipfile.ZipInfo:
    """A ZipInfo for ``name``: bytes are stored as they are, text as UTF-8 with or without the flag."""
    raw = name if isinstance(name, bytes) else name.encode("utf-8", "surrogatepass")
    info = RawZipInfo(raw.decode("cp437"))
    info.raw = raw
    info.extra_flags = flags | (0x800 if utf8 else 0)  # zipfile resets flag_bits when writing
    if mode is not None:
        info.create_system = 3
        info.external_attr = mode << 16
    return info


def patch_central_size(path: Path, name: str, file_size: int) -> None:
    """Make the central directory lie about an entry's uncompressed size."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    pos = 0
    while True:
        pos = data.index(b"PK\x01\x02", pos)
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if bytes(data[pos + 46 : pos + 46 + name_len]) == encoded:
            struct.pack_into("<I", data, pos + 24, file_size)
            break
        pos += 4
    path.write_bytes(bytes(data))


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """A folder holding the zip and the destination; anything written outside dest shows up here."""
    (tmp_path / "zone").mkdir()
    (tmp_path / "zone" / "keep.txt").write_text("untouched")
    return tmp_path / "zone"


def assert_refused(zip_path: Path, sandbox: Path, *fragments: str, limits: Limits = DEFAULT_LIMITS) -> ArchiveError:
    dest = sandbox / "out"
    before = snapshot(sandbox.parent)
    with pytest.raises(ArchiveError) as info:
        safe_extract(zip_path, dest, limits=limits)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    assert "damaged or unsafe" in str(info.value.hint)
    assert snapshot(sandbox.parent) == before, "something was written"
    return info.value


# -- extraction that works ---------------------------------------------------------------------


def test_extracts_nested_tree_and_replaces_dest(sandbox: Path) -> None:
    big = os.urandom(3 << 20)
    zpath = make_zip(
        sandbox / "r.zip",
        [
            ("chair/pbr/chair.glb", big),
            ("chair/rgb/chair.glb", b"rgb"),
            ("chair/", b""),
            ("chair/empty/", b""),
            ("readme.txt", b"hello"),
        ],
    )
    dest = sandbox / "out"
    dest.mkdir()
    (dest / "stale.txt").write_text("old")
    calls: list[tuple[int, int]] = []
    files = safe_extract(zpath, dest, progress=lambda d, t: calls.append((d, t)))
    assert sorted(p.relative_to(dest).as_posix() for p in files) == [
        "chair/pbr/chair.glb",
        "chair/rgb/chair.glb",
        "readme.txt",
    ]
    assert (dest / "chair/pbr/chair.glb").read_bytes() == big
    assert (dest / "chair/empty").is_dir()
    assert not (dest / "stale.txt").exists()
    assert calls[-1] == (len(big) + 8, len(big) + 8)
    assert [p.name for p in sandbox.iterdir() if p.name.startswith(".tmp-")] == []


def test_skips_macos_metadata_and_keeps_nested_zips(sandbox: Path) -> None:
    inner = make_zip(sandbox / "inner.zip", [("x.txt", b"x")]).read_bytes()
    zpath = make_zip(
        sandbox / "r.zip",
        [
            ("__MACOSX/._m.glb", b"junk"),
            ("m/__MACOSX/._x", b"junk"),
            ("m/.DS_Store", b"junk"),
            ("m/m.glb", b"glb"),
            ("m/extra.zip", inner),
        ],
    )
    files = safe_extract(zpath, sandbox / "out")
    assert sorted(p.relative_to(sandbox / "out").as_posix() for p in files) == ["m/extra.zip", "m/m.glb"]
    assert not (sandbox / "out" / "__MACOSX").exists()
    assert (sandbox / "out" / "m" / "extra.zip").read_bytes() == inner


def test_permissions_are_not_preserved(sandbox: Path) -> None:
    zpath = sandbox / "r.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr(raw_info("run.sh", mode=stat.S_IFREG | 0o6777), b"#!/bin/sh\n")
    safe_extract(zpath, sandbox / "out")
    mode = stat.S_IMODE((sandbox / "out" / "run.sh").stat().st_mode)
    assert mode & 0o7111 == 0


def test_gbk_and_unflagged_utf8_names(sandbox: Path) -> None:
    zpath = sandbox / "r.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr(raw_info("模型/椅子.glb".encode("gbk")), b"gbk")
        zf.writestr(raw_info("纹理/贴图.png".encode()), b"utf8-no-flag")
        zf.writestr(raw_info("标记/ok.obj", utf8=True), b"flagged")
    with zipfile.ZipFile(zpath) as zf:
        names = [decode_name(i) for i in zf.infolist()]
    assert names == ["模型/椅子.glb", "纹理/贴图.png", "标记/ok.obj"]
    safe_extract(zpath, sandbox / "out")
    assert (sandbox / "out" / "模型" / "椅子.glb").read_bytes() == b"gbk"
    assert (sandbox / "out" / "纹理" / "贴图.png").read_bytes() == b"utf8-no-flag"


def test_decode_name_falls_back_to_cp437() -> None:
    info = raw_info(b"\x81\x30caf\xe9")  # neither UTF-8 nor GBK
    assert decode_name(info) == info.orig_filename


def test_all_compression_methods(sandbox: Path) -> None:
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        zpath = make_zip(sandbox / f"r{method}.zip", [("a.glb", b"abc" * 1000)], method)
        safe_extract(zpath, sandbox / f"out{method}")
        assert (sandbox / f"out{method}" / "a.glb").read_bytes() == b"abc" * 1000


# -- results served as the model file itself (Hyper3D, Hitem3D) ------------------------------------


def binary_stl(triangles: int) -> bytes:
    return b"made by a test".ljust(80, b" ") + struct.pack("<I", triangles) + b"\0" * (50 * triangles)


@pytest.mark.parametrize(("name", "data", "file"), [
    ("3f9a2c.glb", b"glTF\x02\0\0\0" + b"\0" * 40, "3f9a2c.glb"),
    ("", b"glTF\x02\0\0\0" + b"\0" * 40, "model.glb"),  # no link name: the first bytes decide
    ("result", b"Kaydara FBX Binary  \x00\x1a\x00" + b"\0" * 40, "model.fbx"),
    ("a.fbx", b"Kaydara FBX Binary  \x00\x1a\x00" + b"\0" * 40, "a.fbx"),
    ("x.stl", binary_stl(3), "x.stl"),
    ("", binary_stl(3), "model.stl"),
    ("", b"solid cube\n  facet normal 0 0 1\n", "model.stl"),
    ("m.ply", b"ply\nformat ascii 1.0\n", "m.ply"),
    ("", b"PXR-USDC" + b"\0" * 40, "model.usdc"),
    ("a.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "a.obj"),  # no magic: the link's name says
    ("CON.glb", b"glTF\x02\0\0\0" + b"\0" * 40, "model.glb"),  # a name Windows cannot store
    ("a.zip", b"glTF\x02\0\0\0" + b"\0" * 40, "model.glb"),  # the content wins over a wrong name
])
def test_a_bare_model_file_is_put_in_the_folder(tmp_path: Path, name: str, data: bytes, file: str) -> None:
    download = tmp_path / "result.zip"
    download.write_bytes(data)
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "stale.glb").write_bytes(b"old")
    written = unpack(download, tmp_path / "files", name=name)
    assert written == [tmp_path / "files" / file]
    assert sorted(p.name for p in (tmp_path / "files").iterdir()) == [file]  # replaced as a whole
    assert written[0].read_bytes() == data and download.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


def test_usdz_is_imported_whole_and_a_zip_extracted(tmp_path: Path) -> None:
    usdz = make_zip(tmp_path / "d.usdz", [("model.usdc", b"PXR-USDC" + b"\0" * 8), ("0/tex.png", b"png")],
                    method=zipfile.ZIP_STORED)
    assert unpack(usdz, tmp_path / "a", name="9c1e.usdz") == [tmp_path / "a" / "9c1e.usdz"]
    assert unpack(usdz, tmp_path / "b", name="") == [tmp_path / "b" / "model.usdz"]  # a USDZ by its layout
    assert sorted(p.name for p in unpack(usdz, tmp_path / "c", name="result.zip")) == ["model.usdc", "tex.png"]
    result = make_zip(tmp_path / "r.zip", [("pbr/m.glb", b"glTF"), ("rgb/m.glb", b"glTF")])
    assert len(unpack(result, tmp_path / "d", name="")) == 2


def test_a_download_that_is_neither_says_what_it_is(tmp_path: Path) -> None:
    page = tmp_path / "result.zip"
    page.write_bytes(b"<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>")
    with pytest.raises(ArchiveError, match="not a zip: the server sent an HTML/XML page"):
        unpack(page, tmp_path / "files", name="x.bin")
    assert not (tmp_path / "files").exists()


# -- refusals, each before anything is written -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.txt", "'..'"),
        ("a/../../evil.txt", "'..'"),
        ("/etc/evil.txt", "absolute path"),
        ("\\\\server\\share\\evil.txt", "absolute path"),
        ("C:/evil.txt", "drive letter"),
        ("c:evil.txt", "drive letter"),
        ("a\\..\\..\\evil.txt", "'..'"),
        ("a/b:stream", "':'"),
        ("a/.. /evil.txt", "dots and spaces"),
        ("a/\x07bell.txt", "control characters"),
        # names Windows cannot store: refused, so the library stays copyable to Windows
        ("m/CON", "device"),
        ("m/con.png", "device"),
        ("textures/Aux.tar.gz", "device"),
        ("m/NUL .txt", "device"),
        ("m/COM1.obj", "device"),
        ("m/lpt9", "device"),
        ("m/tex./a.png", "ends with a dot or a space"),
        ("m/a.png ", "ends with a dot or a space"),
        ("m/a<b>.png", "Windows cannot store"),
        ("m/what?.png", "Windows cannot store"),
        ("m/star*.png", "Windows cannot store"),
        ("m/pipe|.png", "Windows cannot store"),
        ('m/quote".png', "Windows cannot store"),
    ],
)
def test_refuses_unsafe_names(sandbox: Path, name: str, why: str) -> None:
    zpath = make_zip(sandbox / "r.zip", [("ok.glb", b"fine"), (raw_info(name), b"evil")])
    error = assert_refused(zpath, sandbox, why)
    assert error.code == "UnsafeArchive"


def test_refuses_nul_in_name(sandbox: Path) -> None:
    zpath = make_zip(sandbox / "r.zip", [(raw_info("ok.glb\x00../../evil"), b"x")])
    assert_refused(zpath, sandbox, "NUL")


def test_refuses_overlong_name(sandbox: Path) -> None:
    zpath = make_zip(sandbox / "r.zip", [("a" * 300 + ".glb", b"x")])
    assert_refused(zpath, sandbox, "longer than 200", limits=Limits(max_name_length=200))


def test_refuses_symlink_entry(sandbox: Path) -> None:
    zpath = make_zip(sandbox / "r.zip", [(raw_info("link", mode=stat.S_IFLNK | 0o777), b"/etc/passwd")])
    assert_refused(zpath, sandbox, "'link'", "symbolic link")


def test_refuses_special_file(sandbox: Path) -> None:
    zpath = make_zip(sandbox / "r.zip", [(raw_info("fifo", mode=stat.S_IFIFO | 0o644), b"")])
    assert_refused(zpath, sandbox, "'fifo'", "special file")


def test_refuses_encrypted_entry(sandbox: Path) -> None:
    zpath = make_zip(sandbox / "r.zip", [(raw_info("secret.glb", flags=0x1), b"x" * 20)])
    assert_refused(zpath, sandbox, "'secret.glb'", "encrypted")


@pytest.mark.parametrize(
    ("first", "second", "why"),
    [
        ("m/a.glb", "m/a.glb", "the names are the same path"),
        ("m/Model.GLB", "M/model.glb", "the names differ only in case"),
        ("m/a.glb", "m\\a.glb", "appears twice"),
        ("m/a.glb", "m/./a.glb", "appears twice"),
        ("m/a", "m/a/b.glb", "which is a file"),
        ("m/a/b.glb", "m/a", "file and a folder"),
    ],
)
def test_refuses_duplicates(sandbox: Path, first: str, second: str, why: str) -> None:
    zpath = make_zip(sandbox / "r.zip", [(raw_info(first), b"1"), (raw_info(second), b"2")])
    assert_refused(zpath, sandbox, why)


def test_refuses_too_many_entries(sandbox: Path) -> None:
    zpath = make_zip(sandbox / "r.zip", [(f"f{i}.txt", b"") for i in range(11)])
    assert_refused(zpath, sandbox, "11 entries", limits=Limits(max_entries=10))


def test_refuses_declared_total_over_cap(sandbox: Path) -> None:
    zpath = make_zip(sandbox / "r.zip", [("a.bin", b"a" * 600), ("b.bin", b"b" * 600)], zipfile.ZIP_STORED)
    assert_refused(zpath, sandbox, "more than 1000 bytes", limits=Limits(max_total_bytes=1000))


def test_refuses_compression_bomb_ratio(sandbox: Path) -> None:
    zpath = make_zip(sandbox / "r.zip", [("bomb.bin", bytes(20 << 20))])
    assert_refused(zpath, sandbox, "'bomb.bin'", "zip bomb")


def test_small_entries_are_exempt_from_ratio(sandbox: Path) -> None:
    zpath = make_zip(sandbox / "r.zip", [("zeros.bin", bytes(1 << 20))])
    safe_extract(zpath, sandbox / "out")


def test_refuses_empty_zip(sandbox: Path) -> None:
    zpath = make_zip(sandbox / "r.zip", [])
    assert_refused(zpath, sandbox, "empty")
    only_junk = make_zip(sandbox / "j.zip", [("__MACOSX/._x", b"x"), ("dir/", b"")])
    assert_refused(only_junk, sandbox, "empty")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"<!DOCTYPE html><html><title>Gateway</title><body>Bad gateway</body></html>", "HTML/XML page (Gateway"),
        (b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', "HTML/XML page (AccessDenied)"),
        (b"  \n<html>", "HTML/XML page"),
        (b"PK\x03\x04garbage that is not a zip at all", "not a zip file"),
        (b"", "empty (0 bytes)"),
    ],
)
def test_refuses_non_zip(sandbox: Path, body: bytes, fragment: str) -> None:
    zpath = sandbox / "r.zip"
    zpath.write_bytes(body)
    assert assert_refused(zpath, sandbox, fragment).code == "NotAZip"


def test_lying_header_cannot_get_past_cap(sandbox: Path) -> None:
    """The header says 1000 bytes; the stream inflates to 50 MB: stopped, nothing left behind."""
    zpath = make_zip(sandbox / "r.zip", [("ok.txt", b"fine"), ("liar.bin", bytes(50 << 20))])
    patch_central_size(zpath, "liar.bin", 1000)
    dest = sandbox / "out"
    dest.mkdir()
    (dest / "previous.glb").write_bytes(b"previous result")
    before = snapshot(sandbox.parent)
    with pytest.raises(ArchiveError, match="entry 'liar.bin'"):
        safe_extract(zpath, dest)
    assert snapshot(sandbox.parent) == before  # temp folder gone, old dest intact


def test_shorter_than_header_and_bad_crc(sandbox: Path) -> None:
    zpath = make_zip(sandbox / "r.zip", [("a.bin", b"a" * 100)], zipfile.ZIP_STORED)
    patch_central_size(zpath, "a.bin", 200)
    assert_refused(zpath, sandbox, "'a.bin'")
    zpath = make_zip(sandbox / "c.zip", [("b.bin", b"b" * 100)], zipfile.ZIP_STORED)
    data = bytearray(zpath.read_bytes())
    data[data.index(b"b" * 100) + 50] = ord("X")
    zpath.write_bytes(bytes(data))
    assert_refused(zpath, sandbox, "'b.bin'", "damaged")


def test_cancel_removes_temp_and_keeps_dest(sandbox: Path) -> None:
    zpath = make_zip(sandbox / "r.zip", [(f"f{i}.bin", os.urandom(300_000)) for i in range(20)], zipfile.ZIP_STORED)
    dest = sandbox / "out"
    dest.mkdir()
    (dest / "previous.glb").write_bytes(b"old")
    before = snapshot(sandbox.parent)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        safe_extract(zpath, dest, cancel=cancel)
    assert snapshot(sandbox.parent) == before

    cancel.clear()

    def progress(done: int, total: int) -> None:
        cancel.set()

    with pytest.raises(Cancelled):
        safe_extract(zpath, dest, cancel=cancel, progress=progress)
    assert snapshot(sandbox.parent) == before


# -- property: nothing ever lands outside dest ------------------------------------------------

_PARTS = st.sampled_from(["..", ".", "", "a", "B", "C:", "c:", "x:y", "é", "模型", "a b", " ", "...", "~", "$HOME"])
_SEPS = st.sampled_from(["/", "\\", "//", "\\\\"])
_NAMES = st.builds(
    lambda parts, seps, lead: lead + "".join(p + s for p, s in zip(parts, seps, strict=False)) + parts[-1],
    st.lists(_PARTS, min_size=1, max_size=5),
    st.lists(_SEPS, min_size=5, max_size=5),
    st.sampled_from(["", "/", "\\", "C:\\", "./", "../"]),
)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(st.one_of(_NAMES, st.text(min_size=1, max_size=12)), min_size=1, max_size=6))
def test_property_never_writes_outside_dest(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        zone = Path(tmp) / "zone"
        (zone / "deep" / "er").mkdir(parents=True)
        zpath = Path(tmp) / "r.zip"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with zipfile.ZipFile(zpath, "w") as zf:
                for i, name in enumerate(names):
                    zf.writestr(raw_info(name, utf8=True), f"entry {i}".encode())
        dest = zone / "deep" / "er" / "out"
        before = snapshot(Path(tmp))
        try:
            files = safe_extract(zpath, dest)
        except ArchiveError:
            assert snapshot(Path(tmp)) == before
            return
        after = snapshot(Path(tmp))
        resolved_dest = dest.resolve()
        for file in files:
            assert file.resolve().is_relative_to(resolved_dest)
            assert file.is_file() and not file.is_symlink()
        new = {k for k in after if k not in before}
        assert new and all(Path(tmp, k).resolve().is_relative_to(resolved_dest) for k in new)
        assert {k: v for k, v in after.items() if k in before} == before


# -- finding and choosing the model -----------------------------------------------------------


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def test_find_models_variants_and_formats(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "chair/pbr/chair.glb",
        "chair/rgb/chair.glb",
        "chair/chair_PBR.obj",
        "chair/baked/c.usdz",
        "chair/baked/c.usdc",
        "chair/color/c.usdc",
        "chair/colour/c.usda",
        "chair/plain.gltf",
        "chair/model.usd",
        "chair/deep/er/still/chair.fbx",
        "chair/rgb/chair.stl",
        "chair/chair.PLY",
        "chair/preview.png",
        "__MACOSX/chair/._chair.glb",
        "chair/._hidden.glb",
    )
    found = {m.path.relative_to(tmp_path).as_posix(): (m.format, m.variant) for m in find_models(tmp_path)}
    assert found == {
        "chair/pbr/chair.glb": ("gltf", "pbr"),
        "chair/rgb/chair.glb": ("gltf", "rgb"),
        "chair/chair_PBR.obj": ("obj", "pbr"),
        "chair/baked/c.usdz": ("usd", "rgb"),
        "chair/baked/c.usdc": ("usd", "rgb"),
        "chair/color/c.usdc": ("usd", "rgb"),
        "chair/colour/c.usda": ("usd", "rgb"),
        "chair/plain.gltf": ("gltf", None),
        "chair/model.usd": ("usd", None),
        "chair/deep/er/still/chair.fbx": ("fbx", None),
        "chair/rgb/chair.stl": ("stl", "rgb"),
        "chair/chair.PLY": ("ply", None),
    }
    assert find_models(tmp_path) == find_models(tmp_path)  # deterministic order


def test_choose_variant(tmp_path: Path) -> None:
    touch(tmp_path, "chair/pbr/chair.glb", "chair/rgb/chair.glb", "chair/preview.png")
    models = find_models(tmp_path)
    assert choose_model(models).path == tmp_path / "chair/pbr/chair.glb"
    assert choose_model(models, "rgb").path == tmp_path / "chair/rgb/chair.glb"
    assert choose_model(list(reversed(models)), "pbr").path == tmp_path / "chair/pbr/chair.glb"


def test_choose_single_model_whatever_the_variant(tmp_path: Path) -> None:
    touch(tmp_path, "out/model.obj", "out/model.mtl", "out/tex/albedo.png")
    assert choose_model(find_models(tmp_path), "rgb").path == tmp_path / "out/model.obj"
    only_rgb = [ModelFile(tmp_path / "rgb/a.glb", "gltf", "rgb")]
    assert choose_model(only_rgb, "pbr") == only_rgb[0]


def test_choose_format_then_depth_then_name(tmp_path: Path) -> None:
    names = [
        "z/a.obj",
        "a.usda",
        "a.usd",
        "b.usdc",
        "c.usdz",
        "deep/x.gltf",
        "y.gltf",
        "deep/er/a.glb",
        "b.glb",
        "a.glb",
    ]
    order: list[str] = []
    models = [ModelFile(tmp_path / n, "", None) for n in names]
    remaining = list(models)
    while remaining:
        random.shuffle(remaining)
        best = choose_model(remaining)
        order.append(best.path.relative_to(tmp_path).as_posix())
        remaining.remove(best)
    assert order == [
        "a.glb",
        "b.glb",
        "deep/er/a.glb",
        "y.gltf",
        "deep/x.gltf",
        "c.usdz",
        "b.usdc",
        "a.usd",
        "a.usda",
        "z/a.obj",
    ]


def test_no_model_lists_what_is_there(tmp_path: Path) -> None:
    touch(tmp_path, "readme.txt", "preview/p.png", "model.max")
    with pytest.raises(NoModelError) as info:
        choose_model(find_models(tmp_path), root=tmp_path)
    message = str(info.value)
    assert "holds no model file (.glb, .gltf, .usdz, .usdc, .usd, .usda, .obj, .fbx, .stl, .ply)" in message
    assert "model.max" in message and "readme.txt" in message and "preview/p.png" in message
    assert info.value.hint
    with pytest.raises(NoModelError):
        choose_model([])
