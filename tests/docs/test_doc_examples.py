"""Every ```python block in README.md and docs/*.md runs, so the documentation cannot rot.

Blocks of one page run in order in one namespace (a later block may use an earlier block's names), in a
fresh temporary working folder. A block preceded by a ``<!-- no-test -->`` line (blank lines between are
allowed) is skipped: use it only for examples that need data or hardware that tests do not have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP_MARKER = "<!-- no-test -->"
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    language: str
    code: str
    line: int  # 1-based line of the opening fence
    skipped: bool


def fenced_blocks(text: str) -> list[Block]:
    """Fenced code blocks in ``text`` with their language and whether a no-test marker precedes them."""
    blocks = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence = opening["fence"]
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            body.append(lines[end])
            end += 1
        previous = next((line.strip() for line in reversed(lines[:index]) if line.strip()), "")
        blocks.append(
            Block(opening["info"].lower(), "\n".join(body) + "\n", index + 1, previous == SKIP_MARKER)
        )
        index = end + 1
    return blocks


def python_blocks(page: Path) -> list[Block]:
    """The page's ``python`` blocks."""
    return [b for b in fenced_blocks(page.read_text(encoding="utf-8")) if b.language in ("python", "py")]


def test_parser_finds_blocks_and_markers() -> None:
    text = (
        "intro\n```python\nx = 1\n```\n\n<!-- no-test -->\n\n```python\nload_big_data()\n```\n"
        "````markdown\n```python\nnested = True\n```\n````\n```bash\nls\n```\n"
    )
    blocks = fenced_blocks(text)
    assert [(b.language, b.skipped) for b in blocks] == [
        ("python", False),
        ("python", True),
        ("markdown", False),
        ("bash", False),
    ]
    assert blocks[0].code == "x = 1\n" and blocks[0].line == 2
    assert "nested = True" in blocks[2].code


@pytest.mark.timeout(600)
@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)], ids=lambda p: p.name)
def test_python_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for block in python_blocks(page):
        if block.skipped:
            continue
        # Leading newlines keep line numbers in tracebacks equal to the page's own.
        code = compile("\n" * block.line + block.code, str(page.relative_to(ROOT)), "exec")
        exec(code, namespace)  # the page's own example code, run as a reader would


def test_every_page_is_linked_from_the_index() -> None:
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    missing = [
        p.name for p in (ROOT / "docs").glob("*.md") if p.name != "index.md" and f"({p.name})" not in index
    ]
    assert not missing, f"docs/index.md does not link: {', '.join(missing)}"
