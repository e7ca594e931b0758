#!/usr/bin/env python3
"""Run the hostile-input scenario suite and print it as a Markdown table.

    .venv/bin/python scripts/scenarios.py [--out FILE] [pytest args...]

Runs ``pytest tests/scenarios`` in a subprocess with ``--junitxml``, then prints one row a
test: ``| scenario | expected | observed |``.  *expected* is the test's docstring (its
``expected: ...`` line), *observed* is passed / failed / error / skipped with the duration
(and the first line of the failure).  A failure of the invariants checked after a scenario
(support.Scenario) shows as an error.  The exit status is pytest's.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUITE = REPO / "tests" / "scenarios"


def docstrings() -> dict[tuple[str, str], str]:
    """(module, function) -> the docstring's expectation, read from the source (nothing imported)."""
    found: dict[tuple[str, str], str] = {}
    for path in sorted(SUITE.glob("test_*.py")):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                doc = " ".join((ast.get_docstring(node) or "").split())
                found[(module, node.name)] = re.sub(r"^expected:\s*", "", doc)
    return found


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def observed(case: ET.Element) -> str:
    seconds = float(case.get("time") or 0)
    for tag in ("failure", "error", "skipped"):
        child = case.find(tag)
        if child is None:
            continue
        message = (child.get("message") or child.text or "").strip().splitlines()
        first = message[0][:160] if message else ""
        word = {"failure": "**failed**", "error": "**error**", "skipped": "skipped"}[tag]
        return f"{word} ({seconds:.2f} s): {first}" if first else f"{word} ({seconds:.2f} s)"
    return f"passed ({seconds:.2f} s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args, pytest_args = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", str(SUITE), "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
             "-o", "junit_family=xunit1", *pytest_args],
            cwd=REPO, capture_output=True, text=True,
        )
        if not report.exists():
            sys.stderr.write(proc.stdout + proc.stderr)
            return proc.returncode or 1
        cases = ET.parse(report).getroot().iter("testcase")
        expected = docstrings()
        rows = ["| scenario | expected | observed |", "|---|---|---|"]
        total = 0.0
        counts: dict[str, int] = {}
        for case in cases:
            module, name = case.get("classname", ""), case.get("name", "")
            base = name.split("[", 1)[0]
            result = observed(case)
            total += float(case.get("time") or 0)
            kind = result.split(" ", 1)[0].strip("*")
            counts[kind] = counts.get(kind, 0) + 1
            rows.append(f"| `{cell(name)}` | {cell(expected.get((module, base), ''))} | {cell(result)} |")
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    table = "\n".join(rows) + f"\n\n{summary}; {total:.1f} s in the tests.\n"
    print(table, end="")
    if args.out:
        args.out.write_text(table, encoding="utf-8")
    if proc.returncode not in (0, 5):
        sys.stderr.write(proc.stdout[-4000:])
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
