"""A run folder made by hand (no training), with solid-colour pictures whose pixels tests can find."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

RED, GREEN, BLUE, MAGENTA = (220, 20, 20), (20, 170, 40), (30, 60, 220), (200, 30, 200)


def solid_png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (240, 120)) -> Path:
    """Write a one-colour PNG of ``size`` (width, height)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, format="PNG")
    return path


SOLID_PICTURES = {
    "reconstructions": (RED, (400, 100)),
    "latent map": (BLUE, (220, 220)),
    "app picture": (GREEN, (300, 140)),
    "extra picture": (MAGENTA, (200, 100)),
}
"""Name → (colour, (width, height)) of the solid pictures :func:`make_run_folder` writes."""


def make_run_folder(root: Path) -> Path:
    """Every kind of file the report convention knows, with distinct colours per picture."""
    root.mkdir(parents=True, exist_ok=True)
    settings = {
        "aekit_version": "0.1.0",
        "run": {
            "dataset": "digits",
            "model": "conv",
            "model_options": {"latent_dim": 4, "channels": [8, 16]},
        },
        "train": {"epochs": 3, "batch_size": 64, "learning_rate": 0.002},
    }
    (root / "settings.json").write_text(json.dumps(settings))
    (root / "model").mkdir(exist_ok=True)
    model_file = {
        "format": "aekit-model",
        "model": "conv",
        "config": {"input_shape": [1, 8, 8], "latent_dim": 4},
        "normalization": {"kind": "scale", "offset": [0.0], "scale": [16.0]},
        "metadata": {"dataset": "digits"},
    }
    (root / "model" / "config.json").write_text(json.dumps(model_file))
    (root / "losses.csv").write_text(
        "epoch,train_loss,train_recon,train_kl,val_loss,val_recon,val_kl,lr,seconds,samples_per_second\n"
        "1,0.30,0.25,0.05,0.28,0.24,0.04,0.002,0.5,2000\n"
        "2,0.20,0.17,0.03,0.19,0.16,0.03,0.002,0.5,2100\n"
        "3,0.15,0.13,0.02,0.16,0.14,0.02,0.002,0.5,2050\n"
    )
    (root / "metrics.json").write_text(json.dumps({"test_mse_per_pixel": 0.0123, "test_psnr_db": 19.1}))
    solid_png(root / "reconstructions.png", RED, (400, 100))
    solid_png(root / "latent_map.png", BLUE, (220, 220))
    solid_png(root / "loss_curve.png", (0, 0, 0))  # superseded by losses.csv: not shown
    app = root / "apps" / "anomaly"
    solid_png(app / "01_score_histogram.png", GREEN, (300, 140))
    (app / "01_score_histogram.txt").write_text("Scores of normal and anomalous digits.")
    (app / "summary.json").write_text(json.dumps({"auroc": 0.93, "threshold": 0.0123}))
    (app / "notes.txt").write_text("Digit 7 held out as the anomaly class.")
    solid_png(root / "extra_plot.png", MAGENTA, (200, 100))
    (root / "timings.json").write_text(
        json.dumps([{"step": "train", "seconds": 1.5}, {"step": "test", "seconds": 0.2}])
    )
    return root


@pytest.fixture
def solid_pictures() -> dict[str, tuple[tuple[int, int, int], tuple[int, int]]]:
    """The colours and sizes of the run folder's solid pictures."""
    return SOLID_PICTURES


@pytest.fixture
def run_folder(tmp_path: Path) -> Path:
    """A complete hand-made run folder."""
    return make_run_folder(tmp_path / "run")
