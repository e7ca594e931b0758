"""Finds every user-facing English text of the add-on by reading its source (no Blender needed).

Used by ``test_translation_catalog.py`` to check that each has a Chinese entry, and runnable to
list the missing ones: ``python tests/blender/i18n_scan.py``.

What counts as user-facing:

* in ``ark3d_addon/blender/*.py``: ``text=``, ``name=``, ``description=``, ``title=``,
  ``message=``, ``confirm_text=`` arguments; the message of ``self.report(...)``; ``bl_label``,
  ``bl_description`` and the docstrings of operators, panels and lists (their tooltips);
  enum items ``(id, name, description)``; the values of ``*_NAMES``/``*_LABELS`` dicts; the
  arguments of the translation helpers (``iface``/``tip``/``rpt``/``confirm``, both forms of
  ``plural``).

The messages (``msg(...)``, core and Blender layer alike) are checked by
``test_translation_catalog.py``.

An f-string becomes a template (``f"Task {task_id} is busy"`` -> ``Task {} is busy``); a
template matches a catalog entry with the same text around its placeholders.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BLENDER = REPO / "ark3d_addon" / "blender"
_UI_KEYWORDS = {"text", "name", "description", "title", "message", "confirm_text"}
_HELPERS = {"iface", "tip", "rpt", "confirm", "pgettext_iface", "pgettext_tip", "pgettext_rpt"}
_ERROR_CALL = re.compile(r"(Error|Failed|Cancelled|Expired)$")
_UI_BASES = {"Operator", "Panel", "UIList", "Menu", "AddonPreferences"}
#: Files that are not user-facing text (the catalog itself, typing helpers).
_SKIP = {"i18n/zh_hans.py", "_typing.py"}


@dataclass(frozen=True)
class Found:
    text: str  # a template: placeholders as {}
    where: str

    @property
    def is_template(self) -> bool:
        return "{}" in self.text


def _template(node: ast.AST | None, env: dict[str, list[ast.AST]] | None = None) -> list[str]:
    """The texts a node can produce: constants, f-strings as templates, ``a + b``, names assigned in scope."""
    if node is None:
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        out = ""
        for value in node.values:
            out += value.value if isinstance(value, ast.Constant) else "{}"
        return [out]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [a + b for a in _template(node.left, env) for b in _template(node.right, env)]
    if isinstance(node, ast.IfExp):
        return _template(node.body, env) + _template(node.orelse, env)
    if isinstance(node, ast.Name) and env is not None and node.id in env:
        return [t for value in env[node.id] for t in _template(value, None)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _template(node.func.value, env)
    if isinstance(node, ast.Call) and _call_name(node) in _HELPERS and node.args:
        return _template(node.args[0], env)
    return []


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _assignments(func: ast.AST) -> dict[str, list[ast.AST]]:
    env: dict[str, list[ast.AST]] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    env.setdefault(target.id, []).append(node.value)
    return env


def _meaningful(text: str) -> bool:
    """Words a user reads (not a thread name such as ``ark3d-tasks``)."""
    return bool(re.search(r"[A-Za-z]{2}", text.replace("{}", ""))) and not text.startswith("ark3d-")


def _scopes(tree: ast.Module) -> dict[ast.AST, dict[str, list[ast.AST]]]:
    """For each node, the names assigned in its enclosing function (or the module)."""
    owner: dict[ast.AST, dict[str, list[ast.AST]]] = {}
    module_env = _assignments(tree)
    for node in ast.walk(tree):
        owner.setdefault(node, module_env)
    for func in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]:
        env = {**module_env, **_assignments(func)}
        for node in ast.walk(func):
            owner[node] = env
    return owner


def _error_texts(node: ast.Call, env: dict[str, list[ast.AST]]) -> list[str]:
    texts: list[str] = []
    if node.args:
        texts += _template(node.args[0], env)
    for kw in node.keywords:
        if kw.arg == "hint":
            texts += _template(kw.value, env)
    return texts


_Add = Callable[[list[str], ast.AST], None]
_Scopes = dict[ast.AST, dict[str, list[ast.AST]]]


def _modules(folder: Path, found: list[Found], where: str = "",
             skip: frozenset[str] | set[str] = frozenset()) -> Iterator[tuple[ast.Module, _Scopes, _Add]]:
    """Each ``*.py`` of ``folder`` (but ``skip``): its tree, its scopes, and ``add(texts, node)``,
    which keeps the meaningful texts in ``found`` as ``<where><file>:<line>``."""
    for path in sorted(folder.rglob("*.py")):
        if path.name in skip:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))

        def add(texts: list[str], node: ast.AST, path: Path = path) -> None:
            for text in texts:
                if _meaningful(text):
                    found.append(Found(text, f"{where}{path.name}:{getattr(node, 'lineno', 0)}"))

        yield tree, _scopes(tree), add


def scan_blender(folder: Path = BLENDER) -> list[Found]:
    found: list[Found] = []
    for tree, scopes, add in _modules(folder, found, skip=_SKIP):
        for node in ast.walk(tree):
            env = scopes.get(node, {})
            if isinstance(node, ast.Call):
                name = _call_name(node)
                for kw in node.keywords:
                    if kw.arg in _UI_KEYWORDS:
                        add(_template(kw.value, env), kw.value)
                if name == "report" and len(node.args) >= 2:
                    add(_template(node.args[1], env), node)
                elif name == "confirm":
                    for arg in node.args[3:6]:
                        add(_template(arg, env), node)
                elif name == "plural":  # plural(n, "{n} object", "{n} objects")
                    for arg in node.args[1:3]:
                        add(_template(arg, env), node)
                elif name in _HELPERS and node.args:
                    add(_template(node.args[0], env), node)
                elif _ERROR_CALL.search(name):
                    add(_error_texts(node, env), node)
            elif isinstance(node, ast.ClassDef):
                bases = {b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases}
                registered = re.fullmatch(r"[A-Z0-9]+_(OT|PT|UL|MT)_\w+", node.name) is not None
                if bases & _UI_BASES and registered:  # a shared base class's docstring is never shown
                    doc = ast.get_docstring(node)
                    if doc:
                        add([" ".join(doc.split())], node)
                for item in node.body:
                    if isinstance(item, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id in ("bl_label", "bl_description") for t in item.targets
                    ):
                        add(_template(item.value), item)
            elif isinstance(node, ast.List):
                for elt in node.elts:
                    if isinstance(elt, ast.Tuple) and len(elt.elts) >= 3:
                        values = elt.elts
                        if all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in values[:2]):
                            ident = values[0].value  # type: ignore[attr-defined]
                            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ident):
                                add(_template(values[1]) + _template(values[2]), elt)
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                if any(n.endswith(("_NAMES", "_LABELS")) for n in names) and isinstance(node.value, ast.Dict):
                    for value in node.value.values:
                        add(_template(value), node)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if node.target.id.endswith(("_NAMES", "_LABELS")) and isinstance(node.value, ast.Dict):
                    for value in node.value.values:
                        add(_template(value), node)
    return _unique(found)


def _unique(found: list[Found]) -> list[Found]:
    seen: dict[str, Found] = {}
    for item in found:
        seen.setdefault(item.text, item)
    return list(seen.values())


def normalise(template: str) -> str:
    """A catalog entry's placeholders as ``{}``, to compare with a scanned template."""
    return re.sub(r"\{\w*\}", "{}", template)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{\w*\}", template)
    return re.compile("(.+?)".join(re.escape(p) for p in parts) + r"\Z", re.DOTALL)


def covered(catalog: dict[str, str], text: str) -> bool:
    """Does the catalog translate ``text`` (a scanned template)?

    Yes if an entry has the same text around its placeholders, or if the text made with
    sample values (``x1``, or nothing, as ``f"Queued{clock}"`` makes ``Queued``) is an entry or
    matches an entry's template, the way ``translations.localize`` matches texts at run time.
    """
    text = " ".join(text.split()) if "\n" in text else text
    keys = {normalise(k) for k in catalog}
    if text in keys or text.rstrip(".") in keys:
        return True
    for sample in (text.replace("{}", "x1"), text.replace("{}", "")):
        sample = sample.rstrip(".")
        if sample in catalog:
            return True
        if any(_pattern(k).match(sample) for k in catalog if "{" in k):
            return True
    return False


def missing(catalog: dict[str, str], found: list[Found]) -> list[Found]:
    return [item for item in found if not covered(catalog, item.text.rstrip())]


def load_catalog() -> dict[str, str]:
    path = BLENDER / "i18n/zh_hans.py"
    namespace: dict[str, object] = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # plain data, no imports of bpy
    catalog = namespace["CATALOG"]
    assert isinstance(catalog, dict)
    return catalog


if __name__ == "__main__":
    catalog = load_catalog()
    every = scan_blender()
    gaps = missing(catalog, every)
    for item in gaps:
        print(f"{item.where}: {item.text!r}")
    print(f"{len(every)} texts, {len(gaps)} without a Chinese entry", file=sys.stderr)
