"""Hostile and damaged result archives, each served by the local file host through a whole ImportJob.

tests/core/test_archive.py covers the sanitizer itself (every refusal leaves the disk as it
was); here each archive goes through poll -> download -> extract -> choose, so the message the
user reads, what stays in the library and the invariants of support.Scenario are checked.
"""

from __future__ import annotations

import json
import stat
import zipfile

from ark3d_addon.core.errors import ArchiveError, ArkError, NoModelError

from .support import OBJ, Scenario, glb, raw_info, zip_bytes

MODEL = ("model/m.glb", glb())
HINT = "report the task id to Ark support"


def refused(sc: Scenario, data: bytes, *fragments: str, code: str = "UnsafeArchive") -> ArkError:
    """The job fails with an ArchiveError naming the cause; the bad zip is not kept, nothing extracted."""
    tid = sc.serve(data)
    error = sc.fail(tid, ArchiveError)
    text = error.user_message()
    for fragment in fragments:
        assert fragment in text, text
    assert error.code == code and HINT in text, text
    assert not sc.library.zip_path(tid).exists(), "a damaged download must not stick"
    assert not sc.library.files_dir(tid).exists() and not sc.library.is_extracted(tid)
    assert sc.states[-1].phase == "failed" and sc.states[-1].text == error.what
    return error


def test_archive_dotdot_entry(sc: Scenario) -> None:
    """expected: refused before writing: "entry '../../outside/evil.txt' points outside the folder ('..')"."""
    refused(sc, zip_bytes([MODEL, (raw_info("../../outside/evil.txt"), b"evil")]),
            "entry '../../outside/evil.txt' points outside the folder ('..')")


def test_archive_absolute_path(sc: Scenario) -> None:
    """expected: refused before writing: "entry '/<tmp>/outside/evil.txt' has an absolute path"."""
    name = f"{sc.root}/outside/evil.txt"
    refused(sc, zip_bytes([MODEL, (raw_info(name), b"evil")]), f"entry '{name}' has an absolute path")


def test_archive_drive_letter(sc: Scenario) -> None:
    """expected: refused before writing: "entry 'C:\\outside\\evil.txt' starts with a drive letter"."""
    refused(sc, zip_bytes([MODEL, (raw_info("C:\\outside\\evil.txt"), b"evil")]),
            "entry 'C:\\outside\\evil.txt' starts with a drive letter")


def test_archive_backslash_traversal(sc: Scenario) -> None:
    """expected: backslashes are separators, so 'model\\..\\..\\evil.txt' is refused as a '..' escape."""
    refused(sc, zip_bytes([MODEL, (raw_info("model\\..\\..\\evil.txt"), b"evil")]),
            "entry 'model\\..\\..\\evil.txt' points outside the folder ('..')")


def test_archive_backslash_folders(sc: Scenario) -> None:
    """expected: a harmless Windows-made name 'model\\pbr\\m.glb' is imported from files/model/pbr/m.glb."""
    tid = sc.serve(zip_bytes([(raw_info("model\\pbr\\m.glb"), glb()), (raw_info("model\\rgb\\m.glb"), glb())]))
    result = sc.run(tid)
    assert result.model.path == sc.library.files_dir(tid) / "model" / "pbr" / "m.glb"
    assert result.model.variant == "pbr"


def test_archive_symlink_entry(sc: Scenario) -> None:
    """expected: refused before writing: "entry 'model/tex.png' is a symbolic link"."""
    link = raw_info("model/tex.png", mode=stat.S_IFLNK | 0o777)
    refused(sc, zip_bytes([MODEL, (link, str(sc.root / "secret.png").encode())]),
            "entry 'model/tex.png' is a symbolic link")


def test_archive_duplicate_names(sc: Scenario) -> None:
    """expected: refused before writing: the second 'model/m.glb' "appears twice" (no silent overwrite)."""
    refused(sc, zip_bytes([MODEL, ("model/m.glb", b"other")]), "entry 'model/m.glb' appears twice")


def test_archive_names_differing_in_case(sc: Scenario) -> None:
    """expected: refused: 'model/M.glb' beside 'model/m.glb' would overwrite it on Windows and macOS."""
    refused(sc, zip_bytes([MODEL, ("model/M.glb", b"other")]), "the names differ only in case")


def test_archive_bomb_total_size(sc: Scenario) -> None:
    """expected: refused before writing: entries that say they hold 8.7 GB "would expand to more than 8589934592 bytes"."""  # noqa: E501
    data = bytearray(zip_bytes([(f"model/part{i}.bin", bytes(3_000_000)) for i in range(3)], zipfile.ZIP_STORED))
    set_central_sizes(data, 2_900_000_000)  # a ratio of 967 each, under the limit: only the total tells
    refused(sc, bytes(data), "it would expand to more than 8589934592 bytes")


def test_archive_bomb_ratio(sc: Scenario) -> None:
    """expected: refused before writing: 20 MB of zeros in 20 KB "expands 10xx times (limit 1000): a zip bomb"."""
    error = refused(sc, zip_bytes([MODEL, ("model/bomb.bin", bytes(20 << 20))]), "entry 'model/bomb.bin' expands")
    assert "(limit 1000): a zip bomb" in error.message


def test_archive_bomb_entry_count(sc: Scenario) -> None:
    """expected: refused before writing: "it has 20001 entries (limit 20000)"."""
    refused(sc, zip_bytes([MODEL] + [(f"model/f{i}", b"") for i in range(20000)], zipfile.ZIP_STORED),
            "it has 20001 entries (limit 20000)")


def test_archive_nested_zip_kept_unopened(sc: Scenario) -> None:
    """expected: the model is imported; a nested zip (itself a bomb) is stored as a file, never expanded."""
    inner = zip_bytes([("bomb.bin", bytes(20 << 20))])
    tid = sc.serve(zip_bytes([MODEL, ("model/extra.zip", inner)]))
    result = sc.run(tid)
    files = sc.library.files_dir(tid)
    assert result.model.path == files / "model" / "m.glb"
    assert (files / "model" / "extra.zip").read_bytes() == inner
    assert sorted(p.name for p in files.rglob("*") if p.is_file()) == ["extra.zip", "m.glb"]


def test_archive_only_a_nested_zip(sc: Scenario) -> None:
    """expected: NoModel: "holds no model file (.glb, ..., .ply) (it holds: inner.zip)"."""
    tid = sc.serve(zip_bytes([("inner.zip", zip_bytes([MODEL]))]))
    error = sc.fail(tid, NoModelError)
    assert ("holds no model file (.glb, .gltf, .usdz, .usdc, .usd, .usda, .obj, .fbx, .stl, .ply) "
            "(it holds: inner.zip)") in error.user_message()
    assert error.code == "NoModel" and HINT in error.user_message()


def test_archive_truncated_zip(sc: Scenario) -> None:
    """expected: NotAZip: "starts like one but its end is missing or damaged (a truncated download?)"; not kept."""
    whole = zip_bytes([MODEL, ("model/tex.png", bytes(range(256)) * 400)])
    refused(sc, whole[: len(whole) // 2], "a truncated download?", code="NotAZip")


def test_archive_html_error_page(sc: Scenario) -> None:
    """expected: NotAZip: "the server sent an HTML/XML page (502 Bad Gateway ...)"; the page is not kept."""
    page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    refused(sc, page, "The download is not a zip: the server sent an HTML/XML page (502 Bad Gateway", code="NotAZip")


def test_archive_empty_zip(sc: Scenario) -> None:
    """expected: EmptyArchive: "The result archive is empty"."""
    refused(sc, zip_bytes([]), "The result archive is empty", code="EmptyArchive")


def test_archive_without_model(sc: Scenario) -> None:
    """expected: NoModel naming what the zip holds instead: "(it holds: model/preview.png, model/readme.txt)"."""
    tid = sc.serve(zip_bytes([("model/readme.txt", b"hi"), ("model/preview.png", b"png")]))
    error = sc.fail(tid, NoModelError)
    assert "(it holds: model/preview.png, model/readme.txt)" in error.user_message()
    assert not sc.library.is_extracted(tid)


def test_archive_encrypted_entry(sc: Scenario) -> None:
    """expected: refused before writing: "entry 'model/m.glb' is encrypted"."""
    refused(sc, zip_bytes([(raw_info("model/m.glb", flags=0x1), b"\x00" * 40)]), "entry 'model/m.glb' is encrypted")


def test_archive_gbk_names(sc: Scenario) -> None:
    """expected: GBK names without the UTF-8 flag are read as GBK: the model is files/模型/椅子.glb."""
    tid = sc.serve(zip_bytes([(raw_info("模型/椅子.glb".encode("gbk")), glb()),
                              (raw_info("模型/说明.txt".encode("gbk")), b"readme")]))
    result = sc.run(tid)
    files = sc.library.files_dir(tid)
    assert result.model.path == files / "模型" / "椅子.glb"
    assert (files / "模型" / "说明.txt").read_bytes() == b"readme"


def test_archive_cp437_names(sc: Scenario) -> None:
    """expected: names that are neither UTF-8 nor GBK are read as CP437: the model is files/café/modèle.glb."""
    tid = sc.serve(zip_bytes([(raw_info(b"caf\x82/mod\x8ale.glb"), glb())]))
    assert sc.run(tid).model.path == sc.library.files_dir(tid) / "café" / "modèle.glb"


def test_archive_utf8_flagged_names(sc: Scenario) -> None:
    """expected: names flagged UTF-8 are taken as they are: the model is files/модель/椅子 ✓.glb."""
    tid = sc.serve(zip_bytes([(raw_info("модель/椅子 ✓.glb", utf8=True), glb())]))
    assert sc.run(tid).model.path == sc.library.files_dir(tid) / "модель" / "椅子 ✓.glb"


def test_archive_very_long_file_name(sc: Scenario) -> None:
    """expected: refused before writing: a 300-byte name "has a file or folder name longer than 255 bytes"."""
    refused(sc, zip_bytes([MODEL, ("model/" + "长" * 100 + ".png", b"x")]),
            "has a file or folder name longer than 255 bytes")


def test_archive_very_long_path(sc: Scenario) -> None:
    """expected: refused before writing: a 1205-character path "has a name longer than 1024 characters"."""
    refused(sc, zip_bytes([MODEL, ("a/" * 600 + "m.png", b"x")]), "has a name longer than 1024 characters")


def test_archive_forged_entry_size(sc: Scenario) -> None:
    """expected: an entry that inflates past its stated size is stopped: "entry 'model/liar.bin' is damaged (Bad CRC-32 ..."."""  # noqa: E501
    data = bytearray(zip_bytes([MODEL, ("model/liar.bin", bytes(5 << 20))]))
    set_central_sizes(data, 1000, only=b"model/liar.bin")
    error = refused(sc, bytes(data), "entry 'model/liar.bin' is")
    assert "damaged" in error.message  # zipfile stops at the stated size (bad CRC) or we do (larger than)


def set_central_sizes(data: bytearray, size: int, only: bytes | None = None) -> None:
    """Make the central directory state ``size`` as the uncompressed size of entries (a forgery)."""
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:
        name = bytes(data[pos + 46 : pos + 46 + int.from_bytes(data[pos + 28 : pos + 30], "little")])
        if only is None or name == only:
            data[pos + 24 : pos + 28] = size.to_bytes(4, "little")
        pos += 4


def test_archive_obj_texture_outside(sc: Scenario) -> None:
    """expected: UnsafeReference: "m.obj refers to files outside its folder: ../../../../secret.png"; not marked imported."""  # noqa: E501
    mtl = "newmtl mat\nmap_Kd ../../../../secret.png\n"
    tid = sc.serve(zip_bytes([("model/m.obj", OBJ), ("model/m.mtl", mtl)]))
    assert (sc.library.files_dir(tid) / "model" / "../../../../secret.png").resolve() == sc.root / "secret.png"
    error = sc.fail(tid, ArchiveError)
    assert error.code == "UnsafeReference"
    assert "m.obj refers to files outside its folder: ../../../../secret.png" in error.user_message()
    assert "do not import it" in str(error.hint)
    assert not sc.library.is_extracted(tid)


def test_archive_gltf_uri_outside(sc: Scenario) -> None:
    """expected: UnsafeReference: "m.gltf refers to files outside its folder: ../../../../secret.png"."""
    doc = {"asset": {"version": "2.0"}, "images": [{"uri": "../../../../secret.png"}]}
    tid = sc.serve(zip_bytes([("model/m.gltf", json.dumps(doc))]))
    error = sc.fail(tid, ArchiveError)
    assert error.code == "UnsafeReference"
    assert "m.gltf refers to files outside its folder: ../../../../secret.png" in error.user_message()


def test_archive_glb_uri_outside(sc: Scenario) -> None:
    """expected: a .glb's JSON is checked too: "m.glb refers to files outside its folder: ../../../../secret.png"."""
    doc = {"asset": {"version": "2.0"}, "buffers": [{"uri": "m.bin"}], "images": [{"uri": "../../../../secret.png"}]}
    tid = sc.serve(zip_bytes([("model/m.glb", glb(doc)), ("model/m.bin", b"\0" * 16)]))
    error = sc.fail(tid, ArchiveError)
    assert error.code == "UnsafeReference"
    assert "m.glb refers to files outside its folder: ../../../../secret.png" in error.user_message()
