"""The manual reads well on a code host: every relative link of ``README.md`` and ``docs/*.md``
resolves to a file that exists (and to a heading of it, when the link names one, with the
anchors a code host makes), and the README stays a front door of at most 300 lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
README_MAX_LINES = 300

#: ``[text](target)`` and ``![alt](target)``, the target up to a space or the closing parenthesis.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def anchor(heading: str) -> str:
    """The anchor a code host (GitHub, GitLab) gives a heading: lower case, punctuation dropped,
    spaces as hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor in ``page`` (code blocks left out), repeats numbered as hosts do."""
    seen: dict[str, int] = {}
    found = set()
    for line in FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        m = re.match(r"^#{1,6}\s+(.+?)\s*#*$", line)
        if m:
            base = anchor(m.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[str]:
    """The relative links of ``page``, code blocks left out."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return [t for t in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def broken(page: Path) -> list[str]:
    """The links of ``page`` whose file, or whose heading in that file, does not exist."""
    bad = []
    for target in links(page):
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            bad.append(f"{target}: no such file")
        elif fragment and file.suffix == ".md" and fragment not in anchors(file):
            bad.append(f"{target}: no heading #{fragment} in {path or page.name}")
    return bad


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_every_relative_link_resolves(page: Path) -> None:
    assert not broken(page), "\n".join(broken(page))


def test_the_readme_is_a_front_door() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: move the details into docs/"


def test_every_page_of_the_manual_is_linked_from_its_index() -> None:
    index = {link.partition("#")[0] for link in links(REPO / "docs" / "index.md")}
    pages = {p.name for p in PAGES if p.parent.name == "docs" and p.name != "index.md"}
    assert pages <= index, f"not in docs/index.md: {sorted(pages - index)}"


def test_the_link_checker_sees_a_broken_link_and_a_missing_heading(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# A heading, with punctuation!\n\n## Twice\n\n## Twice\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("[ok](other.md#a-heading-with-punctuation) [ok](other.md#twice-1) [web](https://example.com)\n"
                    "[gone](missing.md) [no heading](other.md#nowhere)\n```\n[in code](ignored.md)\n```\n",
                    encoding="utf-8")
    assert broken(page) == ["missing.md: no such file", "other.md#nowhere: no heading #nowhere in other.md"]
