"""Build ``dist/ark3d-<version>.zip`` with Blender's own extension tool, and validate it.

Also writes ``dist/ark3d_addon-<version>-legacy.zip`` for Blender 3.4-4.1 (Preferences >
Add-ons > Install), which load the same package through its ``bl_info``.

    python scripts/build.py [--out DIR]   # stage, validate, build, validate the zip

The extension is the top-level ``blender_manifest.toml`` plus the contents of
``ark3d_addon/``; they are staged side by side in ``build/ark3d`` because the tool wants the
manifest next to ``__init__.py``.  The tool is ``blender_ext.py`` from the installed ``bpy``
wheel, run under plain Python (it does not need Blender).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bpy_scripts_dir() -> Path:
    """``.../site-packages/bpy/<ver>/scripts`` of the bpy wheel, found without importing bpy."""
    import importlib.util

    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("bpy is not installed in this Python: run scripts/setup.sh first")
    pkg = Path(next(iter(spec.submodule_search_locations)))
    candidates = sorted(pkg.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not candidates:
        sys.exit(f"blender_ext.py not found under {pkg}")
    return candidates[-1].parents[3]


def run_tool(scripts: Path, *args: str) -> None:
    tool = scripts / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"
    cmd = [sys.executable, str(tool), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        sys.exit(f"blender_ext.py {args[0]} failed ({proc.returncode})")


def stage(dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(ROOT / "ark3d_addon", dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(ROOT / "blender_manifest.toml", dest / "blender_manifest.toml")


def build(out_dir: Path | None = None, check: bool = True) -> Path:
    """Stage, validate and build; returns the zip's path."""
    manifest = tomllib.loads((ROOT / "blender_manifest.toml").read_text(encoding="utf-8"))
    scripts = bpy_scripts_dir()
    tags = scripts / "modules" / "_bpy_internal" / "extensions" / "tags.py"
    staged = ROOT / "build" / manifest["id"]
    stage(staged)
    tag_args = ["--valid-tags", str(tags)] if tags.exists() else []
    run_tool(scripts, "validate", str(staged), *tag_args)
    out = out_dir or ROOT / "dist"
    out.mkdir(parents=True, exist_ok=True)
    zip_path = out / f"{manifest['id']}-{manifest['version']}.zip"
    zip_path.unlink(missing_ok=True)
    run_tool(scripts, "build", "--source-dir", str(staged), "--output-filepath", str(zip_path), *tag_args)
    if check:
        run_tool(scripts, "validate", str(zip_path), *tag_args)
    build_legacy(out / f"ark3d_addon-{manifest['version']}-legacy.zip")
    return zip_path


def build_legacy(zip_path: Path) -> Path:
    """The same code as a legacy add-on zip (``ark3d_addon/`` at the top) for Blender 3.4-4.1."""
    zip_path.unlink(missing_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted((ROOT / "ark3d_addon").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                zf.write(path, path.relative_to(ROOT).as_posix())
    print(f"created: {zip_path}")
    return zip_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="output folder (default dist/)")
    args = parser.parse_args()
    print(build(args.out))


if __name__ == "__main__":
    main()
