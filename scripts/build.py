"""Build ``dist/ark3d-<version>.zip`` with Blender's own extension tool, and validate it.

Also writes ``dist/ark3d_addon-<version>-legacy.zip`` for Blender 3.4-4.1 (Preferences >
Add-ons > Install), which load the same package through its ``bl_info``.

    python scripts/build.py [--out DIR] [--repo DIR] [--version X.Y.Z]

Stage, validate, build, validate the zip.  ``--repo DIR`` also publishes the zip into ``DIR``, a
static extension repository that any web server can host: the zip, its ``index.json`` (and an
``index.html`` to browse it) written by Blender's own ``blender_ext.py server-generate``.  Blender
adds it under Preferences > Get Extensions > Repositories > + > Add Remote Repository (the URL
of ``index.json``) and offers each newer version published there as an update.  ``--version``
builds under another version than the manifest's (a nightly, a studio's own release).

The extension is the top-level ``blender_manifest.toml`` plus the contents of
``ark3d_addon/``; they are staged side by side in a temporary folder because the tool wants the
manifest next to ``__init__.py``.  The tool is ``blender_ext.py`` from the installed ``bpy``
wheel, run under plain Python (it does not need Blender).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
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


def stage(dest: Path, version: str | None = None) -> None:
    """The package and the manifest side by side in ``dest``; ``version`` replaces the manifest's."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(ROOT / "ark3d_addon", dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    text = (ROOT / "blender_manifest.toml").read_text(encoding="utf-8")
    if version is not None:
        text = re.sub(r'^version = ".*"$', f'version = "{version}"', text, count=1, flags=re.MULTILINE)
    (dest / "blender_manifest.toml").write_text(text, encoding="utf-8")


def build(out_dir: Path | None = None, check: bool = True, version: str | None = None) -> Path:
    """Stage, validate and build; returns the zip's path.  Staged in a temporary folder, so two
    builds at once (tests running side by side) never mix their files."""
    manifest = tomllib.loads((ROOT / "blender_manifest.toml").read_text(encoding="utf-8"))
    version = version or manifest["version"]
    scripts = bpy_scripts_dir()
    tag_args = valid_tags_args(scripts)
    out = out_dir or ROOT / "dist"
    out.mkdir(parents=True, exist_ok=True)
    zip_path = out / f"{manifest['id']}-{version}.zip"
    with tempfile.TemporaryDirectory(prefix="ark3d-build-") as tmp:
        staged = Path(tmp) / manifest["id"]
        stage(staged, version)
        run_tool(scripts, "validate", str(staged), *tag_args)
        zip_path.unlink(missing_ok=True)
        run_tool(scripts, "build", "--source-dir", str(staged), "--output-filepath", str(zip_path), *tag_args)
    if check:
        run_tool(scripts, "validate", str(zip_path), *tag_args)
    build_legacy(out / f"ark3d_addon-{version}-legacy.zip")
    return zip_path


def valid_tags_args(scripts: Path) -> list[str]:
    """``--valid-tags`` with Blender's own list of tags, where this Blender has one (4.2+)."""
    tags = scripts / "modules" / "_bpy_internal" / "extensions" / "tags.py"
    return ["--valid-tags", str(tags)] if tags.exists() else []


def publish(zip_path: Path, repo: Path) -> Path:
    """Put the built zip into the static repository ``repo`` and regenerate its index with
    Blender's ``server-generate``; returns ``index.json``.

    The repository offers one version: older zips of the same extension are removed, since two
    versions for the same Blender versions would be a duplicate Blender warns about.
    """
    repo.mkdir(parents=True, exist_ok=True)
    extension_id = zip_path.name.rsplit("-", 1)[0]
    for older in repo.glob(f"{extension_id}-*.zip"):
        if older.name != zip_path.name:
            older.unlink()
    shutil.copy2(zip_path, repo / zip_path.name)
    run_tool(bpy_scripts_dir(), "server-generate", "--repo-dir", str(repo), "--html")
    return repo / "index.json"


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
    parser.add_argument("--repo", type=Path, default=None, metavar="DIR",
                        help="also publish the zip into this static extension repository (zip + index.json)")
    parser.add_argument("--version", default=None, help="build as this version instead of the manifest's")
    args = parser.parse_args()
    zip_path = build(args.out, version=args.version)
    print(zip_path)
    if args.repo is not None:
        index = publish(zip_path, args.repo)
        print(f"repository: {index} (add its URL under Get Extensions > Repositories > + > Add Remote Repository)")


if __name__ == "__main__":
    main()
