"""Static checks as tests: ruff over the whole tree, mypy over the package, and the layout rules.

The configuration lives in ``pyproject.toml``: ruff's rule set (E, F, W, I, B, UP, and RUF100:
no unused ``noqa``; line length 120; the add-on itself kept Python 3.10-clean for the legacy
Blenders), and mypy's (the bpy-free core strictly typed, the Blender layer checked against
fake-bpy-module).  Both run as subprocesses of this interpreter, so they are the versions
pinned in ``requirements-dev.txt``.

The layout rules read the files git tracks: files named by what they hold or test (never after
an issue), no ``sys.path`` edits in pytest's own files (``pythonpath`` in the pytest config does
that), no reference to a ``.py`` file that does not exist, no module of the add-on over 600
lines (catalogs, plain data, aside), no function over 60, and no two modules of one name.
"""

from __future__ import annotations

import ast
import importlib.util
import pathlib
import re
import subprocess
import sys
import tomllib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
#: ``.py`` names the sources mention that are not this repository's: Blender's own files, and
#: the sample the translation catalog test writes.
NOT_OURS = {"ops.py", "blender_ext.py", "tags.py", "x.py"}
#: The list methods that change ``sys.path``.
LIST_EDITS = {"insert", "append", "extend", "remove", "pop", "clear"}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    module = args[0]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed in this Python (pip install -r requirements-dev.txt)")
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-20000:]}\n--- stderr ---\n{proc.stderr[-5000:]}"


def test_ruff() -> None:
    proc = _run("ruff", "check", "--no-cache", "--output-format", "concise", "ark3d_addon", "scripts", "tests")
    assert proc.returncode == 0, _explain(proc)


def test_mypy() -> None:
    """``files = ["ark3d_addon"]`` in pyproject.toml; the blender layer needs fake-bpy-module."""
    if not any((pathlib.Path(entry) / "bpy-stubs").is_dir() for entry in sys.path if entry):
        pytest.skip("fake-bpy-module is not installed (pip install -r requirements-dev.txt)")
    proc = _run("mypy", "--config-file", "pyproject.toml")
    assert proc.returncode == 0, _explain(proc)
    assert "Success" in proc.stdout, _explain(proc)


def tracked_files() -> list[str]:
    """The repository's files as git tracks them (what a clean clone has)."""
    try:
        proc = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, timeout=60)
    except OSError:
        pytest.skip("git is not installed")
    if proc.returncode != 0:
        pytest.skip(f"not a git checkout: {proc.stderr.strip()}")
    return proc.stdout.splitlines()


def test_files_are_named_by_what_they_hold_not_after_an_issue() -> None:
    named = [f for f in tracked_files() if "issue" in pathlib.PurePath(f).name.lower() and not f.endswith(".md")]
    assert not named, f"name these by what they hold or test: {named}"


def sys_path_edits(source: str) -> list[int]:
    """The lines of ``source`` that change ``sys.path``: a list method on it, an assignment to it
    or to a slice of it, or pytest's ``monkeypatch.syspath_prepend``."""

    def is_sys_path(node: ast.AST) -> bool:
        if isinstance(node, ast.Subscript):
            node = node.value
        return (isinstance(node, ast.Attribute) and node.attr == "path"
                and isinstance(node.value, ast.Name) and node.value.id == "sys")

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr in LIST_EDITS and is_sys_path(node.func.value)
                or node.func.attr == "syspath_prepend"):
            lines.append(node.lineno)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(is_sys_path(target) for target in targets):
                lines.append(node.lineno)
    return sorted(lines)


def test_pytests_own_files_leave_sys_path_alone() -> None:
    """conftest.py and test_*.py import through ``pythonpath`` in pyproject.toml's pytest config."""
    edits = []
    for name in tracked_files():
        path = pathlib.PurePath(name)
        if path.suffix == ".py" and (path.name == "conftest.py" or path.name.startswith("test_")):
            edits += [f"{name}:{line}" for line in sys_path_edits((REPO / name).read_text(encoding="utf-8"))]
    assert not edits, "sys.path edited at:\n" + "\n".join(edits)


def test_the_sys_path_check_sees_edits() -> None:
    for edit in ("sys.path.insert(0, x)", "sys.path.append(x)", "sys.path = [x]", "sys.path[:0] = [x]",
                 "sys.path += [x]", "monkeypatch.syspath_prepend(x)"):
        assert sys_path_edits("import sys\n" + edit) == [2], edit
    for read in ("for entry in sys.path: pass", "x = y in sys.path", "paths = list(sys.path)", "z.path.append(x)"):
        assert sys_path_edits(read) == [], read


def test_unused_noqa_is_an_error() -> None:
    """ruff's RUF100, so that test_ruff fails on a ``noqa`` that silences nothing."""
    lint = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]["lint"]
    assert "RUF100" in lint.get("select", []) + lint.get("extend-select", [])


def test_every_py_file_a_text_names_exists() -> None:
    """Docstrings, comments, the README and the scripts name files that exist: a path by its
    tail (``blender/runner.py``), a bare name anywhere in the tree."""
    files = tracked_files()
    names = {pathlib.PurePath(f).name for f in files}
    stale = []
    for name in files:
        if not name.endswith((".py", ".md", ".sh", ".toml", ".txt")):
            continue
        text = (REPO / name).read_text(encoding="utf-8")
        for m in re.finditer(r"(?<![\w./-])[\w./-]*\w\.py\b", text):
            ref = m.group(0)
            tail = ref.lstrip("./")
            found = any(f == tail or f.endswith("/" + tail) for f in files) if "/" in tail else ref in names
            if not found and pathlib.PurePath(ref).name not in NOT_OURS:
                stale.append(f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {ref}")
    assert not stale, "no such file:\n" + "\n".join(stale)


# -- the package's structure ----------------------------------------------------------------------

PACKAGE = REPO / "ark3d_addon"


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: pathlib.Path, modules: set[str]) -> set[str]:
    """Every module of the package that ``path`` imports, wherever the import is (function-level,
    ``TYPE_CHECKING``), relative imports resolved.  ``from . import x`` imports the module ``x``, not
    the package (whose ``__init__`` runs before any of its modules anyway)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                # ``from p import x``: the module p.x if there is one, else a name that p defines.
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target)
    return {m for m in found if m in modules and m != name}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (as the list of modules around it), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_in_the_package() -> None:
    """Counting every import: function-level and ``TYPE_CHECKING`` ones hide a circle, they do not remove it."""
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in files}
    graph = {_module_name(p): _imports(p, modules) for p in files}
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_only_the_runner_registers_app_timers() -> None:
    """Every ``bpy.app.timers.register`` is in blender/runner.py, so unregister() can end them all."""
    offenders = [str(p.relative_to(REPO)) for p in PACKAGE.rglob("*.py")
                 if "timers.register(" in p.read_text(encoding="utf-8") and p.name != "runner.py"]
    assert offenders == [], offenders


#: About 600 lines: past that a module of the add-on holds more than one thing.
MAX_MODULE_LINES = 600


def is_data_only(source: str) -> bool:
    """A catalog: a docstring, imports and constants written as literals, no code."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Expr | ast.Assign | ast.AnnAssign) and node.value is not None:
            try:
                ast.literal_eval(node.value)
                continue
            except ValueError:
                pass
        return False
    return True


def test_no_module_of_the_add_on_is_over_600_lines() -> None:
    """Translation catalogs (plain data) aside."""
    long = []
    for path in sorted((REPO / "ark3d_addon").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.count("\n")
        if lines > MAX_MODULE_LINES and not is_data_only(source):
            long.append(f"{path.relative_to(REPO)}: {lines} lines")
    assert not long, "split by role:\n" + "\n".join(long)


def test_a_catalog_is_data_and_a_module_is_not() -> None:
    assert is_data_only('"""Chinese."""\n\nCATALOG: dict[str, str] = {"Import": "导入"}\nPLURALS = {}\n')
    assert not is_data_only('"""Chinese."""\n\nCATALOG = dict(x=1)\n')
    assert not is_data_only("def f() -> None:\n    pass\n")


#: Longest function of the add-on: past that, a function mixes steps that deserve names.
MAX_FUNCTION_LINES = 60


def test_no_function_of_the_add_on_is_over_60_lines() -> None:
    long = []
    for path in sorted((REPO / "ark3d_addon").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}: {size} lines")
    assert not long, "give each step a name:\n" + "\n".join(long)


def test_module_names_are_unique_across_the_package() -> None:
    """Two ``idea.py`` or two ``api.py`` read as one module in a traceback, a search or a review."""
    seen: dict[str, list[str]] = {}
    for path in sorted((REPO / "ark3d_addon").rglob("*.py")):
        if path.name != "__init__.py":
            seen.setdefault(path.name, []).append(str(path.relative_to(REPO)))
    assert not {name: paths for name, paths in seen.items() if len(paths) > 1}
