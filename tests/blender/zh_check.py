"""Runs inside Debian's Blender 3.4 (``blender -b``) for ``test_chinese_interface.py``: the add-on in Chinese.

The ``bpy`` wheels are built without translation support (their only language is "Automatic"),
so Chinese can only be seen in a real Blender build.  Started as::

    blender -b --factory-startup --python zh_check.py -- CONFIG.json

It installs the legacy zip as a user does (Preferences > Add-ons > Install), points the add-on
at the test's Ark server, switches the interface to Simplified Chinese, and records what the
user would read: labels, tooltips, progress texts, reports, the text of the RuntimeError a
failing operator raises, and the texts of the sidebar panel, the Tasks browser, the Generate
section and Check Connection's report before and after a switch of language.
It judges nothing; the test asserts.
"""

from __future__ import annotations

import ast
import importlib
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import addon_utils
import bpy

sys.path.insert(0, str(Path(__file__).parent))  # Blender does not put a --python script's folder there
from bpy_session import _LayoutRecorder

CONFIG = json.loads(Path(sys.argv[sys.argv.index("--") + 1]).read_text(encoding="utf-8"))
# Modules this Blender must seem to lack, whatever the host installed (numpy: Debian's Blender finds
# python3-numpy once scripts/setup.sh --system has run).  A None entry makes `import numpy` raise
# ImportError and importlib.util.find_spec("numpy") answer None, as in a Blender without it.
for hidden in CONFIG.get("hidden_modules", []):
    sys.modules[hidden] = None  # type: ignore[assignment]
report: dict = {"errors": []}


def call(op: str, **kwargs: object) -> dict:
    try:
        return {"result": sorted(getattr(bpy.ops.ark3d, op)(**kwargs)), "error": None}
    except RuntimeError as exc:
        return {"result": [], "error": str(exc)}


def set_language(code: str, on: bool = True) -> None:
    view = bpy.context.preferences.view
    view.language = code
    for switch in ("use_translate_interface", "use_translate_tooltips", "use_translate_reports"):
        if hasattr(view, switch):
            setattr(view, switch, on)


def drawn_labels(draw: Callable[[object], None]) -> list[str]:
    """The texts of the labels ``draw(layout)`` makes now (background Blender draws no panel: it
    draws on a layout that records its calls, checked against this Blender)."""
    calls: list[str] = []
    draw(_LayoutRecorder(calls, report["errors"]))
    labels = [ast.parse(call, mode="eval").body for call in calls if call.startswith("label(")]
    return [ast.literal_eval(k.value) for node in labels for k in node.keywords if k.arg == "text"]


def panel_draw(module: str, panel: str) -> Callable[[object], None]:
    """A sidebar panel's ``draw`` (``ui/<panel>.py``'s ``ARK3D_PT_*`` class) on a given layout."""
    names = vars(importlib.import_module(f"{module}.blender.ui.{panel}"))
    cls = next(c for name, c in names.items() if name.startswith("ARK3D_PT_"))
    return lambda layout: cls.draw(type("Panel", (), {"layout": layout})(), bpy.context)


def panel_labels(module: str) -> list[str]:
    """The texts of the main sidebar panel's labels, as its ``draw`` gives them now."""
    return drawn_labels(panel_draw(module, "panel"))


def switching(draws: dict[str, Callable[[object], None]], chinese: str) -> dict[str, dict[str, list[str]]]:
    """What each of ``draws`` shows in English, then after a switch to Chinese, then back in English."""
    seen: dict[str, dict[str, list[str]]] = {name: {} for name in draws}
    for language, key in (("en_US", "en"), (chinese, "zh"), ("en_US", "en_again")):
        set_language(language)
        for name, draw in draws.items():
            seen[name][key] = drawn_labels(draw)
    return seen


def last_message(module: str) -> str:
    """The panel's last message, in the language of now."""
    runner = importlib.import_module(f"{module}.blender.runner")
    return importlib.import_module(f"{module}.blender.state").get().part(runner.RunnerState).message.text


def message(spec: dict) -> object:
    """A core Message from its JSON form ({"msgid": ..., "params": {...}}, params nested alike)."""
    messages = importlib.import_module("ark3d_addon.core.messages")
    params = {k: message(v) if isinstance(v, dict) else v for k, v in spec.get("params", {}).items()}
    return messages.Message(spec["msgid"], params)


def main() -> None:
    report["blender"] = list(bpy.app.version)
    report["languages"] = [item.identifier for item in
                           bpy.context.preferences.view.bl_rna.properties["language"].enum_items]
    result = bpy.ops.preferences.addon_install(filepath=CONFIG["zip"])
    module = "ark3d_addon"
    addon_utils.enable(module, default_set=True)
    report["install"] = {"result": sorted(result), "enabled": module in bpy.context.preferences.addons}
    prefs = bpy.context.preferences.addons[module].preferences
    prefs.region = "CUSTOM"
    prefs.custom_base_url = CONFIG["api_base"]
    prefs.api_key = CONFIG["key"]
    tr = importlib.import_module(f"{module}.blender.i18n")
    browser = importlib.import_module(f"{module}.blender.ui.browser")
    display_width = importlib.import_module(f"{module}.core.linebreak").display_width
    ids = CONFIG["ids"]
    chinese = next(code for code in tr.LOCALES if code in bpy.app.translations.locales)  # this Blender's name

    # The panel's last message, drawn in English, then after a switch to Chinese and back.
    switch: dict = {"import": call("import_task", task_id=ids["failed"]), "en": panel_labels(module)}
    set_language(chinese)
    switch["zh"] = panel_labels(module)
    set_language("en_US")
    switch["en_again"] = panel_labels(module)
    report["language_switch"] = {"error": switch}

    # The status lines kept to be drawn later, each shown in English, then after a switch to
    # Chinese and back: the Tasks browser's after a refresh with a wrong key (only the library
    # shown, and why), the Generate section's after Ark's model list could not be read (the same
    # key) and after it was read, Check Connection's lines against that key, and its error for a
    # base URL that is none.
    preferences = importlib.import_module(f"{module}.blender.preferences")
    report_now = importlib.import_module(f"{module}.blender.state").get().part(preferences.ConnectionReport)

    def checks(layout: object) -> None:
        preferences.draw_connection_report(layout, report_now)

    prefs.api_key = CONFIG["wrong_key"]
    shown: dict = {"refresh": call("refresh_tasks"), "models": call("refresh_models"),
                   "check": call("check_connection")}
    shown.update(switching({"browser": panel_draw(module, "browser"), "generate": panel_draw(module, "generate"),
                            "checks": checks}, chinese))
    prefs.custom_base_url = "not-a-web-address"
    shown["bad_url"] = call("check_connection")
    shown.update(switching({"connection_error": checks}, chinese))
    prefs.custom_base_url, prefs.api_key = CONFIG["api_base"], CONFIG["key"]
    shown["models_read"] = call("refresh_models")  # what Ark offers, retiring models marked
    shown.update(switching({"offered": panel_draw(module, "generate")}, chinese))
    report["language_switch"]["status_lines"] = shown

    set_language(chinese)
    report["locale"] = bpy.app.translations.locale
    t = bpy.app.translations
    report["iface"] = {msg: t.pgettext_iface(msg) for msg in CONFIG["labels"]}
    report["operator_names"] = {msg: t.pgettext_iface(msg, "Operator") for msg in CONFIG["operator_names"]}
    report["tips"] = {msg: t.pgettext_tip(msg) for msg in CONFIG["tips"]}
    report["runtime"] = {english: tr.text(message(spec)) for english, spec in CONFIG["runtime"]}
    report["ages"] = [browser.age_text(s) for s in (120, 7200, 3 * 86400)]
    long = tr.text(message(CONFIG["long_message"]))
    wrap = importlib.import_module(f"{module}.core.linebreak").wrap
    report["wrapped"] = {"text": long, "lines": wrap(long, 24),
                         "widths": [display_width(line) for line in wrap(long, 24)]}

    report["failed_import"] = call("import_task", task_id=ids["failed"])
    report["invalid_id"] = call("import_task", task_id="not-a-task")
    report["cancel_running"] = call("cancel_task", task_id=ids["running"])
    report["refresh"] = call("refresh_tasks")
    browser_part = importlib.import_module(f"{module}.blender.tasks").TaskBrowser
    rows = importlib.import_module(f"{module}.blender.state").get().part(browser_part).rows
    report["browser_rows"] = [(row.task_id, row.status_text or row.status.value) for row in rows.values()]
    prefs.api_key = CONFIG["wrong_key"]
    report["bad_key_import"] = call("import_task", task_id=ids["ok"])
    report["check_bad_key"] = call("check_connection")
    prefs.api_key = CONFIG["key"]
    report["empty_result"] = call("import_task", task_id=ids["ok"])
    report["last_message"] = last_message(module)

    # Import options in a Blender without numpy (hidden above): the pure-Python paths.
    # (An OBJ: the glTF importer needs numpy too.)
    importer = importlib.import_module(f"{module}.blender.importer")
    report["numpy"] = importer._has_numpy()
    bpy.context.scene.cursor.location = (1.0, 2.0, 3.0)
    before = set(bpy.data.objects)
    report["options_import"] = call("import_task", task_id=ids["obj"], target_size=0.5, origin_to_base=True,
                                     merge_empty=True)
    made = [o for o in bpy.data.objects if o not in before]
    bpy.context.view_layer.update()
    corners = [o.matrix_world @ v.co for o in made if o.type == "MESH" for v in o.data.vertices]
    triangles = 0
    for o in made:
        if o.type == "MESH":
            o.data.calc_loop_triangles()
            triangles += len(o.data.loop_triangles)
    report["options_measured"] = {
        "lo": [min(c[i] for c in corners) for i in range(3)],
        "hi": [max(c[i] for c in corners) for i in range(3)],
        "triangles": triangles,
        "empty": [o.name for o in made if o.type == "EMPTY"],
        "message": last_message(module),
    }

    # A run of two tasks, one failed: its summary (a message of messages) in the panel, in
    # Chinese, then after a switch to English and back.
    switch = {"import": call("import_task", task_ids=f"{ids['obj']} {ids['failed']}"), "zh": panel_labels(module)}
    set_language("en_US")
    switch["en"] = panel_labels(module)
    set_language(chinese)
    switch["zh_again"] = panel_labels(module)
    report["language_switch"]["summary"] = switch

    # Formats this Blender cannot import (Debian's 3.4 is built without USD; numpy, which the
    # glTF importer needs, is hidden):
    # said before any import is tried, in the browser (nothing downloaded) and by the import.
    tr_importer = importlib.import_module(f"{module}.blender.importer")
    report["format_problems"] = {}
    for fileformat in ("usdz", "glb", "obj"):
        problem = tr_importer.format_problem(fileformat)
        report["format_problems"][fileformat] = None if problem is None else [problem.code, tr.error_text(problem)]
    report["usdz_browser_import"] = call("browser_import", task_id=ids["usdz"])
    report["usdz_import"] = call("import_task", task_id=ids["usdz"])

    # The same, with translation switched off: English, the source, again.
    set_language(chinese, on=False)
    report["english"] = {
        "iface": {msg: t.pgettext_iface(msg) for msg in CONFIG["labels"][:3]},
        "runtime": {english: tr.text(message(spec)) for english, spec in CONFIG["runtime"][:2]},
        "failed_import": call("import_task", task_id=ids["failed"]),
    }
    set_language("en_US")
    report["en_us_failed_import"] = call("import_task", task_id=ids["failed"])
    # Disabling unregisters the translations: Chinese Blender, English add-on texts.
    set_language(chinese)
    addon_utils.disable(module, default_set=True)
    report["after_disable"] = {msg: t.pgettext_iface(msg) for msg in CONFIG["labels"][:3]}


try:
    main()
except Exception:  # anything must end in a report
    report["errors"].append(traceback.format_exc())
Path(CONFIG["report"]).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
