"""Add-on preferences, drawn with Check Connection's report, and the one bridge from them to the
core: :func:`read_settings` (how to reach Ark) and :func:`library` (where results are kept).

The API key lives in Blender's user preferences (``userpref.blend``), shown as a password,
never in a scene ``.blend``.  ``ARK_API_KEY``, ``ARK_BASE_URL`` and ``ARK3D_LIBRARY`` in the
environment win over what is set here (the core's :meth:`Settings.resolve` decides that).
"""

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, StringProperty

from ..core.errors import ArkError, ConfigError, ErrorCode
from ..core.messages import msg
from ..core.settings import BASE_URL_CN, BASE_URL_INTL, DEFAULT_POLL_INTERVAL, Settings
from . import i18n, state
from .drawing import draw_import_options, wrapped
from .options import merge_empty_property, origin_to_base_property, target_size_property, variant_property
from .progress import redraw_preferences

if TYPE_CHECKING:
    from ..core.diagnose import Check
    from ..core.library import Library
    from ..core.worker import Worker

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


class ConnectionReport:
    """The last "Check Connection": its checks, or the failure before they could run (a part of the
    add-on's state: see :mod:`.state`)."""

    def __init__(self) -> None:
        self.running = False
        self.checks: list[Check] = []
        self.error: ArkError | None = None
        self.base_url = ""


def _library_changed(_prefs: Any, context: bpy.types.Context) -> None:
    """The asset library follows (its module hooks in: it imports this one, not the reverse)."""
    if state.is_enabled():
        for hook in state.get().hooks.library:
            hook(context)


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
        update=_library_changed,
    )
    use_asset_library: BoolProperty(  # type: ignore[valid-type]
        name="Asset Library",
        description="Keep a picture and an asset file of every result, and show the library as the asset "
                    "library \"Ark 3D\" in the Asset Browser",
        default=True,
        update=_library_changed,
    )
    poll_interval: FloatProperty(  # type: ignore[valid-type]
        name="Poll Interval",
        description="Seconds between status queries while a task runs (longer while queued)",
        default=DEFAULT_POLL_INTERVAL,
        min=2.0,
        max=60.0,
        subtype="TIME_ABSOLUTE" if bpy.app.version >= (4, 0, 0) else "NONE",
    )
    variant: variant_property(of_operator=False)  # type: ignore[valid-type]
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
        by_environment = _set_by_environment()
        col = layout.column()
        col.prop(self, "api_key")
        if "api_key" in by_environment:
            col.label(text="ARK_API_KEY is set in the environment and is used instead", icon="INFO")
        col.prop(self, "region")
        if self.region == "CUSTOM":
            col.prop(self, "custom_base_url")
        if "base_url" in by_environment:
            col.label(text="ARK_BASE_URL is set in the environment and is used instead", icon="INFO")
        col.prop(self, "library_dir")
        if "library_dir" in by_environment:
            col.label(text="ARK3D_LIBRARY is set in the environment and is used instead", icon="INFO")
        else:
            kept = i18n.iface("Results are kept in {folder}").format(folder=_library_folder(self))
            col.label(text=kept, icon="FILE_FOLDER", translate=False)
        col.prop(self, "use_asset_library")
        col.prop(self, "poll_interval")
        col.prop(self, "ca_bundle")

        box = layout.box()
        box.label(text="Import Options", icon="IMPORT")
        draw_import_options(box, self)

        report = state.get().part(ConnectionReport)
        box = layout.box()
        row = box.row()
        row.label(text="Connection", icon="URL")
        sub = row.row()
        sub.enabled = not report.running
        sub.operator("ark3d.check_connection", text="Checking..." if report.running else "Check Connection",
                     icon="SORTTIME" if report.running else "PLAY")
        draw_connection_report(box, report)


def draw_connection_report(layout: bpy.types.UILayout, report: ConnectionReport) -> None:
    """One line per check (icon, what, result), wrapped; nothing before the first check.  The checks'
    messages and the error are rendered here, at each draw: a switch of Blender's language shows at once."""
    if report.error is not None:
        wrapped(layout, i18n.text(report.error), "ERROR", width=90, indent="NONE")
        return
    if report.base_url and (report.checks or report.running):
        layout.label(text=i18n.iface("Checking {url}").format(url=report.base_url), translate=False)
    for check in report.checks:
        row = layout.row()
        split = row.split(factor=0.25)
        split.label(text=CHECK_NAMES.get(check.name, check.name), icon="CHECKMARK" if check.ok else "ERROR")
        text = i18n.text(check.error if check.error else check.message)
        wrapped(split.column(), text, width=70, indent="NONE")


def apply_connection_check(context: bpy.types.Context, call: "Worker[Any]") -> list[tuple[str, str]]:
    """Check Connection has ended: the report the preferences draw, and one report line (main thread)."""
    report = state.get().part(ConnectionReport)
    report.running = False
    checks: list[Check] = call.result or []
    report.checks = checks
    if call.error is not None:
        report.error = call.error
    redraw_preferences(context.window_manager)
    failed = next((c for c in checks if not c.ok), None)
    if call.error is not None:
        return [("ERROR", i18n.error_text(call.error))]
    if failed is not None:
        return [("ERROR", i18n.rpt("Connection check failed at {step}: {message}").format(
            step=i18n.rpt(CHECK_NAMES.get(failed.name, failed.name)),
            message=i18n.error_text(failed.error) if failed.error else i18n.report(failed.message)))]
    return [("INFO", i18n.rpt("Connection OK: Ark answered and accepted the API key"))]


def _set_by_environment() -> frozenset[str]:
    """Which settings the environment decides: :meth:`Settings.resolve`'s precedence asked (two
    different preference values that resolve alike were overridden), not written out again here."""
    try:
        key = Settings.resolve(api_key="").api_key
        one = Settings.resolve(base_url=BASE_URL_CN, library_dir="/one")
        other = Settings.resolve(base_url=BASE_URL_INTL, library_dir="/other")
    except ConfigError:  # nothing but the environment's base URL can be refused here
        return frozenset({"base_url"})
    found = {"api_key"} if key else set()
    if one.base_url == other.base_url:
        found.add("base_url")
    if one.library_dir == other.library_dir:
        found.add("library_dir")
    return frozenset(found)


def get_preferences(context: bpy.types.Context | None = None) -> ArkPreferences:
    user_prefs = (context or bpy.context).preferences
    addon = user_prefs.addons.get(ADDON_ID) if user_prefs is not None else None
    if addon is None or addon.preferences is None:
        raise ConfigError(msg("The Ark 3D add-on is not enabled"), code=ErrorCode.NOT_ENABLED,
                          hint=msg("Enable it in Edit > Preferences > Add-ons"))
    return cast(ArkPreferences, addon.preferences)


def base_url(prefs: ArkPreferences) -> str:
    for ident, _name, url in _REGIONS:
        if ident == prefs.region and ident != "CUSTOM":
            return url
    return prefs.custom_base_url


def _library_folder(prefs: ArkPreferences) -> Path:
    """The preference, else the extension's own user folder (else, as a legacy add-on, the core's default)."""
    if prefs.library_dir:
        return Path(bpy.path.abspath(prefs.library_dir))
    extension_path_user = getattr(bpy.utils, "extension_path_user", None)
    if extension_path_user is not None and ADDON_ID.startswith("bl_ext."):
        return Path(extension_path_user(ADDON_ID, path="library", create=True))
    from ..core.library import default_library_root

    return default_library_root()


def read_settings(context: bpy.types.Context | None = None) -> Settings:
    """How to reach Ark, read on the main thread (workers never read preferences)."""
    prefs = get_preferences(context)
    return Settings.resolve(
        api_key=prefs.api_key,
        base_url=base_url(prefs),
        poll_interval=prefs.poll_interval,
        variant=prefs.variant,
        ca_bundle=bpy.path.abspath(prefs.ca_bundle) if prefs.ca_bundle else "",
    )


def library(context: bpy.types.Context | None = None) -> "Library":
    """The library: ``ARK3D_LIBRARY``, else the preference, else the add-on's own folder.

    :class:`Settings` decides the environment's precedence, as for every setting; the base URL is
    left out, so a bad one (said when a request is made) never hides the library.
    """
    from ..core.library import Library  # on first use: enabling the add-on does not need it

    folder = _library_folder(get_preferences(context))
    environ = {k: v for k, v in os.environ.items() if k != "ARK_BASE_URL"}
    return Library(Settings.resolve(library_dir=folder, environ=environ).library_dir or folder)
