"""Generate from the camera without a window renders an input picture quickly: few samples, the
denoiser on the colour alone where the build has one, Cycles in place of EEVEE (which would draw
through software OpenGL for minutes), at most 1024 pixels, and every setting put back.

The settings are read by Blender's own ``render_pre`` handler during the render, in each Blender
of the version matrix (``bpy``, ``HOME`` in a fresh folder).  How long it takes is a benchmark's
business (``scripts/bench.py --only camera_render``), not a test's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness import BlenderPython, Steps, session


@dataclass
class Renders(Steps):
    ids: dict[str, str]
    root: Path
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="module")
def renders(blender_python: BlenderPython, extension_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Renders:
    root = tmp_path_factory.mktemp(f"camera-{blender_python.version}")
    record = Renders(ids={}, root=root)
    with session(record, root, {}, blender_python.python, script="camera_session.py", timeout=300) as blender:
        if record.run(blender, "install", "install", zip_path=str(extension_zip)) is None:
            return record
        for engine in ("EEVEE", "CYCLES"):
            record.run(blender, f"{engine} scene", "scene", engine=engine, samples=4096)
            record.run(blender, f"{engine} render", "render")
    return record


@pytest.mark.parametrize("engine", ["EEVEE", "CYCLES"])
def test_the_camera_renders_with_cycles_at_few_samples(renders: Renders, engine: str) -> None:
    step = renders.step(f"{engine} render")
    during = step["during"]
    assert during["engine"] == "CYCLES", during
    assert during["samples"] == (8 if step["has_denoiser"] else 16), during
    assert max(step["size"]) <= 1024, step["size"]


@pytest.mark.parametrize("engine", ["EEVEE", "CYCLES"])
def test_the_denoiser_runs_on_the_colour_alone_where_the_build_has_one(renders: Renders, engine: str) -> None:
    step = renders.step(f"{engine} render")
    during = step["during"]
    assert during["denoising"] == step["has_denoiser"], during
    if step["has_denoiser"]:
        assert during["denoising_passes"] == "RGB" and during["denoising_quality"] in ("FAST", None), during


@pytest.mark.parametrize("engine", ["EEVEE", "CYCLES"])
def test_every_setting_is_put_back(renders: Renders, engine: str) -> None:
    assert renders.step(f"{engine} render")["after"] == renders.step(f"{engine} scene"), engine
