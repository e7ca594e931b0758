"""The demo's "try it by hand": the commands it prints after ``--serve`` work against its running server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import demo
from ark_server import ArkServer, register_demo


def test_the_commands_the_demo_prints_work_against_its_server(demo_assets: Path, tmp_path: Path) -> None:
    """Each printed line, pasted into a shell after the export line, succeeds: list, a fetch of each
    model's result (the .glb, .fbx, .stl... path printed), the status of the failed task."""
    with ArkServer(api_key=demo.DEMO_KEY, time_scale=0.01) as server:
        tasks = register_demo(server, demo_assets)
        library = tmp_path / "library"
        env_line, *commands = demo.try_by_hand(server, tasks, library)
        assert env_line.startswith(f"export ARK_BASE_URL={server.api_base} ARK_API_KEY={demo.DEMO_KEY} ")
        fetches = [c for c in commands if " fetch " in c]
        assert {c.split("# ")[1].split(",")[0] for c in fetches} == {t["model"] for t in tasks if t["kind"] == "3d"}
        for command in commands:
            proc = subprocess.run(["bash", "-c", f"{env_line}\n{command}"], capture_output=True, text=True,
                                  timeout=120, cwd=tmp_path)
            assert proc.returncode == 0, (command, proc.stderr)
            if " fetch " in command:
                model = Path(proc.stdout.strip())
                assert model.is_file() and library in model.parents, (command, proc.stdout)
            if " status " in command:
                assert json.loads(proc.stdout)["status"] == "failed"
        assert "in the library" in subprocess.run(["bash", "-c", f"{env_line}\n{commands[0]}"], capture_output=True,
                                                  text=True, timeout=120, cwd=tmp_path).stderr

