"""Inside Blender (the ``bpy`` wheel): Generate's camera render, seen from Blender's own render
handlers, so a test reads the settings the picture was really made with.

Run by ``test_camera_render.py`` as ``python camera_session.py``; the protocol is
``session_common.serve``.  No window: ``bpy.app.background`` is true, as in a script or a farm.
"""

from __future__ import annotations

import sys
from typing import Any

import bpy

import bpy_session as base
from session_common import addon_module, commands_of, serve

#: What the render handler saw, the last render.
SEEN: dict[str, Any] = {}


def settings(scene: bpy.types.Scene) -> dict[str, Any]:
    """The settings a camera render changes, as they stand."""
    cycles = scene.cycles
    return {
        "engine": scene.render.engine,
        "percentage": scene.render.resolution_percentage,
        "format": scene.render.image_settings.file_format,
        "samples": cycles.samples,
        "denoising": cycles.use_denoising,
        "denoising_passes": cycles.denoising_input_passes,
        "denoising_quality": getattr(cycles, "denoising_quality", None),
    }


def _seen(scene: bpy.types.Scene, *_args: Any) -> None:
    SEEN.clear()
    SEEN.update(settings(scene))


def cmd_install(zip_path: str) -> dict[str, Any]:
    """The built zip installed as a user installs it, then the factory scene (cube, light, camera)."""
    answer = base.cmd_install(zip_path)
    bpy.ops.wm.read_homefile(use_factory_startup=True)
    bpy.app.handlers.render_pre.append(_seen)
    return answer


def cmd_scene(engine: str, samples: int) -> dict[str, Any]:
    """The factory scene with ``engine`` ("EEVEE": this Blender's, named EEVEE Next in 4.2-4.5)
    and Cycles' ``samples``, as its user left it."""
    scene = bpy.context.scene
    if engine == "EEVEE":
        ids = {item.identifier for item in bpy.types.RenderSettings.bl_rna.properties["engine"].enum_items}
        engine = "BLENDER_EEVEE_NEXT" if "BLENDER_EEVEE_NEXT" in ids else "BLENDER_EEVEE"
    scene.render.engine = engine
    scene.cycles.samples = samples
    scene.cycles.use_denoising = False
    scene.render.image_settings.file_format = "JPEG"
    return settings(scene)


def cmd_render() -> dict[str, Any]:
    """``image_source.render_camera``, as Generate from the camera calls it without a window."""
    scene = bpy.context.scene
    path = addon_module("blender.image_source").render_camera(scene)
    image = bpy.data.images.load(str(path))
    answer = {"during": dict(SEEN), "after": settings(scene), "size": list(image.size),
              "has_denoiser": addon_module("blender.image_source").has_denoiser()}
    bpy.data.images.remove(image)
    path.unlink()
    return answer


COMMANDS = commands_of(globals())


def main() -> int:
    """Serve, then drop the test's render handler: left in ``bpy.app.handlers`` it keeps this
    script's globals, and so ``bpy``, alive through the interpreter's teardown, where bpy 4.5's
    audio thread then blocks the exit until the harness kills it 30 s later."""
    try:
        return serve(COMMANDS)
    finally:
        if _seen in bpy.app.handlers.render_pre:
            bpy.app.handlers.render_pre.remove(_seen)


if __name__ == "__main__":
    sys.exit(main())
