"""Every registered family on MNIST in one table, against PCA fitted in the same run.

For each name in ``aekit.models.names()`` (presets included) the script builds the model for
``(1, 28, 28)`` inputs and ``--latent-dim``, trains it on the first ``--train-samples`` training images
for ``--epochs`` (the stacked AE first gets one greedy pretraining epoch per layer), and reports on the
first ``--test-samples`` test images:

* ``test MSE``: per-pixel squared error of ``reconstruct(x)`` (clean inputs, also for denoising), and
  ``× PCA``, its ratio to PCA's at the same latent size;
* ``mean |z|``: mean absolute code value (sparse codes are small);
* ``‖J‖_F``: Frobenius norm of the encoder Jacobian ``∂z/∂x`` per sample, averaged over 64 images
  (one backward pass per code dimension; contractive codes are flat);
* ``KL``: the model's ``kl`` term on the test set, where it has one (VAE family);
* ``prior dist``: energy distance between the codes and samples of the model's prior (adversarial
  autoencoders) or of ``N(0, I)`` (all others; the VAE's prior, and the reference for the rest);
* ``train samples/s``: training throughput over all epochs (all phases of a batch counted once).

Labels: conditional models get the digit; ``multi_decoder`` the digit's parity as its domain;
``segmentation`` is trained on ink masks (pixel > 0.5) and reports pixel accuracy and foreground IoU
instead of MSE.

    OMP_NUM_THREADS=1 nice python benchmarks/families.py --epochs 1 --train-samples 3000 --threads 1
    OMP_NUM_THREADS=2 python benchmarks/families.py --epochs 10 --threads 2
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import torch
from _common import add_common_arguments, apply_settings, mnist, table
from torch import Tensor

from aekit.data import TensorData
from aekit.models import create, names
from aekit.models.base import AbstractAutoencoder
from aekit.training import TrainConfig, Trainer, evaluate_terms
from aekit.training.schedules import fine_tune, pretrain_layerwise

INPUT_SHAPE = (1, 28, 28)

EXTRA_CONFIG: dict[str, dict[str, Any]] = {
    "caae": {"n_classes": 10},
    "cvae": {"n_classes": 10},
    "multi_decoder": {"n_domains": 2},
    "segmentation": {"n_classes": 2},
}
"""Config values a family needs beyond ``input_shape`` and ``latent_dim`` (defaults otherwise)."""

MEASURED_ELSEWHERE = {"codec": "image codec (no latent_dim): see compression_rd.py"}
"""Registered models that are not a same-size MNIST autoencoder; listed with a note, not trained."""


def batch_labels(name: str, x: Tensor, digits: Tensor) -> Tensor | None:
    """The ``y`` a family's batches carry: digits, domains (parity) or ink masks."""
    if name == "segmentation":
        return (x[:, 0] > 0.5).long()
    if name == "multi_decoder":
        return digits % 2
    return digits


def energy_distance(a: Tensor, b: Tensor) -> float:
    """``2 E|a − b| − E|a − a'| − E|b − b'|`` (0 iff the two samples come from the same law)."""
    return float(2 * torch.cdist(a, b).mean() - torch.cdist(a, a).mean() - torch.cdist(b, b).mean())


def jacobian_norm(model: AbstractAutoencoder, x: Tensor, condition: Tensor | None) -> float:
    """Mean over samples of ``‖∂z/∂x‖_F`` (eval mode, so samples do not interact)."""
    x = x.clone().requires_grad_()
    z = model.encode(x, condition)
    squared = torch.zeros(len(x))
    for j in range(z.shape[1]):
        (grad,) = torch.autograd.grad(z[:, j].sum(), x, retain_graph=j < z.shape[1] - 1)
        squared += grad.flatten(1).square().sum(1)
    return float(squared.sqrt().mean())


def train(name: str, model: AbstractAutoencoder, data: TensorData, args: argparse.Namespace) -> float:
    """Train (or fit) ``model``; return training samples per second."""
    config = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate, seed=args.seed
    )
    started = time.perf_counter()
    if getattr(model, "closed_form", False):
        model.fit_closed_form(data.x)  # type: ignore[attr-defined]
        return len(data) / (time.perf_counter() - started)
    if name == "stacked":
        pretrain_layerwise(model, data, config.replace(epochs=1))  # type: ignore[arg-type]
        fine_tune(model, data, config)  # type: ignore[arg-type]
        epochs = args.epochs + model.n_layers  # type: ignore[attr-defined]
        return epochs * len(data) / (time.perf_counter() - started)
    Trainer(config).fit(model, data)
    return args.epochs * len(data) / (time.perf_counter() - started)


@torch.no_grad()
def evaluate(name: str, model: AbstractAutoencoder, test: TensorData) -> dict[str, Any]:
    """The table's metrics of a trained model on ``test``."""
    model.eval()
    _inputs, target, condition = model.prepare_batch((test.x, test.y), torch.Generator().manual_seed(0))
    row: dict[str, Any] = {}
    if name == "segmentation":
        predicted = model.predict(test.x)  # type: ignore[attr-defined]
        mask = target
        iou = ((predicted == 1) & (mask == 1)).sum() / ((predicted == 1) | (mask == 1)).sum()
        row["test MSE"] = float("nan")
        row["note"] = f"pixel acc {float((predicted == mask).float().mean()):.3f}, IoU {float(iou):.3f}"
    else:
        output = model.reconstruct(test.x, condition)
        if output.shape == test.x.shape:
            row["test MSE"] = float((output - test.x).square().mean())
        else:  # a supervised family whose output is not an image
            row["test MSE"] = float("nan")
            row["note"] = f"output {tuple(output.shape[1:])} is not a reconstruction"
    codes = model.encode(test.x, condition)
    row["mean |z|"] = float(codes.abs().mean())
    with torch.enable_grad():
        row["‖J‖_F"] = jacobian_norm(model, test.x[:64], None if condition is None else condition[:64])
    row["KL"] = evaluate_terms(model, test)["kl"] if "kl" in model.loss_terms else float("nan")
    generator = torch.Generator().manual_seed(1)
    if hasattr(model, "prior_sample"):
        labels = test.y if name == "caae" else None
        prior = model.prior_sample(len(codes), labels=labels, generator=generator)
    else:
        prior = torch.randn(codes.shape, generator=generator)
    row["prior dist"] = energy_distance(codes[:2000], prior[:2000])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--epochs", type=int, default=5, help="training epochs of every gradient-trained family"
    )
    parser.add_argument("--train-samples", type=int, default=10000, help="first N MNIST training images")
    parser.add_argument("--test-samples", type=int, default=2000, help="first N MNIST test images")
    parser.add_argument("--latent-dim", type=int, default=16, help="code size of every family")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--models", default=None, help="comma-separated registry names (default: all)")
    args = parser.parse_args()
    settings = apply_settings(args)
    x, digits = mnist("train", args.data_dir, args.train_samples)
    x_test, digits_test = mnist("test", args.data_dir, args.test_samples)
    selected = args.models.split(",") if args.models else ["pca", *(n for n in names() if n != "pca")]
    rows: list[dict[str, Any]] = []
    pca_mse = math.nan
    for name in selected:
        row: dict[str, Any] = {"family": name}
        if name in MEASURED_ELSEWHERE:
            rows.append({**row, "note": MEASURED_ELSEWHERE[name]})
            continue
        try:
            model = create(
                name,
                input_shape=INPUT_SHAPE,
                latent_dim=args.latent_dim,
                seed=args.seed,
                **EXTRA_CONFIG.get(name, {}),
            )
            data = TensorData(x, batch_labels(name, x, digits))
            test = TensorData(x_test, batch_labels(name, x_test, digits_test))
            samples_per_second = train(name, model, data, args)
            row.update(evaluate(name, model, test))
            row["train samples/s"] = samples_per_second
        except Exception as error:  # one family's failure must not hide the others' results
            row["note"] = f"failed: {type(error).__name__}: {error}"[:120]
        if name == "pca":
            pca_mse = row.get("test MSE", math.nan)
        rows.append(row)
        print(row, flush=True)
    columns = [
        "family",
        "test MSE",
        "× PCA",
        "mean |z|",
        "‖J‖_F",
        "KL",
        "prior dist",
        "train samples/s",
        "note",
    ]
    for row in rows:
        row["× PCA"] = row.get("test MSE", math.nan) / pca_mse
        for column in columns:
            row.setdefault(column, "" if column == "note" else math.nan)
    print(
        f"settings: {settings}; latent {args.latent_dim}, {args.epochs} epochs, "
        f"Adam lr {args.learning_rate}, batch {args.batch_size}, default configs; "
        f"{len(x)} training / {len(x_test)} test images"
    )
    print(table([{column: row[column] for column in columns} for row in rows]))


if __name__ == "__main__":
    main()
