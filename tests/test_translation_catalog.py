"""Every text the add-on shows has a Chinese entry, checked without Blender.

Messages are an English msgid plus parameters (``core/messages.py``), so their msgids are read
straight from the source: the first argument of every ``msg(...)`` and the two forms of every
``plural(...)``.  Each must be a literal (else no check could see it), be formatted with exactly
the parameters its placeholders name, and have a Chinese entry with the same placeholders.  A
msgid that is only a placeholder (``{text}``, ``{ark_message}``) passes a text through
untranslated and needs no entry.  The Blender layer's static labels are found by an AST scan
(``i18n_scan.py``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import i18n_scan

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "ark3d_addon"
#: Where msg() and plural() are defined: their msgids are parameters there.
DEFINITIONS = PACKAGE / "core" / "messages.py"
_PLACEHOLDER = re.compile(r"\{(\w*)\}")


@dataclass(frozen=True)
class Use:
    msgid: str
    params: frozenset[str] | None  # the keyword names given; None when ``**`` hides them
    where: str


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
    catalog = i18n_scan.load_catalog()
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


def test_every_text_of_the_blender_layer_has_a_chinese_entry() -> None:
    """``text=``/``name=``/``description=``/reports/labels/tooltips/enum items/errors of blender/*.py."""
    found = i18n_scan.scan_blender() + i18n_scan.scan_blender(i18n_scan.BLENDER / "ui")  # ui/ since the move
    assert len(found) > 150, "the scan finds the add-on's texts"
    gaps = i18n_scan.missing(i18n_scan.load_catalog(), found)
    assert not gaps, "no Chinese for:\n" + "\n".join(f"{g.where}: {g.text!r}" for g in gaps)


def test_chinese_entries_keep_their_placeholders() -> None:
    catalog = i18n_scan.load_catalog()
    for english, chinese in catalog.items():
        assert set(re.findall(r"\{(\w*)\}", english)) == set(re.findall(r"\{(\w*)\}", chinese)), english
        assert chinese.strip(), english
        words = re.sub(r"\{\w*\}|Ark 3D|PBR|DNS|TCP|TLS|GLB|OBJ|USDZ?", "", english)
        if re.search(r"[A-Za-z]{3}", words):
            assert re.search(r"[\u4e00-\u9fff]", chinese), f"not translated: {english!r} -> {chinese!r}"


def test_the_scan_sees_fstrings_and_reports(tmp_path: Path) -> None:
    """The scan itself: an f-string report is a template, and a missing entry is caught."""
    sample = tmp_path
    (sample / "x.py").write_text(
        "class ARK3D_OT_x(bpy.types.Operator):\n"
        "    '''Do a thing'''\n"
        "    bl_label = 'Thing'\n"
        "    def execute(self, context):\n"
        "        self.report({'INFO'}, f'Made {n} things')\n"
        "        layout.label(text='Brand new label')\n",
        encoding="utf-8",
    )
    found = {f.text for f in i18n_scan.scan_blender(sample)}
    assert found == {"Do a thing", "Thing", "Made {} things", "Brand new label"}
    gaps = {g.text for g in i18n_scan.missing({"Made {n} things": "做了 {n} 个", "Thing": "东西"},
                                              i18n_scan.scan_blender(sample))}
    assert gaps == {"Do a thing", "Brand new label"}
