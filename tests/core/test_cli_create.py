"""``python -m ark3d_addon create``: an idea to a 3D task from the command line, against the local Ark.

Each test runs the real command in a subprocess, as a pipeline does, and looks at what the
local Ark server was sent (the picture asked without a watermark, the prompt helper's text,
the views) and at what landed in the library (the chain, the pictures, the model).
"""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

from ark3d_addon.core.catalog import HITEM3D, HYPER3D, SEED3D_2
from ark3d_addon.core.prompting import HELPER_TEXT
from tests.core.test_cli import run_cli
from tests.core.test_job import result_zip


def _seed3d_result(server) -> None:  # type: ignore[no-untyped-def]
    server.set_create_result("glb", result_zip(), model=SEED3D_2)
    server.create_schedule = (0.0, 0.0)  # done at the first query: the CLI polls every 5 s, not what is tested


def test_a_prompt_for_seed3d_makes_a_picture_then_the_task_and_waits_for_the_model(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _seed3d_result(ark_server)
    proc = run_cli(ark_server, "create", "--model", SEED3D_2, "--prompt", "a red teapot", "--wait",
                   "--dest", str(tmp_path), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert Path(out["model_path"]).is_file() and tmp_path in Path(out["model_path"]).parents
    [picture_call] = ark_server.image_requests
    assert picture_call["watermark"] is False and picture_call["prompt"].startswith("a red teapot ")
    assert HELPER_TEXT in picture_call["prompt"] and picture_call["model"] == "doubao-seedream-4-5-251128"
    [create] = ark_server.create_requests
    sent = create["content"][0]["image_url"]["url"]
    assert create["model"] == SEED3D_2 and sent.startswith("data:image/png;base64,")
    folder = tmp_path / out["task_id"]
    chain = json.loads((folder / "chain.json").read_text(encoding="utf-8"))
    assert chain["prompt"] == "a red teapot" and chain["added_prompt"] == HELPER_TEXT
    assert chain["image_model"] == "doubao-seedream-4-5-251128" and chain["image_params"]["watermark"] is False
    assert chain["images"] == ["images/image-1.png"] and chain["sent"] == ["images/image-1.png"]
    assert base64.b64decode(sent.split(",", 1)[1]) == (folder / "images" / "image-1.png").read_bytes()
    assert out["images"] == [str(folder / "images" / "image-1.png")]
    listed = json.loads(run_cli(ark_server, "list", "--offline", "--json", "--dest", str(tmp_path)).stdout)
    assert listed[0]["chain"]["prompt"] == "a red teapot" and listed[0]["chain"]["sent"] == ["images/image-1.png"]


def test_without_wait_it_prints_the_task_id_and_the_helper_can_be_turned_off(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proc = run_cli(ark_server, "create", "--model", SEED3D_2, "--prompt", "a chair", "--no-helper",
                   "--image-model", "doubao-seedream-4-0-250828", "--dest", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    task_id = proc.stdout.strip()
    assert task_id.startswith("cgt-") and ark_server.create_requests
    assert ark_server.image_requests[0]["prompt"] == "a chair"
    assert ark_server.image_requests[0]["model"] == "doubao-seedream-4-0-250828"
    assert "0.20 CNY" in proc.stderr and "2.40 CNY" in proc.stderr  # each price said before it is spent


def test_hyper3d_takes_the_text_straight(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proc = run_cli(ark_server, "create", "--model", HYPER3D, "--prompt", "a wooden boat", "--param",
                   "mesh_mode=Raw", "--json", "--dest", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert not ark_server.image_requests
    [create] = ark_server.create_requests
    assert create["content"] == [{"type": "text", "text": "a wooden boat --mesh_mode Raw --fileformat glb"}]


def test_hitem3d_gets_a_multi_view_set_with_its_view_bits(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proc = run_cli(ark_server, "create", "--model", HITEM3D, "--prompt", "a robot toy", "--views",
                   "front,back,left", "--json", "--dest", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    [picture_call] = ark_server.image_requests
    assert picture_call["sequential_image_generation"] == "auto"
    assert picture_call["sequential_image_generation_options"] == {"max_images": 3}
    assert "front view, back view, left view" in picture_call["prompt"] and picture_call["watermark"] is False
    [create] = ark_server.create_requests
    links = [item["image_url"]["url"] for item in create["content"] if item["type"] == "image_url"]
    assert len(links) == 3 and all(link.startswith(ark_server.file_base) for link in links)
    assert "--multi_images_bit 1110" in create["content"][-1]["text"]
    chain = json.loads((tmp_path / json.loads(proc.stdout)["task_id"] / "chain.json").read_text(encoding="utf-8"))
    assert chain["views"] == "1110" and len(chain["sent"]) == 3


def test_a_picture_of_ones_own_goes_straight_to_seed3d(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    picture = tmp_path / "mine.png"
    from ark_server import picture_png

    picture.write_bytes(picture_png(64, 64, (10, 200, 10), watermark=False))
    proc = run_cli(ark_server, "create", "--model", SEED3D_2, "--image", str(picture), "--param", "sl=high",
                   "--json", "--dest", str(tmp_path / "lib"))
    assert proc.returncode == 0, proc.stderr
    assert not ark_server.image_requests
    [create] = ark_server.create_requests
    assert create["content"][-1]["text"] == "--subdivisionlevel high --fileformat glb"
    chain = json.loads((tmp_path / "lib" / json.loads(proc.stdout)["task_id"] / "chain.json").read_text("utf-8"))
    assert chain["sent"] == [str(picture)] and chain["image_model"] == ""


def test_bad_input_is_refused_before_any_paid_call(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    not_a_picture = tmp_path / "notes.png"
    not_a_picture.write_text("hello")
    cases = [
        (["--model", "nope-3d", "--prompt", "x"], "nope-3d"),
        (["--model", SEED3D_2, "--prompt", "x", "--param", "mesh_mode=Raw"], "--mesh_mode"),
        (["--model", SEED3D_2], "needs a prompt or an image"),
        (["--model", SEED3D_2, "--image", str(not_a_picture)], f"{not_a_picture}: The image is not a jpg, png"),
        (["--model", SEED3D_2, "--prompt", "x", "--image", str(not_a_picture)], f"{not_a_picture}: The image"),
        (["--model", SEED3D_2, "--prompt", "x", "--size", "4K"], "4096 x 4096"),
        (["--model", SEED3D_2, "--prompt", "x", "--param", "oops"], "NAME=VALUE"),
    ]
    for args, says in cases:
        proc = run_cli(ark_server, "create", *args, "--dest", str(tmp_path))
        assert proc.returncode == 1, (args, proc.stderr)
        assert says in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)
    assert not ark_server.image_requests and not ark_server.create_requests


def test_a_content_check_refusal_says_to_change_the_prompt(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proc = run_cli(ark_server, "create", "--model", SEED3D_2, "--prompt", "contraband", "--dest", str(tmp_path))
    assert proc.returncode == 1
    assert "InputTextSensitiveContentDetected" in proc.stderr and "change the prompt" in proc.stderr
    assert "request id" in proc.stderr and not ark_server.create_requests


def _rows(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    return path


def test_a_row_file_creates_every_row_once_even_when_run_again(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(tmp_path / "rows.jsonl", [
        {"prompt": "a red teapot", "model": SEED3D_2, "params": {"subdivisionlevel": "low"}},
        {"prompt": "a blue vase", "model": SEED3D_2},
        {"prompt": "a wooden boat", "model": HYPER3D},
    ])
    first = run_cli(ark_server, "create", "--from", str(rows), "--dest", str(tmp_path / "lib"))
    assert first.returncode == 0, first.stderr
    done = {line["line"]: line for line in map(json.loads, first.stdout.splitlines())}
    assert sorted(done) == [1, 2, 3] and all(line["task_id"].startswith("cgt-") for line in done.values())
    assert len(ark_server.image_requests) == 2 and len(ark_server.create_requests) == 3
    asked = len(ark_server.requests_log)
    again = run_cli(ark_server, "create", "--from", str(rows), "--json", "--dest", str(tmp_path / "lib"))
    assert again.returncode == 0, again.stderr
    assert len(ark_server.requests_log) == asked  # every row journaled: Ark is not even asked its models
    redone = {line["line"]: line for line in map(json.loads, again.stdout.splitlines())}
    assert {n: r["task_id"] for n, r in redone.items()} == {n: r["task_id"] for n, r in done.items()}
    assert all(redone[n]["reused"] and redone[n]["images"] == done[n]["images"] for n in done)
    assert not (tmp_path / "rows.pictures").exists()  # each row's pictures went to its task's folder
    assert len(ark_server.image_requests) == 2 and len(ark_server.create_requests) == 3  # nothing paid again
    assert (tmp_path / "rows.jsonl.journal.jsonl").is_file()


def test_a_malformed_row_stops_the_run_before_any_paid_call(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok = json.dumps({"prompt": "x", "model": SEED3D_2})
    for bad, says in [(ok[:-1], "line 2: not JSON"),
                      (json.dumps({"prompt": "x", "model": SEED3D_2, "params": {"mesh_mode": "Raw"}}),
                       "line 2: Seed3D 2.0 has no parameter --mesh_mode"),
                      (json.dumps({"model": "unknown-model", "prompt": "x"}), "line 2: 'unknown-model'"),
                      (json.dumps({"model": SEED3D_2, "prmpt": "x"}), "line 2: unknown field 'prmpt'"),
                      (json.dumps({"model": SEED3D_2, "image": "missing.png"}), "line 2: Cannot read the image")]:
        rows = tmp_path / "rows.jsonl"
        rows.write_text(json.dumps({"prompt": "ok", "model": SEED3D_2}) + "\n" + bad + "\n", encoding="utf-8")
        proc = run_cli(ark_server, "create", "--from", str(rows), "--dest", str(tmp_path / "lib"))
        assert proc.returncode == 1 and says in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not ark_server.image_requests and not ark_server.create_requests


def test_a_failing_row_is_reported_and_the_run_exits_non_zero(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(tmp_path / "rows.jsonl", [{"prompt": "a lamp", "model": SEED3D_2},
                                           {"prompt": "contraband lamp", "model": SEED3D_2}])
    proc = run_cli(ark_server, "create", "--from", str(rows), "--dest", str(tmp_path / "lib"))
    assert proc.returncode == 1
    lines = {line["line"]: line for line in map(json.loads, proc.stdout.splitlines())}
    assert lines[1]["task_id"].startswith("cgt-")
    assert lines[2]["code"] == "InputTextSensitiveContentDetected" and "task_id" not in lines[2]


def test_a_run_that_died_after_the_pictures_does_not_pay_for_them_again(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(tmp_path / "rows.jsonl", [{"prompt": "a lamp", "model": SEED3D_2}])
    # the task list asked first (to find a create that may have half-happened), then the create: both refused
    ark_server.fail_next(2, status=400, code="InvalidParameter", path_prefix="/api/v3/contents")
    first = run_cli(ark_server, "create", "--from", str(rows), "--dest", str(tmp_path / "lib"))
    assert first.returncode == 1 and len(ark_server.image_requests) == 1
    second = run_cli(ark_server, "create", "--from", str(rows), "--dest", str(tmp_path / "lib"))
    assert second.returncode == 0, second.stderr
    assert len(ark_server.image_requests) == 1 and json.loads(second.stdout)["task_id"].startswith("cgt-")


def test_rate_limited_rows_wait_as_ark_says(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(tmp_path / "rows.jsonl", [{"prompt": f"a cup {n}", "model": SEED3D_2} for n in range(3)])
    ark_server.fail_next(2, status=429, code="ModelAccountRpmRateLimitExceeded", retry_after=0.2,
                         path_prefix="/api/v3/images")
    proc = run_cli(ark_server, "create", "--from", str(rows), "--dest", str(tmp_path / "lib"))
    assert proc.returncode == 0, proc.stderr
    assert len([line for line in proc.stdout.splitlines() if "task_id" in line]) == 3


def test_two_row_files_run_side_by_side_into_one_library(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = [_rows(tmp_path / f"machine{n}.jsonl", [{"prompt": f"thing {n}-{i}", "model": SEED3D_2}
                                                   for i in range(2)]) for n in range(2)]
    results: list[object] = [None, None]

    def run(n: int) -> None:
        results[n] = run_cli(ark_server, "create", "--from", str(files[n]), "--dest", str(tmp_path / "lib"))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(proc.returncode == 0 for proc in results), results  # type: ignore[union-attr]
    assert len(ark_server.create_requests) == 4 and len(list((tmp_path / "lib").glob("cgt-*/chain.json"))) == 4


def test_hyper3d_goes_through_pictures_when_asked_and_the_tasks_browser_rows_carry_the_chain(ark_server,  # type: ignore[no-untyped-def]
                                                                                           tmp_path: Path) -> None:
    from ark3d_addon.core.library import Library
    from ark3d_addon.core.tasklist import merge_rows

    proc = run_cli(ark_server, "create", "--model", HYPER3D, "--prompt", "a wooden boat", "--through-pictures",
                   "--count", "2", "--no-helper", "--json", "--dest", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    [picture_call] = ark_server.image_requests
    assert picture_call["prompt"] == "a wooden boat" and picture_call["sequential_image_generation"] == "auto"
    [create] = ark_server.create_requests
    assert [item["type"] for item in create["content"]] == ["image_url", "image_url", "text"]
    assert create["content"][-1]["text"] == "--fileformat glb"  # the pictures say it: no prompt with them
    assert len(out["images"]) == 2 and out["images"] == out["pictures"]
    [row] = merge_rows([], Library(tmp_path).entries(), last_page=True)
    assert row.task_id == out["task_id"] and row.chain is not None
    assert row.chain.prompt == "a wooden boat" and row.chain.added_prompt == "" and len(row.chain.sent) == 2


def test_a_view_set_is_made_from_ones_own_picture(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ark_server import picture_png

    front = tmp_path / "front.png"
    front.write_bytes(picture_png(300, 300, (200, 30, 30), watermark=False))
    proc = run_cli(ark_server, "create", "--model", HITEM3D, "--image", str(front), "--views",
                   "front,back,left,right", "--json", "--dest", str(tmp_path / "lib"))
    assert proc.returncode == 0, proc.stderr
    [picture_call] = ark_server.image_requests
    assert picture_call["image"].startswith("data:image/png;base64,") and picture_call["watermark"] is False
    assert picture_call["sequential_image_generation_options"] == {"max_images": 4}
    [create] = ark_server.create_requests
    assert sum(item["type"] == "image_url" for item in create["content"]) == 4
    assert "--multi_images_bit 1111" in create["content"][-1]["text"]


def test_a_second_run_of_the_same_file_at_once_is_refused(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ark3d_addon.core.library import held

    rows = _rows(tmp_path / "rows.jsonl", [{"prompt": "a lamp", "model": SEED3D_2}])
    with held(tmp_path / "rows.jsonl.journal.lock"):
        proc = run_cli(ark_server, "create", "--from", str(rows), "--dest", str(tmp_path / "lib"))
    assert proc.returncode == 1 and "held by another run" in proc.stderr, proc.stderr
    assert not ark_server.requests_log


def test_a_create_cut_short_is_made_again_only_if_ark_shows_no_task_it_may_have_made(ark_server,  # type: ignore[no-untyped-def]
                                                                                     tmp_path: Path) -> None:
    rows = _rows(tmp_path / "rows.jsonl", [{"prompt": "a lamp", "model": SEED3D_2}])
    # The run stops at its create (here: refused; the list call before it is refused too and shrugged off).
    ark_server.fail_next(2, status=400, code="InvalidParameter", path_prefix="/api/v3/contents")
    first = run_cli(ark_server, "create", "--from", str(rows), "--dest", str(tmp_path / "lib"))
    assert first.returncode == 1 and len(ark_server.image_requests) == 1
    journal = [json.loads(line) for line in (tmp_path / "rows.jsonl.journal.jsonl").read_text().splitlines()]
    assert [entry["event"] for entry in journal] == ["pictures", "creating"]
    # As if that create had reached Ark after all (a crash leaves no time to look): a new task of the model.
    maybe = ark_server.add_task(model=SEED3D_2)
    second = run_cli(ark_server, "create", "--from", str(rows), "--dest", str(tmp_path / "lib"))
    assert second.returncode == 1
    outcome = json.loads(second.stdout)
    assert outcome["code"] == "CreateUncertain" and maybe in outcome["message"] and "'creating' line" in outcome["hint"]
    assert not ark_server.create_requests and len(ark_server.image_requests) == 1  # no create sent again
    assert ark_server.count("api", "GET", "/contents/generations/tasks") >= 2  # Ark's list was asked


def test_a_create_cut_short_with_no_task_on_ark_is_made_again(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(tmp_path / "rows.jsonl", [{"prompt": "a lamp", "model": SEED3D_2}])
    ark_server.fail_next(2, status=400, code="InvalidParameter", path_prefix="/api/v3/contents")
    assert run_cli(ark_server, "create", "--from", str(rows), "--dest", str(tmp_path / "lib")).returncode == 1
    second = run_cli(ark_server, "create", "--from", str(rows), "--dest", str(tmp_path / "lib"))
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["task_id"].startswith("cgt-")
    assert len(ark_server.image_requests) == 1 and len(ark_server.create_requests) == 1


def test_the_pictures_come_from_the_newest_seedream_ark_lists(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ark_server.models = [row for row in ark_server.models if row["id"] != "doubao-seedream-4-5-251128"]
    proc = run_cli(ark_server, "create", "--model", SEED3D_2, "--prompt", "a chair", "--dest", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert ark_server.image_requests[0]["model"] == "doubao-seedream-4-0-250828"
    ark_server.fail_next(1, status=404, code="NotFound", path_prefix="/api/v3/models")
    proc = run_cli(ark_server, "create", "--model", SEED3D_2, "--prompt", "a chair", "--dest", str(tmp_path))
    assert proc.returncode == 0, proc.stderr  # no list: the built-in default
    assert ark_server.image_requests[1]["model"] == "doubao-seedream-4-5-251128"


def test_an_endpoint_id_is_named_in_place_of_the_model_from_the_flag_and_from_a_row(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An account whose model ids are turned off calls the model through its endpoint (ModelIDAccessDisabled)."""
    endpoint = ark_server.add_endpoint(SEED3D_2)
    proc = run_cli(ark_server, "create", "--model", SEED3D_2, "--prompt", "a lamp", "--endpoint", endpoint,
                   "--dest", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"prompt": "a cup", "model": SEED3D_2, "endpoint": endpoint}) + "\n", encoding="utf-8")
    proc = run_cli(ark_server, "create", "--from", str(rows), "--dest", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert [create["model"] for create in ark_server.create_requests] == [endpoint, endpoint]
    refused = run_cli(ark_server, "create", "--model", SEED3D_2, "--prompt", "a lamp", "--endpoint", "my-endpoint",
                      "--dest", str(tmp_path))
    assert refused.returncode == 1 and "not an Ark endpoint id" in refused.stderr
    assert len(ark_server.create_requests) == 2 and len(ark_server.image_requests) == 2  # refused before any call
