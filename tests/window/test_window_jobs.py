"""Generate and restart-safe jobs in a real window (each window Blender of harness.py under Xvfb, ``jobs_driver.py``).

* Generate: the Generate panel's operator in the sidebar, modal: the task is created, shown in
  the panel while Ark works, and the model imported (screenshots in docs/screenshots).
* Restart-safe jobs: quit Blender mid-download, start it again: the job resumes by itself (only
  a Blender with a window runs the add-on's start-up timer, so only here does it happen on its
  own, as it does for a user), with a Range request, and imports.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

from .harness import (
    API_KEY,
    WINDOW_MARKS,
    WindowBlender,
    blender_env,
    check_report,
    publish,
    read_report,
    run_driver_script,
)

DRIVER = Path(__file__).with_name("jobs_driver.py")

pytestmark = WINDOW_MARKS


def run_phase(blender: WindowBlender, tmp: Path, server, phase: str, task_id: str = "",
              **extra: object) -> tuple[dict, str]:
    run_dir = tmp / phase
    run_dir.mkdir()
    env = blender_env(tmp, server, blender)
    report_path = run_dir / "report.json"
    config = run_dir / "config.json"
    config.write_text(json.dumps({"phase": phase, "report": str(report_path), "task_id": task_id, **extra}))
    output, returncode = run_driver_script(DRIVER, config, env, blender)
    (run_dir / "blender_output.txt").write_text(output)
    report = read_report(report_path)
    check_report(report, output, returncode, phase)
    return report, output


def padded_result(demo_assets: Path) -> bytes:
    """The demo OBJ result plus 6 MB of padding: larger than the download's 1 MiB write buffer, and
    long enough that the resumed Blender still has seconds of it to download (a quit waits for
    the read under way: 2-3 MB are on disk when the first Blender has gone)."""
    buf = io.BytesIO((demo_assets / "seed3d_obj.zip").read_bytes())
    with zipfile.ZipFile(buf, "a") as archive:
        archive.writestr("mushroom/padding.bin", os.urandom(6 << 20), compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()


def test_a_job_left_by_a_quit_blender_resumes_when_blender_starts(window_blender: WindowBlender, tmp_path: Path,
                                                                  ark_server, demo_assets: Path) -> None:
    ark_server.api_key = API_KEY
    data = padded_result(demo_assets)
    url = ark_server.add_file("seed3d_obj.zip", data, throttle_bps=len(data) // 10)  # about 10 s
    task_id = ark_server.add_task(file=url, fileformat="obj")

    first, _ = run_phase(window_blender, tmp_path, ark_server, "start", task_id)
    assert first["resume_timer_registered_at_start"] is True
    assert first["invoke"] == ["RUNNING_MODAL"]
    assert first["before_quit"]["phase"] == "downloading" and first["before_quit"]["journal"], first
    folder = tmp_path / "library" / task_id
    kept = (folder / "result.zip.part").stat().st_size
    assert kept >= 1 << 20, "quitting kept the partial download"
    assert (folder / "job.json").exists(), "quitting kept the journal"
    assert not (folder / "result.zip").exists()

    second, _ = run_phase(window_blender, tmp_path, ark_server, "resume", task_id)
    assert second["journal_at_start"] is True
    seen = [s["phase"] for s in second["seen"]]
    assert "downloading" in seen, f"the resumed job was not shown as a job: {second['seen']}, kept {kept}, " \
        f"{second['part_at_start']} at the start"
    after = second["after"]
    assert after["objects"] and after["objects"] == after["tagged"], after
    assert after["last_message"]["level"] == "INFO", after
    assert after["last_message"]["text"].startswith(f"Imported {task_id} (mushroom.obj, downloaded)"), after
    assert after["active"] == [] and f"ark3d-{task_id}" not in after["threads"], after  # assets' threads may run
    assert not after["journal"] and not after["part"] and after["zip"], after
    assert after["resume_timer_registered"] is False, "the start-up timer runs once"
    ranges = [r.header("Range") for r in ark_server.requests_log if r.server == "file"]
    assert ranges == [None, f"bytes={kept}-"], ranges


def test_generate_from_the_panel_in_a_window(window_blender: WindowBlender, tmp_path: Path, ark_server,
                                             demo_assets: Path) -> None:
    ark_server.api_key = API_KEY
    ark_server.set_create_result("obj", (demo_assets / "seed3d_obj.zip").read_bytes())
    ark_server.create_schedule = (2.5, 2.5)  # queued, then running: the panel shows both
    image = tmp_path / "chair.png"
    image.write_bytes(PNG_96x64)
    shots = tmp_path / "shots"
    report, _ = run_phase(window_blender, tmp_path, ark_server, "generate", image=str(image), shots=str(shots))
    assert report["invoke"]["result"] == ["RUNNING_MODAL"] and report["invoke"]["ms"] < 200, report["invoke"]
    task_id = report["task_id"]
    assert task_id.startswith("cgt-")
    assert report["keys"][0].startswith("new-") and task_id in report["keys"], report["keys"]
    assert report["phases"][0] in ("starting", "creating") and "queued" in report["phases"], report["phases"]
    after = report["after"]
    assert after["tagged"], after
    assert after["last_message"]["level"] == "INFO", after
    assert after["last_message"]["text"].startswith(f"Created and imported {task_id} (mushroom.obj"), after
    # No job's worker left; the asset library's threads (ark3d-asset*) may still make the picture.
    assert after["journal"] == [] and not [t for t in after["threads"] if not t.startswith("ark3d-asset")], after
    assert after["generate_draws"] > 0, after
    assert [r.method for r in ark_server.requests_log if r.method == "POST"] == ["POST"]
    for name in ("panel_generate.png", "panel_generated.png"):
        publish(window_blender, shots / name)


def _png(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([90, 140, 200]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG_96x64 = _png(96, 64)
