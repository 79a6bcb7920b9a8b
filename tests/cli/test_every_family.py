"""Every registered family and preset through every command, via the CLI entry point (``aekit.cli.app``).

One short training run per family (a module-scoped fixture, 8×8 digits, one epoch) is shared by the
commands that use the trained model: evaluate, encode, reconstruct, export and report. A command either
works or refuses in one line with exit status 2, as the family's declared capabilities say. A family
registered later gets these tests without changes here; give it a :data:`SPECIAL` entry only when it
needs data the default case lacks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from aekit.cli import app
from aekit.cli._console import STATE
from aekit.models import get, names

NAMES = names()
N_SAMPLES = 120

SPECIAL: dict[str, list[str]] = {
    # the codec halves the image per stage: two stages fit 8×8 digits
    "codec": ["--set", "n_stages=2", "--set", "hidden_channels=8", "--set", "latent_channels=4"],
    # the hyperprior halves twice more for its hyper-latent: one main stage fits 8×8
    "codec_hyperprior": [
        *("--set", "n_stages=1", "--set", "hidden_channels=8"),
        *("--set", "latent_channels=4", "--set", "hyper_channels=4"),
    ],
}
"""Extra ``aekit train`` arguments per family (beyond the dataset)."""


def _invoke(*args: str) -> object:
    STATE.quiet = STATE.verbose = STATE.json = STATE.debug = False
    return CliRunner().invoke(app, ["-q", "--json", *args])


def _one_line_refusal(result: object) -> bool:
    output = result.output.strip()  # type: ignore[attr-defined]
    return result.exit_code == 2 and len(output.splitlines()) == 1 and "Traceback" not in output  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def data_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The digits as .npz files: with masks as ``y`` (segmentation), and noisy with clean ``y`` (paired)."""
    from sklearn.datasets import load_digits

    folder = tmp_path_factory.mktemp("data")
    digits = load_digits()
    images = (digits.images[:N_SAMPLES, None] * 16).astype(np.uint8)  # 0..255 like 8-bit images
    masks = (digits.images[:N_SAMPLES] > 4).astype(np.int64)  # ink vs background
    np.savez(folder / "masks.npz", x=images, y=masks)
    noise = np.random.default_rng(0).normal(0, 20, images.shape)
    noisy = np.clip(images + noise, 0, 255).astype(np.uint8)
    np.savez(folder / "pairs.npz", x=noisy, y=images)
    return {"masks": folder / "masks.npz", "pairs": folder / "pairs.npz"}


@pytest.fixture(scope="module", params=NAMES)
def trained(
    request: pytest.FixtureRequest, data_files: dict[str, Path], tmp_path_factory
) -> tuple[str, Path]:
    """``(name, run folder)`` of one epoch of ``aekit train --model name``."""
    name = request.param
    run_dir = tmp_path_factory.mktemp(name) / "run"
    dataset = _dataset_for(name, data_files)
    result = _invoke(
        "train",
        "--dataset", dataset,
        "--model", name,
        "--epochs", "1",
        "--max-samples", str(N_SAMPLES),
        "--batch-size", "32",
        "--no-report",
        "-o", str(run_dir),
        *SPECIAL.get(name, []),
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    return name, run_dir


def _dataset_for(name: str, data_files: dict[str, Path]) -> str:
    """The digits, unless the family needs masks or paired clean targets beside its inputs."""
    if get(name).label_role == "masks":
        return str(data_files["masks"])
    if get(name).capabilities().get("paired_targets", False):
        return str(data_files["pairs"])
    return "digits"


def test_train_writes_the_run_folder(trained: tuple[str, Path]) -> None:
    name, run_dir = trained
    for file in (
        "model/config.json",
        "model/model.safetensors",
        "losses.csv",
        "metrics.json",
        "settings.json",
    ):
        assert (run_dir / file).is_file(), f"{name}: {file} missing"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    cls = get(name)
    if cls.reconstructs:
        assert (run_dir / "reconstructions.png").is_file()
        assert np.isfinite(metrics["test_mse_per_pixel"])
    elif cls.label_role == "masks":
        assert (run_dir / "segmentation.png").is_file() and 0 <= metrics["test_pixel_accuracy"] <= 1
    else:
        assert 0 <= metrics["test_accuracy"] <= 1
    assert (run_dir / "samples.png").is_file() == cls.generative


def test_evaluate(trained: tuple[str, Path], data_files: dict[str, Path]) -> None:
    name, run_dir = trained
    result = _invoke(
        "evaluate", "--model", str(run_dir / "model"), "--dataset", _dataset_for(name, data_files)
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    metrics = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert np.isfinite(metrics["loss_loss"])


def test_encode_and_reconstruct(
    trained: tuple[str, Path], data_files: dict[str, Path], tmp_path: Path
) -> None:
    name, run_dir = trained
    dataset = _dataset_for(name, data_files)
    model = ["--model", str(run_dir / "model")]
    encoded = _invoke("encode", dataset, *model, "-o", str(tmp_path / "codes.npy"))
    assert encoded.exit_code == 0, encoded.output  # type: ignore[attr-defined]
    codes = np.load(tmp_path / "codes.npy")
    assert codes.ndim == 2 and np.isfinite(codes).all()
    rebuilt = _invoke("reconstruct", dataset, *model, "-o", str(tmp_path / "recon.npy"))
    if get(name).reconstructs:
        assert rebuilt.exit_code == 0, rebuilt.output  # type: ignore[attr-defined]
        assert np.load(tmp_path / "recon.npy").shape[1:] == (1, 8, 8)
    else:
        assert _one_line_refusal(rebuilt), rebuilt.output  # type: ignore[attr-defined]
        assert "not a reconstruction" in rebuilt.output  # type: ignore[attr-defined]


def test_export_traces_or_refuses_in_one_line(trained: tuple[str, Path]) -> None:
    name, run_dir = trained
    result = _invoke("export", "--model", str(run_dir / "model"), "--part", "decoder", "--check")
    cls = get(name)
    if cls.conditional or cls.label_role == "domains":
        assert _one_line_refusal(result), result.output  # type: ignore[attr-defined]
        assert "beside its inputs" in result.output  # type: ignore[attr-defined]
    else:
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
        assert json.loads(result.stdout) == {"exportable": ["decoder"]}  # type: ignore[attr-defined]


def test_report(trained: tuple[str, Path]) -> None:
    name, run_dir = trained
    result = _invoke("report", str(run_dir))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert name in page and "<img" in page
