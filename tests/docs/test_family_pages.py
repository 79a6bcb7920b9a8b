"""Every family page runs as written: its Python blocks and its ``aekit`` commands, in page order.

Each page runs in a fresh temporary folder; its ```python blocks share one namespace and its ```bash
lines that start with ``aekit`` go through the CLI entry point in between, so a command may use files an
earlier block wrote and the other way round. Training commands run with ``--epochs 1`` (and one
pretraining epoch) on at most 300 samples so the suite stays fast; everything else is as the page says.
Each page also names the run-folder file its picture comes from, and that file must exist afterwards.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from test_doc_examples import fenced_blocks
from typer.testing import CliRunner

from aekit.cli import app
from aekit.cli._console import STATE

ROOT = Path(__file__).resolve().parents[2]
FAMILY_PAGES = sorted((ROOT / "docs" / "families").glob("*.md"))
PICTURE = re.compile(r"<!-- picture: (?P<source>\S+) -->\n!\[[^\]]+\]\((?P<image>[^)]+)\)")


def quick(arguments: list[str]) -> list[str]:
    """The same ``aekit`` command with one epoch on at most 300 samples when it trains."""
    arguments = list(arguments)
    for index, value in enumerate(arguments[:-1]):
        if value == "--epochs":
            arguments[index + 1] = "1"
        if value == "--train-set" and arguments[index + 1].startswith("pretrain_epochs="):
            arguments[index + 1] = "pretrain_epochs=1"
    if arguments[:1] == ["train"]:
        arguments += ["--max-samples", "300", "--no-report"]
    return arguments


def test_quick_keeps_the_command_and_shortens_training() -> None:
    command = ["train", "--model", "vae", "--epochs", "30", "--train-set", "pretrain_epochs=10", "-o", "r"]
    assert quick(command) == [
        "train", "--model", "vae", "--epochs", "1", "--train-set", "pretrain_epochs=1", "-o", "r",
        "--max-samples", "300", "--no-report",
    ]  # fmt: skip
    assert quick(["sample", "--model", "r/model", "-o", "s.png"]) == [
        "sample",
        "--model",
        "r/model",
        "-o",
        "s.png",
    ]


def test_every_family_page_is_linked_from_the_families_page() -> None:
    overview = (ROOT / "docs" / "families.md").read_text(encoding="utf-8")
    assert FAMILY_PAGES
    missing = [page.name for page in FAMILY_PAGES if f"(families/{page.name})" not in overview]
    assert not missing, f"docs/families.md does not link: {', '.join(missing)}"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("page", FAMILY_PAGES, ids=lambda p: p.stem)
def test_family_page_runs_as_written(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = page.read_text(encoding="utf-8")
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    commands = 0
    for block in fenced_blocks(text):
        if block.skipped:
            continue
        if block.language in ("python", "py"):
            code = compile("\n" * block.line + block.code, str(page.relative_to(ROOT)), "exec")
            exec(code, namespace)  # the page's own example code, run as a reader would
        elif block.language in ("bash", "sh", "console"):
            for line in block.code.splitlines():
                if not line.startswith("aekit "):
                    continue
                STATE.quiet = STATE.verbose = STATE.json = STATE.debug = False
                result = CliRunner().invoke(app, ["-q", *quick(shlex.split(line)[1:])])
                assert result.exit_code == 0, f"{page.name}: {line}\n{result.output}"
                commands += 1
    assert commands, f"{page.name} shows no aekit command"
    pictures = PICTURE.findall(text)
    assert pictures, f"{page.name} shows no picture with its source"
    for source, image in pictures:
        assert (tmp_path / source).is_file(), f"{page.name}: the command does not make {source}"
        assert (page.parent / image).is_file(), (
            f"{page.name}: {image} is missing (benchmarks/family_pictures.py)"
        )
