"""``python -m ark3d_addon`` as a pipeline runs it: a subprocess, environment variables, exit codes."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

from ark3d_addon import cli
from ark3d_addon.core import archive
from ark_server import ArkServer
from tests.core.test_job import result_zip

REPO = Path(__file__).resolve().parents[2]


def run_cli(server, *args: str, key: str = "test-key", cwd: Path = REPO) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARK")}
    env.update({"ARK_API_KEY": key, "ARK_BASE_URL": server.api_base, "PYTHONPATH": str(REPO)})
    return subprocess.run([sys.executable, "-m", "ark3d_addon", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=60)


def test_status_prints_the_task_json(ark_server) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()), times_as_strings=True)
    proc = run_cli(ark_server, "status", tid)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["id"] == tid and data["status"] == "succeeded" and data["content"]["file_url"]


def test_fetch_prints_the_model_path(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip(variants=True)), running_s=0.2)
    proc = run_cli(ark_server, "fetch", tid, "--dest", str(tmp_path), "--variant", "rgb")
    assert proc.returncode == 0, proc.stderr
    model = Path(proc.stdout.strip())
    assert model.is_file() and model.parent.name == "rgb" and tmp_path in model.parents
    assert "Downloading" in proc.stderr
    assert f"{model.name} is in the library" in proc.stderr and "Importing" not in proc.stderr, proc.stderr


def test_errors_exit_non_zero_with_the_ark_error(ark_server) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task()
    proc = run_cli(ark_server, "status", tid, key="sk-not-the-right-one")
    assert proc.returncode == 1
    assert "AuthenticationError" in proc.stderr and "request id" in proc.stderr
    assert "sk-not-the-right-one" not in proc.stderr + proc.stdout
    as_json = run_cli(ark_server, "--json", "status", "cgt-20990101000000-nope0")
    assert as_json.returncode == 1
    err = json.loads(as_json.stdout)
    assert err["http_status"] == 404 and err["request_id"]


def test_bad_id_is_refused_before_any_request(ark_server) -> None:  # type: ignore[no-untyped-def]
    proc = run_cli(ark_server, "status", "../../etc/passwd")
    assert proc.returncode == 1 and "not a valid Ark task id" in proc.stderr
    assert not ark_server.requests_log


def test_base_url_on_the_command_line_wins_over_the_environment(ark_server) -> None:  # type: ignore[no-untyped-def]
    """``--base-url`` is documented as defaulting to ARK_BASE_URL: given, it must be the one used."""
    tid = ark_server.add_task()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARK")}
    env.update({"ARK_API_KEY": "test-key", "ARK_BASE_URL": "http://127.0.0.1:9/api/v3", "PYTHONPATH": str(REPO)})
    proc = subprocess.run([sys.executable, "-m", "ark3d_addon", "--base-url", ark_server.api_base, "status", tid],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["id"] == tid


def test_runs_without_blender() -> None:
    """The core and the CLI must import in a Python that has no bpy at all."""
    code = ("import sys; sys.modules['bpy'] = None\n"
            "import ark3d_addon, ark3d_addon.cli, ark3d_addon.core.job\n"
            "print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.stdout.strip() == "ok", proc.stderr


def test_fetch_finds_a_bare_fbx_and_an_stl_in_nested_folders(ark_server, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                              format_assets: Path) -> None:
    fbx = ark_server.add_task(file=ark_server.add_file("9f3ab2c4d1.fbx", format_assets / "embedded.fbx"),
                              model="hyper3d-gen2-260112")
    stl = ark_server.add_task(file=ark_server.add_file("stl.zip", format_assets / "stl.zip"),
                              model="hitem3d-2-0-251223")
    for tid, name in ((fbx, "9f3ab2c4d1.fbx"), (stl, "cube.stl")):
        proc = run_cli(ark_server, "fetch", tid, "--dest", str(tmp_path))
        assert proc.returncode == 0, proc.stderr
        model = Path(proc.stdout.strip())
        assert model.is_file() and model.name == name and tmp_path in model.parents


def test_fetch_of_a_video_task_says_what_it_is(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(model="doubao-seedance-2-0-260128",
                              extra_fields={"content": {"video_url": ark_server.file_base + "/files/v/a.mp4"}})
    proc = run_cli(ark_server, "fetch", tid, "--dest", str(tmp_path))
    assert proc.returncode == 1
    assert "is a video generation task, not a 3D one" in proc.stderr and "again" not in proc.stderr, proc.stderr
    assert ark_server.count("file", None) == 0 and list(tmp_path.iterdir()) == []


def test_list_says_what_is_where(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """One task fetched into the library, one only on Ark, one only in the library (no longer listed)."""
    fetched = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()), running_s=0.1)
    remote_only = ark_server.add_task(file=ark_server.add_file("s.zip", result_zip()))
    video = ark_server.add_task(model="doubao-seedance-1-0-pro-250528",
                                extra_fields={"content": {"video_url": ark_server.file_base + "/files/v/a.mp4"}})
    assert run_cli(ark_server, "fetch", fetched, "--dest", str(tmp_path), "--quiet").returncode == 0
    (tmp_path / fetched / "preview.png").write_bytes(b"png")
    gone = "cgt-20250101000000-old01"
    (tmp_path / gone).mkdir()
    (tmp_path / gone / "task.json").write_text(json.dumps({"id": gone, "status": "succeeded"}), encoding="utf-8")

    proc = run_cli(ark_server, "--json", "list", "--dest", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    records = {r["task_id"]: r for r in json.loads(proc.stdout)}
    assert records[fetched]["on_ark"] and records[fetched]["extracted"]
    assert Path(records[fetched]["result"]).is_file()
    assert records[fetched]["preview"] == str(tmp_path / fetched / "preview.png")
    assert records[fetched]["asset"] is None and records[fetched]["asset_state"] == "missing"
    assert records[remote_only]["on_ark"] and not records[remote_only]["in_library"]
    assert not records[gone]["on_ark"] and records[gone]["in_library"] and not records[gone]["extracted"]
    assert video not in records, "video tasks are left out, as in the Tasks browser"
    listed = run_cli(ark_server, "list", "--dest", str(tmp_path))
    assert video not in listed.stdout and "; 1 video task on Ark left out" in listed.stderr, listed.stderr

    offline = run_cli(ark_server, "list", "--offline", "--dest", str(tmp_path))
    assert offline.returncode == 0, offline.stderr
    assert fetched in offline.stdout and gone in offline.stdout and remote_only not in offline.stdout
    assert f"2 tasks: Ark not asked; in the library ({tmp_path}): 1 extracted, 1 partial, 0 with an asset file" \
        in offline.stderr, offline.stderr


def test_global_options_are_taken_after_the_command_too(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``status ID --base-url URL``: every global option works in either place; one given before the
    command is kept when the command does not repeat it."""
    tid = ark_server.add_task()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARK")}
    env.update({"ARK_API_KEY": "test-key", "ARK_BASE_URL": "http://127.0.0.1:9/api/v3", "PYTHONPATH": str(REPO)})
    for args in (["status", tid, "--base-url", ark_server.api_base],
                 ["--json", "status", tid, "--base-url", ark_server.api_base],
                 ["--base-url", ark_server.api_base, "status", tid, "--json"]):
        proc = subprocess.run([sys.executable, "-m", "ark3d_addon", *args],
                              capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
        assert proc.returncode == 0, (args, proc.stderr)
        assert json.loads(proc.stdout)["id"] == tid


def test_json_is_taken_after_the_command_too(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The README writes `list [--offline] [--json]`: --json after the command as well as before it."""
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()))
    listed = run_cli(ark_server, "list", "--dest", str(tmp_path), "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["task_id"] for r in json.loads(listed.stdout)] == [tid]
    plain = run_cli(ark_server, "list", "--dest", str(tmp_path))
    assert plain.returncode == 0 and plain.stdout.startswith("TASK ID")
    missing = run_cli(ark_server, "status", "cgt-20990101000000-nope0", "--json")
    assert missing.returncode == 1 and json.loads(missing.stdout)["http_status"] == 404


def test_a_bug_in_the_job_prints_its_traceback_and_exits_70(ark_server, tmp_path: Path, monkeypatch,  # type: ignore[no-untyped-def]
                                                              capsys) -> None:
    """zipfile made to raise inside the job (in this process, not a subprocess): the bug's traceback
    reaches stderr, then the short message; the exit status says it was no Ark error."""
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()))

    def broken_zipfile(*args: object, **kwargs: object) -> None:
        raise RuntimeError("zipfile broke")

    monkeypatch.setattr(archive.zipfile, "ZipFile", broken_zipfile)
    monkeypatch.setenv("ARK_API_KEY", "test-key")
    monkeypatch.setenv("ARK_BASE_URL", ark_server.api_base)
    assert cli.main(["fetch", tid, "--dest", str(tmp_path)]) == cli.EX_SOFTWARE
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError: zipfile broke" in err
    assert "in safe_extract" in err, "the traceback goes down to where the bug happened"
    assert err.rstrip().endswith("please report them with the task id.")
    assert "An internal error stopped the job: RuntimeError: zipfile broke" in err


def start_cli(server, *args: str, key: str = "test-key") -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    """The command line as a process of its own, to be signalled while it works."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARK")}
    env.update({"ARK_API_KEY": key, "ARK_BASE_URL": server.api_base, "PYTHONPATH": str(REPO)})
    return subprocess.Popen([sys.executable, "-m", "ark3d_addon", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def read_until(proc: subprocess.Popen[str], text: str) -> list[str]:
    """stderr lines up to the first that contains ``text`` (the process is killed if it ends first)."""
    assert proc.stderr is not None
    lines: list[str] = []
    for line in proc.stderr:
        lines.append(line)
        if text in line:
            return lines
    proc.kill()
    raise AssertionError(f"{text!r} never came on stderr: {lines}")


def interrupt(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    """Ctrl-C, then what the process printed after it and its exit status."""
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


def test_ctrl_c_while_waiting_says_nothing_was_downloaded_and_leaves_no_folder(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()), queued_s=600)
    proc = start_cli(ark_server, "fetch", tid, "--dest", str(tmp_path))
    read_until(proc, "Queued")
    status, out, err = interrupt(proc)
    assert status == 130 and out == ""
    assert err.splitlines() == [f"Interrupted: nothing was downloaded yet for {tid} (queued on Ark); run the same "
                                "command again to resume waiting for it."], err
    assert list(tmp_path.iterdir()) == [], "a folder holding only task.json is worth nothing"


def test_ctrl_c_while_downloading_keeps_the_part_and_the_same_command_resumes(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = result_zip(padding=3_000_000)
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", data, throttle_bps=1_000_000))
    proc = start_cli(ark_server, "fetch", tid, "--dest", str(tmp_path))
    read_until(proc, "Downloading 1.")  # a megabyte or more arrived
    status, out, err = interrupt(proc)
    part = tmp_path / tid / "result.zip.part"
    assert status == 130 and out == "" and part.is_file()
    [line] = err.splitlines()
    assert line.startswith("Interrupted: kept ") and f"of {tid}'s download ({part}); run the same command " \
        "again to resume it." in line, err
    assert not (tmp_path / tid / ".lock").exists()
    again = run_cli(ark_server, "fetch", tid, "--dest", str(tmp_path), "--quiet")
    assert again.returncode == 0, again.stderr
    assert Path(again.stdout.strip()).is_file()
    assert any(r.header("Range") for r in ark_server.requests_log if r.server == "file"), "the rerun resumed"


def many_files_zip(path: Path, count: int = 5000) -> Path:
    """A zip of many small files: its extraction (about 2 s here) takes long enough to be interrupted."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("model/m.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
        for n in range(count):
            zf.writestr(f"model/parts/{n % 50}/p{n}.txt", f"part {n}\n" * 20)
    return path


def test_ctrl_c_while_extracting_keeps_the_download(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", many_files_zip(tmp_path / "big.zip")))
    library = tmp_path / "library"
    proc = start_cli(ark_server, "fetch", tid, "--dest", str(library))
    read_until(proc, "Extracting")
    status, out, err = interrupt(proc)
    assert status == 130 and out == ""
    zip_path = library / tid / "result.zip"
    assert err.splitlines() == [f"Interrupted: kept the complete download of {tid} ({zip_path}); run the same "
                                "command again to extract it."], err
    assert zip_path.is_file() and not (library / tid / "files").exists()
    again = run_cli(ark_server, "fetch", tid, "--dest", str(library), "--quiet")
    assert again.returncode == 0 and Path(again.stdout.strip()).name == "m.obj", again.stderr
    assert ark_server.count("file") == 1, "the rerun extracted the kept zip, no second download"


def test_an_unreachable_ark_is_reported_while_it_is_retried(tmp_path: Path) -> None:
    """The service stops while the task is queued: stderr says what failed, that it retries, and until when."""
    with ArkServer(api_key="test-key") as server:
        tid = server.add_task(file=server.add_file("r.zip", result_zip()), queued_s=600)
        proc = start_cli(server, "fetch", tid, "--dest", str(tmp_path), "--poll-interval", "1")
        read_until(proc, "Queued")
    lines = read_until(proc, "retrying until")
    notice = lines[-1].strip()
    assert re.fullmatch(r"The connection to 127\.0\.0\.1:\d+ was refused \(ConnectionRefused\); "
                        r"retrying until \d\d:\d\d:\d\d", notice), notice
    status, _out, err = interrupt(proc)
    assert status == 130 and "Interrupted: nothing was downloaded yet" in err


def test_an_unreachable_file_host_is_reported_while_it_is_retried(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()),
                              extra_fields={"content": {"file_url": f"http://127.0.0.1:{port}/r.zip"}})
    proc = start_cli(ark_server, "fetch", tid, "--dest", str(tmp_path))
    notice = read_until(proc, "retrying in")[-1].strip()
    assert re.fullmatch(rf"The connection to 127\.0\.0\.1:{port} was refused \(ConnectionRefused\); "
                        r"retrying in \d+\.\d s \(attempt 2 of 6\)", notice), notice
    status, _out, err = interrupt(proc)
    assert status == 130 and err.startswith("Interrupted: nothing was downloaded yet"), err


def test_list_without_a_key_lists_the_library_and_says_ark_was_not_asked(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()))
    assert run_cli(ark_server, "fetch", tid, "--dest", str(tmp_path), "--quiet").returncode == 0
    before = len(ark_server.requests_log)
    proc = run_cli(ark_server, "list", "--dest", str(tmp_path), key="")
    assert proc.returncode == 0, proc.stderr
    assert tid in proc.stdout
    assert proc.stderr.startswith("warning: Ark was not asked: no API key is set (ARK_API_KEY); listing the "
                                  "library only\n"), proc.stderr
    assert f"1 task: Ark not asked; in the library ({tmp_path}): 1 extracted, 0 partial" in proc.stderr
    as_json = run_cli(ark_server, "list", "--json", "--dest", str(tmp_path), key="")
    assert [r["task_id"] for r in json.loads(as_json.stdout)] == [tid] and "Ark was not asked" in as_json.stderr
    assert len(ark_server.requests_log) == before


def test_an_interrupted_download_is_listed_as_partial_and_counted(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tid = "cgt-20250101000000-part1"
    (tmp_path / tid).mkdir()
    (tmp_path / tid / "task.json").write_text(json.dumps({"id": tid, "status": "succeeded"}), encoding="utf-8")
    (tmp_path / tid / "result.zip.part").write_bytes(b"PK" + bytes(100))
    proc = run_cli(ark_server, "list", "--offline", "--dest", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    [row] = [line for line in proc.stdout.splitlines() if tid in line]
    assert row.split()[4] == "partial"
    assert proc.stderr == (f"1 task: Ark not asked; in the library ({tmp_path}): 0 extracted, 1 partial, "
                           "0 with an asset file\n")


def test_a_variant_the_result_lacks_is_warned_about_also_from_the_library(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``--variant rgb`` on a result with one model: that model is fetched, and stderr names it, each time."""
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()))
    for _ in range(2):  # from Ark, then from the library
        proc = run_cli(ark_server, "fetch", tid, "--dest", str(tmp_path), "--variant", "rgb", "--quiet")
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == f"warning: the result of {tid} has no rgb variant; using its only model, model/m.obj\n"
        assert Path(proc.stdout.strip()) == tmp_path / tid / "files" / "model" / "m.obj"
    assert ark_server.count("file") == 1
    both = ark_server.add_task(file=ark_server.add_file("v.zip", result_zip(variants=True)))
    asked = run_cli(ark_server, "fetch", both, "--dest", str(tmp_path), "--variant", "rgb", "--quiet")
    assert asked.returncode == 0 and asked.stderr == "" and "/rgb/" in asked.stdout


def test_a_failed_task_leaves_nothing_in_the_library(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    failed = ark_server.add_task(outcome="failed", error_code="InternalServiceError", error_message="boom",
                                 running_s=0.2)
    cancelled = ark_server.add_task(outcome="cancelled")
    for tid in (failed, cancelled):
        proc = run_cli(ark_server, "fetch", tid, "--dest", str(tmp_path))
        assert proc.returncode == 1 and proc.stderr.rstrip().splitlines()[-1].startswith("error: "), proc.stderr
    assert list(tmp_path.iterdir()) == [], "no task.json, no .lock"
    done = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()))
    assert run_cli(ark_server, "fetch", done, "--dest", str(tmp_path), "--quiet").returncode == 0
    assert not (tmp_path / done / ".lock").exists(), "a folder at rest holds no lock file"


def test_every_error_in_json_has_a_code(ark_server) -> None:  # type: ignore[no-untyped-def]
    for args in (["status", ""], ["status", "../x"], ["fetch", ""], ["status", "cgt-20990101000000-nope0"]):
        proc = run_cli(ark_server, *args, "--json")
        assert proc.returncode == 1, (args, proc.stderr)
        error = json.loads(proc.stdout)
        assert error["code"] and error["message"], (args, error)


def test_list_shows_the_format_of_tasks_whose_answer_has_none(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Hyper3D's answer has no ``fileformat``: the link's file name gives it (was ``?``)."""
    tid = ark_server.add_task(model="hyper3d-gen2-260112", file=ark_server.add_file("0217ab.fbx", b"Kaydara FBX"))
    listed = run_cli(ark_server, "list", "--dest", str(tmp_path), "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(r["task_id"], r["fileformat"]) for r in json.loads(listed.stdout)] == [(tid, "fbx")]
    table = run_cli(ark_server, "list", "--dest", str(tmp_path))
    [row] = [line for line in table.stdout.splitlines() if tid in line]
    assert row.split()[2] == "FBX"


def test_fetch_of_a_glb_result_gives_the_glb_ark_sent(ark_server, tmp_path: Path, demo_assets: Path) -> None:  # type: ignore[no-untyped-def]
    """A pipeline that asked for GLB gets the .glb (textures embedded), byte for byte, and is told its name."""
    result = demo_assets / "seed3d_glb.zip"
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result), fileformat="glb")
    proc = run_cli(ark_server, "fetch", tid, "--dest", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    model = Path(proc.stdout.strip())
    assert model == tmp_path / tid / "files" / "mushroom" / "pbr" / "mushroom.glb"
    with zipfile.ZipFile(result) as zf:
        assert model.read_bytes() == zf.read("mushroom/pbr/mushroom.glb")
    assert "mushroom.glb is in the library" in proc.stderr, proc.stderr
    made = {p.suffix for p in (tmp_path / tid / "files").rglob("*") if p.is_file()}
    assert made == {".glb", ".png"}, "no .gltf, .bin or texture files made from it"


def test_an_overloaded_ark_is_reported_then_ridden_out(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """503s past the client's quick retries: stderr says so (Ark's code, until when), the next poll succeeds."""
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()))
    ark_server.fail_next(5, status=503, code="ServerOverloaded", path_prefix="/api/v3/contents/generations/tasks/")
    proc = run_cli(ark_server, "fetch", tid, "--dest", str(tmp_path), "--poll-interval", "1")
    assert proc.returncode == 0, proc.stderr
    notices = [line for line in proc.stderr.splitlines() if "retrying until" in line]
    assert len(notices) == 1 and re.search(r"\(ServerOverloaded\); retrying until \d\d:\d\d:\d\d$", notices[0]), \
        proc.stderr
    assert Path(proc.stdout.strip()).is_file()


def test_poll_interval_sets_how_often_a_waiting_fetch_asks_at_least_a_second_apart(  # type: ignore[no-untyped-def]
        ark_server, tmp_path: Path) -> None:
    """A task queued for 2.2 s with ``--poll-interval 0.1``: asked about once a second (0.1 is taken
    as the least, 1 s), where the default 5 s would ask twice in all."""
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()), queued_s=2.2)
    proc = run_cli(ark_server, "fetch", tid, "--dest", str(tmp_path), "--poll-interval", "0.1")
    assert proc.returncode == 0, proc.stderr
    asked = sorted(r.time for r in ark_server.requests_log if r.method == "GET" and r.path.endswith(tid))
    gaps = [b - a for a, b in zip(asked, asked[1:], strict=False)]
    assert 3 <= len(asked) <= 4 and min(gaps) >= 0.9, gaps


def test_a_reader_that_stops_reading_is_no_bug(ark_server) -> None:  # type: ignore[no-untyped-def]
    """``status ID | head -1``: the pipe closes before the JSON is written; exit 141, no traceback."""
    tid = ark_server.add_task(file=ark_server.add_file("r.zip", result_zip()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARK")}
    env.update({"ARK_API_KEY": "test-key", "ARK_BASE_URL": ark_server.api_base, "PYTHONPATH": str(REPO)})
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        proc = subprocess.run([sys.executable, "-m", "ark3d_addon", "status", tid], stdout=write,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=REPO, timeout=60)
    finally:
        os.close(write)
    assert proc.returncode == cli.EX_READER_GONE, proc.stderr
    assert "Traceback" not in proc.stderr and "InternalError" not in proc.stderr, proc.stderr
