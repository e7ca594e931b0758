"""The fixture every Blender test module shares (``harness.py``): ``blender_python``, the
version matrix (``extension_zip`` is ``tests/conftest.py``'s).  Not loaded where ``harness``
would skip (no POSIX pipes, no ``bpy``): the test modules import it themselves and are skipped."""

import importlib.util
import sys

if sys.platform != "win32" and importlib.util.find_spec("bpy") is not None:
    from harness import blender_python  # noqa: F401 - fixture
