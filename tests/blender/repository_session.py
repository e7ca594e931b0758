"""Inside Blender (the ``bpy`` wheel): ark3d from a remote extension repository, as a studio
serves it, through Blender's own Get Extensions operators (``bl_pkg``).

Run by ``test_extension_repository.py`` as ``python repository_session.py``; the protocol is
``session_common.serve``.  ``HOME`` points at a fresh folder, so the repository is added to a
throw-away configuration.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

import bpy

from session_common import commands_of, serve

REPO_NAME = "Studio Extensions"
EXTENSION_ID = "ark3d"


def _repo() -> tuple[int, Any]:
    """The repository the test added, with its index in the preferences."""
    for index, repo in enumerate(bpy.context.preferences.extensions.repos):
        if repo.name == REPO_NAME:
            return index, repo
    raise LookupError(f"no repository named {REPO_NAME!r}")


def cmd_add_repository(url: str) -> dict[str, Any]:
    """Preferences > Get Extensions > Repositories > + > Add Remote Repository, with online access on."""
    bpy.context.preferences.system.use_online_access = True
    result = bpy.ops.preferences.extension_repo_add(name=REPO_NAME, remote_url=url, type="REMOTE")
    index, repo = _repo()
    return {"result": sorted(result), "index": index, "module": repo.module, "remote_url": repo.remote_url,
            "online_access": bool(bpy.app.online_access)}


def cmd_sync() -> dict[str, Any]:
    """Check for updates: Blender downloads the repository's index.json."""
    index, _ = _repo()
    result = bpy.ops.extensions.repo_sync(repo_index=index)
    return {"result": sorted(result), **cmd_state()}


def cmd_install() -> dict[str, Any]:
    """Get Extensions > Install, enabled on install."""
    index, _ = _repo()
    result = bpy.ops.extensions.package_install(repo_index=index, pkg_id=EXTENSION_ID, enable_on_install=True)
    return {"result": sorted(result), **cmd_state()}


def cmd_upgrade_all() -> dict[str, Any]:
    """Get Extensions > Install Available Updates."""
    result = bpy.ops.extensions.package_upgrade_all()
    return {"result": sorted(result), **cmd_state()}


def cmd_state() -> dict[str, Any]:
    """What Blender knows: the installed version, the version the repository offers (its synced
    index), the updates Blender counts for this repository (the count the Get Extensions header
    shows in a window; ``bl_pkg`` skips the header's own tally without one), the add-on enabled."""
    _, repo = _repo()
    installed = Path(repo.directory) / EXTENSION_ID / "blender_manifest.toml"
    bl_pkg = sys.modules["bl_pkg"]
    store = bl_pkg.repo_cache_store_ensure()
    item = (store.refresh_remote_from_directory(directory=repo.directory, error_fn=print, force=False)
            or {}).get(EXTENSION_ID)
    return {
        "installed_version": tomllib.loads(installed.read_text(encoding="utf-8"))["version"] if installed.exists()
        else None,
        "offered_version": item.version if item is not None else None,
        "updates": bl_pkg.repo_stats_calc_outdated_for_repo_directory(store, repo.directory),
        "enabled": f"bl_ext.{repo.module}.{EXTENSION_ID}" in bpy.context.preferences.addons,
        "operator": hasattr(bpy.types, "ARK3D_OT_import_task"),
    }


COMMANDS = commands_of(globals())


def main() -> int:
    return serve(COMMANDS)


if __name__ == "__main__":
    sys.exit(main())
