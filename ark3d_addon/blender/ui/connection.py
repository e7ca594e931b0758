"""Check Connection's report: what the last check found, drawn in the add-on preferences.

``ark3d.check_connection`` fills :data:`connection_report` on the main thread when its
background call ends; the preferences draw it.  One line per check, in the order the checks
run: proxy, DNS, TCP, TLS, authentication.  The checks' messages and the error are kept as
they are and rendered at each draw, so a switch of Blender's language shows at once.
"""

from dataclasses import dataclass, field

import bpy

from ...core.diagnose import Check
from ...core.errors import ArkError
from .. import i18n
from .common import wrapped

__all__ = ["CHECK_NAMES", "ConnectionReport", "connection_report", "draw_connection_report"]

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
    error: ArkError | None = None  # a failure before the checks could run (settings, online access)
    base_url: str = ""


connection_report = ConnectionReport()


def draw_connection_report(layout: bpy.types.UILayout) -> None:
    """One line per check (icon, what, result), wrapped; nothing before the first check."""
    report = connection_report
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
