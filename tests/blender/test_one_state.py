"""The Blender layer keeps its memory in one place: ``blender/state.py``'s object, made by
``register()`` and dropped by ``unregister()`` (``test_extension.py`` checks that in real
Blender).  Read from the source here: no other module of ``ark3d_addon/blender`` holds mutable
data at module level or rebinds a module-level name with ``global``, and ``ui/`` defines no
PropertyGroup or Operator (its modules only draw).
"""

from __future__ import annotations

import ast
from pathlib import Path

BLENDER = Path(__file__).resolve().parents[2] / "ark3d_addon" / "blender"
#: Calls that make a new mutable container when a module is imported.
_MUTABLE_CALLS = {"list", "dict", "set", "defaultdict", "OrderedDict", "WeakKeyDictionary", "WeakValueDictionary",
                  "WeakSet", "deque", "Counter"}


def _modules() -> list[Path]:
    return sorted(p for p in BLENDER.rglob("*.py") if p.name != "zh_hans.py")


def _is_mutable(value: ast.expr) -> bool:
    if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return name in _MUTABLE_CALLS
    return False


def _holders(path: Path) -> list[str]:
    """Module-level names bound to a new mutable container, but constants (UPPER_CASE) and ``__all__``."""
    found = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if _is_mutable(value) and any(not (n.isupper() or n == "__all__") for n in names):
            found.append(f"{path.relative_to(BLENDER)}:{node.lineno} {', '.join(names)}")
    return found


def test_no_module_of_the_blender_layer_holds_mutable_data_at_module_level() -> None:
    found = [holder for path in _modules() for holder in _holders(path)]
    assert not found, "keep it in the add-on's state (blender/state.py):\n" + "\n".join(found)


def test_only_the_state_module_rebinds_a_module_level_name() -> None:
    found = [f"{path.relative_to(BLENDER)}:{node.lineno}" for path in _modules() if path.name != "state.py"
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.Global)]
    assert not found, found


def test_ui_modules_only_draw() -> None:
    """No PropertyGroup or Operator is defined in ``ui/`` (they live in panel_state.py, tasks.py and
    the operator modules), and no ``ui/`` module is imported by a module outside ``ui/`` but the
    package's ``__init__``."""
    defined = []
    for path in sorted((BLENDER / "ui").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases}
                if bases & {"PropertyGroup", "Operator", "RunnerOperator"}:
                    defined.append(f"ui/{path.name}: {node.name}")
    assert not defined, defined
    importers = []
    for path in _modules():
        if path.parent.name == "ui" or path == BLENDER / "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level and (node.module or "").split(".")[0] == "ui":
                importers.append(str(path.relative_to(BLENDER)))
    assert not importers, importers
