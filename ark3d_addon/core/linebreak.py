"""Breaking a text into lines of a column width, for English and Chinese alike.

Blender's labels do not wrap, so every long text in the sidebar and the preferences is cut into
lines here.  Chinese has no spaces: a line may break between any two characters, except where
the typesetting rules (kinsoku) forbid it, as in any Chinese or Japanese text layout:

* no line starts with closing punctuation (，。、；：？！）」』】》 ...), nor with English ``,.;:?!)``;
* no line ends with opening punctuation (（「『【《 ...);
* a number stays with the measure word or unit that follows it ("0.45 米", "3 小时");
* the last line of a paragraph is never one lone character (with its punctuation): a character
  comes down from the line above to keep it company.

Widths are in columns: a wide (CJK) character counts two, as it is drawn twice as wide.  The
functions are plain Python, so they are tested without Blender.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import groupby

__all__ = ["display_width", "wrap"]

#: Characters a line must not start with: closing brackets and quotes, pauses and stops, and
#: the marks that belong to what precedes them.
NO_LINE_START = frozenset(
    "，。、；：？！）］｝〕〉》」』】〗〙〛”’…‥·・ー〜～％‰℃"
    "﹐﹑﹒﹔﹕﹖﹗﹚﹜﹞"
    ",.;:?!)]}%"
)
#: Characters a line must not end with: opening brackets and quotes.
NO_LINE_END = frozenset("（［｛〔〈《「『【〖〘〚“‘(\\[{")

#: The blocks of wide characters a line may break around (CJK, full-width forms, CJK punctuation).
_WIDE_BLOCKS = (("\u2e80", "\u9fff"), ("\uf900", "\ufaff"), ("\uff00", "\uffef"), ("\u3000", "\u303f"))


#: A segment ending in a number ("9,788", "0.45"), which the measure word after it stays with.
_NUMBER_END = re.compile(r"(?:^|\s)[-+]?\d[\d,.]*\Z")


def display_width(text: str) -> int:
    """Columns ``text`` takes: two for a wide or full-width character, one for any other."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _glued(left: str, right: str) -> bool:
    """May a line not break between the atoms ``left`` and ``right`` (no space between them)?"""
    if right[0] in NO_LINE_START or left[-1] in NO_LINE_END:
        return True
    # Only wide characters offer a break without a space: two words of Latin text touch only
    # when they are one word.
    return not (_is_wide(left[-1]) or _is_wide(right[0]))


def _atom_kind(ch: str) -> str:
    if ch.isspace():
        return "space"
    return "wide" if any(low <= ch <= high for low, high in _WIDE_BLOCKS) else "other"


def _atoms(paragraph: str) -> list[str]:
    """One atom: a wide character, a run of other non-space characters, or a run of spaces.

    Not a regular expression: compiling a character class this wide costs 3-4 ms, which the
    panel's first draw would pay.
    """
    atoms: list[str] = []
    for kind, run in groupby(paragraph, _atom_kind):
        if kind == "wide":
            atoms.extend(run)
        else:
            atoms.append("".join(run))
    return atoms


def _segments(paragraph: str) -> list[tuple[str, str]]:
    """The paragraph as unbreakable pieces, each with the spaces that follow it."""
    segments: list[list[str]] = []  # [text, trailing spaces]
    for atom in _atoms(paragraph):
        if atom.isspace():
            if segments:
                segments[-1][1] += atom
            continue
        if segments:
            text, spaces = segments[-1]
            number_unit = _NUMBER_END.search(text) is not None and _is_wide(atom[0])
            if (not spaces and _glued(text, atom)) or atom[0] in NO_LINE_START or number_unit:
                segments[-1] = [text + spaces + atom, ""]
                continue
        segments.append([atom, ""])
    return [(text, spaces) for text, spaces in segments]


def _cut(text: str, width: int) -> list[str]:
    """A piece wider than a line, cut where it must be (a long path or URL)."""
    pieces = []
    while display_width(text) > width:
        cut = 1
        while cut < len(text) and display_width(text[: cut + 1]) <= width:
            cut += 1
        while 1 < cut < len(text) and (text[cut:].lstrip()[:1] in NO_LINE_START or text[cut - 1] in NO_LINE_END):
            cut -= 1  # the character before a closing mark goes down with it
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*pieces, text] if text else pieces


def _lone(line: list[tuple[str, str]]) -> bool:
    """A line holding one wide character (and the punctuation glued to it)."""
    if len(line) != 1:
        return False
    text = line[0][0]
    return _is_wide(text[0]) and all(ch in NO_LINE_START for ch in text[1:])


def _fill(segments: list[tuple[str, str]], width: int) -> list[list[tuple[str, str]]]:
    lines: list[list[tuple[str, str]]] = [[]]
    used = 0
    for text, spaces in segments:
        size = display_width(text)
        if lines[-1] and used + size > width:
            lines.append([])
            used = 0
        if size > width:
            *full, rest = _cut(text, width)
            lines[-1:] = [[(piece, "")] for piece in full] + [[(rest, spaces)]]
            used = display_width(rest + spaces)
            continue
        lines[-1].append((text, spaces))
        used += size + display_width(spaces)
    # Orphan control: a lone last character takes one piece of the line above along.
    if len(lines) > 1 and _lone(lines[-1]) and len(lines[-2]) > 1:
        moved = lines[-2].pop()
        if display_width("".join(t + s for t, s in [moved, *lines[-1]]).rstrip()) <= width:
            lines[-1].insert(0, moved)
        else:
            lines[-2].append(moved)
    return lines


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns (a piece wider than that is cut), one
    paragraph per line of ``text``; the spaces where a line breaks are dropped."""
    out: list[str] = []
    for paragraph in text.splitlines() or [""]:
        segments = _segments(paragraph)
        if not segments:
            out.append("")
            continue
        for line in _fill(segments, max(2, width)):
            out.append("".join(t + s for t, s in line).rstrip())
    return out
