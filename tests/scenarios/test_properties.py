"""Properties over generated hostile input (Hypothesis).

tests/core/test_archive.py::test_property_never_writes_outside_dest varies entry *names* of
plain files, and tests/core/test_task.py::test_no_generated_json_crashes_the_parser feeds
parse_task Python values.  These go further:

- whole archives mixing several hostile entries: traversal, absolute and drive names,
  symlinks, folders, special files, encrypted flags, duplicates, GBK / CP437 / flagged UTF-8
  names, over-long names, into a destination that already exists (or is a symlink to a
  folder outside): either refused with the disk untouched, or only regular files, all inside;
- raw JSON *text* (NaN, Infinity, 1e999, huge integers, lone surrogates, deep nesting, any
  shape) through ArkClient.get_task and the library: an ArkError or a Task for the id asked
  about, never another exception, and the saved task.json reads back equal.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ark3d_addon.core.archive import safe_extract
from ark3d_addon.core.client import ArkClient
from ark3d_addon.core.errors import ArchiveError, ArkError
from ark3d_addon.core.library import Library
from ark3d_addon.core.settings import Settings

from .support import KEY, raw_info, snapshot

# -- archives ---------------------------------------------------------------------------------

_SAFE = ["m", "pbr", "rgb", "模型", "椅子.glb", "café", "a b", "Model", "MODEL", "x.glb", "tex.png", "~", "$HOME"]
_HOSTILE = ["..", ".", "", "C:", "c:", "x:y", " ", "...", ". .", "a\x00b", "\x07", "长" * 90, "a" * 256]
_LEADS = [""] * 12 + ["/", "\\", "C:\\", "c:", "//server/share/", "../", "./", "\\\\?\\C:\\"]


@st.composite
def entry_name(draw: st.DrawFn, benign: bool) -> str:
    parts = draw(st.lists(st.sampled_from(_SAFE if benign else _SAFE * 8 + _HOSTILE), min_size=1, max_size=4))
    seps = draw(st.lists(st.sampled_from(["/", "\\", "//"]), min_size=len(parts), max_size=len(parts)))
    lead = "" if benign else draw(st.sampled_from(_LEADS))
    name = lead + "".join(p + s for p, s in zip(parts, seps, strict=True))[:-1]
    return name + draw(st.sampled_from(["", "", "/"]))


@st.composite
def entry(draw: st.DrawFn, outside: str, benign: bool) -> tuple[zipfile.ZipInfo, bytes]:
    """One entry; ``benign`` ones have ordinary names and are plain files or folders."""
    name = draw(entry_name(benign))
    encoding = draw(st.sampled_from(["utf8-flag", "utf8", "gbk", "cp437"]))
    if encoding == "gbk":
        try:
            raw: bytes = name.encode("gbk")
        except UnicodeEncodeError:
            raw = name.encode("utf-8")
    elif encoding == "cp437":
        raw = name.encode("utf-8") + bytes(draw(st.lists(st.integers(0x80, 0xFF), max_size=3)))
    else:
        raw = name.encode("utf-8")
    kind = draw(st.sampled_from(["file"] * 10 + ["dir"] * 3 + ([] if benign else ["symlink", "fifo", "encrypted"])))
    mode = {"file": stat.S_IFREG | 0o644, "dir": stat.S_IFDIR | 0o755, "symlink": stat.S_IFLNK | 0o777,
            "fifo": stat.S_IFIFO | 0o644, "encrypted": None}[kind]
    info = raw_info(raw, utf8=encoding == "utf8-flag", mode=mode, flags=0x1 if kind == "encrypted" else 0)
    data = outside.encode() if kind == "symlink" else draw(st.binary(max_size=64))
    return info, b"" if kind == "dir" else data


@settings(max_examples=250, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), dest_kind=st.sampled_from(["absent", "folder", "symlink"]))
def test_property_hostile_archives_never_escape(data: st.DataObject, dest_kind: str) -> None:
    """expected: any mix of hostile entries is refused with the disk untouched, or yields only regular files inside the destination."""  # noqa: E501
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        outside = root / "outside"
        outside.mkdir()
        (outside / "keep.txt").write_text("untouched")
        lib = root / "lib" / "cgt-x"
        lib.mkdir(parents=True)
        dest = lib / "files"
        if dest_kind == "folder":
            dest.mkdir()
            (dest / "old.glb").write_bytes(b"previous")
        elif dest_kind == "symlink":
            dest.symlink_to(outside, target_is_directory=True)
        benign = data.draw(st.booleans())  # half the archives: ordinary names (GBK, CP437...) only
        entries = data.draw(st.lists(entry(str(outside / "keep.txt"), benign), min_size=1, max_size=6))
        if data.draw(st.integers(0, 3)) == 0:
            entries.append(entries[0])  # an exact duplicate
        zpath = root / "r.zip"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with zipfile.ZipFile(zpath, "w") as zf:
                for info, content in entries:
                    zf.writestr(info, content)
        before = snapshot(root)
        try:
            files = safe_extract(zpath, dest)
        except ArchiveError as error:
            event("refused: " + error.message.rpartition("' ")[2][:40])
            assert snapshot(root) == before
            return
        event("extracted")
        after = snapshot(root)
        assert not dest.is_symlink() and dest.is_dir()
        real_dest = dest.resolve()
        for path in files:
            assert path.resolve().is_relative_to(real_dest) and path.is_file() and not path.is_symlink()
        for rel in set(after) - set(before):
            assert (root / rel).resolve().is_relative_to(real_dest), rel
            assert not (root / rel).is_symlink(), rel
        assert (outside / "keep.txt").read_text() == "untouched" and sorted(os.listdir(outside)) == ["keep.txt"]
        assert not any(name.startswith(".tmp-") for name in os.listdir(lib))


# -- task JSON --------------------------------------------------------------------------------

TID = "cgt-20251124123456-abcde"
_NUMBERS = (st.integers(min_value=-(10**40), max_value=10**40) | st.floats(allow_nan=True, allow_infinity=True)
            | st.sampled_from([math.inf, -math.inf, math.nan, 1e308, -0.0]))
_NUMERIC_TEXT = st.sampled_from(["1718049470", " 1718049470 ", "1e999", "-1e999", "NaN", "inf", "4.2e1", "", "0x10",
                                 "1_000", "９９", "1" * 400])
_TEXT = st.text(max_size=12) | _NUMERIC_TEXT | st.sampled_from(["\ud800", "succeeded", "failed", TID, "cgt-other"])
_VALUES = st.recursive(
    st.none() | st.booleans() | _NUMBERS | _TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_TEXT, children, max_size=3),
    max_leaves=12,
)
_TASK = st.fixed_dictionaries({}, optional={
    "id": _VALUES | st.just(TID) | st.just(f"  {TID} "),
    "status": _VALUES | st.sampled_from(["queued", "running", "succeeded", "failed", "cancelled", "paused", ""]),
    "created_at": _VALUES, "updated_at": _VALUES,
    "content": _VALUES | st.fixed_dictionaries({"file_url": _VALUES | st.just("https://tos.example/r.zip?sig=1")}),
    "error": _VALUES | st.fixed_dictionaries({"code": _VALUES, "message": _VALUES}),
    "usage": _VALUES | st.fixed_dictionaries({"total_tokens": _VALUES, "completion_tokens": _VALUES}),
    "fileformat": _VALUES, "subdivisionlevel": _VALUES, "model": _VALUES,
})


class Canned(requests.adapters.BaseAdapter):
    """Answers every request with one body: the API without a network."""

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        resp = requests.Response()
        resp.status_code = 200
        resp.headers = requests.structures.CaseInsensitiveDict({"Content-Type": "application/json"})
        resp._content = self.body
        resp._content_consumed = True
        resp.request, resp.url = request, request.url or ""
        return resp

    def close(self) -> None:
        pass


@settings(max_examples=300, deadline=None, database=None)
@given(doc=st.one_of(_TASK, _VALUES), deep=st.integers(0, 9))
def test_property_task_json_never_crashes(doc: Any, deep: int) -> None:
    """expected: any JSON text as the task answer gives an ArkError or a Task for the id asked, and its task.json reads back equal."""  # noqa: E501
    body = json.dumps(doc, allow_nan=True)
    if deep == 9:
        body = "[" * 100_000 + "]" * 100_000  # deeper than the JSON reader's recursion limit
    session = requests.Session()
    session.mount("https://", Canned(body.encode("utf-8", "surrogatepass")))
    client = ArkClient(Settings(api_key=KEY, base_url="https://ark.example/api/v3"), session=session, max_retries=0)
    try:
        task = client.get_task(TID)
    except ArkError as error:
        assert KEY not in error.user_message()
        return
    assert task.id == TID
    task.elapsed(0)
    task.link_seconds_left(0)
    task.file_name()
    with tempfile.TemporaryDirectory() as tmp:
        library = Library(tmp)
        library.save_task(task.raw)
        saved = library.load_task(TID)
        assert json.dumps(saved, sort_keys=True, allow_nan=True) == json.dumps(task.raw, sort_keys=True,
                                                                               allow_nan=True)


def test_property_examples_that_once_crashed() -> None:
    """expected: Infinity and "1e999" times (which raised OverflowError) and a lone surrogate (which broke task.json) are tolerated."""  # noqa: E501
    for body in (b'{"status": "running", "created_at": Infinity}', b'{"status": "queued", "updated_at": "1e999"}',
                 b'{"status": "running", "model": "\\ud800"}', b'{"usage": {"total_tokens": -Infinity}}'):
        session = requests.Session()
        session.mount("https://", Canned(body))
        client = ArkClient(Settings(api_key=KEY, base_url="https://ark.example/api/v3"), session=session)
        task = client.get_task(TID)
        assert task.id == TID and task.created_at is None and task.updated_at is None
        with tempfile.TemporaryDirectory() as tmp:
            Library(tmp).save_task(task.raw)
            saved = Library(tmp).load_task(TID)
            assert json.dumps(saved, sort_keys=True) == json.dumps(task.raw, sort_keys=True)
