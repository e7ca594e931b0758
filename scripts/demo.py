"""The demo: the local Ark server, a task imported into real Blender headless, a .blend and a PNG.

    .venv/bin/python scripts/demo.py [--format glb|obj|usdz] [--out out/demo] [--serve]

Steps, each printed: make the demo results with Blender (cached in ``.cache/demo_assets``),
build the extension zip with Blender's own tool, start the Ark-compatible server on loopback
with its demo tasks (queued, then running, then succeeded, a few seconds each: Seed3D zips, a
Hyper3D FBX, a Hitem3D STL, a video task and a failure, all listed), install the
zip into Blender exactly as a user does (Get Extensions > Install from Disk), import the task
with ``bpy.ops.ark3d.import_task``, save ``demo.blend`` and render ``preview.png`` (Cycles, CPU);
then text -> picture -> model: ``api.create_from_prompt("a small red teapot")`` asks the local
Seedream for a picture (no watermark, the prompt helper's words added), sends it to Seed3D 2.0
and imports the model, the chain kept with the task in the library.
Blender runs with its own ``HOME`` under the output folder, so no real configuration is touched.

The server stops when the demo ends, and its tasks with it.  With ``--serve`` it keeps running
after the demo, until Ctrl-C, and the demo ends by printing the commands to try by hand in
another shell (the environment to export, then ``list``, ``status`` and ``fetch`` of its tasks).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from ark_server import ArkServer, register_demo  # noqa: E402
from build import build  # noqa: E402

DEMO_KEY = "demo-key-0123456789"
SEED3D_2 = "doubao-seed3d-2-0-260328"


def step(text: str) -> None:
    print(f"==> {text}", flush=True)


def make_assets() -> Path:
    assets = ROOT / ".cache" / "demo_assets"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo_assets.py"), str(assets)], check=True,
                   stdout=subprocess.DEVNULL)
    return assets


def frame_and_render(bpy, objects, png: Path) -> None:  # type: ignore[no-untyped-def]
    """A camera and a sun framing the imported objects; a small Cycles CPU render."""
    from mathutils import Vector

    scene = bpy.context.scene
    points = [o.matrix_world @ Vector(c) for o in objects if o.type == "MESH" for c in o.bound_box]
    lo = Vector((min(p.x for p in points), min(p.y for p in points), min(p.z for p in points)))
    hi = Vector((max(p.x for p in points), max(p.y for p in points), max(p.z for p in points)))
    center, radius = (lo + hi) / 2, max((hi - lo).length / 2, 0.01)

    cam_data = bpy.data.cameras.new("DemoCamera")
    cam = bpy.data.objects.new("DemoCamera", cam_data)
    scene.collection.objects.link(cam)
    cam.location = center + Vector((1.0, -1.4, 0.8)).normalized() * radius * 3.2
    cam.rotation_euler = (center - cam.location).to_track_quat("-Z", "Y").to_euler()
    scene.camera = cam
    sun = bpy.data.objects.new("DemoSun", bpy.data.lights.new("DemoSun", "SUN"))
    sun.data.energy = 3.0
    sun.rotation_euler = (math.radians(50), 0, math.radians(30))
    scene.collection.objects.link(sun)
    if scene.world is None:
        scene.world = bpy.data.worlds.new("World")
    if scene.world.node_tree is None:  # before 5.0 a new world has no nodes (5.2 deprecates use_nodes)
        scene.world.use_nodes = True
    scene.world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.35, 0.38, 0.42, 1)

    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 24
    scene.render.resolution_x, scene.render.resolution_y = 800, 600
    scene.render.filepath = str(png)
    scene.render.image_settings.file_format = "PNG"
    # Cycles prints a line per step on the process's stdout; keep the demo's output readable.
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            bpy.ops.render.render(write_still=True)
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def task_lines(tasks: list[dict[str, Any]]) -> list[str]:
    """One line per task of the server: its id, model, format (or ``video``) and how it ends."""
    return [f"    {t['task_id']}  {t['model']}  {t['kind'] if t['kind'] == 'video' else t['fileformat']}  "
            f"{t['outcome']}" for t in tasks]


def try_by_hand(server: ArkServer, tasks: list[dict[str, Any]], library: Path) -> list[str]:
    """The commands to paste into another shell while the server runs: the environment, then the
    command line on the demo's tasks (one fetch of each kind of result, one that fails)."""
    python = shlex.quote(sys.executable)
    env = (f"export ARK_BASE_URL={server.api_base} ARK_API_KEY={DEMO_KEY} "
           f"ARK3D_LIBRARY={shlex.quote(str(library))} PYTHONPATH={shlex.quote(str(ROOT))}")
    shown = [t for t in tasks if t["kind"] == "3d" and t["outcome"] == "succeeded"]
    picked: dict[str, dict[str, Any]] = {}
    for task in shown:
        picked.setdefault(task["model"], task)  # the first task of each model
    failed = next((t for t in tasks if t["outcome"] == "failed"), None)
    lines = [env, f"{python} -m ark3d_addon list"]
    lines += [f"{python} -m ark3d_addon fetch {t['task_id']}    # {t['model']}, {t['fileformat']}"
              for t in picked.values()]
    if failed is not None:
        lines.append(f"{python} -m ark3d_addon status {failed['task_id']}    # a task that failed")
    lines.append(f"{python} -m ark3d_addon create --model {SEED3D_2} --prompt 'a small red teapot' --wait"
                 "    # text -> picture -> model")
    return lines


def serve_until_ctrl_c(server: ArkServer, tasks: list[dict[str, Any]], library: Path) -> None:
    """Keep the server running after the demo and say what to try with it."""
    step(f"The local Ark server keeps running (API {server.api_base}); Ctrl-C stops it")
    print("\n".join(task_lines(tasks)))
    print("    Try it by hand in another shell:")
    print("\n".join(f"    {line}" for line in try_by_hand(server, tasks, library)), flush=True)
    # Blender takes SIGINT for itself once it has run: give Ctrl-C back to Python, which stops the wait.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        server.stopping.wait()
    except KeyboardInterrupt:
        print("\n    stopped", flush=True)


def import_in_blender(server: ArkServer, task: dict[str, Any], zip_path: Path, out: Path) -> None:
    """Install the extension into Blender as a user does, import ``task``, save the .blend, render a picture."""
    # Blender gets a private home: its user config, the installed extension and the library.
    home = out / "home"
    os.environ.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                       "ARK_API_KEY": DEMO_KEY, "ARK_BASE_URL": server.api_base,
                       "ARK3D_LIBRARY": str(out / "library")})
    import bpy

    step(f"Blender {bpy.app.version_string}: installing {zip_path.name} as a user does")
    bpy.context.preferences.system.use_online_access = True
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.preferences.system.use_online_access = True
    bpy.ops.extensions.package_install_files(filepath=str(zip_path), repo="user_default",
                                             enable_on_install=True)

    step(f"bpy.ops.ark3d.import_task(task_id={task['task_id']!r})")
    started = time.monotonic()
    bpy.ops.ark3d.import_task(task_id=task["task_id"])
    took = time.monotonic() - started
    imported = [o for o in bpy.data.objects if o.get("ark3d_task_id") == task["task_id"]]
    print(f"    {len(imported)} objects in collection {task['task_id']!r} after {took:.1f} s "
          f"(the task was queued and running for {task['queued_s'] + task['running_s']:.0f} s)")

    blend = out / "demo.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    step(f"Saved {blend}")
    png = out / "preview.png"
    frame_and_render(bpy, imported, png)
    step(f"Rendered {png}")
    api_calls = server.count("api", None)
    file_calls = server.count("file", None)
    print(json.dumps({"task_id": task["task_id"], "objects": len(imported), "seconds": round(took, 1),
                      "api_requests": api_calls, "file_requests": file_calls,
                      "blend": str(blend), "preview": str(png)}))


def idea_to_model(server: ArkServer, out: Path) -> None:
    """Text -> picture -> model in the same Blender: a sentence to Seedream (the local one), its picture
    to Seed3D 2.0, the model imported; the chain the library keeps with the task is printed."""
    import importlib

    api = importlib.import_module("bl_ext.user_default.ark3d.api")
    prompt = "a small red teapot"
    step(f"api.create_from_prompt({prompt!r}, model={SEED3D_2!r})")
    started = time.monotonic()
    made = api.create_from_prompt(prompt, model=SEED3D_2, params={"fileformat": "glb"}, wait=True)
    took = time.monotonic() - started
    folder = out / "library" / made.task_id
    chain = json.loads((folder / "chain.json").read_text(encoding="utf-8"))
    sent = server.image_requests[-1]
    print(f"    Seedream ({chain['image_model']}, watermark {str(sent['watermark']).lower()}) was asked: "
          f"{sent['prompt']!r}")
    print(f"    picture sent to {SEED3D_2}: {folder / chain['sent'][0]}")
    print(f"    {len(made.objects)} objects in collection {made.task_id!r} after {took:.1f} s")
    print(json.dumps({"task_id": made.task_id, "prompt": prompt, "picture": str(folder / chain["sent"][0]),
                      "chain": str(folder / "chain.json"), "objects": len(made.objects), "seconds": round(took, 1)}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", choices=("glb", "obj", "usdz"), default="glb")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "demo")
    parser.add_argument("--serve", action="store_true",
                        help="keep the local Ark server running after the demo and print commands to try")
    args = parser.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    step("Making the demo results with Blender (cached after the first run)")
    assets = make_assets()
    step("Building the extension with Blender's extension tool")
    zip_path = build(out / "dist")

    step("Starting the local Ark-compatible server")
    server = ArkServer(api_key=DEMO_KEY).start()
    tasks = register_demo(server, assets)
    task = next(t for t in tasks if t["outcome"] == "succeeded" and t["fileformat"] == args.format
                and t["model"].startswith("doubao-seed3d-"))
    print(f"    API {server.api_base}: {len(tasks)} tasks"
          + ("" if args.serve else " (they end with the demo; --serve keeps them to try by hand)"))
    print(f"    importing {task['task_id']} ({args.format}): queued {task['queued_s']} s, "
          f"running {task['running_s']} s")

    try:
        import_in_blender(server, task, zip_path, out)
        idea_to_model(server, out)
        if args.serve:
            serve_until_ctrl_c(server, tasks, out / "library")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
