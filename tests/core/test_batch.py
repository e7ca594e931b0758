"""Row files and their journal (core/batch.py): what makes a second run free, whatever the first one did."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from ark3d_addon.core.batch import Journal, journal_path, plan_rows, read_rows
from ark3d_addon.core.catalog import HITEM3D, SEED3D_2
from ark3d_addon.core.errors import ConfigError
from ark3d_addon.core.images import SEEDREAM_4_5


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_a_row_is_known_by_its_content_not_its_line(tmp_path: Path) -> None:
    a, b = {"prompt": "a cup", "model": SEED3D_2}, {"prompt": "a vase", "model": SEED3D_2}
    first = read_rows(_write(tmp_path / "one.jsonl", [a, b, a]))
    again = read_rows(_write(tmp_path / "two.jsonl", [{"prompt": "new", "model": SEED3D_2}, a, b, a]))
    assert [r.key for r in first] == [r.key for r in again[1:]]
    assert first[0].key != first[2].key  # the same row twice is two tasks
    assert [r.line for r in again] == [1, 2, 3, 4]


def test_blank_lines_are_skipped_and_line_numbers_kept(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text("\n" + json.dumps({"model": HITEM3D, "prompt": "a toy", "views": "front, back"}) + "\n\n",
                    encoding="utf-8")
    [row] = read_rows(path)
    assert row.line == 2 and row.idea.views == ("front", "back")
    [plan] = plan_rows([row], SEEDREAM_4_5)
    assert plan.params["--multi_images_bit"] == "1100" and plan.image_request is not None
    assert plan.image_request.count == 2


@pytest.mark.parametrize(("text", "says"), [
    ("", "has no rows"),
    ("[1, 2]\n", "line 1: not a JSON object"),
    ('{"model": 5, "prompt": "x"}\n', "line 1: model is missing"),
    ('{"model": "m", "params": ["x"]}\n', "line 1: params must be an object"),
    ('{"model": "m", "image": [1]}\n', "line 1: image must be a string or a list of strings"),
    ('{"model": "m", "seed": true}\n', "line 1: seed must be a whole number"),
])
def test_malformed_rows_name_their_line(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_rows(path)
    assert says in info.value.user_message()


def test_a_torn_last_line_is_skipped_and_the_next_entry_starts_afresh(tmp_path: Path) -> None:
    path = journal_path(tmp_path / "rows.jsonl")
    path.write_text(json.dumps({"row": "a-1", "event": "task", "task_id": "cgt-20261207000000-aaaaa"}) + "\n"
                    + '{"row": "b-1", "event": "ta', encoding="utf-8")
    journal = Journal(path)
    assert journal.tasks == {"a-1": "cgt-20261207000000-aaaaa"}
    journal.append({"row": "b-1", "event": "task", "task_id": "cgt-20261207000000-bbbbb"})
    assert Journal(path).tasks == {"a-1": "cgt-20261207000000-aaaaa", "b-1": "cgt-20261207000000-bbbbb"}


def test_pictures_whose_files_are_gone_are_made_again(tmp_path: Path) -> None:
    kept, gone = tmp_path / "image-1.png", tmp_path / "image-2.png"
    kept.write_bytes(b"png")
    path = journal_path(tmp_path / "rows.jsonl")
    journal = Journal(path)
    journal.append({"row": "a-1", "event": "pictures", "pictures": [{"path": str(kept), "url": "", "size": ""}]})
    journal.append({"row": "b-1", "event": "pictures", "pictures": [{"path": str(gone), "url": "", "size": ""}]})
    again = Journal(path)
    assert [p.path for p in again.pictures["a-1"]] == [kept] and "b-1" not in again.pictures


def test_entries_appended_side_by_side_never_mix(tmp_path: Path) -> None:
    path = journal_path(tmp_path / "rows.jsonl")
    journals = [Journal(path), Journal(path)]  # two runs of one file: their lines must not interleave

    def write(n: int) -> None:
        for i in range(50):
            journals[n % 2].append({"row": f"{n}-{i}", "event": "task", "task_id": f"cgt-20261207000000-{n}{i:04d}"})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 200 and all(json.loads(line)["event"] == "task" for line in lines)
    assert len(Journal(path).tasks) == 200


def test_row_parameters_may_be_json_numbers_and_booleans(tmp_path: Path) -> None:
    from ark3d_addon.core.catalog import HYPER3D

    [row] = read_rows(_write(tmp_path / "rows.jsonl", [{"model": HYPER3D, "prompt": "a boat",
                                                         "params": {"hd_texture": True, "quality_override": 20000}}]))
    [plan] = plan_rows([row], SEEDREAM_4_5)
    assert plan.params["--hd_texture"] == "true" and plan.params["--quality_override"] == "20000"
