"""The report as a person sees it: headless Chromium renders it, and every picture shows on screen.

The hand-made run folder's pictures are solid colours, so a screenshot proves each one was decoded and
painted: a picture that failed would leave a broken-image icon, not thousands of pixels of its colour.
Skips (saying why) when no Chromium is installed; CI installs Debian's ``chromium`` package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aekit.report.html import write_report

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDTH, HEIGHT = 1200, 4000


def _browser() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(f"no headless browser found (looked for {', '.join(CANDIDATES)}); apt-get install chromium")


def _chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",  # tests may run as root in containers
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},{HEIGHT}",
    ]
    env = {**os.environ, "HOME": str(profile)}
    return subprocess.run(
        [browser, *flags, *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def _pixels_near(shot: np.ndarray, colour: tuple[int, int, int], tolerance: int = 12) -> int:
    return int((np.abs(shot.astype(int) - np.array(colour)).max(axis=-1) <= tolerance).sum())


@pytest.mark.timeout(300)
def test_chromium_renders_the_report_with_every_picture(
    run_folder: Path, solid_pictures: dict[str, tuple[tuple[int, int, int], tuple[int, int]]], tmp_path: Path
) -> None:
    browser = _browser()
    page = write_report(run_folder)
    url = page.resolve().as_uri()

    dom = _chromium(browser, tmp_path / "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for section in ("settings", "losses", "metrics", "reconstructions", "latent-map", "app-anomaly"):
        assert f'id="{section}"' in dom.stdout, section
    assert dom.stdout.count("<img ") == 5

    shot_path = tmp_path / "screenshot.png"
    shot = _chromium(browser, tmp_path / "profile-shot", f"--screenshot={shot_path}", url)
    assert shot.returncode == 0 and shot_path.is_file(), shot.stderr[-2000:]
    pixels = np.asarray(Image.open(shot_path).convert("RGB"))
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    not_background = (np.abs(pixels.astype(int) - pixels[0, 0].astype(int)).max(axis=-1) > 8).mean()
    assert not_background > 0.05, "the page looks blank"
    # Each solid picture must appear at (about) its own size; max-width scaling only shrinks wide ones.
    for name, (colour, (width, height)) in solid_pictures.items():
        assert _pixels_near(pixels, colour) >= 0.8 * width * height, (
            f"{name} is not visible in the screenshot"
        )
