"""The terminal summary of ``tests/window``: what ran on which Blender, and the add-on's own main-thread time there."""

from __future__ import annotations

import pytest

from .harness import API_KEY, OWN_TIME, SKIPPED, percentiles, window_blender, window_blenders

__all__ = ["window_blender"]  # the fixtures every window test module uses

#: What the drivers time (driver_common.OwnTime): the add-on's modal() on a timer event, on any
#: other event, its panels' draw(), and (apart from the tick it ran in) the model's import.
KINDS = {"tick": "modal() tick", "event": "modal() other event", "draw": "panel draw()", "import": "model import"}


@pytest.fixture
def server(ark_server):
    """The project's Ark server answering to the key the window Blenders are given."""
    ark_server.api_key = API_KEY
    return ark_server


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reports = [r for key in ("passed", "failed", "skipped", "error") for r in terminalreporter.stats.get(key, [])]
    window = [r for r in reports if "tests/window/" in r.nodeid and getattr(r, "when", "call") in ("call", "setup")]
    if not window:
        return
    terminalreporter.section("window tests per Blender")
    for blender in window_blenders():
        mine = [r for r in window if f"[{blender.id}]" in r.nodeid]
        passed = sum(1 for r in mine if r.passed and r.when == "call")
        failed = sum(1 for r in mine if r.failed)
        skipped = sum(1 for r in mine if r.skipped)
        how = "extension installed from the zip" if blender.extension else "legacy add-on"
        seconds = sum(r.duration for r in mine)
        line = f"{blender.name} Blender {blender.version or '?'} ({how}): {passed} passed, {failed} failed"
        line += f", {skipped} skipped, {seconds:.0f} s"
        if blender.id in SKIPPED or blender.problem:
            line += f" - skipped: {SKIPPED.get(blender.id, blender.problem)}"
        terminalreporter.write_line(line)
        own = OWN_TIME.get(blender.id, {})
        figures = [
            f"{label} p50 {s['p50']:.3f} / p99 {s['p99']:.3f} / max {s['max']:.3f} ms (n={s['n']})"
            for kind, label in KINDS.items()
            if (s := percentiles(own.get(kind, [])))["n"]
        ]
        if figures:
            terminalreporter.write_line("    add-on's own main-thread time: " + "; ".join(figures))
