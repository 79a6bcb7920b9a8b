"""Every ```python block in README.md and docs/*.md runs, so the documentation cannot rot.

Blocks of one page run in order in one namespace (a later block may use an earlier block's names), in a
fresh temporary working folder. A block preceded by a ``<!-- no-test -->`` line (blank lines between are
allowed) is skipped: use it only for examples that need data or hardware that tests do not have.
"""

from __future__ import annotations

import itertools
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


SHELL_LANGUAGES = ("bash", "sh", "shell", "console")


def aekit_command_lines(page: Path) -> list[tuple[int, list[str]]]:
    """``(line, words after "aekit")`` of every ``aekit …`` command in the page's shell blocks, continuation
    lines joined, comments and leading ``VAR=value`` assignments dropped; lines with a ``...`` placeholder
    are left out."""
    import shlex

    commands = []
    for block in fenced_blocks(page.read_text(encoding="utf-8")):
        if block.language not in SHELL_LANGUAGES:
            continue
        pending, first = "", 0
        for offset, line in enumerate(block.code.split("\n")):
            if not pending:
                first = offset
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            line, pending = pending + line, ""
            words = shlex.split(line.removeprefix("$ "), comments=True)
            while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", words[0]):
                words = words[1:]
            if words[:1] == ["aekit"] and not any("..." in w or "…" in w for w in words):
                commands.append((block.line + 1 + first, words[1:]))
    return commands


def test_every_documented_command_line_parses() -> None:
    """Each ``aekit`` command shown in the docs names a real command and only its real options, with
    values of the right types and every required option given: a renamed option cannot rot a page."""
    import typer

    from aekit.cli import app

    root = typer.main.get_command(app)
    global_flags = {flag for parameter in root.params for flag in parameter.opts}
    pages = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
    failures, checked = [], 0
    for page in pages:
        for line, words in aekit_command_lines(page):
            where = f"{page.relative_to(ROOT)}:{line}: aekit {' '.join(words)}"
            flags = list(itertools.takewhile(lambda word: word in global_flags, words))
            rest = words[len(flags) :]
            if not rest or rest[0] in ("--help", "--version"):
                continue
            try:
                context = root.make_context("aekit", [*flags, rest[0]])
                command = root.get_command(context, rest[0])
                if command is None:
                    failures.append(f"{where}\n    no command {rest[0]!r}")
                    continue
                command.make_context(rest[0], rest[1:], parent=context)
                checked += 1
            except (typer.Exit, typer.Abort):
                checked += 1  # --help inside a command line
            except Exception as error:  # click's usage errors: unknown option, bad value, missing option
                failures.append(f"{where}\n    {type(error).__name__}: {error}")
    assert not failures, "\n".join(failures)
    assert checked >= 50  # the docs show many command lines; finding none means the parser broke
