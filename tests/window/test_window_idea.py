"""From a prompt to a model in a real window (each window Blender of harness.py under Xvfb, ``idea_driver.py``).

The Generate panel's source set to Prompt: Make Pictures and Create 3D From This are invoked in
the sidebar as their buttons run them (modal, the window stays live), against the project's Ark
server (its Seedream makes the picture).  Screenshots of the section with the picture go to
docs/screenshots.
"""

from __future__ import annotations

import json
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

DRIVER = Path(__file__).with_name("idea_driver.py")
SEED3D_1 = "doubao-seed3d-1-0-250928"
HITEM3D = "hitem3d-2-0-251223"

pytestmark = WINDOW_MARKS


def test_a_prompt_becomes_pictures_then_a_model_in_a_window(window_blender: WindowBlender, tmp_path: Path,
                                                             ark_server, demo_assets: Path) -> None:
    ark_server.api_key = API_KEY
    ark_server.set_create_result("obj", (demo_assets / "seed3d_obj.zip").read_bytes())
    ark_server.create_schedule = (0.5, 0.5)
    shots = tmp_path / "shots"
    env = blender_env(tmp_path, ark_server, window_blender)
    report_path = tmp_path / "report.json"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"report": str(report_path), "shots": str(shots), "model": SEED3D_1,
                                  "set_model": HITEM3D, "prompt": "a small red mushroom"}))
    output, returncode = run_driver_script(DRIVER, config, env, window_blender)
    (tmp_path / "blender_output.txt").write_text(output)
    report = read_report(report_path)
    check_report(report, output, returncode, "idea")
    assert report["make"]["result"] == ["RUNNING_MODAL"] and report["make"]["ms"] < 200, report["make"]
    assert len(report["shown"]) == 1
    assert report["create"]["result"] == ["RUNNING_MODAL"], report["create"]
    pictures, views = ark_server.image_requests
    assert report["set_views"] == ["front", "back", "left", "right"]
    assert views["sequential_image_generation_options"] == {"max_images": 4}
    assert pictures["prompt"].startswith("a small red mushroom One single whole object") and not pictures["watermark"]
    [created] = ark_server.create_requests
    assert created["model"] == SEED3D_1 and created["content"][0]["image_url"]["url"].startswith("data:image/png")
    after = report["after"]
    assert after["tagged"] and after["chain"], after
    assert after["last_message"]["text"].startswith(f"Created and imported {report['task_id']}"), after
    for name in ("generate_prompt.png", "generate_pictures.png", "generate_from_prompt.png", "generate_views.png"):
        publish(window_blender, shots / name)
