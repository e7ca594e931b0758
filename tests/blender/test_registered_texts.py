"""Every text Blender shows from the classes the add-on registers has a Chinese entry.

Blender translates these by itself (``i18n.register`` gives it the catalog): operator names
and descriptions, panel labels, and the names, tooltips and enum items of every property.
Rather than reading them from the source, the test asks Blender for them: the built zip is
installed into a ``bpy`` wheel (``bpy_session.py``, through ``harness.py``), and the
``static_texts`` command reads every registered class of the add-on through RNA, as Blender
shows it (an operator's docstring is its description).  Each must be a key of the installed
add-on's catalog (``blender/i18n/zh_hans.py``).  The labels the Blender layer writes in its
source (``text=``, ``iface(...)``) are checked without Blender, in ``tests/test_translation_catalog.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import BlenderPython, BlenderSession

pytestmark = pytest.mark.blender


@pytest.fixture(scope="module")
def registered(blender_python: BlenderPython, extension_zip: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    blender = BlenderSession(tmp_path_factory.mktemp(f"texts-{blender_python.id}-"), {}, blender_python.python)
    try:
        installed = blender.call("install", zip_path=str(extension_zip))
        assert installed["enabled"], installed
        yield blender.call("static_texts")
    finally:
        blender.close()


def test_the_introspection_sees_every_class_and_each_kind_of_text(registered: dict[str, Any]) -> None:
    assert set(registered["listed"]) <= set(registered["classes"]), "a class register() registers is not seen"
    texts = registered["texts"]
    assert {
        "Import Ark Task",  # an operator's bl_label
        "Stop a running import; partial downloads are removed",  # an operator's docstring
        "Tasks",  # a panel's bl_label
        "Target Size",  # a property's name
        "Which model to import when the result holds both",  # a property's description
        "Baked Colour",  # an enum item's name
        "Only tasks that failed",  # an enum item's description
    } <= texts.keys()
    assert len(texts) > 100


def test_every_registered_text_has_a_chinese_entry(registered: dict[str, Any]) -> None:
    catalog = set(registered["catalog"])
    missing = sorted(f"{where}: {text!r}" for text, where in registered["texts"].items() if text not in catalog)
    assert not missing, "no Chinese for:\n" + "\n".join(missing)
