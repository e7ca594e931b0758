"""Every text the add-on shows has a Chinese entry, checked without Blender.

Messages are an English msgid plus parameters (``core/messages.py``), so their msgids are read
straight from the source: the first argument of every ``msg(...)`` and the two forms of every
``plural(...)``.  Each must be a literal (else no check could see it), be formatted with exactly
the parameters its placeholders name, and have a Chinese entry with the same placeholders.  A
msgid that is only a placeholder (``{text}``, ``{ark_message}``) passes a text through
untranslated and needs no entry.

The Blender layer's labels written in its source are read the same way: the literal ``text=``
of every call (``layout.label``, ``layout.operator``, ``layout.prop``), the literal given to
``iface``/``tip``/``rpt`` or to ``confirm``, and the values of the ``*_NAMES``/``*_LABELS`` dicts
(the words a state or step is shown by).  What Blender itself shows from the classes the add-on
registers (operator names and descriptions, panel labels, property names, tooltips and enum
items) is checked in real Blender, by introspection (``tests/blender/test_registered_texts.py``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "ark3d_addon"
BLENDER = PACKAGE / "blender"
CATALOG_FILE = BLENDER / "i18n" / "zh_hans.py"
#: Where msg() and plural() are defined: their msgids are parameters there.
DEFINITIONS = PACKAGE / "core" / "messages.py"
_PLACEHOLDER = re.compile(r"\{(\w*)\}")


@dataclass(frozen=True)
class Use:
    msgid: str
    params: frozenset[str] | None  # the keyword names given; None when ``**`` hides them
    where: str


def load_catalog(path: Path = CATALOG_FILE, name: str = "CATALOG") -> dict[str, str]:
    """``CATALOG`` (or ``name``) of ``zh_hans.py``, plain data: read without importing the Blender layer (bpy)."""
    namespace: dict[str, object] = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    catalog = namespace[name]
    assert isinstance(catalog, dict)
    return catalog


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def _literals(node: ast.expr) -> list[str] | None:
    """The strings a msgid argument can be: a literal, or either branch of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _literals(node.body), _literals(node.orelse)
        return body + orelse if body is not None and orelse is not None else None
    return None


def _name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def message_uses(root: Path = PACKAGE) -> tuple[list[Use], list[str]]:
    """Every msgid given to ``msg``/``plural`` under ``root``, and the call sites whose msgid is no literal."""
    uses: list[Use] = []
    opaque: list[str] = []
    for path in sorted(root.rglob("*.py")):
        if path == DEFINITIONS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or _name(node) not in ("msg", "plural"):
                continue
            where = f"{path.relative_to(root.parent)}:{node.lineno}"
            names = frozenset(k.arg for k in node.keywords if k.arg is not None)
            hidden = any(k.arg is None for k in node.keywords)
            if _name(node) == "plural":
                names |= {"n"}
            ids = node.args[1:3] if _name(node) == "plural" else node.args[:1]
            for arg in ids:
                found = _literals(arg)
                if found is None:
                    opaque.append(where)
                    continue
                uses += [Use(msgid, None if hidden else names, where) for msgid in found]
    return uses, opaque


def test_every_msgid_is_a_literal_formatted_with_its_own_placeholders() -> None:
    uses, opaque = message_uses()
    assert len(uses) > 200, "the scan finds the add-on's messages"
    assert not opaque, "msgids must be literals, so the catalog check sees them:\n" + "\n".join(opaque)
    wrong = [f"{u.where}: {u.msgid!r} given {sorted(u.params)}" for u in uses
             if u.params is not None and u.params != placeholders(u.msgid)]
    assert not wrong, "parameters that do not match the placeholders:\n" + "\n".join(wrong)


def test_every_msgid_has_a_chinese_entry_with_the_same_placeholders() -> None:
    catalog = load_catalog()
    uses, _ = message_uses()
    translatable = [u for u in uses if _PLACEHOLDER.sub("", u.msgid).strip()]
    missing = sorted({f"{u.where}: {u.msgid!r}" for u in translatable if u.msgid not in catalog})
    assert not missing, "no Chinese for:\n" + "\n".join(missing)
    for use in translatable:
        assert placeholders(catalog[use.msgid]) == placeholders(use.msgid), (use.where, use.msgid)


def test_the_scan_sees_literals_branches_and_plurals(tmp_path: Path) -> None:
    """The scan itself, on a sample: what it finds and what it refuses."""
    (tmp_path / "x.py").write_text(
        "a = msg('Made {n} things', n=str(n))\n"
        "b = msg('Stopped' if kept else 'Cancelled')\n"
        "c = plural(n, '{n} object', '{n} objects')\n"
        "d = msg(template, x=1)\n"
        "e = msg('Wrong {x}', y=1)\n",
        encoding="utf-8",
    )
    uses, opaque = message_uses(tmp_path)
    assert [u.msgid for u in uses] == ["Made {n} things", "Stopped", "Cancelled", "{n} object", "{n} objects",
                                       "Wrong {x}"]
    assert opaque == [f"{tmp_path.name}/x.py:4"]
    assert [u.msgid for u in uses if u.params is not None and u.params != placeholders(u.msgid)] == ["Wrong {x}"]


def source_literals(root: Path = PACKAGE) -> set[str]:
    """Every string literal of the add-on's source (docstrings too), the catalog file aside."""
    found: set[str] = set()
    for path in sorted(root.rglob("*.py")):
        if path != CATALOG_FILE:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            found |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return found


def test_every_chinese_entry_is_used() -> None:
    """No entry is left over from a text the code no longer has (its English was reworded or removed).

    "Used" is "written in the add-on's source as a string literal", or an explanation of Ark's
    codes (``CODE_TEXTS``, the catalog's own).  The scans above cannot say it: they see the
    msgids of ``msg``/``plural`` and the labels written as literals, but not what Blender shows
    from the registered classes (checked in Blender, ``tests/blender/test_registered_texts.py``)
    nor a literal passed through a variable (``iface(axis)``).  Every msgid is a literal somewhere,
    so a used entry is never flagged; an unused one whose English is also some other literal is
    not caught.
    """
    used = source_literals() | set(load_catalog(name="CODE_TEXTS").values())
    unused = [english for english in load_catalog() if english not in used]
    assert not unused, "entries no code uses:\n" + "\n".join(map(repr, unused))


def test_chinese_entries_keep_their_placeholders() -> None:
    catalog = load_catalog()
    for english, chinese in catalog.items():
        assert set(re.findall(r"\{(\w*)\}", english)) == set(re.findall(r"\{(\w*)\}", chinese)), english
        assert chinese.strip(), english
        words = re.sub(r"\{\w*\}|Ark 3D|PBR|DNS|TCP|TLS|GLB|OBJ|USDZ?", "", english)
        if re.search(r"[A-Za-z]{3}", words):
            assert re.search(r"[\u4e00-\u9fff]", chinese), f"not translated: {english!r} -> {chinese!r}"


#: i18n's helpers: their argument is a msgid, translated as it is shown.
_TRANSLATED = {"iface", "tip", "rpt"}
#: Module-level dicts of labels (a job's phase, a task's status, a connection check's step).
_LABEL_DICTS = ("_NAMES", "_LABELS")


def _strings(node: ast.expr, constants: dict[str, str]) -> list[str]:
    """The literal texts an argument can be: a literal, either branch of ``a if c else b``, a module constant."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body, constants) + _strings(node.orelse, constants)
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    return []


def ui_labels(root: Path = BLENDER) -> list[tuple[str, str]]:
    """``(text, where)`` for every label written in the Blender layer's source (i18n/ aside)."""
    found: list[tuple[str, str]] = []
    for path in sorted(root.rglob("*.py")):
        if "i18n" in path.relative_to(root).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants: dict[str, str] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name, value = node.targets[0].id, node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                name, value = node.target.id, node.value
            else:
                continue
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                constants[name] = value.value
            elif isinstance(value, ast.Dict) and name.endswith(_LABEL_DICTS):
                found += [(text, f"{path.name}:{node.lineno}") for v in value.values for text in _strings(v, {})]
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            args = [k.value for k in node.keywords if k.arg == "text"]
            if _name(node) in _TRANSLATED:
                args += node.args[:1]
            elif _name(node) == "confirm":
                args += node.args
            found += [(text, f"{path.name}:{node.lineno}") for arg in args for text in _strings(arg, constants)]
    return [(text, where) for text, where in found if re.search(r"[A-Za-z]{2}", text)]


def test_every_label_of_the_blender_layer_has_a_chinese_entry() -> None:
    found = ui_labels()
    assert len(found) > 60, "the scan finds the Blender layer's labels"
    catalog = load_catalog()
    missing = sorted({f"{where}: {text!r}" for text, where in found if text not in catalog})
    assert not missing, "no Chinese for:\n" + "\n".join(missing)


def test_the_label_scan_sees_texts_helpers_branches_constants_and_label_dicts(tmp_path: Path) -> None:
    """The scan itself, on a sample: what it finds, and what it leaves (no words, not a label)."""
    (tmp_path / "x.py").write_text(
        "NOTE = 'Takes a while'\n"
        "STEP_NAMES = {'dns': 'Name lookup'}\n"
        "def draw(layout, ok, name):\n"
        "    layout.label(text='Ready' if ok else iface('Waiting for {n}').format(n=1))\n"
        "    layout.operator('x.y', text='Go', icon='PLAY')\n"
        "    layout.label(text=name)\n"
        "    layout.label(text='·')\n"
        "    wrapped(layout, tip(NOTE), 'INFO')\n"
        "    confirm(context, op, event, 'Delete {task_id}?', 'It is gone for good.', 'Delete', task_id=name)\n",
        encoding="utf-8",
    )
    assert sorted(text for text, _ in ui_labels(tmp_path)) == sorted(
        ["Name lookup", "Ready", "Waiting for {n}", "Go", "Takes a while", "Delete {task_id}?",
         "It is gone for good.", "Delete"])
