"""Make the pictures of the family pages (docs/families/*.md) by running each page as written.

Every page runs in its own folder under ``runs/family_pictures/<page>``: its Python blocks in one namespace
and its ``aekit`` commands (full epochs, as the page shows them) in page order. Then each picture's source
file (named by the ``<!-- picture: PATH -->`` line above it) is copied to ``docs/families/images/``.

    OMP_NUM_THREADS=1 python benchmarks/family_pictures.py [PAGE_STEM ...]
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "docs" / "families"
PICTURE = re.compile(r"<!-- picture: (?P<source>\S+) -->\n!\[[^\]]+\]\((?P<image>[^)]+)\)")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def run_page(page: Path) -> None:
    folder = ROOT / "runs" / "family_pictures" / page.stem
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    namespace: dict[str, object] = {"__name__": f"page_{page.stem}"}
    text = page.read_text(encoding="utf-8")
    previous = Path.cwd()
    os.chdir(folder)
    try:
        for language, code in FENCE.findall(text):
            if language == "python":
                exec(compile(code, str(page), "exec"), namespace)
            elif language == "bash":
                for line in code.splitlines():
                    if line.startswith("aekit "):
                        started = time.perf_counter()
                        command = [sys.executable, "-m", "aekit", "-q", *shlex.split(line)[1:]]
                        subprocess.run(command, check=True)
                        print(f"{page.stem}: {line}  ({time.perf_counter() - started:.0f} s)", flush=True)
    finally:
        os.chdir(previous)
    for source, image in PICTURE.findall(text):
        shutil.copyfile(folder / source, page.parent / image)
        print(f"{page.stem}: {source} → docs/families/{image}", flush=True)


def main() -> None:
    import argparse

    pages = sorted(PAGES.glob("*.md"))
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "pages", nargs="*", help="page stems (default: all): " + ", ".join(p.stem for p in pages)
    )
    chosen = set(parser.parse_args().pages)
    unknown = chosen - {page.stem for page in pages}
    if unknown:
        parser.error(f"no family page {', '.join(sorted(unknown))} in {PAGES}")
    for page in pages:
        if not chosen or page.stem in chosen:
            run_page(page)


if __name__ == "__main__":
    main()
