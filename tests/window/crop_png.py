"""Crop a window screenshot to the sidebar, for the README: ``python crop_png.py SRC DST X Y W H``.

Run by ``test_window_ui.py`` with the Python that has the ``bpy`` wheel (Blender loads and
saves the PNG; numpy, which the wheel depends on, trims the empty bottom of the sidebar).
Coordinates are Blender's window coordinates (origin bottom left), as a region reports them.
"""

from __future__ import annotations

import sys

import bpy
import numpy as np


def crop(src: str, dst: str, x: int, y: int, w: int, h: int, margin: int = 12) -> tuple[int, int]:
    image = bpy.data.images.load(src)
    width, height = image.size
    pixels = np.empty(width * height * 4, dtype=np.float32)
    image.pixels.foreach_get(pixels)
    rows = pixels.reshape(height, width, 4)[y : y + h, x : x + w]  # bottom row first
    # Trim the empty bottom of the sidebar: rows like its lowest one, left of the tab strip.
    background = rows[0, 0]
    content = np.abs(rows[:, : int(w * 0.85), :3] - background[:3]).max(axis=(1, 2)) > 0.02
    used = np.flatnonzero(content)
    first = max(0, int(used[0]) - margin) if used.size else 0
    rows = rows[first:]
    out = bpy.data.images.new("crop", rows.shape[1], rows.shape[0], alpha=False)
    out.pixels.foreach_set(np.ascontiguousarray(rows).ravel())
    out.filepath_raw = dst
    out.file_format = "PNG"
    out.save()
    return rows.shape[1], rows.shape[0]


if __name__ == "__main__":
    src, dst, *numbers = sys.argv[1:]
    size = crop(src, dst, *(int(n) for n in numbers))
    print(f"cropped {dst}: {size[0]} x {size[1]}")
