"""What families need beyond inputs comes from the data, through options that work for every dataset;
``plan`` shows what ``train`` builds; stacked pretrains from the CLI; logs keep every epoch; ``python -m
aekit`` and ``torchrun -m aekit`` run the same command line."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from aekit.cli import app
from aekit.cli._console import STATE
from aekit.models.files import load_model

SMALL = ["--epochs", "1", "--max-samples", "120", "--batch-size", "32", "--no-report"]


def _invoke(*args: str, quiet: bool = True) -> object:
    STATE.quiet = STATE.verbose = STATE.json = STATE.debug = False
    return CliRunner().invoke(app, [*(["-q"] if quiet else []), *args])


def _digits(n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return (bunch.images[:n] * 16).astype(np.uint8), bunch.target[:n]


def test_plan_shows_the_output_activation_train_builds(tmp_path: Path) -> None:
    planned = _invoke("plan", "--model", "mlp", "--input-shape", "1,8,8")
    assert planned.exit_code == 0 and "Sigmoid" not in planned.output  # type: ignore[attr-defined]
    trained = _invoke("train", "--model", "mlp", *SMALL, "-o", str(tmp_path / "mlp"))
    assert trained.exit_code == 0, trained.output  # type: ignore[attr-defined]
    model = load_model(tmp_path / "mlp" / "model")
    assert not any(type(m).__name__ == "Sigmoid" for m in model.modules())  # the runner forced one before


def test_stacked_pretrains_layer_by_layer_from_the_cli(tmp_path: Path) -> None:
    run = tmp_path / "stacked"
    result = _invoke(
        "train", "--model", "stacked", "--set", "hidden_dims=[32]", "--train-set", "pretrain_epochs=2",
        *SMALL, "-o", str(run),
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    with open(run / "pretraining.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["layer"], row["epoch"]) for row in rows] == [
        ("0.0", "1.0"), ("0.0", "2.0"), ("1.0", "1.0"), ("1.0", "2.0")
    ]  # fmt: skip
    settings = json.loads((run / "settings.json").read_text())
    assert settings["train"]["pretrain_epochs"] == 2


def test_a_table_label_column_conditions_a_cvae(tmp_path: Path) -> None:
    images, labels = _digits()
    table = tmp_path / "digits.csv"
    header = ",".join([f"p{i}" for i in range(64)] + ["digit"])
    rows = [
        ",".join(map(str, [*image.reshape(-1), label])) for image, label in zip(images, labels, strict=True)
    ]
    table.write_text(header + "\n" + "\n".join(rows) + "\n")
    run = tmp_path / "cvae"
    result = _invoke(
        "train", "--dataset", str(table), "--model", "cvae", "--label-column", "digit", *SMALL, "-o", str(run)
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    model = load_model(run / "model")
    assert model.n_classes == 10 and model.input_shape == (64,)
    metrics = json.loads((run / "metrics.json").read_text())
    assert "test_mse_per_feature" in metrics and "test_psnr_db" not in metrics  # tables are not pictures
    evaluated = _invoke(
        "--json",
        "evaluate",
        "--model",
        str(run / "model"),
        "--dataset",
        str(table),
        "--label-column",
        "digit",
    )
    assert evaluated.exit_code == 0, evaluated.output  # type: ignore[attr-defined]
    refused = _invoke("evaluate", "--model", str(run / "model"), "--dataset", str(table))
    assert refused.exit_code == 2 and "needs class labels" in refused.output  # type: ignore[attr-defined]


def test_domains_come_from_one_folder_per_domain(tmp_path: Path) -> None:
    from PIL import Image

    images, labels = _digits(40)
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        domain = tmp_path / "faces" / ("even" if label % 2 == 0 else "odd")
        domain.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(domain / f"{index:03d}.png")
    run = tmp_path / "swap"
    result = _invoke(
        "train", "--dataset", str(tmp_path / "faces"), "--model", "multi_decoder", *SMALL, "-o", str(run)
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert load_model(run / "model").n_domains == 2  # type: ignore[attr-defined]


def test_segmentation_masks_from_a_folder_of_pngs(tmp_path: Path) -> None:
    from PIL import Image

    images, _ = _digits(40)
    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
    for index, image in enumerate(images):
        Image.fromarray(image).save(tmp_path / "images" / f"{index:03d}.png")
        Image.fromarray(((image > 64) * 255).astype(np.uint8)).save(tmp_path / "masks" / f"{index:03d}.png")
    run = tmp_path / "seg"
    result = _invoke(
        "train", "--dataset", str(tmp_path / "images"), "--masks", str(tmp_path / "masks"),
        "--model", "segmentation", *SMALL, "-o", str(run),
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert (run / "segmentation.png").is_file()
    assert 0 <= json.loads((run / "metrics.json").read_text())["test_pixel_accuracy"] <= 1
    evaluated = _invoke(
        "evaluate",
        "--model",
        str(run / "model"),
        "--dataset",
        str(tmp_path / "images"),
        "--masks",
        str(tmp_path / "masks"),
    )
    assert evaluated.exit_code == 0, evaluated.output  # type: ignore[attr-defined]


def test_a_family_without_its_labels_is_refused_in_one_line(tmp_path: Path) -> None:
    images, _ = _digits(40)
    np.save(tmp_path / "x.npy", images[:, None])
    result = _invoke(
        "train", "--dataset", str(tmp_path / "x.npy"), "--model", "cvae", *SMALL, "-o", str(tmp_path / "r")
    )
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert len(result.output.strip().splitlines()) == 1 and "cvae needs class labels" in result.output  # type: ignore[attr-defined]


def test_piped_training_logs_keep_every_epoch(tmp_path: Path) -> None:
    result = _invoke(
        "train", "--model", "mlp", "--epochs", "3", "--max-samples", "100", "--no-report",
        "-o", str(tmp_path / "r"), quiet=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    epochs = [line.split()[1] for line in result.output.splitlines() if line.startswith("epoch ")]  # type: ignore[attr-defined]
    assert epochs == ["1/3", "2/3", "3/3"]


def test_python_dash_m_aekit_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aekit", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.startswith("aekit ")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.timeout(300)
def test_torchrun_multi_node_form_trains_one_run_folder(tmp_path: Path) -> None:
    """The documented multi-node flags, as one node of one: rank 0 alone writes the run folder."""
    command = [
        sys.executable, "-m", "torch.distributed.run",
        "--nnodes", "1", "--node-rank", "0", "--nproc-per-node", "2",
        "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{_free_port()}",
        "-m", "aekit", "-q", "train", "--model", "mlp", "--set", "hidden_dims=[16]",
        "--epochs", "2", "--max-samples", "128", "--batch-size", "16", "--no-report",
        "-o", str(tmp_path / "run"),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=280, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("run folder:") == 1  # one report of the run, from rank 0
    with open(tmp_path / "run" / "losses.csv", newline="") as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["1.0", "2.0"]
    assert load_model(tmp_path / "run" / "model").input_shape == (1, 8, 8)


@pytest.mark.parametrize(
    ("arguments", "status"), [(["--version"], 0), (["train", "--model", "no-such-family"], 2)]
)
def test_a_torchrun_worker_ends_with_the_commands_exit_status(
    monkeypatch: pytest.MonkeyPatch, arguments: list[str], status: int
) -> None:
    """Inside a process group the command line ends the process itself, with the status the command set."""
    from aekit import cli
    from aekit.training import distributed

    ended: list[int] = []

    def record(code: int) -> None:
        ended.append(code)
        raise SystemExit(code)

    monkeypatch.setattr(distributed, "_opened_here", True)
    monkeypatch.setattr(distributed, "end_worker_process", record)
    monkeypatch.setattr(sys, "argv", ["aekit", *arguments])
    with pytest.raises(SystemExit):
        cli.main()
    assert ended == [status]


def test_sample_honours_columns_for_labelled_samples(tmp_path: Path) -> None:
    run = tmp_path / "cvae"
    assert _invoke("train", "--model", "cvae", *SMALL, "-o", str(run)).exit_code == 0  # type: ignore[attr-defined]
    result = _invoke(
        "--json", "sample", "--model", str(run / "model"), "--label", "3", "--label", "7", "--columns", "5",
        "--array", str(tmp_path / "s.npy"), "-o", str(tmp_path / "s.png"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert np.load(tmp_path / "s.npy").shape == (10, 1, 8, 8)  # two rows of five, not 64 // 2 per label


def test_models_lists_what_each_family_can_do() -> None:
    result = _invoke("--json", "models")
    rows = json.loads(result.output)  # type: ignore[attr-defined]
    assert rows["cvae"]["labels"] == "classes" and rows["cvae"]["conditional"] and rows["cvae"]["likelihood"]
    assert rows["pca"]["fitting"] == "closed_form" and rows["stacked"]["fitting"] == "layerwise"
    assert rows["segmentation"]["labels"] == "masks" and not rows["segmentation"]["reconstructs"]
    human = _invoke("models").output  # type: ignore[attr-defined]
    assert "fitting layerwise" in human and "needs domains" in human


@pytest.mark.timeout(300)
def test_conditional_and_multi_decoder_models_evaluate_on_mnist(mnist_dir: Path, tmp_path: Path) -> None:
    """MNIST has labels, so cvae, caae and multi_decoder train and evaluate on it (evaluate failed before)."""
    data_dir = str(mnist_dir.parent)
    for name in ("cvae", "multi_decoder"):
        run = tmp_path / name
        trained = _invoke(
            "train", "--dataset", "mnist", "--data-dir", data_dir, "--model", name,
            "--set", "hidden_dims=[64]", "--epochs", "1", "--max-samples", "200", "--no-report",
            "-o", str(run),
        )  # fmt: skip
        assert trained.exit_code == 0, trained.output  # type: ignore[attr-defined]
        evaluated = _invoke(
            "--json", "evaluate", "--model", str(run / "model"), "--dataset", "mnist", "--split", "test",
            "--data-dir", data_dir,
        )  # fmt: skip
        assert evaluated.exit_code == 0, evaluated.output  # type: ignore[attr-defined]
        assert json.loads(evaluated.output)["n_samples"] == 10000  # type: ignore[attr-defined]


def test_restoration_runs_show_corrupted_restored_and_clean(tmp_path: Path) -> None:
    """A denoising run reports the corrupted input's own score beside the restoration's, and draws
    corrupted → restored → clean; a plain autoencoder, whose inputs are its targets, does neither."""
    denoising, plain = tmp_path / "denoising", tmp_path / "plain"
    for model, run in (("denoising", denoising), ("mlp", plain)):
        result = _invoke("train", "--model", model, *SMALL, "-o", str(run))
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    metrics = json.loads((denoising / "metrics.json").read_text())
    assert (denoising / "restoration.png").is_file()
    assert metrics["test_corrupted_mse_per_pixel"] > 0
    for name in ("mse_per_pixel", "psnr_db"):
        assert metrics[f"test_restored_{name}"] != metrics[f"test_corrupted_{name}"]
    plain_metrics = json.loads((plain / "metrics.json").read_text())
    assert not (plain / "restoration.png").exists()
    assert not any(key.startswith(("test_corrupted", "test_restored")) for key in plain_metrics)


@pytest.mark.parametrize("family", ["cvae", "multi_decoder"])
def test_labelled_families_decode_interpolate_and_plan(tmp_path: Path, family: str) -> None:
    """Models that decode with a class (cvae) or a domain (multi_decoder) take it through ``--label``."""
    run = tmp_path / family
    assert _invoke("train", "--model", family, "--latent-dim", "3", *SMALL, "-o", str(run)).exit_code == 0  # type: ignore[attr-defined]
    model = str(run / "model")
    assert _invoke("encode", "digits", "--model", model, "-o", str(tmp_path / "z.npy")).exit_code == 0  # type: ignore[attr-defined]
    decoded = {}
    for label in ("1", "7"):
        out = tmp_path / f"x{label}.npy"
        result = _invoke(
            "decode", str(tmp_path / "z.npy"), "--model", model, "--label", label, "-o", str(out)
        )
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
        decoded[label] = np.load(out)
    assert decoded["1"].shape == (1797, 1, 8, 8) and not np.allclose(decoded["1"], decoded["7"])
    missing = _invoke("decode", str(tmp_path / "z.npy"), "--model", model, "-o", str(tmp_path / "x.npy"))
    assert missing.exit_code == 2 and "--label" in missing.output  # type: ignore[attr-defined]
    path = _invoke(
        "interpolate", "--data", "digits", "--model", model, "--label", "2", "-o", str(tmp_path / "p.png")
    )
    assert path.exit_code == 0, path.output  # type: ignore[attr-defined]
    planned = _invoke("plan", "--model", family, "--input-shape", "1,8,8")
    assert planned.exit_code == 0 and "parameters:" in planned.output  # type: ignore[attr-defined]
