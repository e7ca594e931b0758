"""The one line breaker of the UI (``core/linebreak.py``), called directly: Chinese typesetting
rules (kinsoku) at every width, and English as English breaks."""

from __future__ import annotations

import pytest

from ark3d_addon.blender.i18n.zh_hans import CATALOG
from ark3d_addon.core.linebreak import NO_LINE_END, NO_LINE_START, display_width, wrap

SUMMARY_ZH = ("已导入 cgt-20251124123456-abcde（mushroom.glb，pbr，已下载）："
              "2 个物体，9,788 个三角面，1 个材质，1 张贴图，0.50 × 0.50 × 0.45 米")
RATE_LIMIT_ZH = "触发了方舟的限流（每分钟 300 个请求，5 个运行中的任务）：请等一分钟再试。"
#: Every Chinese text of the catalog with its placeholders filled, and the two seen in the 5.2 window.
TEXTS = [SUMMARY_ZH, RATE_LIMIT_ZH] + sorted(
    {zh.replace("{", "").replace("}", "") for zh in CATALOG.values() if display_width(zh) > 12}
)


def _lone_character(line: str) -> bool:
    """One wide character, with nothing but closing punctuation after it."""
    return display_width(line[:1]) == 2 and all(ch in NO_LINE_START for ch in line[1:])


@pytest.mark.parametrize("width", [8, 10, 12, 16, 20, 24, 30, 38, 50])
def test_chinese_lines_obey_the_kinsoku_rules_at_every_width(width: int) -> None:
    for text in TEXTS:
        lines = wrap(text, width)
        assert "".join(lines).replace(" ", "") == text.replace(" ", ""), (text, lines)  # nothing lost
        for n, line in enumerate(lines):
            where = (width, text, lines)
            assert line and line == line.strip(), where
            if n:
                assert line[0] not in NO_LINE_START, where
                assert lines[n - 1][-1] not in NO_LINE_END, where
            assert display_width(line) <= width, where  # a code or a path longer than a line is cut
        if len(lines) > 1 and width >= 16:  # below, a piece that cannot move may fill the line above
            assert not _lone_character(lines[-1]), where


def test_the_summary_seen_in_the_window_keeps_its_comma_and_its_unit() -> None:
    """In the 5.2 window a line started with "，" and "米" stood alone on the last line."""
    for width in range(8, 80):
        lines = wrap(SUMMARY_ZH, width)
        assert not any(line.startswith("，") for line in lines), (width, lines)
        assert lines[-1] != "米" and lines[-1].endswith("0.45 米"), (width, lines)


def test_a_number_stays_with_its_measure_word() -> None:
    assert wrap("共 300 个请求", 8) == ["共", "300 个请", "求"] or all(
        "300 个" in line or "300" not in line for line in wrap("共 300 个请求", 8)
    )
    for width in range(6, 30):
        for line in wrap(RATE_LIMIT_ZH, width):
            assert not line.endswith(("300", " 5")), (width, line)


def test_opening_brackets_never_end_a_line() -> None:
    for width in range(6, 40):
        for line in wrap(RATE_LIMIT_ZH, width)[:-1]:
            assert line[-1] != "（", (width, line)


def test_english_breaks_at_spaces_only_and_keeps_words_whole() -> None:
    text = "Imported cgt-20251124123456-abcde (mushroom.glb, pbr, downloaded): 2 objects, 9,788 triangles"
    lines = wrap(text, 30)
    assert lines == ["Imported", "cgt-20251124123456-abcde", "(mushroom.glb, pbr,", "downloaded): 2 objects, 9,788",
                     "triangles"], lines
    assert wrap("a b", 10) == ["a b"]


def test_a_word_longer_than_the_line_is_cut() -> None:
    assert wrap("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_paragraphs_and_empty_text() -> None:
    assert wrap("one two\n\nthree", 20) == ["one two", "", "three"]
    assert wrap("", 20) == [""]


def test_display_width_counts_wide_characters_twice() -> None:
    assert display_width("米") == 2 and display_width("m") == 1 and display_width("（") == 2
    assert display_width("0.45 米") == 7
