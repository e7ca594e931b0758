"""Every text the add-on shows has a Chinese entry, found without Blender: an AST scan of
``ark3d_addon/blender/*.py`` and of the core's messages (``i18n_scan.py``) against the catalog.
"""

from __future__ import annotations

import re
from pathlib import Path

import i18n_scan


def test_every_text_of_the_blender_layer_has_a_chinese_entry() -> None:
    """``text=``/``name=``/``description=``/reports/labels/tooltips/enum items/errors of blender/*.py."""
    found = i18n_scan.scan_blender()
    assert len(found) > 150, "the scan finds the add-on's texts"
    gaps = i18n_scan.missing(i18n_scan.load_catalog(), found)
    assert not gaps, "no Chinese for:\n" + "\n".join(f"{g.where}: {g.text!r}" for g in gaps)


def test_every_message_of_the_core_has_a_chinese_entry() -> None:
    """Errors, hints, connection checks and job states the core builds (shown translated by the Blender layer)."""
    found = i18n_scan.scan_core()
    assert len(found) > 100
    gaps = i18n_scan.missing(i18n_scan.load_catalog(), found)
    assert not gaps, "no Chinese for:\n" + "\n".join(f"{g.where}: {g.text!r}" for g in gaps)


def test_chinese_entries_keep_their_placeholders() -> None:
    catalog = i18n_scan.load_catalog()
    for english, chinese in catalog.items():
        assert set(re.findall(r"\{(\w*)\}", english)) == set(re.findall(r"\{(\w*)\}", chinese)), english
        assert chinese.strip(), english
        words = re.sub(r"\{\w*\}|Ark 3D|PBR|DNS|TCP|TLS|GLB|OBJ|USDZ?", "", english)
        if re.search(r"[A-Za-z]{3}", words):
            assert re.search(r"[\u4e00-\u9fff]", chinese), f"not translated: {english!r} -> {chinese!r}"


def test_the_scan_sees_fstrings_and_reports(tmp_path: Path) -> None:
    """The scan itself: an f-string report is a template, and a missing entry is caught."""
    sample = tmp_path
    (sample / "x.py").write_text(
        "class ARK3D_OT_x(bpy.types.Operator):\n"
        "    '''Do a thing'''\n"
        "    bl_label = 'Thing'\n"
        "    def execute(self, context):\n"
        "        self.report({'INFO'}, f'Made {n} things')\n"
        "        layout.label(text='Brand new label')\n",
        encoding="utf-8",
    )
    found = {f.text for f in i18n_scan.scan_blender(sample)}
    assert found == {"Do a thing", "Thing", "Made {} things", "Brand new label"}
    gaps = {g.text for g in i18n_scan.missing({"Made {n} things": "做了 {n} 个", "Thing": "东西"},
                                              i18n_scan.scan_blender(sample))}
    assert gaps == {"Do a thing", "Brand new label"}
