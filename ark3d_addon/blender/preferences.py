"""Add-on preferences, and the one bridge from them to the core's Settings and Library.

The API key lives in Blender's user preferences (``userpref.blend``), shown as a password,
never in a scene ``.blend``.  ``ARK_API_KEY``, ``ARK_BASE_URL`` and ``ARK3D_LIBRARY`` in the
environment win over what is set here (the core's :meth:`Settings.resolve` decides that).
"""

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import bpy
from bpy.props import EnumProperty, FloatProperty, StringProperty

from ..core.diagnose import Check
from ..core.errors import ConfigError
from ..core.library import Library, default_library_root
from ..core.settings import BASE_URL_CN, BASE_URL_INTL, DEFAULT_POLL_INTERVAL, Settings
from . import translations
from ._typing import Icon, OperatorResult
from .importer import merge_empty_property, origin_to_base_property, target_size_property

#: The add-on's module name: ``bl_ext.<repo>.ark3d`` as an extension, ``ark3d_addon`` legacy.
ADDON_ID = __package__.rpartition(".")[0]

_REGIONS = (
    ("CN", "China (Beijing)", BASE_URL_CN),
    ("INTL", "International (BytePlus)", BASE_URL_INTL),
    ("CUSTOM", "Custom", "Another base URL, e.g. a local test server"),
)


#: What each check of ``core.diagnose.check_connection`` tests, as the preferences name it.
CHECK_NAMES = {
    "proxy": "Proxy",
    "dns": "DNS",
    "tcp": "TCP",
    "tls": "TLS",
    "auth": "Authentication",
}


@dataclass
class ConnectionReport:
    """The last "Check Connection" (main-thread data, filled by ``ark3d.check_connection``)."""

    running: bool = False
    checks: list[Check] = field(default_factory=list)
    error: str = ""  # a failure before the checks could run (settings, online access)
    base_url: str = ""


connection_report = ConnectionReport()


class ArkPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_ID

    api_key: StringProperty(  # type: ignore[valid-type]
        name="API Key",
        description="Your Volcengine Ark API key (ARK_API_KEY in the environment wins)",
        subtype="PASSWORD",
    )
    region: EnumProperty(  # type: ignore[valid-type]
        name="Region",
        description="Which Ark service to talk to; keys are per region",
        items=[(ident, name, desc) for ident, name, desc in _REGIONS],
        default="CN",
    )
    custom_base_url: StringProperty(  # type: ignore[valid-type]
        name="Base URL",
        description="Ark API base URL ending in /api/v3 (plain http only for a local server)",
        default=BASE_URL_CN,
    )
    library_dir: StringProperty(  # type: ignore[valid-type]
        name="Library Folder",
        description="Where results are kept, one folder per task (empty: the add-on's user folder)",
        subtype="DIR_PATH",
    )
    poll_interval: FloatProperty(  # type: ignore[valid-type]
        name="Poll Interval",
        description="Seconds between status queries while a task runs (longer while queued)",
        default=DEFAULT_POLL_INTERVAL,
        min=2.0,
        max=60.0,
        subtype="TIME_ABSOLUTE" if bpy.app.version >= (4, 0, 0) else "NONE",
    )
    variant: EnumProperty(  # type: ignore[valid-type]
        name="Variant",
        description="Which model to import when the result holds both",
        items=[
            ("pbr", "PBR", "Physically based materials (base colour, roughness, metallic, normal)"),
            ("rgb", "Baked Colour", "Baked colour only"),
        ],
        default="pbr",
    )
    ca_bundle: StringProperty(  # type: ignore[valid-type]
        name="CA Bundle",
        description="A PEM file of trusted certificates, for networks that inspect TLS",
        subtype="FILE_PATH",
    )
    # Defaults of the import options (ark3d.import_task's properties of the same names).
    target_size: target_size_property()  # type: ignore[valid-type]
    merge_empty: merge_empty_property()  # type: ignore[valid-type]
    origin_to_base: origin_to_base_property()  # type: ignore[valid-type]

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        col = layout.column()
        col.prop(self, "api_key")
        if os.environ.get("ARK_API_KEY"):
            col.label(text="ARK_API_KEY is set in the environment and is used instead", icon="INFO")
        col.prop(self, "region")
        if self.region == "CUSTOM":
            col.prop(self, "custom_base_url")
        if os.environ.get("ARK_BASE_URL"):
            col.label(text="ARK_BASE_URL is set in the environment and is used instead", icon="INFO")
        col.prop(self, "library_dir")
        if os.environ.get("ARK3D_LIBRARY"):
            col.label(text="ARK3D_LIBRARY is set in the environment and is used instead", icon="INFO")
        else:
            col.label(text=f"Results are kept in {library_root(self)}", icon="FILE_FOLDER")
        col.prop(self, "poll_interval")
        col.prop(self, "ca_bundle")

        box = layout.box()
        box.label(text="Import Options", icon="IMPORT")
        draw_import_options(box, self)

        box = layout.box()
        row = box.row()
        row.label(text="Connection", icon="URL")
        sub = row.row()
        sub.enabled = not connection_report.running
        sub.operator("ark3d.check_connection", text="Checking..." if connection_report.running else "Check Connection",
                     icon="SORTTIME" if connection_report.running else "PLAY")
        draw_connection_report(box)


def draw_import_options(layout: bpy.types.UILayout, prefs: "ArkPreferences") -> None:
    col = layout.column(align=True)
    # Its own context: Blender's catalog has "Variant" as a variable (变量), not a model variant.
    col.prop(prefs, "variant", text="Variant", text_ctxt=translations.CONTEXT)
    col.prop(prefs, "target_size")
    col.prop(prefs, "merge_empty")
    col.prop(prefs, "origin_to_base")


def draw_connection_report(layout: bpy.types.UILayout) -> None:
    """One line per check (icon, what, result), wrapped; nothing before the first check."""
    report = connection_report
    if report.error:
        _wrap(layout, translations.localize(report.error), "ERROR")
        return
    if report.base_url and (report.checks or report.running):
        layout.label(text=translations.iface("Checking {url}").format(url=report.base_url), translate=False)
    for check in report.checks:
        row = layout.row()
        split = row.split(factor=0.25)
        split.label(text=CHECK_NAMES.get(check.name, check.name), icon="CHECKMARK" if check.ok else "ERROR")
        _wrap(split.column(), translations.localize(check.message), "NONE", width=70)


def _wrap(layout: bpy.types.UILayout, text: str, icon: Icon = "NONE", width: int = 90) -> None:
    col = layout.column(align=True)
    col.scale_y = 0.8
    for i, line in enumerate(translations.wrap(text, width) or [""]):
        col.label(text=line, icon=icon if i == 0 else "NONE", translate=False)


def get_preferences(context: bpy.types.Context | None = None) -> ArkPreferences:
    user_prefs = (context or bpy.context).preferences
    addon = user_prefs.addons.get(ADDON_ID) if user_prefs is not None else None
    if addon is None or addon.preferences is None:
        raise ConfigError("The Ark 3D add-on is not enabled", code="NotEnabled",
                          hint="Enable it in Edit > Preferences > Add-ons")
    return cast(ArkPreferences, addon.preferences)


def base_url(prefs: ArkPreferences) -> str:
    for ident, _name, url in _REGIONS:
        if ident == prefs.region and ident != "CUSTOM":
            return url
    return prefs.custom_base_url


def library_root(prefs: ArkPreferences) -> Path:
    """The preference, else the extension's own user folder (``ARK3D_LIBRARY`` wins over both,
    in :meth:`Settings.resolve`)."""
    if prefs.library_dir:
        return Path(bpy.path.abspath(prefs.library_dir))
    extension_path_user = getattr(bpy.utils, "extension_path_user", None)
    if extension_path_user is not None and ADDON_ID.startswith("bl_ext."):
        return Path(extension_path_user(ADDON_ID, path="library", create=True))
    return default_library_root()


def read_settings(context: bpy.types.Context | None = None) -> Settings:
    """Settings for a job, read on the main thread (workers never read preferences)."""
    prefs = get_preferences(context)
    return Settings.resolve(
        api_key=prefs.api_key,
        base_url=base_url(prefs),
        library_dir=library_root(prefs),
        poll_interval=prefs.poll_interval,
        variant=prefs.variant,
        ca_bundle=bpy.path.abspath(prefs.ca_bundle) if prefs.ca_bundle else "",
    )


def library_for(settings: Settings) -> Library:
    return Library(settings.library_dir or default_library_root())


class ARK3D_OT_open_preferences(bpy.types.Operator):
    """Open this add-on's preferences, where the API key is set"""

    bl_idname = "ark3d.open_preferences"
    bl_label = "Set API Key"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> OperatorResult:
        bpy.ops.screen.userpref_show("INVOKE_DEFAULT")
        if context.preferences is not None:
            context.preferences.active_section = "EXTENSIONS" if bpy.app.version >= (4, 2, 0) else "ADDONS"
        bpy.ops.preferences.addon_show(module=ADDON_ID)
        return {"FINISHED"}
